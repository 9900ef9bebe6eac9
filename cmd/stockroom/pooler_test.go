package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/devdb"
	"github.com/stockroom-dev/stockroom/internal/store/listen"
)

// TestServeThroughPgbouncer runs serve behind pgbouncer in transaction mode
// (STOCKROOM_DATABASE_POOLER=transaction) with LISTEN on a direct connection
// (STOCKROOM_DATABASE_DIRECT_URL): sign-in, a write and the list that shows it go
// through the pooler, and the listener is connected to PostgreSQL itself.
func TestServeThroughPgbouncer(t *testing.T) {
	ctx := context.Background()
	direct := dbtest.NewURL(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	upstream, _ := strconv.Atoi(u.Port())
	dir := t.TempDir()
	// As root pgbouncer runs as the postgres OS user, which must reach its files.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bouncer, err := devdb.StartPgbouncer(ctx, dir, upstream, devdb.PgbouncerOptions{PoolSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer bouncer.Stop()
	pooled := bouncer.URL(strings.TrimPrefix(u.Path, "/"))

	env := map[string]string{"STOCKROOM_DATABASE_URL": direct}
	if code, _, stderr := stockroomIn(ctx, env, "a long enough password 1\n", "createsuperuser",
		"--email", "ada@example.com", "--password-stdin"); code != 0 {
		t.Fatalf("createsuperuser: exit %d: %s", code, stderr)
	}
	addr := freeAddr(t)
	env = map[string]string{"STOCKROOM_DATABASE_URL": pooled, "STOCKROOM_DATABASE_POOLER": "transaction",
		"STOCKROOM_DATABASE_DIRECT_URL": direct, "STOCKROOM_ADDR": addr, "STOCKROOM_REQUIRE_2FA": "off",
		"STOCKROOM_DATABASE_MAX_CONNS": "8", "STOCKROOM_SHUTDOWN_GRACE": "5s"}
	serveCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if code, _, stderr := stockroom(serveCtx, env, "serve"); code != 0 {
			t.Errorf("serve exit %d: %s", code, stderr)
		}
	}()
	defer func() { stop(); <-done }()
	base := "http://" + addr
	waitFor(t, base+"/healthz")
	if code, body := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz through pgbouncer = %d %q", code, body)
	}
	ada := adminSession(t, base, "ada@example.com")
	for i := range 5 { // more than one transaction per server connection
		slug := "cat-" + strconv.Itoa(i)
		if resp := ada.post(t, base+"/admin/categories/new", url.Values{"name": {slug}, "slug": {slug}, "position": {"0"}}); resp.StatusCode != 303 {
			t.Fatalf("POST /admin/categories/new through pgbouncer = %d, want 303", resp.StatusCode)
		}
	}
	if body := ada.get(t, base+"/admin/categories/"); !strings.Contains(body, "<code>cat-4</code>") {
		t.Error("the category list through pgbouncer lacks the new category")
	}
	// The listener holds a session of its own on PostgreSQL itself: pgbouncer, in
	// transaction mode, would have lost its LISTEN at the first transaction's end.
	conn, err := pgx.Connect(ctx, direct)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1
			AND datname = current_database() AND client_port <> $2`, listen.ApplicationName, bouncer.Port()).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d direct connections named %s, want 1", n, listen.ApplicationName)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
