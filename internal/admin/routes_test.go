package admin

import (
	"context"
	"fmt"
	"image/color"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/imports"
	"github.com/stockroom-dev/stockroom/internal/web"
	"github.com/stockroom-dev/stockroom/internal/webhooks"
)

// Acceptance 6: walk the whole route table as anonymous, as staff without
// permissions, as view-only staff and as a superuser. Each route's expectation
// follows from the permission it declares, so a new route is walked without a change
// here; one declared without a permission never gets into the table (see
// TestRoutesRefuseUndeclaredPermission).
func TestRouteWalk(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	if len(a.routes) < 20 {
		t.Fatalf("route table has %d routes; Routes wiring lost some", len(a.routes))
	}
	roles := []struct {
		name  string
		c     *client
		perms func(perm string) bool // what the role holds
	}{
		{"anonymous", a.client(), nil},
		{"staff without permissions", a.signedIn(staffEmail), func(string) bool { return false }},
		{"view-only staff", a.signedIn(viewEmail), func(p string) bool { return strings.HasSuffix(p, ".view") }},
		{"superuser", a.signedIn(superEmail), func(string) bool { return true }},
	}
	for _, role := range roles {
		for _, rt := range a.routes {
			method, path := requestFor(t, a, rt)
			t.Run(role.name+"/"+rt.Pattern, func(t *testing.T) {
				var r response
				if method == "GET" {
					r = role.c.get(path)
				} else {
					r = role.c.post(path, url.Values{})
				}
				if r.status >= 500 {
					t.Fatalf("%s %s: %d\n%s", method, path, r.status, r.logged)
				}
				switch {
				case rt.Perm == web.Public:
					if isLoginRedirect(r) && path != "/admin/login" && !strings.HasPrefix(path, "/admin/login/") || r.status == http.StatusForbidden {
						t.Errorf("public %s %s: %d %q", method, path, r.status, r.header.Get("Location"))
					}
				case role.perms == nil: // anonymous
					if method == "GET" && !isLoginRedirect(r) {
						t.Errorf("anonymous GET %s: %d %q, want 303 to sign-in", path, r.status, r.header.Get("Location"))
					}
					if method != "GET" && r.status != http.StatusUnauthorized {
						t.Errorf("anonymous %s %s: %d, want 401", method, path, r.status)
					}
				case rt.Perm == web.SignedIn || role.perms(rt.Perm):
					if r.status == http.StatusForbidden || r.status == http.StatusUnauthorized || isLoginRedirect(r) && path != "/admin/logout" {
						t.Errorf("%s may %s %s (%s) but got %d", role.name, method, path, rt.Perm, r.status)
					}
					// Read-only: a view permission shows the form without a Save button.
					if method == "GET" && strings.HasSuffix(rt.Perm, ".view") && strings.Contains(path, "/admin/users/") &&
						strings.Count(path, "/") > 3 && !role.perms("users.change") && strings.Contains(r.body, ">Save<") {
						t.Errorf("%s sees a Save button on %s", role.name, path)
					}
				default:
					if r.status != http.StatusForbidden {
						t.Errorf("%s lacks %s but %s %s = %d, want 403", role.name, rt.Perm, method, path, r.status)
					}
				}
			})
			if method == "POST" && strings.HasSuffix(rt.Pattern, "/logout") && role.perms != nil {
				// Signing out was walked; sign back in for the rest of the table.
				email := map[string]string{roles[1].name: staffEmail, roles[2].name: viewEmail, roles[3].name: superEmail}[role.name]
				role.c.login(email, password)
			}
		}
	}
}

// requestFor turns a route pattern into a request: its method (GET when none) and a
// path with fresh ids, so a walked delete removes a throwaway row, never a fixture.
func requestFor(t *testing.T, a *testApp, rt web.Route) (method, path string) {
	method, path, found := strings.Cut(rt.Pattern, " ")
	if !found {
		method, path = "GET", rt.Pattern+"no-such-page"
	}
	path = strings.TrimSuffix(path, "{$}")
	if strings.Contains(path, "{id}") {
		var id int64
		n := len(a.ids)
		switch {
		case strings.HasPrefix(path, "/admin/tokens/"):
			id = a.token(a.ids[staffEmail], fmt.Sprintf("walk token %d", n))
		case strings.HasPrefix(path, "/admin/users/"):
			id = a.user(fmt.Sprintf("walk%d@example.com", n), false)
		case strings.HasPrefix(path, "/admin/groups/"):
			id = a.group(fmt.Sprintf("walk group %d", n))
			a.ids[fmt.Sprint("group", n)] = id
		case strings.HasPrefix(path, "/admin/products/"):
			id = a.product(fmt.Sprintf("Walk product %d", n), 0, fmt.Sprintf("WALK-%d", n)).ID
			a.ids[fmt.Sprint("product", n)] = id
		case strings.HasPrefix(path, "/admin/categories/"):
			id = a.category(fmt.Sprintf("Walk category %d", n), 0)
			a.ids[fmt.Sprint("category", n)] = id
		case strings.HasPrefix(path, "/admin/orders/"):
			id = a.order(fmt.Sprintf("walk%d@example.com", n), a.product(fmt.Sprintf("Walk item %d", n), 0, fmt.Sprintf("ITEM-%d", n)).Variants[0].ID, 1).ID
			a.ids[fmt.Sprint("order", n)] = id
		case strings.HasPrefix(path, "/admin/account/passkeys/"):
			// A user of its own: a passkey is a second factor, which no walking
			// role may get by the way (the 2FA policy's walk, signing in again).
			owner, ok := a.ids["keys@example.com"]
			if !ok {
				owner = a.user("keys@example.com", false)
			}
			id = a.passkeyRow(owner, fmt.Sprintf("walk key %d", n))
			a.ids[fmt.Sprint("passkey", n)] = id
		case strings.HasPrefix(path, "/admin/jobs/"):
			id = a.job()
		case strings.HasPrefix(path, "/admin/webhooks/"):
			e, err := a.hooks.CreateEndpoint(context.Background(), audit.System, webhooks.EndpointInput{
				URL: fmt.Sprintf("https://198.51.100.7/walk/%d", n), EventTypes: []string{"*"}, Active: true})
			if err != nil {
				t.Fatal(err)
			}
			id = e.ID
			a.ids[fmt.Sprint("webhook", n)] = id
		case strings.HasPrefix(path, "/admin/account/sessions/"):
			id = a.sessionRow(a.ids[staffEmail]) // someone's: not the walker's, unless staff's own
		case strings.HasPrefix(path, "/admin/customers/"):
			id = a.customer(fmt.Sprintf("walker%d@example.com", n), "Walker").ID
			a.ids[fmt.Sprint("customer", n)] = id
		case strings.HasPrefix(path, "/admin/imports/"):
			imp, err := a.imp.Create(context.Background(), imports.Upload{FileName: fmt.Sprintf("walk%d.csv", n),
				Data: []byte("sku,stock\nWALK-0,1\n"), Actor: fixture})
			if err != nil {
				t.Fatal(err)
			}
			id = imp.ID
			a.ids[fmt.Sprint("import", n)] = id
		default:
			t.Fatalf("route %s: no fixture for {id}", rt.Pattern)
		}
		path = strings.Replace(path, "{id}", fmt.Sprint(id), 1)
	}
	if strings.Contains(path, "{sid}") { // a fixture row only for the routes that name one
		sid := a.sessionRow(a.ids[staffEmail])
		path = strings.Replace(path, "{sid}", fmt.Sprint(sid), 1)
	}
	if strings.Contains(path, "{path...}") { // a media file: an image of a throwaway product
		p := a.product(fmt.Sprintf("Walk media %d", len(a.ids)), 0, fmt.Sprintf("MEDIA-%d", len(a.ids)))
		a.ids[fmt.Sprint("media", len(a.ids))] = p.ID
		path = strings.Replace(path, "{path...}", catalog.ImagePath(a.image(p.ID, color.Black)), 1)
	}
	if path == "/static/" {
		path = "/static/app.css"
	}
	// A reset link's token that was never made: the page says the link is not valid.
	path = strings.Replace(path, "{token}", "not-a-reset-token", 1)
	if strings.Contains(path, "{") {
		t.Fatalf("route %s: unfilled wildcard in %s", rt.Pattern, path)
	}
	return method, path
}

// A route without a declared permission stops startup: Routes reports it, and main
// returns the error.
func TestRoutesRefuseUndeclaredPermission(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	s := &Server{}
	rt := web.NewRoutes(http.NewServeMux(), s.guardFor(a))
	rt.Handle("GET /admin/things/", "", http.NotFoundHandler())
	rt.Handle("GET /admin/other/", "things", http.NotFoundHandler())
	if err := rt.Err(); err == nil || !strings.Contains(err.Error(), "/admin/things/") || !strings.Contains(err.Error(), "/admin/other/") {
		t.Errorf("Err() = %v, want both routes named", err)
	}
	for _, r := range a.routes {
		if r.Perm == "" {
			t.Errorf("route %s has no permission", r.Pattern)
		}
	}
}

// guardFor is a guard for registering test routes; it is never served.
func (s *Server) guardFor(*testApp) web.Guard {
	return func(perm string, h http.Handler) http.Handler { return h }
}

// Users with users.change but not superuser cannot make anyone (themselves included)
// a superuser, nor grant permissions they lack.
func TestNoPrivilegeEscalation(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	mgr := a.user("manager@example.com", false, "users.view", "users.change")
	c := a.signedIn("manager@example.com")
	self := url.Values{"version": {"1"}, "email": {"manager@example.com"}, "is_active": {"on"}, "is_superuser": {"on"}}
	for _, p := range a.permIDs("users.view", "users.change") {
		self.Add("permissions", fmt.Sprint(p))
	}
	must(t, c.post(fmt.Sprintf("/admin/users/%d/", mgr), self), http.StatusUnprocessableEntity, "only a superuser can change this")
	grant := url.Values{"version": {"1"}, "email": {"manager@example.com"}, "is_active": {"on"}}
	for _, p := range a.permIDs("users.view", "users.change", "users.delete") {
		grant.Add("permissions", fmt.Sprint(p))
	}
	must(t, c.post(fmt.Sprintf("/admin/users/%d/", mgr), grant), http.StatusUnprocessableEntity, "you can only grant permissions you hold yourself")
	if u := a.getUser(mgr); u.IsSuperuser || u.Version != 1 {
		t.Errorf("manager after refused edits: superuser %t version %d", u.IsSuperuser, u.Version)
	}
	deleters, err := a.auth.CreateGroup(context.Background(), nil, auth.GroupInput{Name: "Deleters", PermIDs: a.permIDs("users.delete")})
	if err != nil {
		t.Fatal(err)
	}
	join := url.Values{"version": {"1"}, "email": {"manager@example.com"}, "is_active": {"on"}, "groups": {fmt.Sprint(deleters.ID)}}
	for _, p := range a.permIDs("users.view", "users.change") {
		join.Add("permissions", fmt.Sprint(p))
	}
	must(t, c.post(fmt.Sprintf("/admin/users/%d/", mgr), join), http.StatusUnprocessableEntity, "groups whose permissions you hold yourself")
	p, err := a.auth.SessionPrincipal(context.Background(), mgr, 1)
	if err != nil || p.Can("users.delete") {
		t.Errorf("manager gained users.delete (%v)", err)
	}
	_ = auth.ErrSignedOut
}

// job queues a webhook delivery job (for no delivery: nothing is sent, and the test
// app's queue works no jobs) and returns its id.
func (a *testApp) job() int64 {
	a.t.Helper()
	if err := a.jobs.Insert(context.Background(), webhooks.DeliverArgs{}, &river.InsertOpts{Queue: webhooks.Queue}); err != nil {
		a.t.Fatal(err)
	}
	var id int64
	if err := a.st.Pool().QueryRow(context.Background(), "SELECT max(id) FROM river_job").Scan(&id); err != nil {
		a.t.Fatal(err)
	}
	return id
}
