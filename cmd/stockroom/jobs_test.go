package main

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stockroom-dev/stockroom/internal/dbtest"
)

// countJobs counts the river_job rows of kind in state on the database at url.
func countJobs(t *testing.T, url, kind, state string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(context.Background(), "SELECT count(*) FROM river_job WHERE kind = $1 AND state::text = $2", kind, state).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// `stockroom worker` works jobs (the periodic cleanup runs at start) and exits 0
// when told to stop; `serve --no-workers` inserts but runs none.
func TestWorkerAndNoWorkers(t *testing.T) {
	url := dbtest.NewURL(t)
	env := map[string]string{"STOCKROOM_DATABASE_URL": url, "STOCKROOM_ADDR": freeAddr(t), "STOCKROOM_SHUTDOWN_GRACE": "1s"}

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		code, _, _ := stockroom(ctx, env, "serve", "--no-workers")
		done <- code
	}()
	waitFor(t, "http://"+env["STOCKROOM_ADDR"]+"/healthz")
	time.Sleep(time.Second) // a working instance runs the cleanup within this (see the worker below)
	stop()
	if code := <-done; code != 0 {
		t.Errorf("serve --no-workers exit %d", code)
	}
	if n := countJobs(t, url, "cleanup", "completed"); n != 0 {
		t.Errorf("serve --no-workers completed %d cleanups, want none", n)
	}

	ctx, stop = context.WithCancel(context.Background())
	defer stop()
	var stdout string
	go func() {
		var code int
		code, stdout, _ = stockroom(ctx, env, "worker")
		done <- code
	}()
	deadline := time.Now().Add(15 * time.Second)
	for countJobs(t, url, "cleanup", "completed") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("stockroom worker never completed the periodic cleanup")
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if code := <-done; code != 0 || stdout != "worker stopped\n" {
		t.Errorf("worker exit %d, stdout %q", code, stdout)
	}
}
