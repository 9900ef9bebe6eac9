// Package store owns the connection pool, transactions and the classification of
// PostgreSQL errors into the project's own error values. Nothing above it imports pgx.
package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/db"
)

// Options tune the pool. The zero value is stockroom's defaults.
type Options struct {
	MaxConns int32           // 0: DefaultMaxConns()
	Tracer   pgx.QueryTracer // optional, e.g. a statement counter in tests
	// ReadURL is a streaming replica of the database for the reads that may lag
	// (Replica); "" sends them to the primary. MaxLag bounds how far behind it may
	// be and still answer (0: DefaultMaxLag).
	ReadURL string
	MaxLag  time.Duration
	// Pooler is "transaction" when url is a pooler in transaction mode (pgbouncer):
	// see Pooled. "" is a direct connection.
	Pooler string
	// DirectURL reaches PostgreSQL itself, bypassing the pooler, for what needs one
	// session for long (LISTEN: internal/store/listen and the job queue). "" is url.
	DirectURL string
}

// PoolerTransaction is Options.Pooler for a pooler in transaction mode.
const PoolerTransaction = "transaction"

// PooledExecMode is how statements run through a transaction-mode pooler:
// pgbouncer 1.18 (Debian 12) hands each transaction to any server connection and
// knows nothing of prepared statements, so a statement prepared on one connection is
// missing on the next. CacheDescribe parses each statement unnamed, in the same
// round trip as its execution, and caches only its description on our side: no
// server-side state outlives the statement. It costs the generic plans of plans.go
// (every statement is planned at every execution): see BenchmarkExecModes.
const PooledExecMode = pgx.QueryExecModeCacheDescribe

// Store is the database: a pool and the sqlc queries bound to it.
type Store struct {
	pool         *pgxpool.Pool
	queries      *db.Queries
	beforeCommit []func(ctx context.Context, tx *Tx) error // set while wiring; read-only after
	replica      *replica                                  // nil without STOCKROOM_DATABASE_READ_URL
	pooled       bool                                      // through a transaction-mode pooler
	direct       *pgxpool.Pool                             // nil without Options.DirectURL
	ann          announcer                                 // the NOTIFYs after commits that wrote events
}

// Open connects a pool to url and checks that the server answers.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error can quote the URL, password included: never pass it on.
		return nil, errors.New("database URL is malformed")
	}
	cfg.MaxConns = DefaultMaxConns()
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.Tracer != nil {
		cfg.ConnConfig.Tracer = opts.Tracer
	}
	switch opts.Pooler {
	case "":
	case PoolerTransaction:
		cfg.ConnConfig.DefaultQueryExecMode = PooledExecMode
	default:
		return nil, fmt.Errorf("unknown pooler mode %q", opts.Pooler)
	}
	Tune(cfg)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	st := New(pool)
	if opts.DirectURL != "" {
		if err := st.openDirect(ctx, opts.DirectURL, opts.Tracer); err != nil {
			pool.Close()
			return nil, err
		}
	}
	if opts.ReadURL != "" {
		if err := st.openReplica(opts.ReadURL, cfg.MaxConns, opts.MaxLag, opts.Tracer); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return st, nil
}

// DefaultMaxConns is the pool size when STOCKROOM_DATABASE_MAX_CONNS is 0: four
// connections per CPU, at least 16. pgxpool's own default, max(4, CPUs), starves
// PostgreSQL: a request holds its connection only for a round trip, so with 16
// clients on 2 CPUs (make bench, 2026-11-25) a pool of 4 served the product list at
// 1,107 requests/s and the stock PATCH at 737; a pool of 16 at 1,776 and 1,112, the
// floor and pgbench moving the same way. Ten instances still fit in PostgreSQL's
// default max_connections of 100 only with a smaller setting, hence the knob.
func DefaultMaxConns() int32 {
	return int32(max(16, 4*runtime.GOMAXPROCS(0)))
}

// Tune sets what every stockroom connection needs on a pool's config. Open calls
// it; tests that build their own pool (dbtest.NewWithConfig(t, store.Tune)) call it
// to plan like production.
//
// plan_cache_mode=auto (PostgreSQL's default, set so that a database or role
// default cannot change it): the store decides per statement whether it may keep a
// generic plan (see plans.go). Until issue #19 this was force_custom_plan, which
// planned every statement at every execution: 0.2–1.5 ms a statement here, most of
// each request's database time.
//
// Through a transaction-mode pooler (DefaultQueryExecMode set to PooledExecMode),
// Tune sends nothing: pgbouncer refuses startup parameters it does not know, and
// auto is PostgreSQL's default anyway (set it on the database if yours differs).
func Tune(cfg *pgxpool.Config) {
	if Pooled(cfg.ConnConfig) {
		return
	}
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "auto"
}

// Pooled reports whether cfg connects through a transaction-mode pooler, as Open
// (and dbtest under STOCKROOM_TEST_POOLER_URL) configure it: statements must then
// leave no prepared statement behind.
func Pooled(cfg *pgx.ConnConfig) bool {
	return cfg.DefaultQueryExecMode != pgx.QueryExecModeCacheStatement
}

// New wraps an existing pool (tests get theirs from dbtest).
func New(pool *pgxpool.Pool) *Store {
	pooled := Pooled(pool.Config().ConnConfig)
	s := &Store{pool: pool, pooled: pooled, ann: announcer{every: announceEvery}}
	s.queries = db.New(planner{inner: pool, pooled: pooled, st: s})
	return s
}

// Direct is a small pool that bypasses the pooler (Options.DirectURL), or the main
// pool when there is none: for LISTEN and the job queue.
func (s *Store) Direct() *pgxpool.Pool {
	if s.direct != nil {
		return s.direct
	}
	return s.pool
}

// PooledWithoutDirect reports whether the store goes through a transaction-mode
// pooler with no direct URL: then nothing can LISTEN, and the job queue polls.
func (s *Store) PooledWithoutDirect() bool { return s.pooled && s.direct == nil }

// openDirect opens the direct pool: LISTEN holds one connection, the job queue a
// few.
func (s *Store) openDirect(ctx context.Context, url string, tracer pgx.QueryTracer) error {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return errors.New("direct database URL is malformed")
	}
	cfg.MaxConns = 6
	if tracer != nil {
		cfg.ConnConfig.Tracer = tracer
	}
	Tune(cfg)
	if s.direct, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return fmt.Errorf("direct connection: %w", err)
	}
	return nil
}

// Pool is the underlying pool, for metrics and for the few callers (COPY, migrations)
// that need pgx itself. Handlers never call it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool (and the replica's), waiting for connections in use to be
// released.
func (s *Store) Close() {
	s.closeAnnouncer()
	if s.replica != nil {
		s.replica.close()
	}
	if s.direct != nil {
		s.direct.Close()
	}
	s.pool.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return classify(s.pool.Ping(ctx))
}

// Read runs fn's reads on the pool, outside a transaction, with errors classified
// like InTx's (a missing row is ErrNotFound).
func (s *Store) Read(ctx context.Context, fn func(q *db.Queries) error) error {
	return classify(fn(s.queries))
}

// Primary runs fn's statements on the primary, outside a transaction: for a write
// that is one statement (its own transaction), or a read that must not lag.
// Errors are classified like InTx's.
func (s *Store) Primary(ctx context.Context, fn func(q *db.Queries) error) error {
	return classify(fn(s.queries))
}

// InTx runs fn in one transaction and commits if fn returns nil. Errors come back
// classified (ErrNotFound, ErrConflict, ...), so callers never see pgx types.
func (s *Store) InTx(ctx context.Context, fn func(q *db.Queries) error) error {
	return s.Transact(ctx, func(tx *Tx) error { return fn(tx.Q) })
}

// Snapshot runs fn's reads in one REPEATABLE READ, READ ONLY transaction: every
// statement sees the database as it was at the first, so a long read in many
// statements (a CSV export in keyset batches) never mixes states. fn may take its
// time between statements (it streams to a client), but not forever: a session
// idle in the transaction for snapshotIdle is ended by the server, so a stalled
// client cannot hold back vacuum. Errors are classified like InTx's.
//
// With a read replica that may answer (see Replica), the snapshot is taken there.
func (s *Store) Snapshot(ctx context.Context, fn func(q *db.Queries) error) error {
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	var ptx pgx.Tx
	err := errNoReplica
	if r := s.replica; r != nil && s.mayUseReplica(ctx) {
		if ptx, err = r.pool.BeginTx(ctx, opts); err == nil {
			r.reads.Add(1)
		} else if errors.Is(classify(err), ErrUnavailable) {
			r.down("unreachable")
		}
	}
	if err != nil {
		if s.replica != nil {
			s.replica.fallbacks.Add(1)
		}
		if ptx, err = s.pool.BeginTx(ctx, opts); err != nil {
			return fmt.Errorf("begin: %w", classify(err))
		}
	}
	defer ptx.Rollback(context.WithoutCancel(ctx))
	if _, err := ptx.Exec(ctx, "SET LOCAL idle_in_transaction_session_timeout = "+snapshotIdle); err != nil {
		return classify(err)
	}
	if err := fn(db.New(planner{inner: ptx, pooled: s.pooled})); err != nil {
		return classify(err)
	}
	return classify(ptx.Commit(ctx))
}

// snapshotIdle bounds how long a Snapshot may wait between two statements.
const snapshotIdle = "'5min'"

// Tx is one open transaction: the queries bound to it, and the pgx transaction for
// the job queue (jobs.Queue.InsertTx hands it to River), so that a job commits with
// the change that asks for it, or vanishes with it.
type Tx struct {
	Q  *db.Queries
	tx pgx.Tx
}

// Pgx is the pgx transaction, for packages that give it to a pgx-based library
// (River). Handlers and domain packages never call it.
func (t *Tx) Pgx() pgx.Tx { return t.tx }

// Transact is InTx for callers that need the transaction itself, to enqueue a job
// in it (see internal/store/jobs).
func (s *Store) Transact(ctx context.Context, fn func(tx *Tx) error) error {
	ptx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", classify(err))
	}
	defer ptx.Rollback(ctx) // a no-op once Commit has succeeded
	var wrote bool          // set by the planner when a statement inserts events
	tx := &Tx{Q: db.New(planner{inner: ptx, pooled: s.pooled, tx: &wrote}), tx: ptx}
	if err := fn(tx); err != nil {
		return classify(err)
	}
	for _, h := range s.beforeCommit {
		if err := h(ctx, tx); err != nil {
			return classify(err)
		}
	}
	if err := ptx.Commit(ctx); err != nil {
		return classify(err)
	}
	if wrote {
		s.announce(ctx)
	}
	if s.replica != nil {
		s.committed(ctx)
	}
	return nil
}

// BeforeCommit adds h to what runs at the end of every transaction of InTx and
// Transact, after fn succeeded and before the commit: a failing h rolls the
// transaction back. Webhooks use it to enqueue a delivery for every event the
// transaction wrote. Call it while wiring the program, before any transaction runs.
func (s *Store) BeforeCommit(h func(ctx context.Context, tx *Tx) error) {
	s.beforeCommit = append(s.beforeCommit, h)
}
