package store_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// A transaction that wrote events is announced on store.EventsChannel once it has
// committed, and only then; the NOTIFY is never sent from inside the writing
// transaction (which would serialise every such commit: see announce.go), so a
// writer that bypasses the store announces nothing.
func TestCommitsThatWroteEventsAreAnnounced(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	st := store.New(pool)
	conn := listenEvents(t, pool)
	// heard reports whether a notification arrives within wait.
	heard := func(wait time.Duration) bool {
		t.Helper()
		return notifications(t, conn, wait, 1) == 1
	}
	const quiet = 300 * time.Millisecond

	if err := st.InTx(ctx, recordEvent); err != nil {
		t.Fatal(err)
	}
	if !heard(10 * time.Second) {
		t.Error("a committed transaction that wrote an event was not announced")
	}

	rollback := errors.New("roll back")
	if err := st.InTx(ctx, func(q *db.Queries) error {
		if err := recordEvent(q); err != nil {
			return err
		}
		return rollback
	}); !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	if heard(quiet) {
		t.Error("a rolled-back transaction was announced")
	}

	if err := st.InTx(ctx, func(q *db.Queries) error {
		_, err := q.DatabaseNow(ctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if heard(quiet) {
		t.Error("a transaction that wrote no event was announced")
	}

	if err := st.Primary(ctx, recordEvent); err != nil {
		t.Fatal(err)
	}
	if !heard(10 * time.Second) {
		t.Error("an event written in a statement of its own was not announced")
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := recordEvent(db.New(tx)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if heard(quiet) {
		t.Error("a transaction outside the store notified: the events table still notifies from inside the writing transaction")
	}
}

// The commits that follow a NOTIFY within the window share one NOTIFY when the
// window closes: none of them is left unannounced, and they do not each send one.
func TestCommitsInAWindowShareOneAnnouncement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	st := store.New(pool)
	// Long enough that the commits below fall in it however slow the machine.
	const window = 2 * time.Second
	store.SetAnnounceEvery(st, window)
	conn := listenEvents(t, pool)
	// heard counts the notifications that arrive within wait.
	heard := func(wait time.Duration) int {
		t.Helper()
		return notifications(t, conn, wait, math.MaxInt)
	}

	start := time.Now()
	if err := st.InTx(ctx, recordEvent); err != nil {
		t.Fatal(err)
	}
	if n := heard(window / 4); n != 1 {
		t.Fatalf("the first commit: %d notifications at once, want 1", n)
	}
	for range 4 {
		if err := st.InTx(ctx, recordEvent); err != nil {
			t.Fatal(err)
		}
	}
	if time.Since(start) > window/2 {
		t.Fatalf("the commits took %v, too long for a %v window to hold them", time.Since(start), window)
	}
	if n := heard(window / 4); n != 0 {
		t.Errorf("%d notifications while the window was open, want none", n)
	}
	if n := heard(3 * window); n != 1 {
		t.Errorf("the four commits in the window: %d notifications, want 1 when it closes", n)
	}
}

// Close sends the NOTIFY that the open window owes, so hubs learn of its commits at
// once rather than at their next poll, and sends nothing on the closed pool after.
func TestCloseSendsTheWindowsAnnouncement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewURL(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(pool)
	const window = time.Minute
	store.SetAnnounceEvery(st, window)
	other, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	conn := listenEvents(t, other)

	for range 2 {
		if err := st.InTx(ctx, recordEvent); err != nil {
			t.Fatal(err)
		}
	}
	if n := notifications(t, conn, 5*time.Second, 1); n != 1 {
		t.Fatalf("the first commit: %d notifications, want 1", n)
	}
	st.Close()
	if n := notifications(t, conn, 5*time.Second, math.MaxInt); n != 1 {
		t.Errorf("Close with a commit in the %v window: %d notifications, want its 1 at once", window, n)
	}
}

// dbtest's statement counters leave out the NOTIFY: the one a window's timer sends
// would otherwise land in whichever count is open when it fires (CI once saw an
// order's detail run "4 statements, want 3" that way).
func TestTheTimersAnnouncementIsNotCounted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var counter dbtest.Counter
	pool := dbtest.NewWithConfig(t, counter.Install)
	st := store.New(pool)
	const window = 300 * time.Millisecond
	store.SetAnnounceEvery(st, window)
	conn := listenEvents(t, pool)

	for range 2 {
		if err := st.InTx(ctx, recordEvent); err != nil {
			t.Fatal(err)
		}
	}
	counter.Reset()
	if n := notifications(t, conn, 10*window, 2); n != 2 {
		t.Fatalf("two commits in a window: %d notifications, want 2 (one at once, one when it closes)", n)
	}
	if n := counter.Count(); n != 0 {
		t.Errorf("the window's NOTIFY was counted: %d statements, want 0:\n%s", n, counter.Statements())
	}
}

// listenEvents returns a connection of pool that listens on store.EventsChannel,
// released when the test ends.
func listenEvents(t *testing.T, pool *pgxpool.Pool) *pgxpool.Conn {
	t.Helper()
	conn, err := pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Release)
	if _, err := conn.Exec(context.Background(), "LISTEN "+store.EventsChannel); err != nil {
		t.Fatal(err)
	}
	return conn
}

// notifications counts the notifications conn receives within wait, stopping at limit.
func notifications(t *testing.T, conn *pgxpool.Conn, wait time.Duration, limit int) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	n := 0
	for n < limit {
		if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
			if ctx.Err() == nil {
				t.Fatal(err)
			}
			break
		}
		n++
	}
	return n
}

// recordEvent writes one audit row with its event through q.
func recordEvent(q *db.Queries) error {
	return audit.Record(context.Background(), q, audit.System, audit.ActionUpdate, "customers", 1, "c", nil)
}
