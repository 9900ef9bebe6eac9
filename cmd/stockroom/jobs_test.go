package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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

// serve wires webhooks end to end: an endpoint made through the API receives the
// event of a change made through the API, signed with the secret the API showed
// once, and /metrics counts the delivery.
func TestServeDeliversWebhooks(t *testing.T) {
	ctx := context.Background()
	url, st := withAda(t)
	if _, err := st.Pool().Exec(ctx, "UPDATE users SET is_superuser = true"); err != nil {
		t.Fatal(err)
	}
	type message struct {
		header http.Header
		body   []byte
	}
	got := make(chan message, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- message{r.Header.Clone(), b}
	}))
	defer rcv.Close()
	addr := freeAddr(t)
	env := map[string]string{"STOCKROOM_DATABASE_URL": url, "STOCKROOM_ADDR": addr, "STOCKROOM_WEBHOOKS_ALLOW_PRIVATE": "true"}
	_, secret, _ := stockroom(ctx, env, "token", "create", "--email", "ada@example.com", "--name", "ci", "--scope", "write")
	sctx, stop := context.WithCancel(ctx)
	done := make(chan int, 1)
	go func() {
		code, _, _ := stockroom(sctx, env, "serve")
		done <- code
	}()
	defer func() { stop(); <-done }()
	base := "http://" + addr
	waitFor(t, base+"/healthz")
	token := strings.TrimSpace(secret)
	call := func(method, path, body string) []byte {
		t.Helper()
		return apiOK(t, token, method, base+path, body)
	}
	var ep struct{ Secret string }
	if err := json.Unmarshal(call("POST", "/api/v1/webhooks", fmt.Sprintf(`{"url":%q,"event_types":["category.created"]}`, rcv.URL)), &ep); err != nil {
		t.Fatal(err)
	}
	call("POST", "/api/v1/categories", `{"name":"Lamps"}`)
	var m message
	select {
	case m = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("no webhook arrived")
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(ep.Secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(m.header.Get("webhook-id") + "." + m.header.Get("webhook-timestamp") + "." + string(m.body)))
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); m.header.Get("webhook-signature") != want {
		t.Errorf("webhook-signature %q, want %q", m.header.Get("webhook-signature"), want)
	}
	if !strings.Contains(string(m.body), `"category.created"`) || !strings.Contains(string(m.body), `"Lamps"`) {
		t.Errorf("body %s", m.body)
	}
	want := `stockroom_jobs_worked_total{kind="webhook_delivery",outcome="completed"} 1`
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, metrics := get(t, base+"/metrics")
		if strings.Contains(metrics, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %s", want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
