package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/store/jobs"
	"github.com/stockroom-dev/stockroom/internal/validator"
	"github.com/stockroom-dev/stockroom/internal/webhooks"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var editor = audit.Actor{UserID: 1, Label: "editor@example.com"}

// verify checks a message the way a receiver does, written from the Standard
// Webhooks specification and sharing no code with the sender: the key is the
// base64 after whsec_, the signed content "<webhook-id>.<webhook-timestamp>.<body>",
// the signature header a space-separated list of "v1,<base64 HMAC-SHA256>", any of
// which may match; the timestamp must be within five minutes.
func verify(secret string, h http.Header, body []byte) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	ts, err := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp: %w", err)
	}
	if d := time.Since(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("webhook-timestamp %d is %v away", ts, d)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "." + string(body)))
	want := mac.Sum(nil)
	for _, part := range strings.Fields(h.Get("webhook-signature")) {
		version, sig, _ := strings.Cut(part, ",")
		got, err := base64.StdEncoding.DecodeString(sig)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no signature matches")
}

// The signer agrees with the example of the specification.
func TestSignatureMatchesTheSpecExample(t *testing.T) {
	got, err := webhooks.Signature("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`),
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; err != nil || got != want {
		t.Errorf("Signature() = %q, %v; want %q", got, err, want)
	}
}

// env is a store, a working job queue and the webhooks service on a database of
// their own.
type env struct {
	st   *store.Store
	pool *pgxpool.Pool
	svc  *webhooks.Service
	q    *jobs.Queue
}

func newEnv(t testing.TB, opts webhooks.Options, work bool) *env {
	t.Helper()
	return newEnvHooked(t, opts, work, true)
}

// newEnvHooked is newEnv, with the enqueue hook installed only when hook is set.
func newEnvHooked(t testing.TB, opts webhooks.Options, work, hook bool) *env {
	t.Helper()
	pool := dbtest.NewWithConfig(t, func(c *pgxpool.Config) { c.MaxConns = 8 })
	st := store.New(pool)
	log := slog.New(slog.DiscardHandler)
	q := jobs.New(st, log, jobs.Options{Work: work, PollInterval: 50 * time.Millisecond})
	if opts.Backoff == nil {
		opts.Backoff = func(int) time.Duration { return 10 * time.Millisecond }
	}
	svc := webhooks.New(st, q, log, opts)
	if hook {
		svc.EnqueueOnCommit()
	}
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		q.Stop(ctx)
	})
	return &env{st: st, pool: pool, svc: svc, q: q}
}

func (e *env) endpoint(t testing.TB, url string, types ...string) db.WebhookEndpoint {
	t.Helper()
	if len(types) == 0 {
		types = []string{webhooks.AllEvents}
	}
	ep, err := e.svc.CreateEndpoint(context.Background(), editor, webhooks.EndpointInput{URL: url, EventTypes: types, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

// change writes one event per id of type typ in one transaction, failing it with
// fail when that is not nil.
func (e *env) change(t testing.TB, typ string, ids []int64, fail error) error {
	t.Helper()
	return e.st.InTx(context.Background(), func(q *db.Queries) error {
		for _, id := range ids {
			err := audit.Append(context.Background(), q, editor, audit.Event{Action: audit.ActionUpdate, Resource: "products",
				ObjectID: id, Repr: fmt.Sprint("Product ", id), Type: typ,
				Changes: audit.Changes{"stock": {1, 2}}})
			if err != nil {
				return err
			}
		}
		return fail
	})
}

func (e *env) scalar(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// receiver is a test endpoint on 127.0.0.1 that answers with the statuses given, one
// per request (the last one repeating), and keeps what it received.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []received
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t testing.TB, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.got)
		r.got = append(r.got, received{req.Header.Clone(), body})
		status := r.statuses[min(n, len(r.statuses)-1)]
		r.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprintf(w, "answer %d", n+1)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// Acceptance 1: a receiver answering 500 twice and then 200 gets the event, signed
// so that an independent verifier accepts it, and the log shows three attempts.
func TestDeliveryRetriesUntilDelivered(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true}, true)
	rcv := newReceiver(t, 500, 500, 200)
	ep := e.endpoint(t, rcv.URL+"/hooks", "variant.stock_changed")
	if err := e.change(t, audit.TypeStockChanged, []int64{42}, nil); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the delivery is delivered", func() bool {
		return e.scalar(t, "SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'") == 1
	})
	got := rcv.requests()
	if len(got) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(got))
	}
	var eventID int64
	if err := e.pool.QueryRow(context.Background(), "SELECT id FROM events WHERE type = 'variant.stock_changed'").Scan(&eventID); err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		if err := verify(ep.Secret, r.header, r.body); err != nil {
			t.Errorf("request %d: signature: %v", i+1, err)
		}
		if id := r.header.Get("webhook-id"); id != fmt.Sprint("evt_", eventID) {
			t.Errorf("request %d: webhook-id %q, want evt_%d (the same on every attempt)", i+1, id, eventID)
		}
	}
	var msg struct {
		Type      string    `json:"type"`
		Timestamp time.Time `json:"timestamp"`
		Data      struct {
			EventID  int64  `json:"event_id"`
			Resource string `json:"resource"`
			ObjectID int64  `json:"object_id"`
			Repr     string `json:"repr"`
		} `json:"data"`
	}
	if err := json.Unmarshal(got[2].body, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Type != "variant.stock_changed" || msg.Timestamp.IsZero() || msg.Data.EventID != eventID ||
		msg.Data.ObjectID != 42 || msg.Data.Repr != "Product 42" {
		t.Errorf("body = %s", got[2].body)
	}
	attempts, err := e.svc.Attempts(context.Background(), ep.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 3 {
		t.Fatalf("log has %d attempts, want 3", len(attempts))
	}
	for i, want := range []int32{200, 500, 500} { // newest first
		if a := attempts[i]; a.StatusCode == nil || *a.StatusCode != want {
			t.Errorf("attempt %d: status %v, want %d", 3-i, a.StatusCode, want)
		}
	}
	if a := attempts[0]; a.ResponseExcerpt != "answer 3" || a.Error != "" {
		t.Errorf("last attempt: excerpt %q error %q", a.ResponseExcerpt, a.Error)
	}
	if a := attempts[2]; a.Error != "500 Internal Server Error" {
		t.Errorf("first attempt: error %q", a.Error)
	}
	if n := e.scalar(t, "SELECT consecutive_failures FROM webhook_endpoints WHERE id = $1", ep.ID); n != 0 {
		t.Errorf("consecutive failures after a success = %d, want 0", n)
	}
}

// Acceptance 3: a rolled-back change enqueues nothing; N events enqueue exactly N
// deliveries (and N jobs) per subscribed active endpoint, none for the others.
func TestDeliveriesCommitWithTheirEvents(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true}, false) // nothing is sent
	all := e.endpoint(t, "http://127.0.0.1:9/all")
	stock := e.endpoint(t, "http://127.0.0.1:9/stock", "variant.stock_changed")
	e.endpoint(t, "http://127.0.0.1:9/orders", "order.placed")
	off := e.endpoint(t, "http://127.0.0.1:9/off")
	if _, err := e.svc.UpdateEndpoint(context.Background(), editor, off.ID, 0,
		webhooks.EndpointInput{URL: off.Url, EventTypes: off.EventTypes, Active: false}); err != nil {
		t.Fatal(err)
	}
	jobsBefore := e.scalar(t, "SELECT count(*) FROM river_job WHERE kind = 'webhook_delivery'")

	boom := errors.New("boom")
	if err := e.change(t, audit.TypeStockChanged, []int64{1, 2, 3}, boom); !errors.Is(err, boom) {
		t.Fatalf("change = %v, want boom", err)
	}
	if n := e.scalar(t, "SELECT count(*) FROM webhook_deliveries WHERE event_id IS NOT NULL"); n != 0 {
		t.Errorf("a rolled-back change left %d deliveries", n)
	}

	ids := make([]int64, 1000)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	if err := e.change(t, audit.TypeStockChanged, ids, nil); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		id   int64
		want int
	}{{"all events", all.ID, 1000}, {"stock changes", stock.ID, 1000}} {
		if n := e.scalar(t, "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id IS NOT NULL", tt.id); n != tt.want {
			t.Errorf("%s endpoint: %d deliveries, want %d", tt.name, n, tt.want)
		}
	}
	if n := e.scalar(t, "SELECT count(*) FROM webhook_deliveries WHERE event_id IS NOT NULL"); n != 2000 {
		t.Errorf("%d deliveries in all, want 2000 (none to the orders-only or the inactive endpoint)", n)
	}
	if n := e.scalar(t, "SELECT count(DISTINCT (endpoint_id, event_id)) FROM webhook_deliveries WHERE event_id IS NOT NULL"); n != 2000 {
		t.Errorf("%d distinct (endpoint, event) pairs, want 2000", n)
	}
	if n := e.scalar(t, "SELECT count(*) FROM river_job WHERE kind = 'webhook_delivery'") - jobsBefore; n != 2000 {
		t.Errorf("%d delivery jobs enqueued, want 2000", n)
	}

	// 1,000 stock changes as the issue has them, each its own transaction: each
	// enqueues its own event's deliveries once, none of another's.
	for i := range 1000 {
		if err := e.change(t, audit.TypeStockChanged, []int64{int64(2000 + i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.scalar(t, "SELECT count(*) FROM webhook_deliveries WHERE event_id IS NOT NULL"); n != 4000 {
		t.Errorf("after 1,000 one-change transactions: %d deliveries in all, want 4000", n)
	}
	if n := e.scalar(t, "SELECT count(DISTINCT (endpoint_id, event_id)) FROM webhook_deliveries WHERE event_id IS NOT NULL"); n != 4000 {
		t.Errorf("after 1,000 one-change transactions: %d distinct (endpoint, event) pairs, want 4000", n)
	}
	if n := e.scalar(t, "SELECT count(*) FROM river_job WHERE kind = 'webhook_delivery'") - jobsBefore; n != 4000 {
		t.Errorf("after 1,000 one-change transactions: %d delivery jobs, want 4000", n)
	}
}

// A 410 Gone turns the endpoint off at once and ends the delivery without retries.
func TestGoneDisablesEndpoint(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true}, true)
	rcv := newReceiver(t, http.StatusGone)
	ep := e.endpoint(t, rcv.URL)
	if err := e.change(t, audit.TypeStockChanged, []int64{1}, nil); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the delivery failed", func() bool {
		return e.scalar(t, "SELECT count(*) FROM webhook_deliveries WHERE state = 'failed'") == 1
	})
	got, err := e.svc.Endpoint(context.Background(), ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Active || !strings.Contains(got.DisabledReason, "410") || got.DisabledAt == nil {
		t.Errorf("endpoint after 410: active %v, reason %q", got.Active, got.DisabledReason)
	}
	waitUntil(t, "the job is cancelled", func() bool {
		return e.scalar(t, "SELECT count(*) FROM river_job WHERE kind = 'webhook_delivery' AND state = 'cancelled'") == 1
	})
	if n := len(rcv.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
	// Nothing more is sent to it, and it is not even enqueued.
	if err := e.change(t, audit.TypeStockChanged, []int64{2}, nil); err != nil {
		t.Fatal(err)
	}
	if n := e.scalar(t, "SELECT count(*) FROM webhook_deliveries"); n != 1 {
		t.Errorf("%d deliveries after the endpoint was turned off, want 1", n)
	}
}

// MaxFailures failed attempts in a row turn the endpoint off with a reason; turning
// it on again clears the count.
func TestConsecutiveFailuresDisableEndpoint(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true, MaxFailures: 3, MaxAttempts: 10}, true)
	rcv := newReceiver(t, http.StatusServiceUnavailable)
	ep := e.endpoint(t, rcv.URL)
	if err := e.change(t, audit.TypeStockChanged, []int64{1}, nil); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the endpoint is turned off", func() bool {
		return e.scalar(t, "SELECT count(*) FROM webhook_endpoints WHERE NOT active") == 1
	})
	got, err := e.svc.Endpoint(context.Background(), ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.DisabledReason != "3 failed attempts in a row" || got.ConsecutiveFailures != 3 {
		t.Errorf("endpoint: reason %q, failures %d", got.DisabledReason, got.ConsecutiveFailures)
	}
	waitUntil(t, "the job is cancelled", func() bool {
		return e.scalar(t, "SELECT count(*) FROM river_job WHERE kind = 'webhook_delivery' AND state = 'cancelled'") == 1
	})
	if n := len(rcv.requests()); n != 3 {
		t.Errorf("receiver got %d requests, want 3", n)
	}
	on, err := e.svc.UpdateEndpoint(context.Background(), editor, ep.ID, got.Version,
		webhooks.EndpointInput{URL: got.Url, EventTypes: got.EventTypes, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if !on.Active || on.ConsecutiveFailures != 0 || on.DisabledReason != "" {
		t.Errorf("endpoint turned on again: active %v, failures %d, reason %q", on.Active, on.ConsecutiveFailures, on.DisabledReason)
	}
}

// After a rotation, messages carry two signatures, one per secret, and a receiver
// holding either verifies them; resend and the test event go out signed too.
func TestRotationResendAndTestEvent(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true}, true)
	rcv := newReceiver(t, 200)
	ep := e.endpoint(t, rcv.URL)
	rotated, err := e.svc.RotateSecret(context.Background(), editor, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Secret == ep.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") {
		t.Fatalf("rotated secret %q", rotated.Secret)
	}
	if err := e.svc.SendTest(context.Background(), ep.ID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the test event arrived", func() bool { return len(rcv.requests()) == 1 })
	r := rcv.requests()[0]
	if n := len(strings.Fields(r.header.Get("webhook-signature"))); n != 2 {
		t.Errorf("%d signatures during the rotation, want 2", n)
	}
	for _, secret := range []string{ep.Secret, rotated.Secret} {
		if err := verify(secret, r.header, r.body); err != nil {
			t.Errorf("verify with one of the secrets: %v", err)
		}
	}
	var test struct{ Type string }
	if err := json.Unmarshal(r.body, &test); err != nil || test.Type != "webhook.test" {
		t.Errorf("test event body %s", r.body)
	}
	deliveries, err := e.svc.Deliveries(context.Background(), ep.ID, 0, 10)
	if err != nil || len(deliveries) != 1 {
		t.Fatalf("deliveries = %v, %v", deliveries, err)
	}
	if err := e.svc.Resend(context.Background(), ep.ID, deliveries[0].ID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the resend arrived", func() bool { return len(rcv.requests()) == 2 })
	if a, b := rcv.requests()[0].header.Get("webhook-id"), rcv.requests()[1].header.Get("webhook-id"); a != b {
		t.Errorf("resend webhook-id %q, first %q: want the same", b, a)
	}
	if err := e.svc.Resend(context.Background(), ep.ID+1, deliveries[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("resend through another endpoint = %v, want ErrNotFound", err)
	}
}

func TestValidate(t *testing.T) {
	e := newEnv(t, webhooks.Options{}, false) // private addresses refused
	tests := []struct {
		name  string
		in    webhooks.EndpointInput
		field string
		msg   string // in the message
	}{
		{"no URL", webhooks.EndpointInput{EventTypes: []string{"*"}}, "url", "required"},
		{"not http", webhooks.EndpointInput{URL: "ftp://example.com/", EventTypes: []string{"*"}}, "url", "http"},
		{"relative", webhooks.EndpointInput{URL: "/hooks", EventTypes: []string{"*"}}, "url", "absolute"},
		{"credentials", webhooks.EndpointInput{URL: "https://u:p@198.51.100.7/", EventTypes: []string{"*"}}, "url", "password"},
		{"loopback", webhooks.EndpointInput{URL: "http://127.0.0.1/", EventTypes: []string{"*"}}, "url", "loopback"},
		{"loopback v6", webhooks.EndpointInput{URL: "http://[::1]/", EventTypes: []string{"*"}}, "url", "loopback"},
		{"mapped loopback", webhooks.EndpointInput{URL: "http://[::ffff:127.0.0.1]/", EventTypes: []string{"*"}}, "url", "loopback"},
		{"metadata", webhooks.EndpointInput{URL: "http://169.254.169.254/latest/meta-data/", EventTypes: []string{"*"}}, "url", "link-local"},
		{"private", webhooks.EndpointInput{URL: "http://10.0.0.1/", EventTypes: []string{"*"}}, "url", "private"},
		{"localhost", webhooks.EndpointInput{URL: "http://localhost:8080/", EventTypes: []string{"*"}}, "url", "loopback"},
		{"no event types", webhooks.EndpointInput{URL: "https://198.51.100.7/"}, "event_types", "at least one"},
		{"bad event type", webhooks.EndpointInput{URL: "https://198.51.100.7/", EventTypes: []string{"Product Updated"}}, "event_types", "not an event type"},
		{"long description", webhooks.EndpointInput{URL: "https://198.51.100.7/", EventTypes: []string{"*"}, Description: strings.Repeat("x", 501)}, "description", "500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.CreateEndpoint(context.Background(), editor, tt.in)
			var errs validator.Errors
			if !errors.As(err, &errs) || !strings.Contains(errs[tt.field], tt.msg) {
				t.Errorf("CreateEndpoint(%+v) = %v, want a %s error with %q", tt.in, err, tt.field, tt.msg)
			}
		})
	}
	if n := e.scalar(t, "SELECT count(*) FROM webhook_endpoints"); n != 0 {
		t.Errorf("refused input wrote %d endpoints", n)
	}
	// A public address literal passes (nothing is sent: no delivery is due).
	ep, err := e.svc.CreateEndpoint(context.Background(), editor, webhooks.EndpointInput{URL: " https://198.51.100.7/hooks ",
		EventTypes: []string{"product.updated", "*"}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if ep.Url != "https://198.51.100.7/hooks" || len(ep.EventTypes) != 1 || ep.EventTypes[0] != "*" {
		t.Errorf("stored %q %v, want the URL trimmed and * alone", ep.Url, ep.EventTypes)
	}
}

// Acceptance 4, end to end: endpoints whose stored URL points at loopback (saved
// while private addresses were allowed, or a name that now resolves there) get no
// request: each attempt is refused at connect time and logged as such. A receiver
// that redirects to another one is not followed.
func TestDeliveryRefusesLoopbackAndRedirects(t *testing.T) {
	e := newEnv(t, webhooks.Options{MaxAttempts: 1}, true) // private addresses refused
	rcv := newReceiver(t, 200)
	port := rcv.URL[strings.LastIndex(rcv.URL, ":")+1:]
	for _, url := range []string{rcv.URL + "/", "http://localhost:" + port + "/", "http://[::1]:" + port + "/"} {
		// Written past the save-time check, as if allowed then.
		if _, err := e.pool.Exec(context.Background(),
			"INSERT INTO webhook_endpoints (url, secret) VALUES ($1, 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0')", url); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.change(t, audit.TypeStockChanged, []int64{1}, nil); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the three deliveries failed", func() bool {
		return e.scalar(t, "SELECT count(*) FROM webhook_deliveries WHERE state = 'failed'") == 3
	})
	if n := e.scalar(t, "SELECT count(*) FROM webhook_attempts WHERE error LIKE 'refused: address not allowed for webhooks: %loopback%' AND status_code IS NULL"); n != 3 {
		rows, _ := e.pool.Query(context.Background(), "SELECT error FROM webhook_attempts")
		for rows.Next() {
			var msg string
			rows.Scan(&msg)
			t.Logf("attempt error: %s", msg)
		}
		rows.Close()
		t.Errorf("%d attempts logged as refused loopback, want 3", n)
	}
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("the loopback receiver got %d requests, want none", n)
	}

	// Redirects, with private addresses allowed so that both receivers are reachable.
	e2 := newEnv(t, webhooks.Options{AllowPrivate: true, MaxAttempts: 1}, true)
	target := newReceiver(t, 200)
	redirector := httptest.NewServer(http.RedirectHandler(target.URL+"/", http.StatusTemporaryRedirect))
	t.Cleanup(redirector.Close)
	e2.endpoint(t, redirector.URL)
	if err := e2.change(t, audit.TypeStockChanged, []int64{1}, nil); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the redirected delivery failed", func() bool {
		return e2.scalar(t, "SELECT count(*) FROM webhook_deliveries WHERE state = 'failed'") == 1
	})
	if n := e2.scalar(t, "SELECT count(*) FROM webhook_attempts WHERE status_code = 307 AND error LIKE '%redirects are not followed%'"); n != 1 {
		t.Errorf("%d attempts logged as a refused redirect, want 1", n)
	}
	if n := len(target.requests()); n != 0 {
		t.Errorf("the redirect target got %d requests, want none", n)
	}
}

// Acceptance 2, in process: while the receiver is down (it refuses connections),
// changes keep committing and their deliveries wait, retried with backoff; once it
// is up again every event arrives, each at least once, none lost (counted by
// webhook-id).
func TestReceiverDownThenUp(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true, MaxAttempts: 50, MaxFailures: 1000}, true)
	var up atomic.Bool
	got := map[string]int{}
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			// Down: drop the connection without an answer, as a dead receiver would.
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		got[r.Header.Get("webhook-id")]++
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	e.endpoint(t, srv.URL)
	const events = 40
	for i := range events {
		if err := e.change(t, audit.TypeStockChanged, []int64{int64(i + 1)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "every delivery failed at least once", func() bool {
		return e.scalar(t, "SELECT count(*) FROM webhook_deliveries WHERE attempts >= 1") == events
	})
	up.Store(true)
	waitUntil(t, "every delivery is delivered", func() bool {
		return e.scalar(t, "SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'") == events
	})
	mu.Lock()
	defer mu.Unlock()
	if len(got) != events {
		t.Errorf("receiver got %d distinct messages, want %d", len(got), events)
	}
	if n := e.scalar(t, "SELECT count(*) FROM webhook_attempts WHERE status_code IS NULL"); n < events {
		t.Errorf("%d failed attempts logged while down, want at least %d", n, events)
	}
}

// Acceptance 2, the crash: a delivery whose process died in the middle of an
// attempt (SIGKILL: its job stays "running", claimed by a client that is gone) is
// rescued by River on the next working process and delivered.
func TestDeliveryRescuedAfterACrash(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true}, false) // the process that "dies": inserts only
	rcv := newReceiver(t, 200)
	e.endpoint(t, rcv.URL)
	if err := e.change(t, audit.TypeStockChanged, []int64{7}, nil); err != nil {
		t.Fatal(err)
	}
	// What a SIGKILL mid-attempt leaves behind.
	if _, err := e.pool.Exec(context.Background(), `UPDATE river_job SET state = 'running', attempt = 1,
		attempted_at = now() - interval '10 minutes', attempted_by = ARRAY['killed-process']
		WHERE kind = 'webhook_delivery'`); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	q := jobs.New(e.st, log, jobs.Options{Work: true, PollInterval: 50 * time.Millisecond})
	webhooks.New(e.st, q, log, webhooks.Options{AllowPrivate: true, Backoff: func(int) time.Duration { return 10 * time.Millisecond }})
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Stop(context.Background()) })
	waitUntil(t, "the rescued delivery is delivered", func() bool {
		return e.scalar(t, "SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'") == 1
	})
	if got := rcv.requests(); len(got) != 1 || !strings.HasPrefix(got[0].header.Get("webhook-id"), "evt_") {
		t.Errorf("receiver got %d requests", len(got))
	}
}

// The enqueue hook runs before every write transaction commits, so finding the
// transaction's own events must be an index probe, never a scan of the events table
// (which grows with the retention window).
func TestEnqueueLooksUpEventsByIndex(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true}, false) // nothing is sent
	e.endpoint(t, "http://127.0.0.1:9/all")
	ids := make([]int64, 1000)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	for range 5 {
		if err := e.change(t, audit.TypeStockChanged, ids, nil); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, "ANALYZE events"); err != nil {
		t.Fatal(err)
	}
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a read-only look
	// An xid, as a writing transaction has when the hook runs.
	if _, err := tx.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, `EXPLAIN SELECT e.id FROM events e
		JOIN webhook_endpoints w ON w.active AND w.event_types && ARRAY['*', e.type]
		WHERE e.xid = pg_current_xact_id_if_assigned() AND e.resource <> 'webhooks'`)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if plan := strings.Join(lines, "\n"); strings.Contains(plan, "Seq Scan on events") {
		t.Errorf("the hook's lookup scans the events table:\n%s", plan)
	}
}
