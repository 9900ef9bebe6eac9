// Package admin is the staff admin panel: server-rendered HTML over the domain
// packages, with the list and form machinery every resource reuses. Handlers return
// errors; handle renders them. Every page works without JavaScript.
package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/events"
	"github.com/stockroom-dev/stockroom/internal/imports"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/store/jobs"
	"github.com/stockroom-dev/stockroom/internal/validator"
	"github.com/stockroom-dev/stockroom/internal/web"
	"github.com/stockroom-dev/stockroom/internal/web/session"
	"github.com/stockroom-dev/stockroom/internal/webhooks"
	"github.com/stockroom-dev/stockroom/templates"
)

// Options are the admin's dependencies, wired by main.
type Options struct {
	Auth     *auth.Service
	Sessions *session.Manager
	Log      *slog.Logger
	Catalog  *catalog.Catalog
	Orders   *orders.Orders
	Audit    *audit.Log
	MediaDir string // STOCKROOM_MEDIA_DIR: the catalog's image files, served to staff
	Currency string // STOCKROOM_CURRENCY: ISO 4217 code prices are shown and typed in
	// Require2FA is STOCKROOM_REQUIRE_2FA: users it covers who have no second factor
	// reach only enrolment and sign-out ("": off).
	Require2FA auth.Policy
	// BaseURL is STOCKROOM_BASE_URL, the start of links made to be sent (reset
	// links); "" takes the request's own host.
	BaseURL string
	Imports *imports.Service
	// Events, when set, serves /admin/events and makes the dashboard, the order and
	// product lists and the edit pages live.
	Events *events.Hub
	// Webhooks manages the webhook endpoints of /admin/webhooks/; nil leaves those
	// pages out.
	Webhooks *webhooks.Service
	// Jobs is the job queue /admin/jobs/ shows (superusers only); nil leaves it out.
	Jobs *jobs.Queue
}

// Server holds what the admin handlers share. Build it with New.
type Server struct {
	auth     *auth.Service
	sessions *session.Manager
	log      *slog.Logger
	pages    map[string]*template.Template // "users/list" → layout + partials + page
	static   fs.FS
	assetTag map[string]string // static file → short content hash, for cache busting
	cop      *http.CrossOriginProtection
	catalog  *catalog.Catalog
	orders   *orders.Orders
	audit    *audit.Log
	media    fs.FS // the media directory, read-only
	money    money
	policy   auth.Policy
	baseURL  string
	imports  *imports.Service
	events   *events.Hub // nil: pages are not live
	webhooks *webhooks.Service
	jobs     *jobs.Queue

	users        *ListSpec[userRow]
	groups       *ListSpec[groupRow]
	products     *ListSpec[productRowKey]
	categories   *ListSpec[categoryRow]
	orderList    *ListSpec[orderRow]
	customerList *ListSpec[customerRow]

	productRows *fragments[productRowKey] // the product list's rendered rows
	kept        *kept                     // the top bar and lists' frames, rendered
}

// New parses every template (a broken one is an error here, never in a request) and
// returns the server.
func New(opts Options) (*Server, error) {
	static, err := fs.Sub(templates.FS, "static")
	if err != nil {
		return nil, err
	}
	s := &Server{auth: opts.Auth, sessions: opts.Sessions, log: opts.Log, static: static,
		catalog: opts.Catalog, orders: opts.Orders, audit: opts.Audit, media: os.DirFS(opts.MediaDir), money: moneyOf(opts.Currency),
		policy: opts.Require2FA, baseURL: opts.BaseURL, imports: opts.Imports, events: opts.Events,
		webhooks: opts.Webhooks, jobs: opts.Jobs, kept: newKept()}
	if s.assetTag, err = assetTags(static); err != nil {
		return nil, err
	}
	if s.pages, err = s.parsePages(); err != nil {
		return nil, err
	}
	s.cop = http.NewCrossOriginProtection()
	s.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.WarnContext(r.Context(), "cross-origin request refused", "request_id", web.RequestID(r.Context()),
			"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
		s.renderError(w, r, http.StatusForbidden)
	}))
	s.users = s.userListSpec()
	s.groups = s.groupListSpec()
	s.products = s.productListSpec()
	s.productRows = newFragments[productRowKey](s.pages["products/list"], "product-row", productRowsKept)
	s.categories = s.categoryListSpec()
	s.orderList = s.orderListSpec()
	s.customerList = s.customerListSpec()
	return s, nil
}

// funcs are the template functions: few and pure.
func (s *Server) funcs() template.FuncMap {
	return template.FuncMap{
		"static": func(name string) string { return "/static/" + name + "?v=" + s.assetTag[name] },
		"when": func(t *time.Time) string {
			if t == nil {
				return "never"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"date":       func(t time.Time) string { return t.UTC().Format("2006-01-02") },
		"at":         func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"has":        slices.Contains[[]int64],
		"field":      newField,
		"money":      s.money.format,
		"priceRange": s.money.formatRange,
		"currency":   func() string { return s.money.code },
		"media":      func(img db.ProductImage) string { return mediaPrefix + catalog.ImagePath(img) },
		"number":     groupDigits,
		"others":     func(n int32) int32 { return max(n-1, 0) }, // variants beside the first
		"inc":        func(i int) int { return i + 1 },
		"lower":      strings.ToLower,
		"cell":       newCell,
		"choice":     newChoice,
		"paths":      pathOptions,
	}
}

// parsePages parses each page under pages/ together with the layout and partials
// into a template of its own, named by its path without pages/ and .html.
func (s *Server) parsePages() (map[string]*template.Template, error) {
	files, err := fs.Glob(templates.FS, "pages/*/*.html")
	if err != nil {
		return nil, err
	}
	pages := make(map[string]*template.Template, len(files))
	for _, f := range files {
		t, err := template.New(path.Base(f)).Funcs(s.funcs()).ParseFS(templates.FS, "layout/*.html", "partials/*.html", f)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", f, err)
		}
		pages[strings.TrimSuffix(strings.TrimPrefix(f, "pages/"), ".html")] = t
	}
	return pages, nil
}

// assetTags hashes every static file, so a page links /static/app.css?v=<hash> and
// the file can be cached for a year: a new build links a new URL.
func assetTags(static fs.FS) (map[string]string, error) {
	tags := map[string]string{}
	err := fs.WalkDir(static, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		tags[p] = hex.EncodeToString(sum[:6])
		return nil
	})
	return tags, err
}

// Layout is what every page shows around its content. Page data structs embed it;
// render fills it in.
type Layout struct {
	Title     string
	Viewer    *auth.Principal // who is signed in, or nil
	Nav       []NavItem
	Flashes   []string
	RequestID string
	MustEnrol bool // the 2FA policy holds the viewer at enrolment
	// Live says the pages may open /admin/events (the server has an event hub and
	// someone is signed in): live parts of a page show only then.
	Live bool
	// Watch is the object the page shows ("products-12"), for presence: the page's
	// stream records the viewer and names who else has it open.
	Watch string
	// Top is the top bar (the nav template, kept): render sets it.
	Top template.HTML
}

// topBar is what the top bar shows: the nav template's data, and the key its
// rendering is kept under (kept), so nothing else of the page may go in.
type topBar struct {
	SignedIn    bool
	Email, Name string
	Nav         []NavItem
}

func (l *Layout) layout() *Layout { return l }

// page is any page data struct: one that embeds Layout.
type page interface{ layout() *Layout }

// NavItem is one entry of the navigation.
type NavItem struct {
	Label, Href string
	Current     bool
}

// navTable is the whole navigation with the permission each entry needs; a user sees
// only what they may open. Later resources add their line here.
func navTable() []struct{ label, href, perm string } {
	return []struct{ label, href, perm string }{
		{"Dashboard", "/admin/", web.SignedIn},
		{"Orders", "/admin/orders/", "orders.view"},
		{"Customers", "/admin/customers/", "customers.view"},
		{"Products", "/admin/products/", "products.view"},
		{"Categories", "/admin/categories/", "categories.view"},
		{"Imports", "/admin/imports/", "products.view"},
		{"Audit log", "/admin/audit/", "audit.view"},
		{"Users", "/admin/users/", "users.view"},
		{"Groups", "/admin/groups/", "groups.view"},
		{"API tokens", "/admin/tokens/", "tokens.view"},
		{"Webhooks", "/admin/webhooks/", "webhooks.view"},
		{"Jobs", "/admin/jobs/", "jobs.manage"},
	}
}

func nav(p *auth.Principal, current string) []NavItem {
	if p == nil {
		return nil
	}
	var items []NavItem
	for _, n := range navTable() {
		if n.perm == web.SignedIn || p.Can(n.perm) {
			cur := current == n.href || (n.href != "/admin/" && strings.HasPrefix(current, n.href))
			items = append(items, NavItem{Label: n.label, Href: n.href, Current: cur})
		}
	}
	return items
}

// live says whether pages for viewer may open /admin/events: the server has an
// event hub and someone is signed in.
func (s *Server) live(viewer *auth.Principal) bool { return s.events != nil && viewer != nil }

type sessionKey struct{}

// withSession marks a request whose session is loaded, so render may read flashes.
func withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, true)))
	})
}

func hasSession(ctx context.Context) bool { return ctx.Value(sessionKey{}) != nil }

// render executes page name with data into a buffer, then writes it with status: a
// template failure is still a clean error page, never half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data page) error {
	t, ok := s.pages[name]
	if !ok {
		return fmt.Errorf("no page %q", name)
	}
	l := data.layout()
	ctx := r.Context()
	l.Viewer = auth.FromContext(ctx)
	l.Nav = nav(l.Viewer, r.URL.Path)
	l.Live = s.live(l.Viewer)
	if s.policy.Blocks(l.Viewer) {
		l.Nav, l.MustEnrol = nil, true // nothing else opens until a second factor is on
	}
	l.RequestID = web.RequestID(ctx)
	top := topBar{Nav: l.Nav}
	if l.Viewer != nil {
		top.SignedIn, top.Email, top.Name = true, l.Viewer.Email, l.Viewer.DisplayName()
	}
	err := s.kept.render(t, name, top, keptPart{"nav", &l.Top})
	if lp, ok := data.(listPage); ok && err == nil {
		if f, parts := lp.list().frame(); f != nil {
			err = s.kept.render(t, name, f, keptPart{"list-toolbar", &parts.Toolbar}, keptPart{"list-head", &parts.Head},
				keptPart{"list-filters", &parts.Filters}, keptPart{"pagination", &parts.Pager})
		}
	}
	if err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	if hasSession(ctx) {
		l.Flashes = s.sessions.Flashes(ctx)
	}
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer putPageBuffer(buf)
	if err := t.ExecuteTemplate(buf, "base", data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	if sp, ok := data.(splicer); ok {
		if piece := sp.spliced(); piece != "" {
			out := pageBuffers.Get().(*bytes.Buffer)
			defer putPageBuffer(out)
			if !splice(out, buf.Bytes(), piece) {
				return fmt.Errorf("render %s: no place for its spliced piece", name)
			}
			buf = out
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Signed-in pages must not come back from a cache: after sign-out, Back and
	// Reload must reach the server, which sends the login page.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err = w.Write(buf.Bytes())
	return err
}

// splicer is a page with a piece too big to go through its template: the template
// writes splicedRows where the piece goes, and render puts the piece there. A value
// a template writes goes through fmt, which copied the 64 kB of 100 product rows
// twice and grew a buffer to hold them, on every page (S5's profile: 6% of
// stockroom's CPU, and most of the garbage).
type splicer interface{ spliced() template.HTML }

// splicedRows is where a splicer's piece goes. No template's output holds it
// otherwise: text is escaped, and "<" never survives that.
const splicedRows template.HTML = "<!--stockroom:spliced-->"

// spliceMark is what a splicer's template writes for piece: the mark, or nothing
// for no piece (so that {{with}} shows the empty state).
func spliceMark(piece template.HTML) template.HTML {
	if piece == "" {
		return ""
	}
	return splicedRows
}

// splice writes page to out with piece in place of the first splicedRows, and
// reports whether there was one.
func splice(out *bytes.Buffer, page []byte, piece template.HTML) bool {
	i := bytes.Index(page, []byte(splicedRows))
	if i < 0 {
		return false
	}
	out.Grow(len(page) - len(splicedRows) + len(piece))
	out.Write(page[:i])
	out.WriteString(string(piece))
	out.Write(page[i+len(splicedRows):])
	return true
}

// pageBuffers hold rendered pages between the template and the network. A list
// page of 100 rows is about 60 KB: a new buffer grew through eight copies to hold
// it, for every request.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putPageBuffer returns buf to the pool, unless an unusual page (a huge export
// preview) made it too large to keep around.
func putPageBuffer(buf *bytes.Buffer) {
	if buf.Cap() > 1<<20 {
		return
	}
	buf.Reset()
	pageBuffers.Put(buf)
}

// errorPage is the page for any failure: its status, a sentence, the request id.
type errorPage struct {
	Layout
	Status  int
	Heading string
	Message string
}

// errorTexts are what each status says to the person; a 500 says only "internal
// error" and the request id, never the cause.
func errorText(status int) (heading, msg string) {
	switch status {
	case http.StatusNotFound:
		return "Not found", "There is nothing at this address. It may have been deleted."
	case http.StatusForbidden:
		return "Permission denied", "You do not have permission to do this. Ask an administrator if you need it."
	case http.StatusUnauthorized:
		return "Please sign in", "Your session has ended. Sign in again to continue."
	case http.StatusPreconditionFailed, http.StatusConflict:
		return "Changed meanwhile", "Someone else changed this since you opened it. Go back, reload and try again."
	case http.StatusBadRequest:
		return "Bad request", "The request could not be understood."
	case http.StatusRequestEntityTooLarge:
		return "Too large", "What you sent is larger than this form accepts."
	case http.StatusServiceUnavailable:
		return "Unavailable", "The database is not answering. Try again in a moment."
	case http.StatusUnprocessableEntity:
		return "Not saved", "The input was not valid."
	}
	return "Internal error", "internal error"
}

// renderError writes the error page for status.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int) {
	s.renderErrorSaying(w, r, status, "")
}

// renderErrorSaying writes the error page for status, with detail (when not "")
// after the status's own message.
func (s *Server) renderErrorSaying(w http.ResponseWriter, r *http.Request, status int, detail string) {
	heading, msg := errorText(status)
	if detail != "" {
		msg += " " + detail
	}
	data := &errorPage{Layout: Layout{Title: heading}, Status: status, Heading: heading, Message: msg}
	if err := s.render(w, r, status, "errors/error", data); err != nil {
		s.log.ErrorContext(r.Context(), "render error page", "err", err, "request_id", web.RequestID(r.Context()))
		web.InternalError(w, r)
	}
}

// handle adapts an error-returning handler: every admin failure is logged and shown
// here, through web.Status.
func (s *Server) handle(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := web.Status(err)
	switch {
	case status == web.StatusClientClosed:
		return // the client went away
	case status >= 500:
		s.log.ErrorContext(r.Context(), "request failed", "err", err,
			"request_id", web.RequestID(r.Context()), "route", r.Pattern)
	}
	var fields validator.Errors
	if status == http.StatusUnprocessableEntity && errors.As(err, &fields) {
		s.renderErrorSaying(w, r, status, fieldSentence(fields))
		return
	}
	s.renderError(w, r, status)
}

// fieldSentence tells field errors in one sentence, for a page that has no form
// to show them on: "name must not contain ...; note must ...".
func fieldSentence(errs validator.Errors) string {
	var b strings.Builder
	for i, f := range errs.Fields() {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f + " " + errs[f])
	}
	return b.String() + "."
}

// checkQuery refuses a query string with a parameter (name or value) that is not
// storable text: a 400 naming it, before any handler reads it.
func checkQuery(r *http.Request) string {
	q := r.URL.Query()
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if msg := validator.Storable(name); msg != "" {
			return fmt.Sprintf("The parameter name %s %s.", validator.FieldName(name), msg)
		}
		for _, v := range q[name] {
			if msg := validator.Storable(v); msg != "" {
				return fmt.Sprintf("The parameter %s %s.", name, msg)
			}
		}
	}
	return ""
}

// redirect answers a form post with 303 See Other and queues msg as a flash.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, to, msg string) error {
	if msg != "" {
		s.sessions.Flash(r.Context(), msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}
