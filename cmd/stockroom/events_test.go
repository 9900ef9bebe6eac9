package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/store/listen"
)

// Two instances on one database, as two serve processes: a write through instance A
// reaches every event stream open on instance B, and however many streams are open,
// each instance holds one LISTEN connection.
func TestEventsReachStreamsOnAnotherInstance(t *testing.T) {
	ctx, st, srvA, srvB := twoInstances(t)

	var uid int64
	if err := st.Pool().QueryRow(ctx, `SELECT id FROM users WHERE email = 'boss@example.com'`).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	tokens := auth.NewTokens(st)
	reader, _, err := tokens.Create(ctx, nil, uid, "reader", auth.ScopeRead, nil)
	if err != nil {
		t.Fatal(err)
	}
	writer, _, err := tokens.Create(ctx, nil, uid, "writer", auth.ScopeWrite, nil)
	if err != nil {
		t.Fatal(err)
	}

	const streams = 5
	lines := make([]*bufio.Scanner, streams)
	for i := range lines {
		req, _ := http.NewRequestWithContext(ctx, "GET", srvB.URL+"/api/v1/events?types=customer.created", nil)
		req.Header.Set("Authorization", "Bearer "+reader)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("stream %d on B: status %d", i, resp.StatusCode)
		}
		lines[i] = bufio.NewScanner(resp.Body)
		for lines[i].Scan() && lines[i].Text() != "" { // the opening retry: and id:
		}
	}

	req, _ := http.NewRequestWithContext(ctx, "POST", srvA.URL+"/api/v1/customers", strings.NewReader(`{"email":"ada@example.com","name":"Ada"}`))
	req.Header.Set("Authorization", "Bearer "+writer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/v1/customers on A: %d", resp.StatusCode)
	}
	for i, sc := range lines {
		var got []string
		for sc.Scan() && sc.Text() != "" {
			got = append(got, sc.Text())
		}
		if len(got) != 3 || got[1] != "event: customer.created" || !strings.Contains(got[2], `"ada@example.com`) {
			t.Errorf("stream %d on B got %q, want the customer.created event", i, got)
		}
	}

	var listeners int
	err = st.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, listen.ApplicationName).Scan(&listeners)
	if err != nil || listeners != 2 {
		t.Errorf("%d LISTEN connections (%v) with %d streams open, want 2: one per instance", listeners, err, streams)
	}
}

// twoInstances is two serve processes on one new database (startInstance) whose one
// user is the superuser boss@example.com, password correct-horse-battery; ctx ends
// the test after two minutes.
func twoInstances(t *testing.T) (ctx context.Context, st *store.Store, a, b *httptest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	url := dbtest.NewURL(t)
	if code, _, stderr := stockroomIn(ctx, map[string]string{"STOCKROOM_DATABASE_URL": url}, "correct-horse-battery\n",
		"createsuperuser", "--email", "boss@example.com", "--password-stdin"); code != 0 {
		t.Fatalf("createsuperuser: %s", stderr)
	}
	st, a = startInstance(t, ctx, url)
	_, b = startInstance(t, ctx, url)
	return ctx, st, a, b
}

// startInstance is one serve process on the database at url, as newApp wires it
// (its own pool and LISTEN connection), behind a test server.
func startInstance(t *testing.T, ctx context.Context, url string) (*store.Store, *httptest.Server) {
	t.Helper()
	st, err := store.Open(ctx, url, store.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	e := &env{stdout: io.Discard, stderr: io.Discard}
	e.cfg.SessionIdle, e.cfg.SessionLifetime, e.cfg.LoginFailureLimit = time.Hour, 2*time.Hour, 5
	e.cfg.Currency, e.cfg.APIRatePerMinute, e.cfg.MediaDir = "EUR", 1000, t.TempDir()
	e.cfg.ShutdownGrace, e.cfg.Require2FA = time.Second, "off"
	a, err := newApp(ctx, e, st, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)
	t.Cleanup(srv.CloseClientConnections) // the streams, before Close waits for them
	return st, srv
}
