// Package api is the JSON transport: /api/v1/... on the shared mux, with bearer
// tokens (or the admin session for same-origin browser calls), problem+json errors,
// keyset lists with signed cursors, ETag/If-Match, Idempotency-Key on POST, a
// per-principal rate limit, and the OpenAPI document that describes it all.
//
// Handlers return errors; handle renders them. The domain rules live in the domain
// packages, shared with the admin; this package only translates HTTP to calls.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/events"
	"github.com/stockroom-dev/stockroom/internal/imports"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
	"github.com/stockroom-dev/stockroom/internal/web"
	"github.com/stockroom-dev/stockroom/internal/webhooks"
)

// maxBody is the largest request body the API reads; more is a 413.
const maxBody = 1 << 20

// Options configure the API.
type Options struct {
	// Catalog is the catalog domain the product and category endpoints call; the
	// admin calls the same one.
	Catalog *catalog.Catalog

	// Orders is the orders and customers domain the order and customer endpoints
	// call; the admin calls the same one.
	Orders *orders.Orders

	// Currency is the shop's ISO 4217 code (STOCKROOM_CURRENCY), shown next to every
	// amount in minor units.
	Currency string

	// RatePerMinute is how many requests a minute each token (or signed-in user) may
	// make, counted for the whole cluster (rate_limits). Zero or less means no limit.
	RatePerMinute int

	// Tokens checks bearer tokens (default: auth.NewTokens(st), without a cache).
	Tokens *auth.Tokens

	// SessionPrincipal, when set, lets same-origin browser calls authenticate with the
	// admin session cookie: it returns the signed-in principal, or nil and no error
	// when the request carries no valid session. Requests with an Authorization
	// header never reach it. cmd wires it to the auth package's session manager.
	SessionPrincipal func(*http.Request) (*auth.Principal, error)

	// Events, when set, serves GET /api/v1/events (the process's one hub).
	Events *events.Hub
	// Webhooks manages the webhook endpoints of /api/v1/webhooks; nil leaves those
	// routes out.
	Webhooks *webhooks.Service
	// Imports plans and applies the CSV imports of /api/v1/imports; nil leaves those
	// routes out.
	Imports *imports.Service
}

// Server is the JSON API.
type Server struct {
	st       *store.Store
	catalog  *catalog.Catalog
	orders   *orders.Orders
	currency string
	tokens   *auth.Tokens
	log      *slog.Logger
	session  func(*http.Request) (*auth.Principal, error)
	csrf     *http.CrossOriginProtection
	limiter  *limiter       // nil: no limit
	cursors  keyset.Codec   // signs the lists' cursors
	mux      *http.ServeMux // set by Routes; unmatched requests ask it which methods exist
	events   *events.Hub    // nil: no event stream
	webhooks *webhooks.Service
	imports  *imports.Service
	heart    atomic.Pointer[heartbeat] // nil: no heartbeat runs (see RunHeartbeat)
}

// New returns the API on st. It loads (or, on the very first start, creates) the
// cursor-signing key that all instances share.
func New(ctx context.Context, st *store.Store, log *slog.Logger, opts Options) (*Server, error) {
	if opts.Catalog == nil || opts.Orders == nil || opts.Currency == "" {
		return nil, errors.New("api: Options.Catalog, Options.Orders and Options.Currency are required")
	}
	key, err := sharedSecret(ctx, st, "cursor_hmac")
	if err != nil {
		return nil, err
	}
	s := &Server{
		st:       st,
		catalog:  opts.Catalog,
		orders:   opts.Orders,
		currency: opts.Currency,
		tokens:   opts.Tokens,
		log:      log,
		session:  opts.SessionPrincipal,
		csrf:     http.NewCrossOriginProtection(),
		cursors:  keyset.Signed(key),
		events:   opts.Events,
		webhooks: opts.Webhooks,
		imports:  opts.Imports,
	}
	st.BeforeCommit(markCommitted) // see idempotent
	if s.tokens == nil {
		s.tokens = auth.NewTokens(st)
	}
	if opts.RatePerMinute > 0 {
		s.limiter = newLimiter(st, log, opts.RatePerMinute, time.Now)
	}
	return s, nil
}

// Routes registers the API on mux and returns the route table, whose Err the caller
// checks. Every path under /api/ that no route matches is a problem+json 404, or a
// 405 with Allow when the path exists with other methods.
func (s *Server) Routes(mux *http.ServeMux) *web.Routes {
	s.mux = mux
	rt := web.NewRoutes(mux, s.guard)
	rt.Handle("GET /api/v1/me", web.SignedIn, s.handle(s.me))
	rt.Handle("GET /api/v1/openapi.json", web.Public, s.handle(s.openAPI))
	if s.events != nil {
		// Each event is filtered by the view permission of its resource.
		rt.Handle("GET /api/v1/events", web.SignedIn, s.handle(s.streamEvents))
	}

	rt.Handle("GET /api/v1/products", "products.view", s.handle(s.listProducts))
	rt.Handle("POST /api/v1/products", "products.add", s.handle(s.createProduct))
	rt.Handle("GET /api/v1/products/{id}", "products.view", s.handle(s.getProduct))
	rt.Handle("PATCH /api/v1/products/{id}", "products.change", s.handle(s.updateProduct))
	rt.Handle("DELETE /api/v1/products/{id}", "products.delete", s.handle(s.deleteProduct))

	// A variant is part of its product: changing, adding or removing one changes the
	// product.
	rt.Handle("GET /api/v1/products/{id}/variants", "products.view", s.handle(s.listVariants))
	rt.Handle("POST /api/v1/products/{id}/variants", "products.change", s.handle(s.createVariant))
	rt.Handle("GET /api/v1/products/{id}/variants/{vid}", "products.view", s.handle(s.getVariant))
	rt.Handle("PATCH /api/v1/products/{id}/variants/{vid}", "products.change", s.handle(s.updateVariant))
	rt.Handle("DELETE /api/v1/products/{id}/variants/{vid}", "products.change", s.handle(s.deleteVariant))

	rt.Handle("GET /api/v1/categories", "categories.view", s.handle(s.listCategories))
	rt.Handle("POST /api/v1/categories", "categories.add", s.handle(s.createCategory))
	rt.Handle("GET /api/v1/categories/{id}", "categories.view", s.handle(s.getCategory))
	rt.Handle("PATCH /api/v1/categories/{id}", "categories.change", s.handle(s.updateCategory))
	rt.Handle("DELETE /api/v1/categories/{id}", "categories.delete", s.handle(s.deleteCategory))

	rt.Handle("GET /api/v1/orders", "orders.view", s.handle(s.listOrders))
	rt.Handle("POST /api/v1/orders", "orders.add", s.handle(s.createOrder))
	rt.Handle("GET /api/v1/orders/{id}", "orders.view", s.handle(s.getOrder))
	// Each move needs its own permission (orders.Permission), which depends on the
	// body: the handler checks it. The route asks only that the caller may see orders.
	rt.Handle("POST /api/v1/orders/{id}/transitions", "orders.view", s.handle(s.transitionOrder))

	rt.Handle("GET /api/v1/customers", "customers.view", s.handle(s.listCustomers))
	rt.Handle("POST /api/v1/customers", "customers.add", s.handle(s.createCustomer))
	rt.Handle("GET /api/v1/customers/{id}", "customers.view", s.handle(s.getCustomer))
	rt.Handle("PATCH /api/v1/customers/{id}", "customers.change", s.handle(s.updateCustomer))
	rt.Handle("DELETE /api/v1/customers/{id}", "customers.delete", s.handle(s.deleteCustomer))

	if s.webhooks != nil {
		rt.Handle("GET /api/v1/webhooks", "webhooks.view", s.handle(s.listWebhooks))
		rt.Handle("POST /api/v1/webhooks", "webhooks.add", s.handle(s.createWebhook))
		rt.Handle("GET /api/v1/webhooks/{id}", "webhooks.view", s.handle(s.getWebhook))
		rt.Handle("PATCH /api/v1/webhooks/{id}", "webhooks.change", s.handle(s.updateWebhook))
		rt.Handle("DELETE /api/v1/webhooks/{id}", "webhooks.delete", s.handle(s.deleteWebhook))
		rt.Handle("POST /api/v1/webhooks/{id}/rotate-secret", "webhooks.change", s.handle(s.rotateWebhookSecret))
		rt.Handle("POST /api/v1/webhooks/{id}/test", "webhooks.change", s.handle(s.testWebhook))
		rt.Handle("GET /api/v1/webhooks/{id}/deliveries", "webhooks.view", s.handle(s.listWebhookDeliveries))
		rt.Handle("POST /api/v1/webhooks/{id}/deliveries/{did}/resend", "webhooks.change", s.handle(s.resendWebhookDelivery))
	}

	if s.imports != nil {
		rt.Handle("POST /api/v1/imports", "products.change", s.handle(s.createImport))
		rt.Handle("GET /api/v1/imports/{id}", "products.view", s.handle(s.getImport))
		rt.Handle("POST /api/v1/imports/{id}/apply", "products.change", s.handle(s.applyImport))
		rt.Handle("POST /api/v1/imports/{id}/cancel", "products.change", s.handle(s.cancelImport))
	}

	rt.Handle("/api/", web.Public, s.handle(s.unmatched))
	return rt
}

// handle adapts an error-returning handler: every API failure is logged (5xx) and
// rendered as problem+json here.
func (s *Server) handle(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// fail renders err. The client learns the status and, below 500, what was wrong;
// the log learns the cause of a 5xx, with the request id the client was shown.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := web.Status(err)
	if status == web.StatusClientClosed {
		return // the client has gone; nobody would read the answer
	}
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "err", err,
			"request_id", web.RequestID(r.Context()), "route", web.RouteOf(r.Context()))
	}
	if status == http.StatusUnauthorized {
		challenge := `Bearer realm="stockroom"`
		if r.Header.Get("Authorization") != "" {
			challenge += `, error="invalid_token"` // RFC 6750: a token was sent and refused
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	writeProblem(w, problemFor(r, err, status))
}

// guard is the API's web.Guard: body limit, then for every non-public route the
// principal (token or session), the rate limit, the permission, and for POST the
// Idempotency-Key.
func (s *Server) guard(perm string, h http.Handler) http.Handler {
	protected := s.handle(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if err != nil {
			return err
		}
		if s.limiter != nil {
			if wait, ok := s.limiter.take(r.Context(), principalKey(p)); !ok {
				w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)))
				return &clientError{kind: web.ErrTooMany, detail: fmt.Sprintf(
					"Too many requests: retry in %d seconds.", int(wait/time.Second))}
			}
		}
		if perm != web.SignedIn && !p.Can(perm) {
			return &clientError{kind: web.ErrForbidden, detail: forbiddenDetail(p, perm)}
		}
		// Read-your-writes on the read replica: the caller's last write, remembered by
		// this process for as long as the replica may lag.
		r = r.WithContext(s.st.TrackKey(auth.WithPrincipal(r.Context(), p), principalKey(p)))
		if r.Method == http.MethodPost {
			return s.idempotent(w, r, p, h)
		}
		h.ServeHTTP(w, r)
		return nil
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := int64(maxBody)
		if r.Pattern == "POST /api/v1/imports" { // a CSV file, not a JSON document
			limit = maxImportBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if err := checkQuery(r); err != nil {
			s.fail(w, r, err)
			return
		}
		if perm == web.Public {
			h.ServeHTTP(w, r)
			return
		}
		protected.ServeHTTP(w, r)
	})
}

// checkQuery refuses a query string with a parameter (name or value) that is not
// storable text, on every route before any handler reads it: a 400 naming the
// first such parameter.
func checkQuery(r *http.Request) error {
	q := r.URL.Query()
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if msg := validator.Storable(name); msg != "" {
			return badParam(validator.FieldName(name), "is a parameter name that "+msg)
		}
		for _, v := range q[name] {
			if msg := validator.Storable(v); msg != "" {
				return badParam(name, msg)
			}
		}
	}
	return nil
}

func forbiddenDetail(p *auth.Principal, perm string) string {
	if p.Scope == auth.ScopeRead && !strings.HasSuffix(perm, ".view") {
		return fmt.Sprintf("This token has the read scope; %s needs a write token.", perm)
	}
	return fmt.Sprintf("You lack the permission %s.", perm)
}

// authenticate finds the principal: a bearer token when the request has an
// Authorization header, else the admin session (same-origin calls only).
func (s *Server) authenticate(r *http.Request) (*auth.Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, secret, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
			return nil, &clientError{kind: web.ErrUnauthenticated,
				detail: "The Authorization header must be: Bearer <token>."}
		}
		p, err := s.tokens.Authenticate(r.Context(), strings.TrimSpace(secret))
		if errors.Is(err, auth.ErrInvalidToken) {
			return nil, &clientError{kind: web.ErrUnauthenticated,
				detail: "The token is not valid: it is unknown, revoked or expired, or its user is deactivated."}
		}
		return p, err
	}
	if s.session != nil {
		p, err := s.session(r)
		if err != nil {
			return nil, fmt.Errorf("session: %w", err)
		}
		if p != nil {
			// A browser sends the cookie with cross-site requests too: those must not
			// write (CSRF). Safe methods pass.
			if err := s.csrf.Check(r); err != nil {
				return nil, &clientError{kind: web.ErrForbidden, detail: "Cross-origin request refused."}
			}
			return p, nil
		}
	}
	return nil, &clientError{kind: web.ErrUnauthenticated,
		detail: "Authentication is required: send Authorization: Bearer <token>."}
}

// actor is who the audit log names for a write: the request's principal.
func actor(r *http.Request) audit.Actor {
	return auth.FromContext(r.Context()).Actor()
}

// principalKey names who is calling, for the rate limit and idempotency keys: the
// token, or the user for a session.
func principalKey(p *auth.Principal) string {
	if p.TokenID != 0 {
		return "token:" + strconv.FormatInt(p.TokenID, 10)
	}
	return "user:" + strconv.FormatInt(p.UserID, 10)
}

// unmatched answers every /api/ request no route takes: 405 with Allow when the path
// exists with other methods, else 404. Go's mux would answer those in plain text.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) error {
	if allow := s.allowed(r); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return &clientError{kind: web.ErrMethodNotAllowed,
			detail: fmt.Sprintf("%s is not allowed on %s; allowed: %s.", r.Method, r.URL.Path, strings.Join(allow, ", "))}
	}
	return &clientError{kind: store.ErrNotFound, detail: "No API resource at " + r.URL.Path + "."}
}

// allowed lists the methods a route on r's path accepts, by asking the mux.
func (s *Server) allowed(r *http.Request) []string {
	var allow []string
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/api/" {
			allow = append(allow, m)
		}
	}
	return allow
}

// pathID reads the {name} path segment as an id. A malformed id is a 404, like an
// unknown one: both name no resource.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id < 1 {
		return 0, &clientError{kind: store.ErrNotFound, detail: fmt.Sprintf("No resource with id %q.", r.PathValue(name))}
	}
	return id, nil
}

// writeJSON writes v as the JSON response with status. It encodes first, so a value
// that cannot be encoded is still a clean 500.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	writeBody(w, status, append(b, '\n'))
	return nil
}

// writeBody writes encoded JSON with status, as it is.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "private, no-cache") // revalidate with the ETag
	}
	w.WriteHeader(status)
	w.Write(b)
}
