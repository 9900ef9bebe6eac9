package listen_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store/listen"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// A notification reaches its channel's handler; when the connection is killed the
// listener reconnects, runs the catch-up hook again, and hears what follows.
func TestListenerReconnects(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pool := dbtest.New(t)
	l := listen.New(pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	l.MinBackoff = 10 * time.Millisecond
	connected := make(chan struct{}, 10)
	got := map[string]chan string{"alpha": make(chan string, 10), "beta": make(chan string, 10)}
	for ch, c := range got {
		l.Handle(ch, listen.Handler{
			Notify:    func(_ context.Context, payload string) { c <- payload },
			Connected: func(context.Context) { connected <- struct{}{} },
		})
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- l.Run(runCtx) }()

	wait := func(what string, c <-chan struct{}) {
		t.Helper()
		select {
		case <-c:
		case <-ctx.Done():
			t.Fatalf("no %s", what)
		}
	}
	expect := func(ch, want string) {
		t.Helper()
		select {
		case p := <-got[ch]:
			if p != want {
				t.Errorf("%s got %q, want %q", ch, p, want)
			}
		case <-ctx.Done():
			t.Fatalf("no notification %q on %s", want, ch)
		}
	}
	wait("first connection", connected)
	wait("first connection", connected) // once per channel
	if _, err := pool.Exec(ctx, `SELECT pg_notify('alpha', 'one'), pg_notify('beta', 'two')`); err != nil {
		t.Fatal(err)
	}
	expect("alpha", "one")
	expect("beta", "two")

	var killed int
	err := pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, listen.ApplicationName).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminated %d listener connections (%v), want 1", killed, err)
	}
	wait("reconnection", connected)
	wait("reconnection", connected)
	if _, err := pool.Exec(ctx, `SELECT pg_notify('alpha', 'three')`); err != nil {
		t.Fatal(err)
	}
	expect("alpha", "three")

	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

func TestRunWithoutHandlers(t *testing.T) {
	l := listen.New(dbtest.New(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := l.Run(context.Background()); err == nil {
		t.Error("Run without handlers returned nil")
	}
}
