package events

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// A writer that takes its lock and its id while the reader is between reading the
// last id handed out and reading the writers' locks must not have its id counted as
// rolled back: the reader would deliver what commits after it first, and never
// deliver it. The test widens that gap to a second (events_writing sleeps after
// reading pg_locks) and lands a writer inside it; before migration 0085 the reader
// read the locks first and the last id after, and this test failed.
func TestPageNeverSkipsAWriterThatStartsWhileItReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	h := newTestHub(pool)
	recordEvent(t, db.New(pool)) // one committed event before it all
	if _, err := pool.Exec(ctx, `
		ALTER FUNCTION events_writing() RENAME TO events_writing_now;
		CREATE FUNCTION events_writing() RETURNS boolean LANGUAGE plpgsql AS $$
		DECLARE w boolean := events_writing_now();
		BEGIN
			PERFORM pg_sleep(1);
			RETURN w;
		END $$`); err != nil {
		t.Fatal(err)
	}

	type result struct {
		evs []*Event
		to  int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		evs, to, _, _, err := h.page(ctx, 0, 0)
		done <- result{evs, to, err}
	}()
	// Wait until the reader has read the locks and sleeps.
	for deadline := time.Now().Add(30 * time.Second); ; {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event = 'PgSleep'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reader never reached its sleep")
		}
		time.Sleep(5 * time.Millisecond)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	recordEvent(t, db.New(tx))
	var inFlight int64
	if err := tx.QueryRow(ctx, `SELECT max(id) FROM events`).Scan(&inFlight); err != nil {
		t.Fatal(err)
	}
	recordEvent(t, db.New(pool)) // a later writer that commits at once

	var r result
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("page did not return")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.to >= inFlight {
		t.Fatalf("page reached id %d past event %d, whose transaction is still running", r.to, inFlight)
	}
	for _, e := range r.evs {
		if e.ID >= inFlight {
			t.Errorf("page delivered event %d before event %d, whose transaction is still running", e.ID, inFlight)
		}
	}

	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	evs, _, _, _, err := h.page(ctx, r.to, r.to)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	if want := []int64{inFlight, inFlight + 1}; !slices.Equal(ids, want) {
		t.Errorf("after the writer committed, page delivered %v, want %v", ids, want)
	}
}

// A writer still running holds an id after every committed event: page delivers
// what has committed and is not pending, since that writer's commit will notify
// (looking again in 10 ms read the frontier and the rows for nothing). Once a later
// writer commits after it, its event waits behind the running one: pending, so the
// hub looks again should the running one roll back without a word.
func TestPageIsPendingOnlyWhenCommittedEventsWait(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	h := newTestHub(pool)
	recordEvent(t, db.New(pool))
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	recordEvent(t, db.New(tx))

	evs, to, more, pending, err := h.page(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || to != evs[0].ID || more || pending {
		t.Fatalf("with a writer running: %d events to id %d, more %v, pending %v; want the committed one, not pending", len(evs), to, more, pending)
	}

	recordEvent(t, db.New(pool)) // commits after the running writer took its id
	evs, to2, _, pending, err := h.page(ctx, to, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 0 || to2 != to || !pending {
		t.Fatalf("a committed event behind the running writer: %d events to id %d, pending %v; want none, still at %d, pending", len(evs), to2, pending, to)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	evs, _, _, pending, err = h.page(ctx, to, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || pending {
		t.Errorf("after the writer committed: %d events, pending %v; want 2, not pending", len(evs), pending)
	}
}

// events_writing (migration 0087) is true exactly while a transaction that inserted
// events is running, and its probe of the writers' lock leaves nothing held: a
// writer after it takes its lock at once.
func TestEventsWritingSeesRunningWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	writing := func() bool {
		t.Helper()
		var w bool
		if err := pool.QueryRow(ctx, "SELECT events_writing()").Scan(&w); err != nil {
			t.Fatal(err)
		}
		return w
	}
	if writing() {
		t.Error("events_writing with no writer: true")
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	recordEvent(t, db.New(tx))
	if !writing() {
		t.Error("events_writing with a writer running: false")
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if writing() {
		t.Error("events_writing after the writer committed: true")
	}
	var held int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 1936877942
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&held); err != nil || held != 0 {
		t.Errorf("after the probes, %d advisory locks on the writers' key (%v), want none", held, err)
	}
	// A writer right after a probe does not wait for it.
	tx, err = pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '1s'"); err != nil {
		t.Fatal(err)
	}
	recordEvent(t, db.New(tx)) // fails on the lock timeout if the probe left the lock held
}

// newTestHub is a hub on pool that logs nothing; tests call its page directly.
func newTestHub(pool *pgxpool.Pool) *Hub {
	return NewHub(store.New(pool), slog.New(slog.NewTextHandler(io.Discard, nil)), Options{})
}

// recordEvent writes one audit row with its event through q.
func recordEvent(t *testing.T, q *db.Queries) {
	t.Helper()
	if err := audit.Record(context.Background(), q, audit.System, audit.ActionUpdate, "customers", 1, "c", nil); err != nil {
		t.Fatal(err)
	}
}
