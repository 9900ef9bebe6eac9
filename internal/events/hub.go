// Package events delivers the events table (migration 0012: one row per audit row,
// written in the change's own transaction) to live subscribers: the admin's pages and
// the API's event stream, both Server-Sent Events.
//
// Each process has one Hub. It hears "look now" on Channel through the process's one
// LISTEN connection (internal/listen), reads the new rows once, and fans them out in
// memory to its streams, so the database's work per notification does not grow with
// the number of streams. A stream resumes from its Last-Event-ID by reading the table
// itself; the hub catches up after a lost connection in the listener's Connected hook.
//
// Order: rows are delivered in (xid, id) order, and only once every transaction older
// than them has ended (settled; see migration 0012). A position in that order only
// ever grows, so a stream that has delivered up to a position has delivered
// everything before it: no gap, no duplicate, whichever instance serves it.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/listen"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// Channel is the channel migration 0012's trigger notifies, after each commit that
// inserted events, with the highest new id.
const Channel = "stockroom_events"

// pageSize is how many rows one read takes; a longer backlog takes several.
const pageSize = 500

// Event is one row of the events table, as streams send it.
type Event struct {
	ID        int64           `json:"id"`
	Type      string          `json:"type"`
	Resource  string          `json:"resource"`
	ObjectID  int64           `json:"object_id"`
	Actor     Actor           `json:"actor"`
	Payload   json.RawMessage `json:"payload"`
	CreatedAt time.Time       `json:"created_at"`
	pos       position
	frame     []byte // the SSE frame, encoded once for every stream
	perm      string // the permission that lets a client see it
}

// Actor is who made the change.
type Actor struct {
	UserID  *int64 `json:"user_id"`
	TokenID *int64 `json:"token_id"`
	Label   string `json:"label"`
}

// position is a place in the stream order.
type position struct{ xid, id int64 }

func (p position) after(q position) bool {
	return p.xid > q.xid || p.xid == q.xid && p.id > q.id
}

// ViewPermission is the permission a client needs to receive an event about
// resource: the resource's view permission. Sign-ins and sign-outs (resource
// "sessions") are about users.
func ViewPermission(resource string) string {
	if resource == "sessions" {
		return "users.view"
	}
	return resource + ".view"
}

func newEvent(r db.ListEventsAfterRow) (*Event, error) {
	e := &Event{ID: r.ID, Type: r.Type, Resource: r.Resource, ObjectID: r.ObjectID,
		Actor:   Actor{UserID: r.ActorUserID, TokenID: r.ActorTokenID, Label: r.ActorLabel},
		Payload: r.Payload, CreatedAt: r.CreatedAt.UTC(), pos: position{r.Xid, r.ID},
		perm: ViewPermission(r.Resource)}
	data, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode event %d: %w", r.ID, err)
	}
	// Type names are [a-z_.] (events_type_check) and JSON has no raw newline: the
	// frame needs no escaping.
	e.frame = fmt.Appendf(nil, "id: %d\nevent: %s\ndata: %s\n\n", r.ID, r.Type, data)
	return e, nil
}

// Options tune a Hub; zero values take the defaults.
type Options struct {
	// Buffer is how many events a stream may have waiting; one more and the stream
	// is cut (it reconnects and replays from the table). Default 64.
	Buffer int
	// PerUser caps the open streams of one user, over all their tabs and tokens, on
	// this instance. Default 20.
	PerUser int
	// Heartbeat is how often an idle stream sends a comment, so proxies keep it open
	// and a dead client is noticed. Default 15 s.
	Heartbeat time.Duration
	// Retry is the reconnection delay a stream asks clients to use. Default 2 s.
	Retry time.Duration
	// WriteTimeout bounds each write to a client; a client that reads nothing for
	// that long is cut. Default 10 s.
	WriteTimeout time.Duration
	// AuthGeneration, when set, is a counter that moves whenever who may do what
	// may have changed (auth.PrincipalCache.Generation): streams then check that
	// their client is still signed in and what it may see. Without it they check
	// every Recheck.
	AuthGeneration func() uint64
	// Recheck is how often a stream checks its client regardless. Default 1 minute.
	Recheck time.Duration
}

// Hub is a process's reader of the events table and its fan-out to streams.
type Hub struct {
	st   *store.Store
	log  *slog.Logger
	opts Options

	wake  chan struct{} // "look now", folded: one pending wake is enough
	ready chan struct{} // closed once the hub knows where the stream stands

	mu      sync.Mutex
	pos     position // the last event fanned out
	subs    map[*subscriber]struct{}
	perUser map[int64]int
	closed  bool          // Run has returned: no new streams
	stopped chan struct{} // closed when Run returns: every stream ends
	authCh  chan struct{} // closed (and replaced) when AuthGeneration moves
}

// NewHub returns a hub reading st. Register its Handler on the process's listener
// and start Run.
func NewHub(st *store.Store, log *slog.Logger, opts Options) *Hub {
	if opts.Buffer <= 0 {
		opts.Buffer = 64
	}
	if opts.PerUser <= 0 {
		opts.PerUser = 20
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 15 * time.Second
	}
	if opts.Retry <= 0 {
		opts.Retry = 2 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.Recheck <= 0 {
		opts.Recheck = time.Minute
	}
	return &Hub{st: st, log: log, opts: opts, wake: make(chan struct{}, 1), ready: make(chan struct{}),
		subs: map[*subscriber]struct{}{}, perUser: map[int64]int{}, stopped: make(chan struct{}),
		authCh: make(chan struct{})}
}

// Handler is the listen.Handler of Channel. A notification and a (re)connection
// both mean "read what is new": after a reconnection, what was notified while the
// connection was down is read then.
func (h *Hub) Handler() listen.Handler {
	return listen.Handler{
		Notify:    func(context.Context, string) { h.poke() },
		Connected: func(context.Context) { h.poke() },
	}
}

func (h *Hub) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Streams returns how many streams are open on this hub.
func (h *Hub) Streams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Run reads and fans out events until ctx ends, then ends every stream. Reads that
// fail are retried; nothing is skipped.
func (h *Hub) Run(ctx context.Context) error {
	defer h.stop()
	if err := h.start(ctx); err != nil {
		return err
	}
	if h.opts.AuthGeneration != nil {
		go h.watchAuth(ctx)
	}
	var retry *time.Timer
	backoff := time.Duration(0)
	for {
		var retryC <-chan time.Time
		if retry != nil {
			retryC = retry.C
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-h.wake:
		case <-retryC:
		}
		if retry != nil {
			retry.Stop()
			retry = nil
		}
		pending, err := h.read(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			h.log.Warn("events: read failed, retrying", "err", err)
			backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
		case pending:
			// Rows of a transaction younger than one still running: that one's end
			// sends no notification when it wrote no event, so look again soon.
			backoff = min(max(2*backoff, 10*time.Millisecond), time.Second)
		default:
			backoff = 0
		}
		if backoff > 0 {
			retry = time.NewTimer(backoff)
		}
	}
}

// start finds the head of the stream: a hub fans out only what comes after it, and
// a stream that starts before it would miss what lies between.
func (h *Hub) start(ctx context.Context) error {
	wait := 100 * time.Millisecond
	for {
		var head db.EventsHeadRow
		err := h.st.Primary(ctx, func(q *db.Queries) error {
			var err error
			head, err = q.EventsHead(ctx)
			return err
		})
		if err == nil || errors.Is(err, store.ErrNotFound) {
			h.mu.Lock()
			h.pos = position{head.Xid, head.ID}
			h.mu.Unlock()
			close(h.ready)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		h.log.Warn("events: cannot read the head of the stream, retrying", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// read fans out every settled event after the hub's position, and reports whether
// unsettled ones remain.
func (h *Hub) read(ctx context.Context) (pending bool, err error) {
	for {
		h.mu.Lock()
		from := h.pos
		h.mu.Unlock()
		evs, more, pending, err := h.page(ctx, from)
		if err != nil {
			return false, err
		}
		h.fanOut(evs)
		if !more {
			return pending, nil
		}
	}
}

// page reads the settled events after from, at most pageSize: more says a full
// page came back, pending that an unsettled row ended it.
func (h *Hub) page(ctx context.Context, from position) (evs []*Event, more, pending bool, err error) {
	var rows []db.ListEventsAfterRow
	err = h.st.Primary(ctx, func(q *db.Queries) error {
		var err error
		rows, err = q.ListEventsAfter(ctx, db.ListEventsAfterParams{AfterXid: from.xid, AfterID: from.id, RowLimit: pageSize})
		return err
	})
	if err != nil {
		return nil, false, false, fmt.Errorf("read events after %d: %w", from.id, err)
	}
	evs = make([]*Event, 0, len(rows))
	for _, r := range rows {
		if !r.Settled {
			return evs, false, true, nil
		}
		e, err := newEvent(r)
		if err != nil {
			return nil, false, false, err
		}
		evs = append(evs, e)
	}
	return evs, len(rows) == pageSize, false, nil
}

// fanOut hands evs to every stream that wants them, never waiting: a stream whose
// buffer is full is cut.
func (h *Hub) fanOut(evs []*Event) {
	if len(evs) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range evs {
		for s := range h.subs {
			if !s.wants(e) {
				continue
			}
			select {
			case s.ch <- e:
			default:
				h.dropLocked(s)
				close(s.cut)
			}
		}
	}
	h.pos = evs[len(evs)-1].pos
}

// watchAuth turns moves of the auth generation into a broadcast to the streams.
func (h *Hub) watchAuth(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := h.opts.AuthGeneration()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if g := h.opts.AuthGeneration(); g != last {
			last = g
			h.mu.Lock()
			close(h.authCh)
			h.authCh = make(chan struct{})
			h.mu.Unlock()
		}
	}
}

func (h *Hub) authChanged() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.authCh
}

func (h *Hub) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.stopped)
	}
}

// ErrTooManyStreams is returned by subscribe when the user has PerUser streams open.
var ErrTooManyStreams = errors.New("too many open event streams")

// errStopped is returned by subscribe once the hub has stopped.
var errStopped = errors.New("event hub stopped")

// subscriber is one stream's registration with the hub.
type subscriber struct {
	user  int64
	ch    chan *Event
	cut   chan struct{} // closed when the hub dropped it for a full buffer
	wants func(*Event) bool
}

// subscribe registers a stream of user, receiving the events wants accepts.
func (h *Hub) subscribe(user int64, wants func(*Event) bool) (*subscriber, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errStopped
	}
	if h.perUser[user] >= h.opts.PerUser {
		return nil, ErrTooManyStreams
	}
	s := &subscriber{user: user, ch: make(chan *Event, h.opts.Buffer), cut: make(chan struct{}), wants: wants}
	h.subs[s] = struct{}{}
	h.perUser[user]++
	return s, nil
}

// unsubscribe removes s, if the hub has not already.
func (h *Hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dropLocked(s)
}

func (h *Hub) dropLocked(s *subscriber) {
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	if h.perUser[s.user]--; h.perUser[s.user] <= 0 {
		delete(h.perUser, s.user)
	}
}

// resume returns the position just after event id, or ok false when the table no
// longer holds it (retention deleted it, or it never existed).
func (h *Hub) resume(ctx context.Context, id int64) (pos position, ok bool, err error) {
	if id == 0 {
		return position{}, true, nil // from the oldest event kept
	}
	var xid int64
	err = h.st.Primary(ctx, func(q *db.Queries) error {
		var err error
		xid, err = q.EventPosition(ctx, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return position{}, false, nil
	}
	if err != nil {
		return position{}, false, fmt.Errorf("find event %d: %w", id, err)
	}
	return position{xid, id}, true, nil
}

// head returns the position of the last settled event: where a new stream begins.
func (h *Hub) head(ctx context.Context) (position, error) {
	var head db.EventsHeadRow
	err := h.st.Primary(ctx, func(q *db.Queries) error {
		var err error
		head, err = q.EventsHead(ctx)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return position{}, fmt.Errorf("events head: %w", err)
	}
	return position{head.Xid, head.ID}, nil
}

// parseID reads an event id as clients send it back.
func parseID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id >= 0
}
