package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/events"
	"github.com/stockroom-dev/stockroom/internal/imports"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/store/jobs"
	"github.com/stockroom-dev/stockroom/internal/web"
	"github.com/stockroom-dev/stockroom/internal/webhooks"
)

// harness is the real API (real routes, middleware, store and PostgreSQL) in an
// httptest server, with a client whose every exchange is checked against
// openapi.json: a response the document does not describe fails the test.
type harness struct {
	st      *store.Store
	catalog *catalog.Catalog
	orders  *orders.Orders
	imports *imports.Service // imports run when a test calls Run: no worker
	api     *Server
	handler http.Handler // the whole stack, for benchmarks that skip the network
	srv     *httptest.Server
	client  *http.Client
	counter *dbtest.Counter
	logs    *dbtest.LogBuffer
	widgets *widgets
	routes  []web.Route  // the whole API route table, test routes included
	seq     atomic.Int64 // numbers fixture users
}

// harnessOptions adjust a harness before its server starts.
type harnessOptions struct {
	api      Options
	clock    func() time.Time // the rate limiter's clock
	maxConns int32            // the pool's size; 0 is dbtest's default
	// events, when set, makes the event hub of Options.Events once the store exists.
	events func(st *store.Store, log *slog.Logger) *events.Hub
}

func newHarness(t testing.TB, adjust ...func(*harnessOptions)) *harness {
	t.Helper()
	o := harnessOptions{}
	for _, f := range adjust {
		f(&o)
	}
	h := &harness{counter: &dbtest.Counter{}, logs: &dbtest.LogBuffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", h.logs)
		}
	})
	h.st = store.New(dbtest.NewWithConfig(t, func(cfg *pgxpool.Config) {
		h.counter.Install(cfg)
		if o.maxConns > 0 {
			cfg.MaxConns = o.maxConns
		}
	}))
	log := slog.New(slog.NewTextHandler(h.logs, nil))
	h.catalog = catalog.New(h.st, catalog.Config{MediaDir: t.TempDir(), LowStock: 5})
	h.orders = orders.New(h.st, orders.Config{Currency: "EUR", TaxRate: 1900})
	o.api.Catalog, o.api.Orders, o.api.Currency = h.catalog, h.orders, "EUR"
	h.imports = imports.New(h.st, imports.Config{Currency: "EUR"}, nil)
	o.api.Imports = h.imports
	if o.events != nil {
		o.api.Events = o.events(h.st, log)
	}
	// Webhook endpoints, on a queue that only inserts (no delivery is sent), and
	// without the enqueue hook: statement counts stay those of the routes.
	queue := jobs.New(h.st, log, jobs.Options{})
	o.api.Webhooks = webhooks.New(h.st, queue, log, webhooks.Options{})
	if err := queue.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var err error
	if h.api, err = New(context.Background(), h.st, log, o.api); err != nil {
		t.Fatal(err)
	}
	if o.clock != nil && h.api.limiter != nil {
		h.api.limiter = newLimiter(h.st, log, o.api.RatePerMinute, o.clock)
	}
	mux := http.NewServeMux()
	rt := h.api.Routes(mux)
	h.widgets = newWidgets(t, h.api, h.st, rt)
	if err := rt.Err(); err != nil {
		t.Fatal(err)
	}
	h.routes = rt.List()
	h.handler = web.Middleware(log, nil, mux)
	h.srv = httptest.NewServer(h.handler)
	t.Cleanup(h.srv.Close)
	jar, _ := cookiejar.New(nil)
	h.client = &http.Client{
		Transport:     &contract{t: t, router: contractRouter(t), next: http.DefaultTransport},
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return h
}

// user creates an active staff user with perms and returns their id.
func (h *harness) user(t testing.TB, email string, perms ...string) int64 {
	t.Helper()
	ctx := context.Background()
	var u db.User
	err := h.st.InTx(ctx, func(q *db.Queries) error {
		var err error
		u, err = q.CreateUser(ctx, db.CreateUserParams{Email: email, Name: "Test User", PasswordHash: "x", IsActive: true})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	h.exec(t, `INSERT INTO user_permissions (user_id, permission_id)
		SELECT $1, id FROM permissions WHERE codename = ANY($2)`, u.ID, perms)
	return u.ID
}

// token creates a token of scope for userID and returns its secret.
func (h *harness) token(t testing.TB, userID int64, scope string) string {
	t.Helper()
	secret, _, err := auth.NewTokens(h.st).Create(context.Background(), nil, userID, "test "+scope, scope, nil)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// writer is a token of a user who may do everything with widgets.
func (h *harness) writer(t testing.TB) string {
	t.Helper()
	id := h.user(t, fmt.Sprintf("writer%d@example.com", h.seq.Add(1)),
		"widgets.view", "widgets.add", "widgets.change", "widgets.delete")
	return h.token(t, id, auth.ScopeWrite)
}

func (h *harness) exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := h.st.Pool().Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// response is what the client got.
type response struct {
	status int
	header http.Header
	body   []byte
}

// call sends a request: token is the bearer secret ("" for none), headers are
// name/value pairs. A body is sent as application/json unless headers say otherwise.
func (h *harness) call(t testing.TB, method, path, token, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// problem decodes a problem+json response.
func (r response) problem(t testing.TB) problem {
	t.Helper()
	var p problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("status %d body %q: not a problem: %v", r.status, r.body, err)
	}
	return p
}

// decode decodes a JSON response into v.
func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("status %d body %q: %v", r.status, r.body, err)
	}
}

// want fails the test unless the response has status.
func (r response) want(t testing.TB, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	return r
}

// contractDoc is openapi.json with the test-only widget routes of
// testdata/widgets.openapi.json added, loaded and validated once per test binary.
var contractDoc = sync.OnceValues(func() (*openapi3.T, error) {
	var doc, extra map[string]any
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	b, err := os.ReadFile("testdata/widgets.openapi.json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &extra); err != nil {
		return nil, fmt.Errorf("widgets.openapi.json: %w", err)
	}
	maps.Copy(doc["paths"].(map[string]any), extra["paths"].(map[string]any))
	maps.Copy(doc["components"].(map[string]any)["schemas"].(map[string]any), extra["schemas"].(map[string]any))
	merged, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	d, err := loader.LoadFromData(merged)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := d.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	d.Servers = nil // match any host: the test server's port changes
	return d, nil
})

func contractRouter(t testing.TB) routers.Router {
	t.Helper()
	doc, err := contractDoc()
	if err != nil {
		t.Fatalf("openapi: %v", err)
	}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("openapi router: %v", err)
	}
	return r
}

// contract is the client's transport: it checks every exchange against the document.
//   - A response must match its operation's documented status, headers and body.
//   - A 2xx to a request the document calls invalid means server and document
//     disagree about what is valid: a failure too.
//   - A request no operation matches may only get the catch-all 404 or 405 problem.
//   - Every problem carries the request id of its X-Request-Id header.
type contract struct {
	t      testing.TB
	router routers.Router
	next   http.RoundTripper
}

func (c *contract) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err := c.check(req, reqBody, resp, respBody); err != nil {
		c.t.Errorf("%s %s -> %d: does not match openapi.json: %v\nresponse body: %s",
			req.Method, req.URL.RequestURI(), resp.StatusCode, err, respBody)
	}
	return resp, nil
}

func (c *contract) check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) error {
	ctx := context.Background()
	replayed := resp.Header.Get("Idempotent-Replayed") == "true" // carries the first request's id
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") && !replayed {
		var p problem
		if err := json.Unmarshal(respBody, &p); err != nil || p.RequestID != resp.Header.Get("X-Request-Id") {
			return fmt.Errorf("problem request_id %q, X-Request-Id %q (%v)", p.RequestID, resp.Header.Get("X-Request-Id"), err)
		}
	}
	route, params, err := c.router.FindRoute(req)
	// The legacy router lets {id} match nothing: /api/v1/widgets is no widget.
	if err != nil || slices.Contains(slices.Collect(maps.Values(params)), "") {
		return c.checkUnrouted(resp, respBody)
	}
	probe := req.Clone(ctx)
	probe.Body = io.NopCloser(bytes.NewReader(reqBody))
	in := &openapi3filter.RequestValidationInput{
		Request: probe, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	if reqErr != nil && resp.StatusCode < 300 {
		return fmt.Errorf("the server accepted a request the document calls invalid: %w", reqErr)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(respBody)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	return openapi3filter.ValidateResponse(ctx, out)
}

// checkUnrouted checks an answer to a request no documented operation matches.
func (c *contract) checkUnrouted(resp *http.Response, body []byte) error {
	if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
		return fmt.Errorf("no documented operation, yet status %d", resp.StatusCode)
	}
	if resp.StatusCode == http.StatusMethodNotAllowed && resp.Header.Get("Allow") == "" {
		return fmt.Errorf("405 without Allow")
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Errorf("content type %q, want application/problem+json", ct)
	}
	doc, _ := contractDoc()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	return doc.Components.Schemas["Problem"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
}
