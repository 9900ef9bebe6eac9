package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/store/jobs"
)

// seedCleanup writes rows the cleanup must delete (more expired sessions than one
// batch holds, so it must loop) and rows it must keep.
func seedCleanup(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for _, sql := range []string{
		`INSERT INTO sessions (token, data, expiry)
		 SELECT 'old' || i, '\x00', now() - interval '1 minute' FROM generate_series(1, 2500) i`,
		`INSERT INTO sessions (token, data, expiry) VALUES ('live', '\x00', now() + interval '1 hour')`,
		`INSERT INTO login_attempts (email, client_addr, attempted_at) VALUES
		 ('a@example.com', '127.0.0.1', now() - interval '2 days'),
		 ('a@example.com', '127.0.0.1', now() - interval '5 minutes')`,
		`INSERT INTO idempotency_keys (principal, key, request_hash, created_at) VALUES
		 ('user:1', 'old', '\x01', now() - interval '25 hours'),
		 ('user:1', 'new', '\x01', now() - interval '1 hour')`,
		`INSERT INTO rate_limits (key, tokens, at) VALUES
		 ('token:1', 5, now() - interval '2 hours'), ('token:2', 5, now())`,
		// Events past the default retention of 7 days (more than a batch), and one within.
		`INSERT INTO events (type, resource, object_id, audit_id, created_at)
		 SELECT 'product.updated', 'products', i, i, now() - interval '8 days' FROM generate_series(1, 1200) i`,
		`INSERT INTO events (type, resource, object_id, audit_id, created_at)
		 VALUES ('product.updated', 'products', 1, 1, now() - interval '6 days')`,
	} {
		if _, err := pool.Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
	}
}

func remaining(t *testing.T, pool *pgxpool.Pool) (sessions, attempts, keys, limits int) {
	t.Helper()
	err := pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM sessions), (SELECT count(*) FROM login_attempts),
		(SELECT count(*) FROM idempotency_keys), (SELECT count(*) FROM rate_limits)`).
		Scan(&sessions, &attempts, &keys, &limits)
	if err != nil {
		t.Fatal(err)
	}
	return
}

func TestCleanupDeletesOnlyWhatIsOld(t *testing.T) {
	ctx := context.Background()
	st, pool := newStore(t)
	seedCleanup(t, pool)
	q := jobs.New(st, testLog(), jobs.Options{})
	got, err := q.Cleanup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := jobs.CleanupCounts{Sessions: 2500, LoginAttempts: 1, IdempotencyKeys: 1, RateLimits: 1, Events: 1200}
	if got != want {
		t.Errorf("Cleanup() = %+v, want %+v", got, want)
	}
	if s, a, k, l := remaining(t, pool); s != 1 || a != 1 || k != 1 || l != 1 {
		t.Errorf("left %d sessions, %d login attempts, %d keys, %d buckets; want one of each", s, a, k, l)
	}
	var events int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE created_at > now() - interval '7 days'`).Scan(&events); err != nil || events != 1 {
		t.Errorf("left %d recent events (%v), want 1", events, err)
	}
	if got, err := q.Cleanup(ctx); err != nil || got != (jobs.CleanupCounts{}) {
		t.Errorf("second Cleanup() = %+v, %v; want nothing deleted", got, err)
	}
}

// A working queue with the cleanup on runs it at start, as a River periodic job.
func TestCleanupRunsPeriodically(t *testing.T) {
	ctx := context.Background()
	st, pool := newStore(t)
	seedCleanup(t, pool)
	q := jobs.New(st, testLog(), jobs.Options{Work: true, Cleanup: true, PollInterval: 50 * time.Millisecond})
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(ctx)
	waitUntil(t, "the periodic cleanup completed", func() bool { return jobStates(t, pool, "cleanup")["completed"] >= 1 })
	if s, a, k, l := remaining(t, pool); s != 1 || a != 1 || k != 1 || l != 1 {
		t.Errorf("left %d sessions, %d login attempts, %d keys, %d buckets; want one of each", s, a, k, l)
	}
}
