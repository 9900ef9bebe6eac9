package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/db"
)

// The read replica (STOCKROOM_DATABASE_READ_URL).
//
// Reads that may lag a little (lists, searches, exports, the dashboard, API GETs) go
// through Store.Replica; everything else, and every read inside a write, stays on
// the primary. Whether the replica may answer is decided per call from state a
// monitor refreshes every checkInterval, so routing costs no round trip:
//
//   - down: the replica did not answer the last check (or a read on it failed) →
//     primary;
//   - lagging: it has not replayed WAL the primary wrote more than MaxLag ago →
//     primary. Lag is measured in the primary's own time: each check samples the
//     primary's pg_current_wal_lsn(), and the lag is the age of the oldest sample
//     the replica's pg_last_wal_replay_lsn() has not reached. An idle primary
//     writes nothing, so an idle pair has no lag (pg_last_xact_replay_timestamp
//     would say it lags more every second);
//   - behind this client: the request carries a Tracker (the session's or the
//     token's last write) whose LSN the replica has not replayed → primary, so a
//     client always reads its own writes.
//
// A read that fails on the replica is run again on the primary: reads have no side
// effects, and a replica that failed mid-request (stopped, or a query cancelled by
// a conflict with recovery) must not fail the page.

// checkInterval is how often the monitor asks both servers where they are. A
// client's own write is read from the primary until the next check sees the replica
// past it, so this bounds how long a write moves that client's reads off the replica.
const checkInterval = 250 * time.Millisecond

// DefaultMaxLag is STOCKROOM_REPLICA_MAX_LAG's default.
const DefaultMaxLag = 5 * time.Second

// LSN is a position in PostgreSQL's write-ahead log (pg_lsn).
type LSN uint64

// ParseLSN reads pg_lsn's text form, "16/B374D848".
func ParseLSN(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(s, "/")
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if !ok || err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed LSN %q", s)
	}
	return LSN(h<<32 | l), nil
}

func (l LSN) String() string { return fmt.Sprintf("%X/%X", uint64(l)>>32, uint64(l)&0xFFFFFFFF) }

// Tracker carries one client's read-your-writes position through a request: the
// LSN its last write committed at (as the session or the token map remembers it),
// raised by every transaction the request commits, and the function that remembers
// the new one for the client's next request.
type Tracker struct {
	after    atomic.Uint64
	remember func(LSN)
}

type trackerKey struct{}

// Track returns ctx carrying a Tracker: reads through Replica see at least after,
// and remember is called with the LSN of every transaction committed under ctx.
// Without a replica it returns ctx unchanged: nothing needs tracking.
func (s *Store) Track(ctx context.Context, after LSN, remember func(LSN)) context.Context {
	if s.replica == nil {
		return ctx
	}
	t := &Tracker{remember: remember}
	t.after.Store(uint64(after))
	return context.WithValue(ctx, trackerKey{}, t)
}

// TrackKey is Track for a client the store remembers itself, by key (an API token):
// in this process's memory, for as long as the replica may lag (MaxLag and two
// checks). After that the write is on the replica or the replica is bypassed for
// lagging, so forgetting it is safe. Another copy of stockroom does not know this
// process's keys: a token's client that writes through one copy and reads through
// another at once can miss its write for up to MaxLag (see README).
func (s *Store) TrackKey(ctx context.Context, key string) context.Context {
	if s.replica == nil {
		return ctx
	}
	return s.Track(ctx, s.replica.recent.get(key), func(l LSN) { s.replica.recent.put(key, l) })
}

type mayLagKey struct{}

// MayLag marks ctx as a safe (read-only) request's, whose Replica reads may go to the
// replica: web's middleware marks GET and HEAD. In any other request Replica reads
// the primary, so a read that a write then relies on (a bulk action's list, a form
// reloaded to show its errors) never lags.
func MayLag(ctx context.Context) context.Context {
	return context.WithValue(ctx, mayLagKey{}, true)
}

func trackerFrom(ctx context.Context) *Tracker {
	t, _ := ctx.Value(trackerKey{}).(*Tracker)
	return t
}

// ReplicaStatus is the replica as routing sees it, for /readyz and /metrics.
type ReplicaStatus struct {
	Configured bool
	Usable     bool          // reads may go to it now
	Reason     string        // why not, when Configured && !Usable
	Lag        time.Duration // as of the last check
	Replayed   LSN
	// Reads counts Replica calls by where they ran.
	ReadsReplica, ReadsPrimary int64
}

type replica struct {
	pool    *pgxpool.Pool
	queries *db.Queries
	maxLag  time.Duration
	recent  *positions

	reads, fallbacks atomic.Int64

	mu       sync.Mutex
	up       bool
	reason   string
	replayed LSN
	lag      time.Duration
	checked  time.Time // when the last successful check ended
	samples  []lsnSample

	stop context.CancelFunc
	done chan struct{}
}

type lsnSample struct {
	at  time.Time
	lsn LSN
}

// openReplica connects a pool to the replica and starts its monitor. A replica that
// is down at start is no error: the site runs from the primary until it answers.
func (s *Store) openReplica(url string, maxConns int32, maxLag time.Duration, tracer pgx.QueryTracer) error {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return errors.New("read replica URL is malformed")
	}
	cfg.MaxConns = maxConns
	if tracer != nil {
		cfg.ConnConfig.Tracer = tracer
	}
	if s.pooled { // the replica may sit behind the same pooler
		cfg.ConnConfig.DefaultQueryExecMode = PooledExecMode
	}
	Tune(cfg)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return fmt.Errorf("read replica: %w", err)
	}
	if maxLag <= 0 {
		maxLag = DefaultMaxLag
	}
	ctx, stop := context.WithCancel(context.Background())
	r := &replica{pool: pool, queries: db.New(planner{inner: pool, pooled: s.pooled}), maxLag: maxLag,
		recent: newPositions(maxLag + 2*checkInterval), reason: "not checked yet",
		stop: stop, done: make(chan struct{})}
	s.replica = r
	go r.monitor(ctx, s.pool)
	return nil
}

func (r *replica) close() {
	r.stop()
	<-r.done
	r.pool.Close()
}

// monitor checks the replica every checkInterval until ctx ends.
func (r *replica) monitor(ctx context.Context, primary *pgxpool.Pool) {
	defer close(r.done)
	t := time.NewTicker(checkInterval)
	defer t.Stop()
	for {
		r.check(ctx, primary)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// check samples the primary's WAL position, then asks the replica how far it has
// replayed, and updates the routing state.
func (r *replica) check(ctx context.Context, primary *pgxpool.Pool) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var current string
	err := primary.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&current)
	if err != nil {
		// The primary is /readyz's business; without it no lag can be measured.
		r.down("the primary's WAL position is unknown")
		return
	}
	now := time.Now()
	cur, err := ParseLSN(current)
	if err != nil {
		r.down(err.Error())
		return
	}
	var inRecovery bool
	var replayed *string
	err = r.pool.QueryRow(ctx, "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text").Scan(&inRecovery, &replayed)
	switch {
	case ctx.Err() != nil && err != nil:
		r.down("unreachable (no answer within a second)")
		return
	case err != nil:
		r.down("unreachable")
		return
	case !inRecovery || replayed == nil:
		// Promoted, or pointed at a primary by mistake: it no longer follows ours.
		r.down("not a replica (not in recovery)")
		return
	}
	rep, err := ParseLSN(*replayed)
	if err != nil {
		r.down(err.Error())
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, lsnSample{at: now, lsn: cur})
	// Only the samples the replica has not reached matter; the oldest of them gives
	// the lag. A replica stuck for long would grow the list: keep its oldest sample
	// (the lag) and the newest ones (where replay goes next).
	i := 0
	for i < len(r.samples) && r.samples[i].lsn <= rep {
		i++
	}
	r.samples = r.samples[i:]
	if n := len(r.samples); n > 512 {
		r.samples = append(r.samples[:1], r.samples[n-255:]...)
	}
	r.lag = 0
	if len(r.samples) > 0 {
		r.lag = now.Sub(r.samples[0].at)
	}
	r.up, r.replayed, r.checked = true, rep, time.Now()
	r.reason = ""
	if r.lag > r.maxLag {
		r.reason = fmt.Sprintf("lagging %s behind the primary (bound %s)", r.lag.Round(time.Millisecond), r.maxLag)
	}
}

func (r *replica) down(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.up, r.reason = false, reason
}

// usable reports whether a read needing at least after may run on the replica.
func (r *replica) usable(after LSN) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.up && r.reason == "" && time.Since(r.checked) < r.maxLag && r.replayed >= after
}

// Replica runs fn's reads on the read replica when one is configured and may
// answer this request (ctx is MayLag's, and see above), else on the primary; errors
// are classified like Read's. fn must only read: it may run twice, the second time
// on the primary.
func (s *Store) Replica(ctx context.Context, fn func(q *db.Queries) error) error {
	r := s.replica
	if r == nil {
		return s.Read(ctx, fn)
	}
	if !s.mayUseReplica(ctx) {
		r.fallbacks.Add(1)
		return s.Read(ctx, fn)
	}
	err := fn(r.queries)
	if err == nil || errors.Is(err, pgx.ErrNoRows) || ctx.Err() != nil {
		r.reads.Add(1)
		return classify(err)
	}
	if errors.Is(classify(err), ErrUnavailable) {
		r.down("unreachable")
	}
	r.fallbacks.Add(1)
	return s.Read(ctx, fn)
}

// errNoReplica: the read goes to the primary.
var errNoReplica = errors.New("no usable replica")

// mayUseReplica reports whether ctx's reads may go to the replica now: a GET's
// (MayLag), and the replica fresh enough for it and its client's last write.
func (s *Store) mayUseReplica(ctx context.Context) bool {
	if s.replica == nil || ctx.Value(mayLagKey{}) == nil {
		return false
	}
	var after LSN
	if t := trackerFrom(ctx); t != nil {
		after = LSN(t.after.Load())
	}
	return s.replica.usable(after)
}

// ReplicaStatus reports the replica's state as of the last check.
func (s *Store) ReplicaStatus() ReplicaStatus {
	r := s.replica
	if r == nil {
		return ReplicaStatus{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := ReplicaStatus{Configured: true, Lag: r.lag, Replayed: r.replayed, Reason: r.reason,
		ReadsReplica: r.reads.Load(), ReadsPrimary: r.fallbacks.Load()}
	switch {
	case !r.up:
	case time.Since(r.checked) >= r.maxLag:
		st.Reason = "not checked for " + time.Since(r.checked).Round(time.Second).String()
	default:
		st.Usable = r.reason == ""
	}
	if st.Reason == "" && !st.Usable {
		st.Reason = "down"
	}
	return st
}

// committed is called after every commit: with a replica and a tracked client, it
// asks the primary where its WAL ends now, which covers the commit, and remembers
// that for the client's reads. One round trip per write, and only then.
func (s *Store) committed(ctx context.Context) {
	t := trackerFrom(ctx)
	if t == nil {
		return
	}
	var current string
	if err := s.pool.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&current); err != nil {
		// The write committed, but where its WAL ends is unknown (the primary just
		// went away): this request reads from the primary from now on. The next
		// request is on its own; a replica lagging that much is bypassed anyway.
		t.after.Store(^uint64(0))
		return
	}
	l, err := ParseLSN(current)
	if err != nil {
		return
	}
	for {
		old := t.after.Load()
		if uint64(l) <= old || t.after.CompareAndSwap(old, uint64(l)) {
			break
		}
	}
	if t.remember != nil {
		t.remember(l)
	}
}

// positions remembers LSNs by key for ttl.
type positions struct {
	ttl time.Duration

	mu    sync.Mutex
	m     map[string]lsnSample
	swept time.Time
}

func newPositions(ttl time.Duration) *positions {
	return &positions{ttl: ttl, m: map[string]lsnSample{}, swept: time.Now()}
}

func (p *positions) get(key string) LSN {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.m[key]
	if !ok || time.Since(s.at) > p.ttl {
		return 0
	}
	return s.lsn
}

func (p *positions) put(key string, l LSN) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.m[key]; !ok || s.lsn < l || now.Sub(s.at) > p.ttl {
		p.m[key] = lsnSample{at: now, lsn: l}
	}
	if now.Sub(p.swept) > p.ttl {
		for k, s := range p.m {
			if now.Sub(s.at) > p.ttl {
				delete(p.m, k)
			}
		}
		p.swept = now
	}
}
