package api

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/jackc/pgx/v5"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/events"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/store/listen"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// live is the API harness with what a serving process adds for streams: the LISTEN
// connection, the principal cache it keeps fresh and the event hub.
type live struct {
	*harness
	hub    *events.Hub
	stream *http.Client // no contract check: it would wait for the stream's end
}

func newLive(t testing.TB, opts events.Options) *live {
	t.Helper()
	l := &live{}
	cache := auth.NewPrincipalCache(0, 0)
	var lst *listen.Listener
	l.harness = newHarness(t, func(o *harnessOptions) {
		o.events = func(st *store.Store, log *slog.Logger) *events.Hub {
			lst = listen.New(st.Pool(), log)
			// Long enough that writes land while the listener is away (the replay test).
			lst.MinBackoff = 300 * time.Millisecond
			lst.Handle(auth.ChangesChannel, cache.Handler())
			opts.AuthGeneration = cache.Generation
			l.hub = events.NewHub(st, log, opts)
			lst.Handle(events.Channel, l.hub.Handler())
			return l.hub
		}
	})
	l.api.tokens = auth.NewTokens(l.st).WithCache(cache)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { lst.Run(ctx) })
	wg.Go(func() { l.hub.Run(ctx) })
	t.Cleanup(func() {
		l.srv.CloseClientConnections()
		cancel()
		wg.Wait()
	})
	l.stream = &http.Client{Transport: &http.Transport{}}
	t.Cleanup(l.stream.CloseIdleConnections)
	return l
}

// frame is one dispatched SSE frame; an id-only frame has no event and no data.
type frame struct {
	id, event, data string
}

// sse is an open stream read frame by frame. Its reader hands frames over one at a
// time: while the test takes none, the stream is not read (TCP pushes back).
type sse struct {
	t      *testing.T
	resp   *http.Response
	cancel context.CancelFunc
	frames chan frame
	done   chan struct{}
	lastID string
}

// open opens a stream with token (and header name/value pairs); it fails the test
// unless the answer is 200 text/event-stream.
func (l *live) open(t *testing.T, token, query string, headers ...string) *sse {
	t.Helper()
	resp, cancel := l.request(t, token, query, headers...)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("stream: status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sse{t: t, resp: resp, cancel: cancel, frames: make(chan frame), done: make(chan struct{})}
	go s.read()
	t.Cleanup(s.close)
	return s
}

func (l *live) request(t testing.TB, token, query string, headers ...string) (*http.Response, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", l.srv.URL+"/api/v1/events"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := l.stream.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	return resp, cancel
}

func (s *sse) read() {
	defer close(s.done)
	defer close(s.frames)
	sc := bufio.NewScanner(s.resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var f frame
	dispatch := false
	for sc.Scan() {
		line := sc.Text()
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch {
		case line == "":
			if dispatch {
				s.frames <- f
			}
			f, dispatch = frame{id: f.id}, false
		case field == "": // a comment: the heartbeat
		case field == "id":
			f.id, dispatch = value, true
		case field == "event":
			f.event, dispatch = value, true
		case field == "data":
			f.data, dispatch = value, true
		}
	}
}

// next returns the next event (skipping id-only frames), failing the test after 60 s
// or at the stream's end (generous: the machine running the tests may be busy).
func (s *sse) next() frame {
	s.t.Helper()
	timeout := time.NewTimer(60 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case f, ok := <-s.frames:
			if !ok {
				s.t.Fatal("the stream ended")
			}
			s.lastID = f.id
			if f.event != "" || f.data != "" {
				return f
			}
		case <-timeout.C:
			s.t.Fatal("no event within 60 s")
		}
	}
}

// end reads the rest of the stream and returns its events.
func (s *sse) end() []frame {
	var out []frame
	for f := range s.frames {
		if f.event != "" || f.data != "" {
			out = append(out, f)
		}
	}
	return out
}

func (s *sse) close() {
	s.cancel()
	for range s.frames { // let the reader finish
	}
	<-s.done
	s.resp.Body.Close()
}

// record writes n changes to resource, each in its own transaction, the way every
// write path does (audit.Record), and returns the new events' ids.
func (l *live) record(t testing.TB, n int, resource string) []int64 {
	t.Helper()
	ctx := context.Background()
	var ids []int64
	for i := range n {
		err := l.st.InTx(ctx, func(q *db.Queries) error {
			return audit.Record(ctx, q, audit.System, audit.ActionUpdate, resource, int64(i+1), "thing",
				audit.Changes{"stock": {i, i + 1}})
		})
		if err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := l.st.Pool().QueryRow(ctx, `SELECT max(id) FROM events`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// expect reads len(ids) events and checks they are those, in order, valid Events.
func (s *sse) expect(ids []int64) {
	s.t.Helper()
	schema := eventSchema(s.t)
	for i, want := range ids {
		f := s.next()
		var v map[string]any
		if err := json.Unmarshal([]byte(f.data), &v); err != nil {
			s.t.Fatalf("event %d data %q: %v", i, f.data, err)
		}
		if err := schema.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			s.t.Errorf("event data %s does not match the Event schema: %v", f.data, err)
		}
		if f.id != strconv.FormatInt(want, 10) || v["id"] != float64(want) {
			s.t.Fatalf("event %d: id %s (data id %v), want %d", i, f.id, v["id"], want)
		}
	}
}

func eventSchema(t *testing.T) *openapi3.Schema {
	doc, err := contractDoc()
	if err != nil {
		t.Fatal(err)
	}
	return doc.Components.Schemas["Event"].Value
}

// A client that disconnects and comes back with Last-Event-ID gets exactly what it
// missed, in order, once; so does one whose server lost its LISTEN connection
// meanwhile.
func TestEventStreamReplaysWhatAClientMissed(t *testing.T) {
	t.Parallel()
	l := newLive(t, events.Options{})
	tok := l.token(t, l.user(t, "reader@example.com", "customers.view"), auth.ScopeRead)

	s := l.open(t, tok, "")
	s.expect(l.record(t, 3, "customers"))
	last := s.lastID
	s.close()

	missed := l.record(t, 50, "customers")
	s = l.open(t, tok, "", "Last-Event-ID", last)
	s.expect(missed)
	after := l.record(t, 1, "customers") // next comes the next write: nothing twice
	s.expect(after)

	// The listener's connection dies; what is written while it is away still comes.
	var killed int
	err := l.st.Pool().QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, listen.ApplicationName).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminated %d listener connections (%v), want 1", killed, err)
	}
	s.expect(l.record(t, 10, "customers"))

	// ?since= resumes a first connection; 0 is every event kept.
	s2 := l.open(t, tok, "?since="+strconv.FormatInt(missed[len(missed)-1], 10))
	s2.expect(after)
	s3 := l.open(t, tok, "?since=0")
	if f := s3.next(); f.event != "customer.updated" {
		t.Errorf("since=0: first event %q, want customer.updated", f.event)
	}

	// An id the table no longer holds: the stream says reset and starts from now.
	l.exec(t, `DELETE FROM events WHERE id <= $1`, missed[10])
	s4 := l.open(t, tok, "", "Last-Event-ID", strconv.FormatInt(missed[5], 10))
	if f := s4.next(); f.event != "reset" {
		t.Errorf("resuming after a deleted event: %q %s, want reset", f.event, f.data)
	}
	s4.expect(l.record(t, 1, "customers"))
}

// Bad resume points and types are 400 problems, and no token is a 401.
func TestEventStreamRefusesBadRequests(t *testing.T) {
	t.Parallel()
	l := newLive(t, events.Options{})
	tok := l.token(t, l.user(t, "reader@example.com", "orders.view"), auth.ScopeRead)
	for _, tt := range []struct {
		name, query string
		headers     []string
		status      int
	}{
		{"since not a number", "?since=yesterday", nil, 400},
		{"negative since", "?since=-1", nil, 400},
		{"Last-Event-ID not a number", "", []string{"Last-Event-ID", "abc"}, 400},
		{"a type that is no type", "?types=orders", nil, 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := l.call(t, "GET", "/api/v1/events"+tt.query, tok, "", tt.headers...).want(t, tt.status).problem(t)
			if p.Detail == "" {
				t.Error("problem without detail")
			}
		})
	}
	l.call(t, "GET", "/api/v1/events", "", "").want(t, 401)
}

// A client receives only events of resources it may view; ?types narrows further;
// a deactivated user's stream ends.
func TestEventStreamFiltersByPermission(t *testing.T) {
	t.Parallel()
	l := newLive(t, events.Options{})
	catalogOnly := l.user(t, "catalog@example.com", "products.view")
	both := l.user(t, "both@example.com", "products.view", "orders.view")
	sCatalog := l.open(t, l.token(t, catalogOnly, auth.ScopeRead), "")
	sBoth := l.open(t, l.token(t, both, auth.ScopeRead), "")
	sTyped := l.open(t, l.token(t, both, auth.ScopeRead), "?types=product.updated")

	order := l.record(t, 1, "orders")
	product := l.record(t, 1, "products")
	sCatalog.expect(product) // not the order event first
	sBoth.expect(append(order, product...))
	sTyped.expect(product)

	l.exec(t, `UPDATE users SET is_active = false WHERE id = $1`, catalogOnly)
	rest := sCatalog.end() // the stream ends within seconds
	if len(rest) != 1 || rest[0].event != "reconnect" {
		t.Errorf("after deactivation: %v, want one reconnect event and the end", rest)
	}
}

// Each user may hold Options.PerUser streams; one more is a 429 problem until one
// closes.
func TestEventStreamCapPerUser(t *testing.T) {
	t.Parallel()
	l := newLive(t, events.Options{PerUser: 3})
	uid := l.user(t, "tabs@example.com", "orders.view")
	tok, other := l.token(t, uid, auth.ScopeRead), l.token(t, uid, auth.ScopeRead)
	var open []*sse
	for range 3 {
		open = append(open, l.open(t, tok, ""))
	}
	r := l.call(t, "GET", "/api/v1/events", other, "").want(t, 429) // the cap is per user, not per token
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	open[0].close()
	waitFor(t, "the closed stream to leave the hub", func() bool { return l.hub.Streams() == 2 })
	l.open(t, other, "")
	someoneElse := l.token(t, l.user(t, "else@example.com", "orders.view"), auth.ScopeRead)
	l.open(t, someoneElse, "")
}

// A client that stops reading is cut once its buffer fills, without holding up the
// others: it gets what was buffered, in order, then a reconnect event, and resumes
// from there with nothing lost.
func TestEventStreamCutsASlowClient(t *testing.T) {
	t.Parallel()
	l := newLive(t, events.Options{Buffer: 4, WriteTimeout: 30 * time.Second})
	tok := l.token(t, l.user(t, "slow@example.com", "customers.view"), auth.ScopeRead)
	slow := l.open(t, tok, "")
	fast := l.open(t, tok, "?types=customer.created")

	// 1,000 events of 24 KiB in one transaction: more than the sockets hold, so the
	// server's writes to the slow client block and the hub's sends find it full.
	ctx := context.Background()
	big := strings.Repeat("x", 24<<10)
	objs := make([]audit.Object, 1000)
	for i := range objs {
		objs[i] = audit.Object{ID: int64(i + 1), Repr: "c", Changes: audit.Changes{"note": {nil, big}}}
	}
	if err := l.st.InTx(ctx, func(q *db.Queries) error {
		return audit.RecordMany(ctx, q, audit.System, audit.ActionUpdate, "customers", objs, "")
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the slow stream to be cut", func() bool { return l.hub.Streams() == 1 })
	fast.expect(l.recordCreated(t)) // the hub went on

	got := slow.end()
	if len(got) < 2 || got[len(got)-1].event != "reconnect" {
		t.Fatalf("slow client got %d events, want some then reconnect", len(got))
	}
	var first int64
	l.st.Pool().QueryRow(ctx, `SELECT min(id) FROM events WHERE type = 'customer.updated'`).Scan(&first)
	for i, f := range got[:len(got)-1] {
		if f.id != strconv.FormatInt(first+int64(i), 10) {
			t.Fatalf("event %d has id %s, want %d: a gap", i, f.id, first+int64(i))
		}
	}
	again := l.open(t, tok, "?types=customer.updated", "Last-Event-ID", got[len(got)-2].id)
	if f := again.next(); f.id != strconv.FormatInt(first+int64(len(got)-1), 10) {
		t.Errorf("resumed at %s, want %d", f.id, first+int64(len(got)-1))
	}
}

// recordCreated writes one customer.created event and returns its id.
func (l *live) recordCreated(t *testing.T) []int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := l.st.InTx(ctx, func(q *db.Queries) error {
		return audit.Record(ctx, q, audit.System, audit.ActionCreate, "customers", 1, "c", nil)
	})
	if err == nil {
		err = l.st.Pool().QueryRow(ctx, `SELECT max(id) FROM events`).Scan(&id)
	}
	if err != nil {
		t.Fatal(err)
	}
	return []int64{id}
}

// 200 streams opened and dropped leave no goroutine behind, on the server or in the
// hub.
func TestEventStreamsLeaveNoGoroutines(t *testing.T) {
	l := newLive(t, events.Options{PerUser: 200})
	tok := l.token(t, l.user(t, "many@example.com", "customers.view"), auth.ScopeRead)
	// Warm up: the first stream starts what lives as long as the server.
	l.open(t, tok, "").close()
	l.stream.CloseIdleConnections()
	waitFor(t, "the warm-up stream to end", func() bool { return l.hub.Streams() == 0 })
	before := settledGoroutines()

	streams := make([]*sse, 200)
	for i := range streams {
		streams[i] = l.open(t, tok, "")
	}
	ids := l.record(t, 1, "customers")
	for _, s := range streams {
		s.expect(ids)
	}
	if n := l.hub.Streams(); n != 200 {
		t.Errorf("%d streams in the hub, want 200", n)
	}
	for _, s := range streams {
		s.close()
	}
	l.stream.CloseIdleConnections()
	waitFor(t, "every stream to leave the hub", func() bool { return l.hub.Streams() == 0 })
	var after int
	waitFor(t, "the goroutines to end", func() bool {
		after = settledGoroutines()
		return after <= before
	})
	t.Logf("goroutines: %d before, %d after 200 streams", before, after)
}

// settledGoroutines counts goroutines after letting exiting ones finish.
func settledGoroutines() int {
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	return runtime.NumGoroutine()
}

// A server that shuts down ends its streams first, with a reconnect event, so the
// shutdown is not held up for its grace period.
func TestEventStreamsEndOnShutdown(t *testing.T) {
	t.Parallel()
	l := newLive(t, events.Options{})
	tok := l.token(t, l.user(t, "bye@example.com", "customers.view"), auth.ScopeRead)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- web.Serve(ctx, web.NewServer(l.handler, slog.New(slog.DiscardHandler)), ln, web.Stop{Grace: time.Minute})
	}()
	l.srv.URL = "http://" + ln.Addr().String() // l.open talks to this server now
	s := l.open(t, tok, "")
	s.expect(l.record(t, 1, "customers"))
	stop()
	if rest := s.end(); len(rest) != 1 || rest[0].event != "reconnect" {
		t.Errorf("at shutdown the stream sent %v, want one reconnect event", rest)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v, want a clean shutdown", err)
	}
}

// waitFor polls cond until it holds, failing after 60 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Ids are handed out at insert, not at commit: an event whose transaction is still
// running holds back the later ones that commit first, so a stream never skips it;
// an id whose transaction rolled back is skipped, not waited for.
func TestEventStreamKeepsOrderAcrossConcurrentWriters(t *testing.T) {
	t.Parallel()
	l := newLive(t, events.Options{})
	tok := l.token(t, l.user(t, "order@example.com", "customers.view"), auth.ScopeRead)
	s := l.open(t, tok, "")
	ctx := context.Background()
	begin := func() (pgx.Tx, int64) {
		tx, err := l.st.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := audit.Record(ctx, db.New(tx), audit.System, audit.ActionUpdate, "customers", 1, "c", nil); err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := tx.QueryRow(ctx, `SELECT max(id) FROM events`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return tx, id
	}
	early, earlyID := begin()
	defer early.Rollback(ctx)
	aborted, _ := begin()
	if err := aborted.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	late := l.record(t, 1, "customers")
	// Give a hub that wrongly delivered the late event time to do so.
	time.Sleep(300 * time.Millisecond)
	if err := early.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	want := append([]int64{earlyID}, late...)
	s.expect(want)
	l.open(t, tok, "?since=0").expect(want) // replay keeps that order too
}

// A stream opens with the reconnection delay it asks for (retry:) and the id to
// resume from, and an idle stream sends a heartbeat comment every Heartbeat.
func TestEventStreamRetryHintAndHeartbeat(t *testing.T) {
	t.Parallel()
	l := newLive(t, events.Options{Heartbeat: 200 * time.Millisecond, Retry: 3 * time.Second})
	tok := l.token(t, l.user(t, "idle@example.com", "customers.view"), auth.ScopeRead)
	resp, cancel := l.request(t, tok, "")
	defer cancel()
	defer resp.Body.Close()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended")
			}
			return l
		case <-time.After(60 * time.Second):
			t.Fatal("no line within 60 s")
		}
		return ""
	}
	if got := next(); got != "retry: 3000" {
		t.Errorf("first line %q, want the retry hint %q", got, "retry: 3000")
	}
	if got := next(); !strings.HasPrefix(got, "id: ") {
		t.Errorf("second line %q, want the opening id", got)
	}
	next()        // the blank line ending the opening frame
	for range 3 { // several, so not one sent by chance at the start
		if got := next(); got != ": heartbeat" {
			t.Fatalf("an idle stream sent %q, want a heartbeat comment", got)
		}
		if got := next(); got != "" {
			t.Fatalf("after the heartbeat %q, want a blank line", got)
		}
	}
}

// Permissions are looked at again while a stream is open: once a user loses
// orders.view, their open stream stops carrying order events, and goes on with the
// rest.
func TestEventStreamFollowsPermissionChanges(t *testing.T) {
	t.Parallel()
	l := newLive(t, events.Options{})
	uid := l.user(t, "demoted@example.com", "orders.view", "customers.view")
	s := l.open(t, l.token(t, uid, auth.ScopeRead), "")
	s.expect(l.record(t, 1, "orders"))

	l.exec(t, `DELETE FROM user_permissions WHERE user_id = $1
		AND permission_id = (SELECT id FROM permissions WHERE codename = 'orders.view')`, uid)
	// The stream takes the change on its next check (within about a second of the
	// notification): until then an order event may still come; after, none.
	deadline := time.Now().Add(60 * time.Second)
	for {
		order, customer := l.record(t, 1, "orders"), l.record(t, 1, "customers")
		f := s.next()
		if f.id == strconv.FormatInt(customer[0], 10) {
			break // the order event was not sent
		}
		if f.id != strconv.FormatInt(order[0], 10) {
			t.Fatalf("got event %s, want %d or %d", f.id, order[0], customer[0])
		}
		s.expect(customer)
		if time.Now().After(deadline) {
			t.Fatal("the stream still carries order events 60 s after orders.view was taken away")
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.record(t, 5, "orders")
	s.expect(l.record(t, 1, "customers")) // and none of the five orders before it
}

// BenchmarkEventFanOut measures, with 1,000 streams open on one hub, the time from
// a write's commit until the last of the streams has read its event (p50 and p99
// over the iterations). The clients read in this process too: on a busy machine
// the figure includes their share of it.
func BenchmarkEventFanOut(b *testing.B) {
	const n = 1000
	l := newLive(b, events.Options{PerUser: n})
	tok := l.token(b, l.user(b, "fan@example.com", "customers.view"), auth.ScopeRead)
	var got, want atomic.Int64
	reached := make(chan struct{}, 1)
	for range n {
		resp, cancel := l.request(b, tok, "")
		b.Cleanup(cancel)
		go func() {
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "data: ") && got.Add(1) == want.Load() {
					reached <- struct{}{}
				}
			}
		}()
	}
	waitFor(b, "the streams to open", func() bool { return l.hub.Streams() == n })
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		want.Store(int64((i + 1) * n))
		l.record(b, 1, "customers")
		committed := time.Now()
		<-reached
		lat = append(lat, time.Since(committed))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
