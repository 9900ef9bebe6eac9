package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A serve process SIGKILLed while webhook deliveries are pending loses none: a
// second serve on the same database delivers every event at least once (counted by
// webhook-id). The receiver fails at first, so every delivery is committed and
// waiting in River's "retryable" state when the kill comes; the kill is sent only
// once no delivery is "running", because River rescues a job a dead process left
// running only after RescueStuckJobsAfter (5 min, not configurable), which is shown
// in process by TestDeliveryRescuedAfterACrash in internal/webhooks. 40 events, not
// more: 50 failed attempts in a row turn an endpoint off.
func TestServeKilledDeliversEveryEvent(t *testing.T) {
	const n = 40
	ctx := context.Background()
	url, st := withAda(t)
	if _, err := st.Pool().Exec(ctx, "UPDATE users SET is_superuser = true"); err != nil {
		t.Fatal(err)
	}
	var up atomic.Bool
	var mu sync.Mutex
	seen := map[string]int{} // webhook-id -> deliveries answered 200
	failed := 0
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		defer mu.Unlock()
		if !up.Load() {
			failed++
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		seen[r.Header.Get("webhook-id")]++
	}))
	defer rcv.Close()
	addr := freeAddr(t)
	env := map[string]string{"STOCKROOM_DATABASE_URL": url, "STOCKROOM_ADDR": addr, "STOCKROOM_WEBHOOKS_ALLOW_PRIVATE": "true"}
	_, secret, _ := stockroom(ctx, env, "token", "create", "--email", "ada@example.com", "--name", "ci", "--scope", "write")

	token := strings.TrimSpace(secret)
	base := "http://" + addr
	call := func(method, path, body string) []byte {
		t.Helper()
		return apiOK(t, token, method, base+path, body)
	}
	states := func() map[string]int {
		t.Helper()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		rows, _ := conn.Query(ctx, "SELECT state::text, count(*) FROM river_job WHERE kind = 'webhook_delivery' GROUP BY 1")
		m := map[string]int{}
		var s string
		var c int
		_, err = pgx.ForEachRow(rows, []any{&s, &c}, func() error { m[s] = c; return nil })
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	first := startServe(t, env)
	var ep struct{ ID json.RawMessage }
	if err := json.Unmarshal(call("POST", "/api/v1/webhooks", fmt.Sprintf(`{"url":%q,"event_types":["category.created"]}`, rcv.URL)), &ep); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		call("POST", "/api/v1/categories", fmt.Sprintf(`{"name":"Kill %d","slug":"kill-%d"}`, i, i))
	}
	// Every delivery has failed once and waits for its retry (10 s backoff): kill now.
	deadline := time.Now().Add(20 * time.Second)
	for s := states(); s["retryable"] != n; s = states() {
		if time.Now().After(deadline) {
			t.Fatalf("deliveries never all retryable: %v", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
	first.kill(t)
	s := states()
	mu.Lock()
	t.Logf("after SIGKILL: jobs %v, %d failed attempts", s, failed)
	mu.Unlock()
	if s["retryable"] != n || s["completed"] != 0 {
		t.Fatalf("after SIGKILL jobs %v, want all %d retryable", s, n)
	}

	up.Store(true)
	startServe(t, env)
	began := time.Now()
	deadline = time.Now().Add(40 * time.Second)
	for {
		mu.Lock()
		got := len(seen)
		mu.Unlock()
		if got == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart %d of %d events arrived; jobs %v", got, n, states())
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	// Count by event id: each committed category.created event arrived at least once.
	rows, _ := st.Pool().Query(ctx, "SELECT id FROM events WHERE type = 'category.created'")
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != n {
		t.Errorf("%d category.created events in the database, want %d", len(ids), n)
	}
	for _, id := range ids {
		if c := seen[fmt.Sprint("evt_", id)]; c < 1 {
			t.Errorf("event %d never arrived", id)
		}
	}
	total := 0
	for _, c := range seen {
		total += c
	}
	t.Logf("restarted serve delivered %d distinct events (%d requests) in %s", len(seen), total, time.Since(began).Round(time.Millisecond))
}
