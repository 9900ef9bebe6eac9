package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/store/jobs"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type countArgs struct {
	N int `json:"n"`
}

func (countArgs) Kind() string { return "test_count" }

// countWorker adds each job's N to sum.
type countWorker struct {
	river.WorkerDefaults[countArgs]
	sum *atomic.Int64
}

func (w *countWorker) Work(ctx context.Context, j *river.Job[countArgs]) error {
	w.sum.Add(int64(j.Args.N))
	return nil
}

func newStore(t *testing.T) (*store.Store, *pgxpool.Pool) {
	t.Helper()
	pool := dbtest.NewWithConfig(t, func(c *pgxpool.Config) { c.MaxConns = 6 })
	return store.New(pool), pool
}

func testLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func jobStates(t *testing.T, pool *pgxpool.Pool, kind string) map[string]int {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT state::text, count(*) FROM river_job WHERE kind = $1 GROUP BY 1", kind)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		m[s] = n
	}
	return m
}

// A job inserted in a transaction that rolls back never exists; one inserted in a
// transaction that commits runs, on a working queue, exactly once. A queue that only
// inserts runs nothing.
func TestInsertTxCommitsWithTheChange(t *testing.T) {
	ctx := context.Background()
	st, pool := newStore(t)

	var sum atomic.Int64
	inserter := jobs.New(st, testLog(), jobs.Options{})
	jobs.AddWorker(inserter, &countWorker{sum: &sum})
	if err := inserter.InsertTx(ctx, &store.Tx{}, countArgs{N: 1}, nil); !errors.Is(err, jobs.ErrNotStarted) {
		t.Errorf("InsertTx before Start = %v, want ErrNotStarted", err)
	}
	if err := inserter.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer inserter.Stop(ctx)

	boom := errors.New("boom")
	err := st.Transact(ctx, func(tx *store.Tx) error {
		if err := inserter.InsertTx(ctx, tx, countArgs{N: 100}, nil); err != nil {
			return err
		}
		return boom // the change fails: its job must go with it
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Transact = %v, want boom", err)
	}
	err = st.Transact(ctx, func(tx *store.Tx) error { return inserter.InsertTx(ctx, tx, countArgs{N: 1}, nil) })
	if err != nil {
		t.Fatal(err)
	}
	err = st.Transact(ctx, func(tx *store.Tx) error {
		return inserter.InsertManyTx(ctx, tx, []river.InsertManyParams{{Args: countArgs{N: 10}}, {Args: countArgs{N: 20}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := jobStates(t, pool, "test_count"); got["available"] != 3 || len(got) != 1 {
		t.Fatalf("jobs after one rolled-back and two committed inserts = %v, want 3 available", got)
	}

	worker := jobs.New(st, testLog(), jobs.Options{Work: true, PollInterval: 50 * time.Millisecond})
	jobs.AddWorker(worker, &countWorker{sum: &sum})
	if err := worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer worker.Stop(ctx)
	waitUntil(t, "the three jobs completed", func() bool { return jobStates(t, pool, "test_count")["completed"] == 3 })
	if got := sum.Load(); got != 31 {
		t.Errorf("sum of the worked jobs = %d, want 31 (the rolled-back 100 never runs)", got)
	}
}

type slowArgs struct{}

func (slowArgs) Kind() string { return "test_slow" }

// slowWorker takes hold seconds unless its context ends first.
type slowWorker struct {
	river.WorkerDefaults[slowArgs]
	started chan struct{}
	hold    time.Duration
}

func (w *slowWorker) Work(ctx context.Context, _ *river.Job[slowArgs]) error {
	w.started <- struct{}{}
	select {
	case <-time.After(w.hold):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop lets a running job finish; a job still running after the stop timeout is
// cancelled and goes back to the queue (retryable), not lost.
func TestStopIsGraceful(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name       string
		hold       time.Duration
		wantStates []string // any of them
	}{
		{"finishes within the grace", 300 * time.Millisecond, []string{"completed"}},
		// River hands a job cancelled by a stop back as available (or retryable,
		// depending on when the cancellation lands): either way it runs again.
		{"cancelled after the grace", time.Hour, []string{"available", "retryable"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, pool := newStore(t)
			q := jobs.New(st, testLog(), jobs.Options{Work: true, PollInterval: 50 * time.Millisecond, StopTimeout: time.Second})
			w := &slowWorker{started: make(chan struct{}, 1), hold: tt.hold}
			jobs.AddWorker(q, w)
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if err := q.Insert(ctx, slowArgs{}, nil); err != nil {
				t.Fatal(err)
			}
			select {
			case <-w.started:
			case <-time.After(15 * time.Second):
				t.Fatal("the job never started")
			}
			stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := q.Stop(stopCtx); err != nil {
				t.Fatalf("Stop = %v", err)
			}
			got := jobStates(t, pool, "test_slow")
			n := 0
			for _, s := range tt.wantStates {
				n += got[s]
			}
			if n != 1 || len(got) != 1 {
				t.Errorf("job states after Stop = %v, want one job in one of %v", got, tt.wantStates)
			}
		})
	}
}
