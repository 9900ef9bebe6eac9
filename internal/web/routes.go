package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The two permissions that are not a resource.action codename.
const (
	Public   = "public"    // anyone, signed in or not
	SignedIn = "signed-in" // any active staff user
)

// Guard wraps h so that it runs only for a caller who holds perm. Each transport
// supplies its own: the admin redirects to the sign-in page, the API answers 401.
type Guard func(perm string, h http.Handler) http.Handler

// Route is one line of the route table.
type Route struct {
	Pattern string // "GET /admin/products/{id}/"
	Perm    string // Public, SignedIn or a codename such as "products.change"
}

// Routes is the route table: every route is registered with the permission it
// requires, and a route without one is an error at startup.
type Routes struct {
	mux   *http.ServeMux
	guard Guard
	list  []Route
	errs  []error
}

// NewRoutes registers routes on mux, each wrapped by guard.
func NewRoutes(mux *http.ServeMux, guard Guard) *Routes {
	return &Routes{mux: mux, guard: guard}
}

// Handle registers h for pattern, reachable only with perm.
func (rt *Routes) Handle(pattern, perm string, h http.Handler) {
	if perm == "" {
		rt.errs = append(rt.errs, fmt.Errorf("route %q has no permission", pattern))
		return
	}
	if perm != Public && perm != SignedIn && !strings.Contains(perm, ".") {
		rt.errs = append(rt.errs, fmt.Errorf("route %q: permission %q is not resource.action", pattern, perm))
		return
	}
	rt.list = append(rt.list, Route{Pattern: pattern, Perm: perm})
	rt.mux.Handle(pattern, named(rt.guard(perm, h)))
}

// Err reports the routes registered without a valid permission.
func (rt *Routes) Err() error { return errors.Join(rt.errs...) }

// List returns the route table, for the tests that walk it for every role.
func (rt *Routes) List() []Route { return append([]Route(nil), rt.list...) }

// named records the matched pattern where the outer middleware (access log,
// metrics) can read it.
func named(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if i := info(r.Context()); i != nil {
			i.route = r.Pattern
		}
		h.ServeHTTP(w, r)
	})
}
