package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// The document served is the one in the repository, a valid OpenAPI 3.1 document.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.call(t, "GET", "/api/v1/openapi.json", "", "").want(t, 200)
	if string(r.body) != string(openAPIDocument) {
		t.Error("served document differs from internal/api/openapi.json")
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Errorf("openapi.json is not valid: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	h.call(t, "GET", "/api/v1/openapi.json", "", "", "If-None-Match", r.header.Get("ETag")).want(t, 304)
}

func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		name, auth string
		challenge  string
	}{
		{"no credentials", "", `Bearer realm="stockroom"`},
		{"not bearer", "Basic YWRhOnB3", `Bearer realm="stockroom", error="invalid_token"`},
		{"empty bearer", "Bearer ", `Bearer realm="stockroom", error="invalid_token"`},
		{"unknown token", "Bearer srk_" + strings.Repeat("x", 43), `Bearer realm="stockroom", error="invalid_token"`},
		{"junk token", "Bearer hello", `Bearer realm="stockroom", error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.call(t, "GET", "/api/v1/me", "", "", "Authorization", tt.auth).want(t, 401)
			if got := r.header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if p := r.problem(t); p.Status != 401 || p.Title != "Unauthorized" || p.Detail == "" {
				t.Errorf("problem = %+v", p)
			}
		})
	}
}

// Revoking a token, its expiry and deactivating its user each take effect on the
// very next request.
func TestRefusedTokensTakeEffectAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	tokens := auth.NewTokens(h.st)
	tests := []struct {
		name  string
		spoil func(t *testing.T, userID, tokenID int64)
	}{
		{"revoked", func(t *testing.T, userID, tokenID int64) {
			if err := tokens.Revoke(ctx, nil, tokenID); err != nil {
				t.Fatal(err)
			}
		}},
		{"expired", func(t *testing.T, userID, tokenID int64) {
			h.exec(t, `UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, tokenID)
		}},
		{"user deactivated", func(t *testing.T, userID, tokenID int64) {
			h.exec(t, `UPDATE users SET is_active = false WHERE id = $1`, userID)
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			userID := h.user(t, fmt.Sprintf("refused%d@example.com", i))
			secret, tok, err := tokens.Create(ctx, nil, userID, "ci", auth.ScopeRead, nil)
			if err != nil {
				t.Fatal(err)
			}
			h.call(t, "GET", "/api/v1/me", secret, "").want(t, 200)
			tt.spoil(t, userID, tok.ID)
			h.call(t, "GET", "/api/v1/me", secret, "").want(t, 401)
		})
	}
}

func TestMe(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.user(t, "ada@example.com", "widgets.view", "widgets.change")
	for _, scope := range []string{auth.ScopeRead, auth.ScopeWrite} {
		var me meBody
		h.call(t, "GET", "/api/v1/me", h.token(t, id, scope), "").want(t, 200).decode(t, &me)
		want := []string{"widgets.change", "widgets.view"}
		if scope == auth.ScopeRead {
			want = []string{"widgets.view"}
		}
		if me.ID != id || me.Email != "ada@example.com" || me.Token == nil || me.Token.Name != "test "+scope ||
			me.Scope == nil || *me.Scope != scope || !slices.Equal(me.Permissions, want) {
			t.Errorf("%s token: me = %+v, permissions %v, want %v", scope, me, me.Permissions, want)
		}
	}
}

// The session hook: a signed-in browser may call the API without a token, but a
// cross-origin write with the cookie is refused (CSRF).
func TestSessionPrincipal(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *harnessOptions) {
		o.api.SessionPrincipal = func(r *http.Request) (*auth.Principal, error) {
			if c, err := r.Cookie("session"); err != nil || c.Value != "good" {
				return nil, nil
			}
			return auth.NewPrincipal(1, "staff@example.com", "Staff", false,
				[]string{"widgets.view", "widgets.add"}), nil
		}
	})
	h.call(t, "GET", "/api/v1/me", "", "", "Cookie", "session=bad").want(t, 401)
	var me meBody
	h.call(t, "GET", "/api/v1/me", "", "", "Cookie", "session=good").want(t, 200).decode(t, &me)
	if me.Token != nil || me.Scope != nil || me.Email != "staff@example.com" {
		t.Errorf("me with a session = %+v, want no token and no scope", me)
	}
	h.call(t, "POST", "/api/v1/widgets", "", `{"name":"same-origin"}`, "Cookie", "session=good",
		"Sec-Fetch-Site", "same-origin").want(t, 201)
	r := h.call(t, "POST", "/api/v1/widgets", "", `{"name":"cross-site"}`, "Cookie", "session=good",
		"Sec-Fetch-Site", "cross-site").want(t, 403)
	if !strings.Contains(r.problem(t).Detail, "Cross-origin") {
		t.Errorf("detail = %q", r.problem(t).Detail)
	}
	if got := h.widgets.creates.Load(); got != 1 {
		t.Errorf("%d widgets created, want 1 (the cross-site one refused)", got)
	}
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	viewer := h.user(t, "viewer@example.com", "widgets.view")
	editor := h.user(t, "editor@example.com", "widgets.view", "widgets.add")
	tests := []struct {
		name   string
		token  string
		status int
		detail string
	}{
		{"read-scope token of an editor", h.token(t, editor, auth.ScopeRead), 403, "read scope"},
		{"write token of a viewer", h.token(t, viewer, auth.ScopeWrite), 403, "widgets.add"},
		{"write token of an editor", h.token(t, editor, auth.ScopeWrite), 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.call(t, "POST", "/api/v1/widgets", tt.token, `{"name":"`+tt.name+`"}`).want(t, tt.status)
			if tt.detail != "" && !strings.Contains(r.problem(t).Detail, tt.detail) {
				t.Errorf("detail %q, want it to mention %q", r.problem(t).Detail, tt.detail)
			}
		})
	}
}

// Every way a body can be wrong, each refused with nothing written.
func TestBodyErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.writer(t)
	created := h.call(t, "POST", "/api/v1/widgets", tok, `{"name":"w"}`).want(t, 201)
	var w widget
	created.decode(t, &w)
	item := fmt.Sprintf("/api/v1/widgets/%d", w.ID)
	big := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		detail                   string   // in the problem's detail
		fields                   []string // the problem's errors
	}{
		{"2 MiB body", "POST", "/api/v1/widgets", big, nil, 413, "1 MiB", nil},
		{"text/plain", "POST", "/api/v1/widgets", `{"name":"x"}`, []string{"Content-Type", "text/plain"}, 415, "text/plain", nil},
		{"no content type", "POST", "/api/v1/widgets", `{"name":"x"}`, []string{"Content-Type", ""}, 415, "none", nil},
		{"latin-1 JSON", "POST", "/api/v1/widgets", `{"name":"x"}`, []string{"Content-Type", "application/json; charset=latin1"}, 415, "", nil},
		{"truncated", "POST", "/api/v1/widgets", `{"name":`, nil, 400, "byte offset 8", nil},
		{"syntax error", "POST", "/api/v1/widgets", `{"name" "x"}`, nil, 400, "byte offset 9", nil},
		{"trailing data", "POST", "/api/v1/widgets", `{"name":"x"} {}`, nil, 400, "after the object", nil},
		{"not an object", "POST", "/api/v1/widgets", `["x"]`, nil, 400, "JSON object", nil},
		{"null", "POST", "/api/v1/widgets", `null`, nil, 400, "JSON object", nil},
		{"empty", "POST", "/api/v1/widgets", ` `, nil, 400, "empty", nil},
		{"unknown and read-only fields", "POST", "/api/v1/widgets", `{"name":"x","id":5,"colour":"red","Name":"y"}`, nil, 422, "", []string{"Name", "colour", "id"}},
		{"wrong type", "POST", "/api/v1/widgets", `{"name":5}`, nil, 422, "", []string{"name"}},
		{"invalid value", "POST", "/api/v1/widgets", `{"name":""}`, nil, 422, "", []string{"name"}},
		{"duplicate name", "POST", "/api/v1/widgets", `{"name":"w"}`, nil, 422, "", []string{"name"}},
		{"patch read-only id", "PATCH", item, `{"id":5}`, nil, 422, "", []string{"id"}},
		{"patch read-only fields", "PATCH", item, `{"version":9,"created_at":"2020-01-01T00:00:00Z","name":"z"}`, nil, 422, "", []string{"created_at", "version"}},
		{"patch null name", "PATCH", item, `{"name":null}`, []string{"Content-Type", "application/merge-patch+json"}, 422, "", []string{"name"}},
		{"patch as text", "PATCH", item, `{"name":"z"}`, []string{"Content-Type", "text/plain"}, 415, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.call(t, tt.method, tt.path, tok, tt.body, tt.headers...).want(t, tt.status)
			p := r.problem(t)
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail %q, want it to contain %q", p.Detail, tt.detail)
			}
			var fields []string
			for _, e := range p.Errors {
				fields = append(fields, e.Field)
			}
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("errors on %v, want %v (%+v)", fields, tt.fields, p.Errors)
			}
		})
	}
	var after widget
	h.call(t, "GET", item, tok, "").want(t, 200).decode(t, &after)
	if after != w || h.widgets.creates.Load() != 1 {
		t.Errorf("after refused requests: %+v (was %+v), %d creates", after, w, h.widgets.creates.Load())
	}
}

func TestMethodNotAllowedAndNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.writer(t)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"DELETE", "/api/v1/me", 405, "GET, HEAD"},
		{"PUT", "/api/v1/widgets/1", 405, "GET, HEAD, PATCH, DELETE"},
		{"DELETE", "/api/v1/widgets", 405, "GET, HEAD, POST"},
		{"GET", "/api/v1/nothing-here", 404, ""},
		{"GET", "/api/v2/me", 404, ""},
		{"GET", "/api/v1/widgets/abc", 404, ""},
		{"GET", "/api/v1/widgets/0", 404, ""},
		{"GET", "/api/v1/widgets/424242", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := h.call(t, tt.method, tt.path, tok, "").want(t, tt.status)
			if got := r.header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			if p := r.problem(t); p.Status != tt.status {
				t.Errorf("problem status %d", p.Status)
			}
		})
	}
}

// A 500 tells the client nothing but the request id; the log has the cause under
// the same id.
func TestInternalError(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.call(t, "GET", "/api/v1/widget-failure", h.writer(t), "").want(t, 500)
	p := r.problem(t)
	if p.Detail != "internal error" || strings.Contains(string(r.body), "disk") {
		t.Errorf("500 body %s: want only \"internal error\" and the request id", r.body)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "disk on fire") || !strings.Contains(logs, "request_id="+p.RequestID) {
		t.Errorf("the log lacks the cause with request_id %s:\n%s", p.RequestID, logs)
	}
}

// GET /api/v1/me fails cleanly when the database is gone.
func TestMeWithoutDatabase(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.writer(t)
	h.st.Close()
	if p := h.call(t, "GET", "/api/v1/me", tok, "").want(t, 500).problem(t); p.Detail != "internal error" {
		t.Errorf("detail %q", p.Detail)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	h := newHarness(t, func(o *harnessOptions) {
		o.api.RatePerMinute = 3
		o.clock = clock
	})
	a, b := h.writer(t), h.writer(t)
	for range 3 {
		h.call(t, "GET", "/api/v1/me", a, "").want(t, 200)
	}
	r := h.call(t, "GET", "/api/v1/me", a, "").want(t, 429)
	if got := r.header.Get("Retry-After"); got != "20" {
		t.Errorf("Retry-After = %q, want 20 (one request every 20 s at 3 a minute)", got)
	}
	h.call(t, "GET", "/api/v1/me", b, "").want(t, 200) // another token has its own budget
	advance(19 * time.Second)
	if got := h.call(t, "GET", "/api/v1/me", a, "").want(t, 429).header.Get("Retry-After"); got != "1" {
		t.Errorf("19 s later: Retry-After = %q, want 1", got)
	}
	advance(time.Second)
	h.call(t, "GET", "/api/v1/me", a, "").want(t, 200)
}

// Two instances share one bucket per principal: concurrent requests spread over them
// get exactly the bucket's allowance, and a refill lets exactly its worth through.
func TestLimiterIsClusterWide(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	log := slog.New(slog.DiscardHandler)
	instances := []*limiter{newLimiter(h.st, log, 60, clock), newLimiter(h.st, log, 60, clock)}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 25 {
				if _, ok := instances[g%2].take(context.Background(), "token:1"); ok {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 60 {
		t.Errorf("200 requests over 2 instances at 60 a minute: %d allowed, want the bucket's 60", got)
	}
	mu.Lock()
	now = now.Add(3 * time.Second)
	mu.Unlock()
	allowed.Store(0)
	for i := range 20 {
		if _, ok := instances[i%2].take(context.Background(), "token:1"); ok {
			allowed.Add(1)
		}
	}
	if got := allowed.Load(); got != 3 {
		t.Errorf("3 s later: %d allowed, want 3", got)
	}
	if _, ok := instances[0].take(context.Background(), "token:2"); !ok {
		t.Error("another principal was refused: it has a bucket of its own")
	}
}

// At a high limit an instance writes the bucket once per lease, not per request.
func TestLimiterLeases(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	l := newLimiter(h.st, slog.New(slog.DiscardHandler), 60000, func() time.Time { return now })
	for range 1000 {
		if _, ok := l.take(context.Background(), "token:1"); !ok {
			t.Fatal("refused within the limit")
		}
	}
	if l.leases != 10 {
		t.Errorf("1,000 requests at 60,000 a minute took %d leases, want 10 (100 tokens each)", l.leases)
	}
}

func TestIdempotencyReplay(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.writer(t)
	first := h.call(t, "POST", "/api/v1/widgets", tok, `{"name":"a"}`, "Idempotency-Key", "k1").want(t, 201)
	again := h.call(t, "POST", "/api/v1/widgets", tok, `{"name":"a"}`, "Idempotency-Key", "k1").want(t, 201)
	if string(again.body) != string(first.body) || again.header.Get("Location") != first.header.Get("Location") ||
		again.header.Get("ETag") != first.header.Get("ETag") || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %s %v\nfirst: %s %v", again.body, again.header, first.body, first.header)
	}
	r := h.call(t, "POST", "/api/v1/widgets", tok, `{"name":"b"}`, "Idempotency-Key", "k1").want(t, 422)
	if p := r.problem(t); len(p.Errors) != 1 || p.Errors[0].Field != "Idempotency-Key" {
		t.Errorf("reused key: %+v", p)
	}
	// A refused request is stored too: the same retry gets the same 422.
	h.call(t, "POST", "/api/v1/widgets", tok, `{"name":""}`, "Idempotency-Key", "k2").want(t, 422)
	h.call(t, "POST", "/api/v1/widgets", tok, `{"name":""}`, "Idempotency-Key", "k2").want(t, 422)
	// Keys belong to their token: another token's k1 is a request of its own.
	h.call(t, "POST", "/api/v1/widgets", h.writer(t), `{"name":"c"}`, "Idempotency-Key", "k1").want(t, 201)
	h.call(t, "POST", "/api/v1/widgets", tok, `{"name":"d"}`, "Idempotency-Key", strings.Repeat("k", 256)).want(t, 400)
	if got := h.widgets.creates.Load(); got != 2 {
		t.Errorf("%d widgets created, want 2", got)
	}
}

// While the first request with a key runs, a retry gets 409; after it, the replay.
func TestIdempotencyInFlight(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.writer(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hook := func() error {
		once.Do(func() { close(entered); <-release })
		return nil
	}
	h.widgets.beforeCreate.Store(&hook)
	done := make(chan response)
	go func() {
		done <- h.call(t, "POST", "/api/v1/widgets", tok, `{"name":"slow"}`, "Idempotency-Key", "k")
	}()
	<-entered
	r := h.call(t, "POST", "/api/v1/widgets", tok, `{"name":"slow"}`, "Idempotency-Key", "k").want(t, 409)
	if r.header.Get("Retry-After") == "" {
		t.Error("409 in flight without Retry-After")
	}
	close(release)
	first := (<-done).want(t, 201)
	replayed := h.call(t, "POST", "/api/v1/widgets", tok, `{"name":"slow"}`, "Idempotency-Key", "k").want(t, 201)
	if string(replayed.body) != string(first.body) {
		t.Errorf("replay %s, want %s", replayed.body, first.body)
	}
}

// A request that fails on the server's side releases its key: the retry runs.
func TestIdempotencyReleasedAfterServerError(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.writer(t)
	fail := func() error { return errors.New("database hiccup") }
	h.widgets.beforeCreate.Store(&fail)
	h.call(t, "POST", "/api/v1/widgets", tok, `{"name":"x"}`, "Idempotency-Key", "k").want(t, 500)
	h.widgets.beforeCreate.Store(nil)
	h.call(t, "POST", "/api/v1/widgets", tok, `{"name":"x"}`, "Idempotency-Key", "k").want(t, 201)
}

// The same POST sent 20 times at once creates one widget; every answer is that 201
// or a 409 while it was in flight.
func TestIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.writer(t)
	concurrentCreate(t, 20, func() response {
		return h.call(t, "POST", "/api/v1/widgets", tok, `{"name":"once"}`, "Idempotency-Key", "same")
	})
	var count int
	if err := h.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM widgets`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != 1 || h.widgets.creates.Load() != 1 {
		t.Errorf("%d widgets stored, %d creates; want exactly 1", count, h.widgets.creates.Load())
	}
}

// concurrentCreate sends n copies of one idempotent POST at once and checks that
// every answer is the same 201, or a 409 while the first was in flight.
func concurrentCreate(t *testing.T, n int, send func() response) {
	t.Helper()
	results := make(chan response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			results <- send()
		})
	}
	close(start)
	wg.Wait()
	close(results)
	var created string
	for r := range results {
		switch r.status {
		case 201:
			if created != "" && string(r.body) != created {
				t.Errorf("two different 201 bodies: %s and %s", created, r.body)
			}
			created = string(r.body)
		case 409:
		default:
			t.Errorf("status %d: %s", r.status, r.body)
		}
	}
	if created == "" {
		t.Error("no 201 among the answers")
	}
}

// An expired key is claimed afresh rather than replayed.
func TestIdempotencyKeyExpires(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.writer(t)
	h.call(t, "POST", "/api/v1/widgets", tok, `{"name":"a"}`, "Idempotency-Key", "k").want(t, 201)
	h.exec(t, `UPDATE idempotency_keys SET created_at = now() - interval '25 hours'`)
	h.call(t, "POST", "/api/v1/widgets", tok, `{"name":"b"}`, "Idempotency-Key", "k").want(t, 201)
	if got := h.widgets.creates.Load(); got != 2 {
		t.Errorf("%d creates, want 2", got)
	}
}

// Every route in the table is guarded by its permission: without credentials a
// protected route is 401, with a token of a user who holds nothing it is 403 unless
// any signed-in user may use it; public routes answer anyone.
func TestEveryRouteIsGuarded(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	nobody := h.token(t, h.user(t, "nobody@example.com"), auth.ScopeWrite)
	for _, rt := range h.routes {
		method, path, ok := strings.Cut(rt.Pattern, " ")
		if !ok {
			method, path = "GET", rt.Pattern // a catch-all for every method
		}
		path = strings.NewReplacer("{id}", "1", "{vid}", "1").Replace(path)
		t.Run(rt.Pattern, func(t *testing.T) {
			anon := h.call(t, method, path, "", "")
			mine := h.call(t, method, path, nobody, "")
			switch rt.Perm {
			case web.Public:
				if anon.status == 401 || anon.status == 403 {
					t.Errorf("public route: %d without credentials", anon.status)
				}
			case web.SignedIn:
				if anon.status != 401 || mine.status == 401 || mine.status == 403 {
					t.Errorf("signed-in route: %d without credentials (want 401), %d with a token", anon.status, mine.status)
				}
			default:
				if anon.status != 401 || mine.status != 403 {
					t.Errorf("route needing %s: %d without credentials, %d without the permission; want 401, 403",
						rt.Perm, anon.status, mine.status)
				}
			}
		})
	}
}
