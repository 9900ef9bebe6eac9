package admin

import (
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// Routes registers the admin on mux and returns its route table: one line per route
// with the permission it needs. A route registered without a valid permission is an
// error here, which stops startup.
func (s *Server) Routes(mux *http.ServeMux) (*web.Routes, error) {
	rt := web.NewRoutes(mux, s.guard)
	rt.Handle("GET /static/", web.Public, sessionless{s.staticFiles()})

	rt.Handle("GET /admin/login", web.Public, s.handle(s.loginForm))
	rt.Handle("POST /admin/login", web.Public, s.handle(s.login))
	rt.Handle("GET /admin/reset/{token}", web.Public, s.handle(s.resetForm))
	rt.Handle("POST /admin/reset/{token}", web.Public, s.handle(s.resetPassword))
	rt.Handle("GET /admin/login/verify", web.Public, s.handle(s.verifyForm))
	rt.Handle("POST /admin/login/verify", web.Public, s.handle(s.verify))
	rt.Handle("POST /admin/login/passkey/begin", web.Public, s.handle(s.passkeySignInBegin))
	rt.Handle("POST /admin/login/passkey/finish", web.Public, s.handle(s.passkeySignInFinish))
	rt.Handle("POST /admin/login/passwordless/begin", web.Public, s.handle(s.passwordlessBegin))
	rt.Handle("POST /admin/login/passwordless/finish", web.Public, s.handle(s.passwordlessFinish))
	rt.Handle("POST /admin/logout", web.SignedIn, enrolment{s.handle(s.logout)})
	rt.Handle("POST /admin/account/passkeys/register/begin", web.SignedIn, enrolment{s.handle(s.registerPasskeyBegin)})
	rt.Handle("POST /admin/account/passkeys/register/finish", web.SignedIn, enrolment{s.handle(s.registerPasskeyFinish)})
	rt.Handle("GET /admin/account/sessions", web.SignedIn, s.handle(s.ownSessions))
	rt.Handle("POST /admin/account/sessions/{id}/end", web.SignedIn, s.handle(s.endOwnSession))
	rt.Handle("POST /admin/account/sessions/end-others", web.SignedIn, s.handle(s.endOtherSessions))
	rt.Handle("GET /admin/account/passkeys/{id}/{$}", web.SignedIn, s.handle(s.editPasskeyForm))
	rt.Handle("POST /admin/account/passkeys/{id}/{$}", web.SignedIn, s.handle(s.updatePasskey))
	rt.Handle("GET /admin/account/passkeys/{id}/delete", web.SignedIn, s.handle(s.deletePasskeyForm))
	rt.Handle("POST /admin/account/passkeys/{id}/delete", web.SignedIn, s.handle(s.deletePasskey))
	rt.Handle("GET /admin/account/security", web.SignedIn, enrolment{s.handle(s.security)})
	rt.Handle("POST /admin/account/security/totp/start", web.SignedIn, enrolment{s.handle(s.startTOTP)})
	rt.Handle("GET /admin/account/security/totp", web.SignedIn, enrolment{s.handle(s.totpForm)})
	rt.Handle("POST /admin/account/security/totp", web.SignedIn, enrolment{s.handle(s.confirmTOTP)})
	rt.Handle("GET /admin/account/security/totp/disable", web.SignedIn, s.handle(s.disableTOTPForm))
	rt.Handle("POST /admin/account/security/totp/disable", web.SignedIn, s.handle(s.disableTOTP))
	rt.Handle("GET /admin/account/security/recovery-codes", web.SignedIn, s.handle(s.regenerateCodesForm))
	rt.Handle("POST /admin/account/security/recovery-codes", web.SignedIn, s.handle(s.regenerateCodes))
	rt.Handle("GET /admin/password", web.SignedIn, s.handle(s.passwordForm))
	rt.Handle("POST /admin/password", web.SignedIn, s.handle(s.changePassword))
	rt.Handle("GET /admin/{$}", web.SignedIn, s.handle(s.dashboard))
	rt.Handle("/admin/", web.SignedIn, s.handle(s.notFound))
	if s.events != nil {
		// Live pages: one stream per tab, each event filtered by its resource's view
		// permission (package events).
		rt.Handle("GET /admin/events", web.SignedIn, s.handle(s.streamEvents))
	}

	rt.Handle("GET /admin/tokens/{$}", "tokens.view", s.handle(s.listTokens))
	rt.Handle("GET /admin/tokens/new", "tokens.add", s.handle(s.newTokenForm))
	rt.Handle("POST /admin/tokens/new", "tokens.add", s.handle(s.createToken))
	rt.Handle("GET /admin/tokens/{id}/revoke", "tokens.delete", s.handle(s.revokeTokenForm))
	rt.Handle("POST /admin/tokens/{id}/revoke", "tokens.delete", s.handle(s.revokeToken))

	rt.Handle("GET /admin/users/{$}", "users.view", s.handle(s.listUsers))
	rt.Handle("GET /admin/users/new", "users.add", s.handle(s.newUserForm))
	rt.Handle("POST /admin/users/new", "users.add", s.handle(s.createUser))
	rt.Handle("GET /admin/users/{id}/{$}", "users.view", s.handle(s.editUserForm))
	rt.Handle("POST /admin/users/{id}/{$}", "users.change", s.handle(s.updateUser))
	rt.Handle("GET /admin/users/{id}/password", "users.change", s.handle(s.userPasswordForm))
	rt.Handle("POST /admin/users/{id}/password", "users.change", s.handle(s.setUserPassword))
	rt.Handle("GET /admin/users/{id}/two-factor", "users.change", s.handle(s.resetTwoFactorForm))
	rt.Handle("POST /admin/users/{id}/two-factor", "users.change", s.handle(s.resetTwoFactor))
	rt.Handle("GET /admin/users/{id}/reset-link", "users.change", s.handle(s.resetLinkForm))
	rt.Handle("POST /admin/users/{id}/reset-link", "users.change", s.handle(s.createResetLink))
	rt.Handle("GET /admin/users/{id}/sessions", "users.change", s.handle(s.userSessions))
	rt.Handle("POST /admin/users/{id}/sessions/{sid}/end", "users.change", s.handle(s.endUserSession))
	rt.Handle("GET /admin/users/{id}/delete", "users.delete", s.handle(s.deleteUserForm))
	rt.Handle("POST /admin/users/{id}/delete", "users.delete", s.handle(s.deleteUser))

	rt.Handle("GET /admin/groups/{$}", "groups.view", s.handle(s.listGroups))
	rt.Handle("GET /admin/groups/new", "groups.add", s.handle(s.newGroupForm))
	rt.Handle("POST /admin/groups/new", "groups.add", s.handle(s.createGroup))
	rt.Handle("GET /admin/groups/{id}/{$}", "groups.view", s.handle(s.editGroupForm))
	rt.Handle("POST /admin/groups/{id}/{$}", "groups.change", s.handle(s.updateGroup))
	rt.Handle("GET /admin/groups/{id}/delete", "groups.delete", s.handle(s.deleteGroupForm))
	rt.Handle("POST /admin/groups/{id}/delete", "groups.delete", s.handle(s.deleteGroup))
	rt.Handle("GET /admin/users/{id}/history", "users.view", s.handle(s.historyHandler(auth.ResourceUsers, "user", "/admin/users/", s.userTitle)))
	rt.Handle("GET /admin/groups/{id}/history", "groups.view", s.handle(s.historyHandler(auth.ResourceGroups, "group", "/admin/groups/", s.groupTitle)))

	rt.Handle("GET /admin/products/{$}", "products.view", s.handle(s.listProducts))
	rt.Handle("GET /admin/products/export.csv", "products.view", s.handle(s.exportProducts))
	rt.Handle("POST /admin/products/actions", "products.change", s.handle(s.productActions))
	rt.Handle("GET /admin/products/new", "products.add", s.handle(s.newProductForm))
	rt.Handle("POST /admin/products/new", "products.add", s.handle(s.createProduct))
	rt.Handle("GET /admin/products/{id}/{$}", "products.view", s.handle(s.editProductForm))
	rt.Handle("POST /admin/products/{id}/{$}", "products.change", s.handle(s.updateProduct))
	rt.Handle("GET /admin/products/{id}/history", "products.view", s.handle(s.historyHandler(catalog.ResourceProducts, "product", productsPath, s.productName)))
	rt.Handle("POST /admin/products/{id}/images", "products.change", s.handle(s.uploadImage))
	rt.Handle("POST /admin/products/{id}/images/edit", "products.change", s.handle(s.updateImages))
	rt.Handle("GET /admin/products/{id}/delete", "products.delete", s.handle(s.deleteProductForm))
	rt.Handle("POST /admin/products/{id}/delete", "products.delete", s.handle(s.deleteProduct))
	rt.Handle("GET /admin/media/{path...}", "products.view", s.handle(s.serveMedia))
	rt.Handle("GET /admin/products/import", "products.change", s.handle(s.importForm))
	rt.Handle("POST /admin/products/import", "products.change", s.handle(s.createImport))
	rt.Handle("GET /admin/imports/{$}", "products.view", s.handle(s.listImports))
	rt.Handle("GET /admin/imports/{id}/{$}", "products.view", s.handle(s.showImport))
	rt.Handle("GET /admin/imports/{id}/progress", "products.view", s.handle(s.importProgress))
	rt.Handle("GET /admin/imports/{id}/errors.csv", "products.view", s.handle(s.importErrorsCSV))
	rt.Handle("GET /admin/imports/{id}/changes.csv", "products.view", s.handle(s.importChangesCSV))
	rt.Handle("POST /admin/imports/{id}/confirm", "products.change", s.handle(s.confirmImport))
	rt.Handle("POST /admin/imports/{id}/cancel", "products.change", s.handle(s.cancelImport))

	rt.Handle("GET /admin/categories/{$}", "categories.view", s.handle(s.listCategories))
	rt.Handle("GET /admin/categories/new", "categories.add", s.handle(s.newCategoryForm))
	rt.Handle("POST /admin/categories/new", "categories.add", s.handle(s.createCategory))
	rt.Handle("GET /admin/categories/{id}/{$}", "categories.view", s.handle(s.editCategoryForm))
	rt.Handle("POST /admin/categories/{id}/{$}", "categories.change", s.handle(s.updateCategory))
	rt.Handle("GET /admin/categories/{id}/history", "categories.view", s.handle(s.historyHandler(catalog.ResourceCategories, "category", categoriesPath, s.categoryTitle)))
	rt.Handle("GET /admin/categories/{id}/delete", "categories.delete", s.handle(s.deleteCategoryForm))
	rt.Handle("POST /admin/categories/{id}/delete", "categories.delete", s.handle(s.deleteCategory))

	rt.Handle("GET /admin/audit/{$}", "audit.view", s.handle(s.listAudit))

	rt.Handle("GET /admin/orders/{$}", "orders.view", s.handle(s.listOrders))
	rt.Handle("GET /admin/orders/export.csv", "orders.view", s.handle(s.exportOrders))
	rt.Handle("POST /admin/orders/actions", "orders.fulfil", s.handle(s.orderActions))
	rt.Handle("GET /admin/orders/new", "orders.add", s.handle(s.newOrderForm))
	rt.Handle("POST /admin/orders/new", "orders.add", s.handle(s.createOrder))
	rt.Handle("GET /admin/orders/{id}/{$}", "orders.view", s.handle(s.showOrder))
	// Each move needs its own permission (orders.Permission), which depends on the
	// button pressed: the handler checks it.
	rt.Handle("POST /admin/orders/{id}/transitions", "orders.view", s.handle(s.transitionOrder))
	rt.Handle("POST /admin/orders/{id}/notes", "orders.change", s.handle(s.addOrderNote))
	rt.Handle("GET /admin/orders/{id}/history", "orders.view", s.handle(s.historyHandler(orders.ResourceOrders, "order", ordersPath, s.orderTitle)))

	rt.Handle("GET /admin/customers/{$}", "customers.view", s.handle(s.listCustomers))
	rt.Handle("GET /admin/customers/new", "customers.add", s.handle(s.newCustomerForm))
	rt.Handle("POST /admin/customers/new", "customers.add", s.handle(s.createCustomer))
	rt.Handle("GET /admin/customers/{id}/{$}", "customers.view", s.handle(s.editCustomerForm))
	rt.Handle("POST /admin/customers/{id}/{$}", "customers.change", s.handle(s.updateCustomer))
	rt.Handle("GET /admin/customers/{id}/history", "customers.view", s.handle(s.historyHandler(orders.ResourceCustomers, "customer", customersPath, s.customerTitle)))
	rt.Handle("GET /admin/customers/{id}/delete", "customers.delete", s.handle(s.deleteCustomerForm))
	rt.Handle("POST /admin/customers/{id}/delete", "customers.delete", s.handle(s.deleteCustomer))

	if s.webhooks != nil {
		rt.Handle("GET /admin/webhooks/{$}", "webhooks.view", s.handle(s.listWebhooks))
		rt.Handle("GET /admin/webhooks/new", "webhooks.add", s.handle(s.newWebhookForm))
		rt.Handle("POST /admin/webhooks/new", "webhooks.add", s.handle(s.createWebhook))
		rt.Handle("GET /admin/webhooks/{id}/{$}", "webhooks.view", s.handle(s.editWebhookForm))
		rt.Handle("POST /admin/webhooks/{id}/{$}", "webhooks.change", s.handle(s.updateWebhook))
		rt.Handle("GET /admin/webhooks/{id}/rotate", "webhooks.change", s.handle(s.rotateWebhookForm))
		rt.Handle("POST /admin/webhooks/{id}/rotate", "webhooks.change", s.handle(s.rotateWebhook))
		rt.Handle("POST /admin/webhooks/{id}/test", "webhooks.change", s.handle(s.testWebhook))
		rt.Handle("POST /admin/webhooks/{id}/resend", "webhooks.change", s.handle(s.resendWebhook))
		rt.Handle("GET /admin/webhooks/{id}/delete", "webhooks.delete", s.handle(s.deleteWebhookForm))
		rt.Handle("POST /admin/webhooks/{id}/delete", "webhooks.delete", s.handle(s.deleteWebhook))
	}
	if s.jobs != nil {
		// jobs.manage is in no permissions table: superusers only.
		rt.Handle("GET /admin/jobs/{$}", "jobs.manage", s.handle(s.listJobs))
		rt.Handle("POST /admin/jobs/{id}/retry", "jobs.manage", s.handle(s.retryJob))
		rt.Handle("POST /admin/jobs/{id}/cancel", "jobs.manage", s.handle(s.cancelJob))
	}
	return rt, rt.Err()
}

// sessionless marks a handler that needs no session (static files): it skips the
// session read a cookie would otherwise cost on every stylesheet request.
type sessionless struct{ http.Handler }

// enrolment marks a route that a user held by the 2FA policy (covered, and no second
// factor yet) may reach: enrolling one, and signing out. Every other route sends
// them to the account security page.
type enrolment struct{ http.Handler }

// guard wraps every admin route, outermost first: Go's cross-origin protection (a
// cross-site POST is refused before anything runs: CSRF), the session, the signed-in
// principal, then the route's permission. Signed out, a GET is sent to the sign-in
// page with the way back in next; any other method gets 401.
func (s *Server) guard(perm string, h http.Handler) http.Handler {
	if sl, ok := h.(sessionless); ok {
		return s.cop.Handler(sl.Handler)
	}
	e, forEnrolment := h.(enrolment)
	if forEnrolment {
		h = e.Handler
	}
	check := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.FromContext(r.Context())
		if msg := checkQuery(r); msg != "" {
			s.renderErrorSaying(w, r, http.StatusBadRequest, msg)
			return
		}
		switch {
		case perm == web.Public:
		case !forEnrolment && s.policy.Blocks(p):
			s.log.InfoContext(r.Context(), "second factor required first", "request_id", web.RequestID(r.Context()),
				"user_id", p.UserID, "path", r.URL.Path)
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, securityPath, http.StatusSeeOther)
			} else {
				s.renderError(w, r, http.StatusForbidden)
			}
			return
		case p == nil && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		case p == nil:
			s.renderError(w, r, http.StatusUnauthorized)
			return
		case perm != web.SignedIn && !p.Can(perm):
			s.log.InfoContext(r.Context(), "permission denied", "request_id", web.RequestID(r.Context()),
				"user_id", p.UserID, "perm", perm, "path", r.URL.Path)
			s.renderError(w, r, http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
	return s.cop.Handler(s.sessions.LoadAndSave(withSession(s.sessions.Authenticate(check))))
}

// safeNext returns next when it is a local admin path, else the dashboard: the
// sign-in page's next parameter must never send anyone off-site (open redirect).
func safeNext(next string) string { return safeLocal(next, "/admin/", "/admin/") }

// safeLocal returns next when it is a plain local path under prefix (which ends in
// a slash), else fallback. Browsers read "//host", "/\host" and "\\host" as other
// hosts, and some drop tabs and newlines first, so anything but a plain path is
// refused, and so is one that climbs out of prefix.
func safeLocal(next, prefix, fallback string) string {
	if !strings.HasPrefix(next, prefix) || strings.ContainsAny(next, "\\") {
		return fallback
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return fallback
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return fallback
	}
	if clean := path.Clean(u.Path); clean != strings.TrimSuffix(prefix, "/") && !strings.HasPrefix(clean+"/", prefix) {
		return fallback
	}
	return next
}

// staticFiles serves templates/static. A URL carrying the file's content hash (see
// the static template func) is cached for a year; any other for five minutes.
func (s *Server) staticFiles() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(s.static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if tag, ok := s.assetTag[name]; ok && r.URL.Query().Get("v") == tag {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		files.ServeHTTP(w, r)
	})
}

// notFound is the admin's 404 page for any path no route takes.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) error {
	s.renderError(w, r, http.StatusNotFound)
	return nil
}
