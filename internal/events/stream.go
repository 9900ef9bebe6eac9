package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// Request is one client's stream.
type Request struct {
	// Principal is who the client is; it sees only events of resources it may view.
	Principal *auth.Principal
	// Types, when not empty, limits the stream to these event types.
	Types []string
	// ObjectEvents adds, after each event, a second frame named after the changed
	// object ("products-12", "orders-7") whose data is a short HTML notice of who
	// changed what: a live page listens for the objects it shows (htmx-ext-sse's
	// hx-trigger="sse:products-12" or sse-swap) without reading JSON.
	ObjectEvents bool
	// Watch, when set, is the object the client's page shows ("products-12"): the
	// stream records the client's presence (across instances, migration 0031) and
	// sends "presence-products-12" frames naming who else has it open, as HTML.
	Watch string
	// Counts are event types the stream counts for its client: after each one it
	// sends "count-<type>" with how many it has sent since it opened (a live page's
	// "3 new orders" without a query or a script).
	Counts []string
	// Recheck returns who the client is now, or nil once it stands for nobody
	// (signed out, deactivated, token revoked): the stream then ends. Called when
	// permissions may have changed and every Options.Recheck; nil never rechecks.
	Recheck func(ctx context.Context) (*auth.Principal, error)
}

// RefusedError is why a stream was refused before it began; Kind is one of web's
// errors (web.ErrTooMany, web.ErrBadRequest, store.ErrUnavailable) for the status.
type RefusedError struct {
	Kind       error
	Detail     string
	RetryAfter time.Duration // for web.ErrTooMany and store.ErrUnavailable
}

func (e *RefusedError) Error() string { return e.Detail }
func (e *RefusedError) Unwrap() error { return e.Kind }

// How a stream ends, sent as its last event. A client reconnects after either
// (EventSource does so on its own, with Last-Event-ID); after "reset" it reloads
// whatever it shows, since the events it missed are no longer kept.
const (
	eventReconnect = "reconnect"
	eventReset     = "reset"
)

// Detached returns a copy of r for a Request's Recheck to read again later: the
// stream outlives the handler (Serve takes its connection over), and r's body reader
// holds the ResponseWriter and with it net/http's buffers, so the copy has no body.
func Detached(r *http.Request) *http.Request {
	held := r.WithContext(r.Context())
	held.Body = http.NoBody
	return held
}

// Serve streams events to the client of r as text/event-stream, until the client
// leaves, the server shuts down, the hub stops, the client falls too far behind or
// stops standing for anyone. A Last-Event-ID header (or, for a first connection,
// ?since=ID; 0 means every event kept) resumes after that event: the stream replays
// what the client missed from the table, then goes on live.
//
// Serve returns an error only when it refused the stream before writing anything
// (a *RefusedError, or a failure to read the table); once the stream has begun it
// ends it itself and returns nil.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, req Request) error {
	ctx := r.Context()
	resumeFrom, resuming, err := resumeID(r)
	if err != nil {
		return err
	}
	types := map[string]bool{}
	for _, t := range req.Types {
		types[t] = true
	}
	wait := time.NewTimer(5 * time.Second)
	defer wait.Stop()
	select {
	case <-h.ready:
	case <-ctx.Done():
		return ctx.Err()
	case <-h.stopped:
		return &RefusedError{Kind: store.ErrUnavailable, Detail: "The server is shutting down: reconnect.", RetryAfter: time.Second}
	case <-wait.C:
		return &RefusedError{Kind: store.ErrUnavailable, Detail: "The event stream is not ready yet: reconnect.", RetryAfter: time.Second}
	}

	s := &stream{hub: h, w: w, rc: http.NewResponseController(w), objects: req.ObjectEvents, viewer: req.Principal.UserID}
	if len(req.Counts) > 0 {
		s.counted = make(map[string]int, len(req.Counts))
		for _, t := range req.Counts {
			s.counted[t] = 0
		}
	}
	var principal atomic.Pointer[auth.Principal]
	principal.Store(req.Principal)
	wants := func(e *Event) bool {
		p := principal.Load()
		return p != nil && (len(types) == 0 || types[e.Type]) && p.Can(e.perm)
	}
	// Subscribe before finding where to start: whatever the hub fans out from now on
	// is buffered, and whatever it fanned out before lies at or before the start.
	sub, head, err := h.subscribe(req.Principal.UserID, wants)
	if errors.Is(err, ErrTooManyStreams) {
		return &RefusedError{Kind: web.ErrTooMany, RetryAfter: 10 * time.Second, Detail: fmt.Sprintf(
			"At most %d event streams may be open per user: close one (a tab, a client) first.", h.opts.PerUser)}
	}
	if err != nil {
		return &RefusedError{Kind: store.ErrUnavailable, Detail: "The server is shutting down: reconnect.", RetryAfter: time.Second}
	}
	// cleanup ends the subscription; once the stream runs on its own goroutine
	// (handedOff), that goroutine calls it.
	handedOff := false
	cleanup := func() {
		h.leave(sub)
		h.unsubscribe(sub)
	}
	defer func() {
		if !handedOff {
			cleanup()
		}
	}()
	if req.Watch != "" && ValidWatch(req.Watch) {
		sub.watch = req.Watch
		if err := h.join(ctx, sub, req.Principal.DisplayName()); err != nil {
			return err
		}
	}

	from, found := head, false
	if resuming {
		if found, err = h.resume(ctx, resumeFrom); err != nil {
			return err
		}
		if found {
			from = resumeFrom
		}
	}

	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	// An HTTP/1 stream takes its connection over (see takeOver); one that cannot
	// (HTTP/2) is written through the ResponseWriter for as long as it lasts.
	release := web.Hold(ctx)
	defer func() {
		if !handedOff {
			release()
		}
	}()
	if err := s.takeOver(); err != nil {
		w.WriteHeader(http.StatusOK)
		// The server's read and write timeouts are for requests, not for streams:
		// lift them (an expired read deadline would cancel the request's context).
		s.rc.SetReadDeadline(time.Time{})
	}
	if s.conn != nil {
		defer func() {
			if !handedOff {
				s.conn.Close()
			}
		}()
	}
	// The opening id: line with no data sets the client's Last-Event-ID without an
	// event, so a client that reconnects before any event resumes from here.
	fmt.Fprintf(&s.buf, "retry: %d\nid: %d\n\n", h.opts.Retry.Milliseconds(), from)
	if resuming && !found {
		fmt.Fprintf(&s.buf, "event: %s\ndata: {\"reason\":%q}\n\n", eventReset,
			"the events after "+strconv.FormatInt(resumeFrom, 10)+" are no longer kept: reload")
	}
	if err := s.flush(); err != nil {
		return nil
	}
	if resuming && found {
		if from, err = s.replay(ctx, from, head, wants); err != nil {
			return nil
		}
	}
	if s.conn == nil {
		s.live(ctx, sub, from, &principal, req.Recheck)
		return nil
	}
	// The handler returns and net/http lets go of the request (and cancels its
	// context): the stream goes on with a context of its own, which ends when the
	// client leaves.
	handedOff = true
	sctx, gone := context.WithCancel(context.WithoutCancel(ctx))
	go watchClose(s.conn, gone)
	go func() {
		defer release()
		defer s.conn.Close()
		defer cleanup()
		defer gone()
		s.live(sctx, sub, from, &principal, req.Recheck)
	}()
	return nil
}

// takeOver hijacks the stream's HTTP/1 connection and writes the response's head
// itself. Then the stream costs one small goroutine writing (started fresh, so its
// stack is only as deep as the stream's loop, not as the middleware and the
// authentication that led to it) and one reading (watchClose), and no buffers of
// net/http's: it is what lets one process hold ten thousand. The body ends when
// the connection closes (Connection: close, no length).
func (s *stream) takeOver() error {
	conn, _, err := s.rc.Hijack()
	if err != nil {
		return err
	}
	// Whatever net/http had buffered from the client (a pipelined request) is
	// dropped: the connection closes when the stream ends.
	s.conn, s.rc = conn, nil
	s.buf.WriteString("HTTP/1.1 200 OK\r\n")
	s.w.Header().Write(&s.buf)
	s.buf.WriteString("Connection: close\r\n\r\n")
	s.w = nil
	return nil
}

// watchClose reads the taken-over connection until the client closes it (or sends
// what a stream does not expect), then calls gone.
func watchClose(conn net.Conn, gone context.CancelFunc) {
	defer gone()
	var b [64]byte
	for {
		if _, err := conn.Read(b[:]); err != nil {
			return
		}
	}
}

// resumeID reads where the client resumes: Last-Event-ID, else ?since.
func resumeID(r *http.Request) (id int64, resuming bool, err error) {
	name, v := "Last-Event-ID", r.Header.Get("Last-Event-ID")
	if v == "" {
		name, v = "since", r.URL.Query().Get("since")
	}
	if v == "" {
		return 0, false, nil
	}
	id, ok := parseID(strings.TrimSpace(v))
	if !ok {
		return 0, false, &RefusedError{Kind: web.ErrBadRequest,
			Detail: fmt.Sprintf("%s must be an event id (a whole number, 0 for every event kept), not %q.", name, v)}
	}
	return id, true, nil
}

// stream is one open response.
type stream struct {
	hub     *Hub
	w       http.ResponseWriter      // nil once the connection is taken over
	rc      *http.ResponseController // nil once the connection is taken over
	conn    net.Conn                 // the taken-over connection, or nil
	buf     bytes.Buffer
	objects bool           // Request.ObjectEvents
	viewer  int64          // the client's user
	counted map[string]int // Request.Counts: type → how many sent
}

// add buffers e's frames. The object frame of the client's own change carries no
// notice (an HTML comment: an empty data field would not be dispatched), so a page
// refreshes what it shows without telling its user that they changed it.
func (s *stream) add(e *Event) {
	s.buf.Write(e.frame)
	if n, ok := s.counted[e.Type]; ok {
		s.counted[e.Type] = n + 1
		fmt.Fprintf(&s.buf, "event: count-%s\ndata: %d\n\n", e.Type, n+1)
	}
	if !s.objects {
		return
	}
	if e.Actor.UserID != nil && *e.Actor.UserID == s.viewer {
		fmt.Fprintf(&s.buf, "event: %s-%d\ndata: <!-- yours -->\n\n", e.Resource, e.ObjectID)
		return
	}
	s.buf.Write(e.object())
}

// flush writes what is buffered, within the write timeout: a client that does not
// read is cut rather than waited for.
func (s *stream) flush() error {
	deadline := time.Now().Add(s.hub.opts.WriteTimeout)
	var err error
	if s.conn != nil {
		s.conn.SetWriteDeadline(deadline)
		_, err = s.buf.WriteTo(s.conn)
	} else {
		s.rc.SetWriteDeadline(deadline)
		if _, err = s.w.Write(s.buf.Bytes()); err == nil {
			err = s.rc.Flush()
		}
	}
	s.buf = bytes.Buffer{} // an idle stream keeps no buffer
	return err
}

// replay sends the final events after from that the client wants, page by page,
// and returns the id it got to: at least head, the hub's position when the stream
// subscribed, after which the hub hands it the rest.
func (s *stream) replay(ctx context.Context, from, head int64, wants func(*Event) bool) (int64, error) {
	for {
		evs, to, more, _, err := s.hub.page(ctx, from, head)
		if err != nil {
			if ctx.Err() == nil {
				s.hub.log.Warn("events: replay failed", "err", err)
			}
			return from, err
		}
		for _, e := range evs {
			if wants(e) {
				s.add(e)
			}
		}
		from = to
		if err := s.flush(); err != nil {
			return from, err
		}
		if !more {
			return from, nil
		}
	}
}

// live sends what the hub fans out after from, with heartbeats, until the stream
// has to end.
func (s *stream) live(ctx context.Context, sub *subscriber, from int64,
	principal *atomic.Pointer[auth.Principal], recheck func(context.Context) (*auth.Principal, error)) {
	h := s.hub
	stopping := web.Stopping(ctx)
	check := time.NewTimer(h.opts.Recheck)
	defer check.Stop()
	for {
		select {
		case e := <-sub.ch:
			// Take what else is waiting too, and write it all with one flush.
			for n := 0; e != nil && n < h.opts.Buffer; n++ {
				if e.ID > from { // replay may have sent it already
					s.add(e)
					from = e.ID
				}
				select {
				case e = <-sub.ch:
				default:
					e = nil
				}
			}
			if s.buf.Len() > 0 && s.flush() != nil {
				return
			}
		case all := <-sub.presence:
			s.buf.Write(presenceFrame(sub.watch, s.viewer, all))
			if s.flush() != nil {
				return
			}
		case <-h.heartbeat():
			s.buf.WriteString(": heartbeat\n\n")
			if s.flush() != nil {
				return
			}
		case <-sub.cut:
			s.end(eventReconnect, "this client fell too far behind: reconnect with Last-Event-ID")
			return
		case <-h.authChanged():
			// Every stream hears this at once; spread their checks over a second.
			check.Reset(rand.N(time.Second))
		case <-check.C:
			check.Reset(h.opts.Recheck)
			if recheck == nil {
				continue
			}
			p, err := s.recheck(ctx, recheck)
			if err != nil {
				if ctx.Err() == nil {
					h.log.Warn("events: recheck failed; the stream goes on", "err", err)
				}
				continue
			}
			principal.Store(p)
			if p == nil {
				s.end(eventReconnect, "signed out")
				return
			}
		case <-stopping:
			s.end(eventReconnect, "the server is shutting down")
			return
		case <-h.stopped:
			s.end(eventReconnect, "the server is shutting down")
			return
		case <-ctx.Done():
			return
		}
	}
}

// recheck calls recheck on a goroutine of its own, which ends with the call: the
// authentication's stack (database driver included) is not kept by the stream's
// goroutine for as long as the stream lasts.
func (s *stream) recheck(ctx context.Context, recheck func(context.Context) (*auth.Principal, error)) (*auth.Principal, error) {
	var p *auth.Principal
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		p, err = recheck(ctx)
	}()
	<-done
	return p, err
}

// end sends the last event, saying why the stream ends; the client may not be
// reading, so this is best effort within the write timeout.
func (s *stream) end(event, reason string) {
	fmt.Fprintf(&s.buf, "event: %s\ndata: {\"reason\":%q}\n\n", event, reason)
	s.flush()
}

// typePattern is what an event type looks like (the events_type_check constraint).
var typePattern = regexp.MustCompile(`^[a-z_]+\.[a-z_]+$`)

// ParseTypes reads a comma-separated list of event types (?types=order.placed,...).
func ParseTypes(v string) ([]string, error) {
	var out []string
	for t := range strings.SplitSeq(v, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if !typePattern.MatchString(t) {
			return nil, &RefusedError{Kind: web.ErrBadRequest,
				Detail: fmt.Sprintf("types: %q is not an event type (resource.verb, such as order.placed).", t)}
		}
		out = append(out, t)
	}
	return out, nil
}
