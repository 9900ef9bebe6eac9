package admin

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/imports"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/store/jobs"
	"github.com/stockroom-dev/stockroom/internal/web"
	"github.com/stockroom-dev/stockroom/internal/web/session"
	"github.com/stockroom-dev/stockroom/internal/webhooks"
)

func TestMain(m *testing.M) {
	code := dbtest.Run(m)
	stopBrowser()
	os.Exit(code)
}

// testParams make hashing cheap under -race; the format is the real one.
var testParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// testSecretKey is STOCKROOM_SECRET_KEY in tests.
const testSecretKey = "test-secret-key-of-at-least-32-characters"

// Fixture users, all with the same password.
const (
	password   = "correct horse battery staple"
	superEmail = "super@example.com"
	staffEmail = "staff@example.com"  // signed-in staff with no permissions
	viewEmail  = "viewer@example.com" // every .view permission
)

// testApp is the admin on its own database behind the real middleware, in an
// httptest server.
type testApp struct {
	t      *testing.T
	srv    *httptest.Server
	st     *store.Store
	auth   *auth.Service
	cat    *catalog.Catalog
	ord    *orders.Orders
	imp    *imports.Service
	media  string // the media directory
	routes []web.Route
	logs   *dbtest.LogBuffer
	ids    map[string]int64 // fixture email → user id
	hooks  *webhooks.Service
	jobs   *jobs.Queue
	admin  *Server
}

func newTestApp(t *testing.T) *testApp { return newTestAppWith(t, auth.Options{}, nil) }

// newTestAppWith is newTestApp with throttle options and, when tracer is not nil, a
// pgx tracer on every connection (to count statements).
func newTestAppWith(t *testing.T, opts auth.Options, tracer pgx.QueryTracer) *testApp {
	t.Helper()
	return newPolicyTestApp(t, opts, tracer, auth.PolicyOff)
}

// newPolicyTestApp is newTestAppWith under a 2FA policy (STOCKROOM_REQUIRE_2FA).
func newPolicyTestApp(t *testing.T, opts auth.Options, tracer pgx.QueryTracer, policy auth.Policy) *testApp {
	t.Helper()
	st := store.New(dbtest.NewWithConfig(t, func(c *pgxpool.Config) {
		store.Tune(c) // plan like production
		if tracer != nil {
			c.ConnConfig.Tracer = tracer
		}
	}))
	logs := &dbtest.LogBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The listener first: passkeys are bound to the origin the browser sees, which is
	// http://localhost:<port> (WebAuthn refuses IP addresses as site names).
	srv := httptest.NewUnstartedServer(nil)
	if opts.PasskeyOrigin == "" {
		opts.PasskeyOrigin = "http://localhost:" + strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)
	}
	w := wire(t, st, log, opts, policy)
	srv.Config.Handler = w.handler
	srv.Start()
	t.Cleanup(srv.Close)
	svc, cat, media, rt := w.auth, w.cat, w.media, w.routes
	a := &testApp{t: t, srv: srv, st: st, auth: svc, cat: cat, ord: w.ord, imp: w.imp, media: media, routes: rt, logs: logs, ids: map[string]int64{},
		hooks: w.hooks, jobs: w.jobs, admin: w.server}
	a.user(superEmail, true)
	a.user(staffEmail, false)
	a.user(viewEmail, false, "users.view", "groups.view", "products.view", "categories.view", "audit.view",
		"orders.view", "customers.view", "tokens.view", "webhooks.view")
	return a
}

// wired is the admin as main wires it, on st: its handler behind the real
// middleware, and the pieces tests look into.
type wired struct {
	handler http.Handler
	auth    *auth.Service
	cat     *catalog.Catalog
	ord     *orders.Orders
	imp     *imports.Service
	media   string
	routes  []web.Route
	hooks   *webhooks.Service
	jobs    *jobs.Queue
	server  *Server
}

// testNow is the orders' clock in tests: "today" on the dashboard and in the date
// filters. Fixtures that need a date set placed_at relative to it.
var testNow = time.Date(2026, 3, 18, 15, 30, 0, 0, time.UTC)

func wire(t testing.TB, st *store.Store, log *slog.Logger, opts auth.Options, policy ...auth.Policy) wired {
	t.Helper()
	return wireWith(t, st, log, opts, func() time.Time { return testNow }, policy...)
}

// wireWith is wire with the orders' clock now (nil: the real one, for benchmarks on
// seeded data).
func wireWith(t testing.TB, st *store.Store, log *slog.Logger, opts auth.Options, now func() time.Time, policy ...auth.Policy) wired {
	t.Helper()
	if opts.SecretKey == "" {
		opts.SecretKey = testSecretKey
	}
	svc := auth.New(st, auth.NewHasher(testParams, 0), log, opts)
	sessions := session.New(st, svc, log, session.Options{Idle: time.Hour, Lifetime: 2 * time.Hour})
	t.Cleanup(sessions.Close)
	media := t.TempDir()
	cat := catalog.New(st, catalog.Config{MediaDir: media, LowStock: 5})
	ord := orders.New(st, orders.Config{Currency: "EUR", TaxRate: 1900, Now: now})
	// Webhook endpoints on a queue that only inserts (nothing is sent), without the
	// enqueue hook, so that statement counts stay the pages' own.
	queue := jobs.New(st, log, jobs.Options{})
	hooks := webhooks.New(st, queue, log, webhooks.Options{})
	if err := queue.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	imp := imports.New(st, imports.Config{Currency: "EUR"}, nil) // tests run imports themselves (testApp.work)
	s, err := New(Options{Auth: svc, Sessions: sessions, Log: log, Catalog: cat, Orders: ord, Audit: audit.New(st),
		MediaDir: media, Currency: "EUR", Require2FA: append(policy, auth.PolicyOff)[0],
		Imports: imp, Webhooks: hooks, Jobs: queue})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	rt, err := s.Routes(mux)
	if err != nil {
		t.Fatal(err)
	}
	return wired{handler: web.Middleware(log, nil, mux), auth: svc, cat: cat, ord: ord, imp: imp, media: media, routes: rt.List(), hooks: hooks, jobs: queue, server: s}
}

// user creates an active user with the fixture password and the named permissions.
func (a *testApp) user(email string, superuser bool, perms ...string) int64 {
	a.t.Helper()
	u, err := a.auth.CreateUser(context.Background(), nil, auth.UserInput{
		Email: email, Password: password, Active: true, Superuser: superuser, PermIDs: a.permIDs(perms...)})
	if err != nil {
		a.t.Fatalf("create %s: %v", email, err)
	}
	a.ids[email] = u.ID
	return u.ID
}

// permIDs looks up permission ids by codename.
func (a *testApp) permIDs(codenames ...string) []int64 {
	a.t.Helper()
	all, err := a.auth.Permissions(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
	var ids []int64
	for _, c := range codenames {
		found := false
		for _, p := range all {
			if p.Codename == c {
				ids, found = append(ids, p.ID), true
			}
		}
		if !found {
			a.t.Fatalf("no permission %s", c)
		}
	}
	return ids
}

func (a *testApp) group(name string) int64 {
	a.t.Helper()
	g, err := a.auth.CreateGroup(context.Background(), nil, auth.GroupInput{Name: name})
	if err != nil {
		a.t.Fatal(err)
	}
	return g.ID
}

// getUser reads a user straight from the database.
func (a *testApp) getUser(id int64) db.User {
	a.t.Helper()
	u, err := a.auth.GetUser(context.Background(), id)
	if err != nil {
		a.t.Fatal(err)
	}
	return u.User
}

// client is a browser stand-in: a cookie jar, redirects not followed.
type client struct {
	a *testApp
	c *http.Client
}

func (a *testApp) client() *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		a.t.Fatal(err)
	}
	return &client{a: a, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// response is what a test looks at.
type response struct {
	status int
	header http.Header
	body   string
	logged string // for a 5xx: the log lines of its request, to show the cause
}

func (c *client) do(req *http.Request) response {
	c.a.t.Helper()
	resp, err := c.c.Do(req)
	if err != nil {
		c.a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.a.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if r.status >= 500 {
		id := resp.Header.Get("X-Request-Id")
		for _, l := range strings.Split(c.a.logs.String(), "\n") {
			if strings.Contains(l, id) && strings.Contains(l, "level=ERROR") {
				r.logged += l + "\n"
			}
		}
	}
	return r
}

func (c *client) get(path string) response {
	c.a.t.Helper()
	req, err := http.NewRequest("GET", c.a.srv.URL+path, nil)
	if err != nil {
		c.a.t.Fatal(err)
	}
	return c.do(req)
}

// post sends a form; extra headers (Origin, Sec-Fetch-Site) go on it as given.
func (c *client) post(path string, form url.Values, headers ...string) response {
	c.a.t.Helper()
	req, err := http.NewRequest("POST", c.a.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// login signs in through the form and returns the response.
func (c *client) login(email, pw string) response {
	c.a.t.Helper()
	return c.post("/admin/login", url.Values{"email": {email}, "password": {pw}})
}

// signedIn returns a client signed in as email with the fixture password.
func (a *testApp) signedIn(email string) *client {
	a.t.Helper()
	c := a.client()
	if r := c.login(email, password); r.status != http.StatusSeeOther {
		a.t.Fatalf("sign in as %s: status %d, want 303\n%s", email, r.status, r.body)
	}
	return c
}

// token is the session cookie the client holds, or "".
func (c *client) token() string {
	u, _ := url.Parse(c.a.srv.URL)
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == session.CookieName {
			return ck.Value
		}
	}
	return ""
}

// isLoginRedirect reports whether r sends the browser to the sign-in page.
func isLoginRedirect(r response) bool {
	return r.status == http.StatusSeeOther && strings.HasPrefix(r.header.Get("Location"), "/admin/login")
}

func must(t *testing.T, r response, status int, contains ...string) {
	t.Helper()
	if r.status >= 500 {
		t.Fatalf("status %d, want %d; errors logged:\n%s", r.status, status, r.logged)
	}
	if r.status != status {
		t.Fatalf("status %d, want %d; body:\n%.2000s", r.status, status, r.body)
	}
	for _, c := range contains {
		if !strings.Contains(r.body, c) {
			t.Errorf("body lacks %q:\n%.3000s", c, r.body)
		}
	}
}
