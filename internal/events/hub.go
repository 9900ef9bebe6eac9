// Package events delivers the events table (migration 0012: one row per audit row,
// written in the change's own transaction) to live subscribers: the admin's pages and
// the API's event stream, both Server-Sent Events.
//
// Each process has one Hub. It hears "look now" on Channel through the process's one
// LISTEN connection (internal/store/listen), reads the new rows once, and fans them out in
// memory to its streams, so the database's work per notification does not grow with
// the number of streams. A stream resumes from its Last-Event-ID by reading the table
// itself; the hub catches up after a lost connection in the listener's Connected hook.
//
// Order: rows are delivered in id order, each only once every lower id is final:
// committed, or rolled back and never to come (migration 0030 says how a reader
// knows). The position a stream has reached only ever grows, and everything at or
// below it has been delivered: no gap, no duplicate, whichever instance serves it.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/store/listen"
)

// Channel is where a process announces, after each commit that inserted events,
// that there is something new (store.EventsChannel says why after the commit).
const Channel = store.EventsChannel

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
	frame     []byte          // the SSE frame, encoded once for every stream
	perm      string          // the permission that lets a client see it

	objectOnce  sync.Once
	objectFrame []byte // see Request.ObjectEvents; made once, on first use
}

// Actor is who made the change.
type Actor struct {
	UserID  *int64 `json:"user_id"`
	TokenID *int64 `json:"token_id"`
	Label   string `json:"label"`
}

// ViewPermission is the permission a client needs to receive an event about
// resource: the resource's view permission. Sign-ins and sign-outs (resource
// "sessions") are about users.
func ViewPermission(resource string) string {
	switch resource {
	case "sessions":
		return "users.view"
	case "imports": // imports have no permissions of their own: their pages are the products'
		return "products.view"
	}
	return resource + ".view"
}

func newEvent(r db.ListEventsAfterRow) (*Event, error) {
	e := &Event{ID: r.ID, Type: r.Type, Resource: r.Resource, ObjectID: r.ObjectID,
		Actor:   Actor{UserID: r.ActorUserID, TokenID: r.ActorTokenID, Label: r.ActorLabel},
		Payload: r.Payload, CreatedAt: r.CreatedAt.UTC(),
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
	// Poll is how often the hub looks for new events without being told: for those
	// whose writer died between its commit and its announcement, or wrote them by
	// other means than the store. Default 2 s.
	Poll time.Duration
}

// Hub is a process's reader of the events table and its fan-out to streams.
type Hub struct {
	st   *store.Store
	log  *slog.Logger
	opts Options

	wake  chan struct{} // "look now", folded: one pending wake is enough
	ready chan struct{} // closed once the hub knows where the stream stands

	cut, fanned atomic.Uint64 // streams cut for a full buffer; events read and fanned out

	mu      sync.Mutex
	pos     int64 // every id up to here is final and fanned out
	subs    map[*subscriber]struct{}
	perUser map[int64]int
	closed  bool                          // Run has returned: no new streams
	stopped chan struct{}                 // closed when Run returns: every stream ends
	authCh  atomic.Pointer[chan struct{}] // closed (and replaced) when AuthGeneration moves
	beat    atomic.Pointer[chan struct{}] // closed (and replaced) every Heartbeat

	watchers        map[string]map[*subscriber]struct{} // object → streams watching it
	presencePending map[string]bool                     // objects whose viewers are to be told again
	presenceWake    chan struct{}
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
	if opts.Poll <= 0 {
		opts.Poll = 2 * time.Second
	}
	h := &Hub{st: st, log: log, opts: opts, wake: make(chan struct{}, 1), ready: make(chan struct{}),
		subs: map[*subscriber]struct{}{}, perUser: map[int64]int{}, stopped: make(chan struct{}),
		watchers:        map[string]map[*subscriber]struct{}{},
		presencePending: map[string]bool{}, presenceWake: make(chan struct{}, 1)}
	beat, auth := make(chan struct{}), make(chan struct{})
	h.beat.Store(&beat)
	h.authCh.Store(&auth)
	return h
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

// Cut counts the streams cut so far because their client read too slowly.
func (h *Hub) Cut() uint64 { return h.cut.Load() }

// Read counts the events the hub has read and fanned out so far.
func (h *Hub) Read() uint64 { return h.fanned.Load() }

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
	go h.beatEvery(ctx)
	go h.runPresence(ctx)
	var retry *time.Timer
	backoff := time.Duration(0)
	poll := time.NewTicker(h.opts.Poll)
	defer poll.Stop()
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
		case <-poll.C:
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
// a stream that starts before it would miss what lies between. The head is the last
// id handed out at a moment when no transaction writing events is running.
func (h *Hub) start(ctx context.Context) error {
	wait := 50 * time.Millisecond
	for {
		var f db.EventsFrontierRow
		err := h.st.Primary(ctx, func(q *db.Queries) error {
			var err error
			f, err = q.EventsFrontier(ctx)
			return err
		})
		if err == nil && !f.Writing {
			h.mu.Lock()
			h.pos = f.LastID
			h.mu.Unlock()
			close(h.ready)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			h.log.Warn("events: cannot read the head of the stream, retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// read fans out every final event after the hub's position, and reports whether
// some that are not final yet remain.
func (h *Hub) read(ctx context.Context) (pending bool, err error) {
	for {
		h.mu.Lock()
		from := h.pos
		h.mu.Unlock()
		evs, to, more, pending, err := h.page(ctx, from, from)
		if err != nil {
			return false, err
		}
		h.fanOut(evs, to)
		if !more {
			return pending, nil
		}
	}
}

// page reads the events after id from that are final, at most pageSize, and returns
// them with the id it got to (skipped rolled-back ids included): more says a full
// page came back, pending that a missing id that may still come ended it, with
// committed events after it waiting. Ids up to known are final already (the hub has
// been past them).
func (h *Hub) page(ctx context.Context, from, known int64) (evs []*Event, to int64, more, pending bool, err error) {
	var f db.EventsFrontierRow
	var rows []db.ListEventsAfterRow
	err = h.st.Primary(ctx, func(q *db.Queries) error {
		var err error
		// The frontier first: what it saw ended has ended before the rows are read.
		if f, err = q.EventsFrontier(ctx); err != nil {
			return err
		}
		rows, err = q.ListEventsAfter(ctx, db.ListEventsAfterParams{AfterID: from, RowLimit: pageSize})
		return err
	})
	if err != nil {
		return nil, from, false, false, fmt.Errorf("read events after %d: %w", from, err)
	}
	// An id is final when no writer is running and it was handed out before the
	// frontier was read.
	final := known
	if !f.Writing {
		final = max(final, f.LastID)
	}
	to = from
	evs = make([]*Event, 0, len(rows))
	for _, r := range rows {
		if r.ID != to+1 && r.ID-1 > final {
			return evs, to, false, true, nil // ids to+1 .. r.ID-1 may still commit
		}
		e, err := newEvent(r)
		if err != nil {
			return nil, from, false, false, err
		}
		evs = append(evs, e)
		to = r.ID
	}
	if len(rows) == pageSize {
		return evs, to, true, false, nil
	}
	// Every committed row after from has been read: the ids after the last one up to
	// the final one were rolled back. A writer still running may hold ids after them,
	// but nothing that has committed waits behind it: its commit sends a NOTIFY (or,
	// from a writer outside the store, the poll finds it), and a rollback leaves
	// nothing to deliver. So this is not pending: looking again in 10 ms found
	// nothing new, and under a stream of writes (S3) it cost a frontier and a read
	// for every second request.
	return evs, max(to, final), false, false, nil
}

// fanOut hands evs to every stream that wants them, never waiting: a stream whose
// buffer is full is cut. The hub's position moves to to.
func (h *Hub) fanOut(evs []*Event, to int64) {
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
				h.cut.Add(1)
			}
		}
	}
	h.pos = max(h.pos, to)
	h.fanned.Add(uint64(len(evs)))
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
			next := make(chan struct{})
			close(*h.authCh.Swap(&next))
		}
	}
}

// beatEvery is every stream's heartbeat: one ticker for all of them, not one each.
func (h *Hub) beatEvery(ctx context.Context) {
	t := time.NewTicker(h.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next := make(chan struct{})
		close(*h.beat.Swap(&next))
	}
}

// heartbeat is closed at the next heartbeat.
func (h *Hub) heartbeat() <-chan struct{} { return *h.beat.Load() }

// authChanged is closed when AuthGeneration next moves. It takes no lock: every
// stream asks after each event, while the hub may hold h.mu fanning out.
func (h *Hub) authChanged() <-chan struct{} { return *h.authCh.Load() }

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
	user     int64
	watch    string        // Request.Watch
	streamID string        // its presence row, when watching
	presence chan []Viewer // who has the watched object open, latest only
	ch       chan *Event
	cut      chan struct{} // closed when the hub dropped it for a full buffer
	wants    func(*Event) bool
}

// subscribe registers a stream of user, receiving the events wants accepts after
// the hub's position, which it returns.
func (h *Hub) subscribe(user int64, wants func(*Event) bool) (*subscriber, int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, 0, errStopped
	}
	if h.perUser[user] >= h.opts.PerUser {
		return nil, 0, ErrTooManyStreams
	}
	s := &subscriber{user: user, ch: make(chan *Event, h.opts.Buffer), cut: make(chan struct{}), wants: wants,
		presence: make(chan []Viewer, 1)}
	h.subs[s] = struct{}{}
	h.perUser[user]++
	return s, h.pos, nil
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

// resume reports whether a client may resume after event id without a gap: the
// event is still kept, or id lies within what is kept (an id never committed), or
// nothing was delivered after it. Retention deletes the lowest ids first, so the
// events after a kept id are all kept.
func (h *Hub) resume(ctx context.Context, id int64) (ok bool, err error) {
	if id == 0 {
		return true, nil // from the oldest event kept
	}
	var exists bool
	var oldest int64
	err = h.st.Primary(ctx, func(q *db.Queries) error {
		var err error
		if exists, err = q.EventExists(ctx, id); err != nil || exists {
			return err
		}
		oldest, err = q.OldestEventID(ctx)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("find event %d: %w", id, err)
	}
	if exists || oldest > 0 && id >= oldest {
		return true, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return oldest == 0 && id >= h.pos, nil
}

// parseID reads an event id as clients send it back.
func parseID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id >= 0
}
