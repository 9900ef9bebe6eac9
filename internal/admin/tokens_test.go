package admin

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// makerEmail holds every token permission but is no superuser.
const makerEmail = "maker@example.com"

var secretPattern = regexp.MustCompile(`srk_[A-Za-z0-9_-]{43}`)

// token creates a read token named name for userID, as a fixture, and returns its id.
func (a *testApp) token(userID int64, name string) int64 {
	a.t.Helper()
	_, tok, err := auth.NewTokens(a.st).Create(context.Background(), nil, userID, name, auth.ScopeRead, nil)
	if err != nil {
		a.t.Fatalf("create token %s: %v", name, err)
	}
	return tok.ID
}

// tokenCount counts the stored tokens.
func (a *testApp) tokenCount() int {
	a.t.Helper()
	var n int
	if err := a.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM api_tokens`).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

func newTokenForm(name, scope, expires string) url.Values {
	return url.Values{"name": {name}, "scope": {scope}, "expires": {expires}}
}

// The whole life of a token in the admin: created with its secret shown once and
// never cached, working in the API, listed without its secret, revoked through the
// confirmation page and refused from then on; both writes audited by the signed-in
// user, and the audit log never holds the secret.
func TestTokenCreateShowRevoke(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	ctx := context.Background()
	makerID := a.user(makerEmail, false, "tokens.view", "tokens.add", "tokens.delete")
	c := a.signedIn(makerEmail)
	tokens := auth.NewTokens(a.st)

	form := c.get("/admin/tokens/new")
	must(t, form, http.StatusOK, `name="name"`, `value="read" checked`, `value="90" checked`, makerEmail+" (you)")
	if strings.Contains(form.body, `<select id="user"`) {
		t.Error("a non-superuser is offered other users")
	}

	r := c.post("/admin/tokens/new", newTokenForm("deploy", "write", "30"))
	must(t, r, http.StatusCreated, "You will not see this token again", `<code id="token-secret">`)
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	secrets := secretPattern.FindAllString(r.body, -1)
	if len(secrets) != 1 {
		t.Fatalf("the page shows %d secrets, want exactly 1:\n%s", len(secrets), r.body)
	}
	secret := secrets[0]
	p, err := tokens.Authenticate(ctx, secret)
	if err != nil {
		t.Fatalf("the shown secret: %v", err)
	}
	if p.UserID != makerID || p.Scope != auth.ScopeWrite || p.TokenName != "deploy" {
		t.Errorf("the token acts as user %d scope %q name %q, want %d write deploy", p.UserID, p.Scope, p.TokenName, makerID)
	}
	mine, err := tokens.List(ctx, &makerID)
	if err != nil || len(mine) != 1 {
		t.Fatalf("List = %v, %v; want the one token", mine, err)
	}
	tok := mine[0]
	if tok.ExpiresAt == nil || time.Until(*tok.ExpiresAt) < 29*24*time.Hour || time.Until(*tok.ExpiresAt) > 31*24*time.Hour {
		t.Errorf("expires at %v, want in 30 days", tok.ExpiresAt)
	}

	// The secret is in that one response only: not in the list, not on the forms.
	for _, path := range []string{"/admin/tokens/", "/admin/tokens/new", fmt.Sprintf("/admin/tokens/%d/revoke", tok.ID)} {
		r := c.get(path)
		must(t, r, http.StatusOK)
		if strings.Contains(r.body, secret[len(tok.Prefix):]) {
			t.Errorf("GET %s shows the secret again", path)
		}
	}

	revoke := fmt.Sprintf("/admin/tokens/%d/revoke", tok.ID)
	must(t, c.get(revoke), http.StatusOK, "Yes, revoke", "deploy", makerEmail)
	r = c.post(revoke, url.Values{})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/tokens/" {
		t.Fatalf("revoke: %d %q, want 303 to the list", r.status, r.header.Get("Location"))
	}
	if _, err := tokens.Authenticate(ctx, secret); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("after revoking: Authenticate = %v, want ErrInvalidToken", err)
	}
	must(t, c.get("/admin/tokens/"), http.StatusOK, "was revoked", `<span class="badge off">Revoked</span>`)
	must(t, c.get(revoke), http.StatusOK, "This token was revoked on")
	r = c.post(revoke, url.Values{}) // again: nothing changes, nothing is recorded
	if r.status != http.StatusSeeOther {
		t.Errorf("revoking again: %d, want 303", r.status)
	}
	must(t, c.get("/admin/tokens/"), http.StatusOK, "was already revoked")

	page, err := audit.New(a.st).History(ctx, auth.ResourceTokens, tok.ID, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 2 {
		t.Fatalf("%d audit rows for the token, want 2 (create, revoke)", len(page.Entries))
	}
	for i, action := range []string{auth.ActionRevoke, audit.ActionCreate} { // newest first
		e := page.Entries[i]
		if e.Action != action || e.ActorUserID == nil || *e.ActorUserID != makerID || e.ActorLabel != makerEmail ||
			e.ObjectRepr != "deploy ("+tok.Prefix+")" {
			t.Errorf("audit row %d: %s by %v %q repr %q; want %s by %d %q repr %q", i, e.Action, e.ActorUserID,
				e.ActorLabel, e.ObjectRepr, action, makerID, makerEmail, "deploy ("+tok.Prefix+")")
		}
	}
	var log string
	if err := a.st.Pool().QueryRow(ctx, `SELECT string_agg(a::text, ' ') FROM audit_log a`).Scan(&log); err != nil {
		t.Fatal(err)
	}
	hash := sha256.Sum256([]byte(secret))
	for _, leak := range []string{secret[len(tok.Prefix):], fmt.Sprintf("%x", hash), base64.StdEncoding.EncodeToString(hash[:])} {
		if strings.Contains(log, leak) {
			t.Errorf("the audit log holds the secret or its hash (%q)", leak)
		}
	}
}

// Creating needs tokens.add and revoking tokens.delete: without them the routes
// answer 403 and nothing changes. (TestRouteWalk walks every route for every role;
// this checks that nothing was written.)
func TestTokenWritesNeedPermission(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	id := a.token(a.ids[viewEmail], "theirs")
	for _, email := range []string{staffEmail, viewEmail} {
		c := a.signedIn(email)
		must(t, c.get("/admin/tokens/new"), http.StatusForbidden)
		must(t, c.post("/admin/tokens/new", newTokenForm("mine", "write", "never")), http.StatusForbidden)
		must(t, c.post(fmt.Sprintf("/admin/tokens/%d/revoke", id), url.Values{}), http.StatusForbidden)
	}
	tok, err := auth.NewTokens(a.st).Get(context.Background(), id)
	if n := a.tokenCount(); n != 1 || err != nil || tok.RevokedAt != nil {
		t.Errorf("after refused writes: %d tokens, the fixture revoked at %v (%v); want 1, not revoked", n, tok.RevokedAt, err)
	}
	// The navigation offers the list to those who may see it.
	if r := a.signedIn(staffEmail).get("/admin/"); strings.Contains(r.body, "API tokens") {
		t.Error("staff without tokens.view see API tokens in the navigation")
	}
	must(t, a.signedIn(viewEmail).get("/admin/"), http.StatusOK, `href="/admin/tokens/">API tokens`)
	if r := a.signedIn(viewEmail).get("/admin/tokens/"); strings.Contains(r.body, `/revoke"`) || strings.Contains(r.body, "Create token") {
		t.Error("a viewer without tokens.add and tokens.delete is offered to create or revoke")
	}
}

// Only a superuser makes tokens for someone else, and only for an active user.
func TestTokenForAnotherUser(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	ctx := context.Background()
	a.user(makerEmail, false, "tokens.view", "tokens.add")
	staffID := a.ids[staffEmail]
	form := newTokenForm("theirs", "read", "never")
	form.Set("user", fmt.Sprint(staffID))

	must(t, a.signedIn(makerEmail).post("/admin/tokens/new", form), http.StatusUnprocessableEntity,
		"only a superuser can create tokens for someone else", `value="theirs"`)
	if n := a.tokenCount(); n != 0 {
		t.Fatalf("%d tokens after a refused create, want 0", n)
	}

	su := a.signedIn(superEmail)
	must(t, su.get("/admin/tokens/new"), http.StatusOK, `<select id="user" name="user"`, staffEmail)
	r := su.post("/admin/tokens/new", form)
	must(t, r, http.StatusCreated, staffEmail)
	p, err := auth.NewTokens(a.st).Authenticate(ctx, secretPattern.FindString(r.body))
	if err != nil || p.UserID != staffID {
		t.Fatalf("the superuser's token for staff: %+v, %v; want user %d", p, err, staffID)
	}
	// The token acts as its user: staff hold no permissions, so neither does it.
	if p.Can("tokens.view") || p.Can("users.view") {
		t.Error("a token for a user without permissions can do something")
	}

	gone := a.user("gone@example.com", false)
	if _, err := a.st.Pool().Exec(ctx, `UPDATE users SET is_active = false WHERE id = $1`, gone); err != nil {
		t.Fatal(err)
	}
	form.Set("user", fmt.Sprint(gone))
	must(t, su.post("/admin/tokens/new", form), http.StatusUnprocessableEntity, "does not exist or is deactivated")
	if n := a.tokenCount(); n != 1 {
		t.Errorf("%d tokens, want only the one for staff", n)
	}
}

// The form posted again (Reload or Back on its result, confirmed) does not create a
// second token: its key was recorded. Another form, with a fresh key, does.
func TestTokenFormPostedAgain(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.signedIn(superEmail)
	key := regexp.MustCompile(`name="form_key" value="([^"]+)"`).FindStringSubmatch(c.get("/admin/tokens/new").body)
	if key == nil {
		t.Fatal("the form has no key")
	}
	form := newTokenForm("once", "read", "never")
	form.Set("form_key", key[1])
	must(t, c.post("/admin/tokens/new", form), http.StatusCreated)
	r := c.post("/admin/tokens/new", form)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/tokens/" {
		t.Fatalf("posted again: %d %q, want 303 to the list", r.status, r.header.Get("Location"))
	}
	must(t, c.get("/admin/tokens/"), http.StatusOK, "That form was sent before", "1 token")
	// A refused form keeps its key; sent right, it works once.
	form.Set("form_key", "fresh")
	form.Set("name", "")
	must(t, c.post("/admin/tokens/new", form), http.StatusUnprocessableEntity, `name="form_key" value="fresh"`)
	form.Set("name", "twice")
	must(t, c.post("/admin/tokens/new", form), http.StatusCreated)
	if n := a.tokenCount(); n != 2 {
		t.Errorf("%d tokens, want 2", n)
	}
}

// Invalid input is a 422 with the form again, the input kept and the field named;
// nothing is stored.
func TestCreateTokenValidates(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.signedIn(superEmail)
	long := strings.Repeat("n", 101)
	dated := func(on string) url.Values {
		v := newTokenForm("ci", "read", "date")
		v.Set("expires_on", on)
		return v
	}
	tests := []struct {
		name string
		form url.Values
		want []string
	}{
		{"no name", newTokenForm("  ", "read", "90"), []string{"is required"}},
		{"long name", newTokenForm(long, "read", "90"), []string{"at most 100 characters", `value="` + long + `"`}},
		{"unknown scope", newTokenForm("ci", "admin", "90"), []string{"must be read or write", `value="ci"`}},
		{"no scope", newTokenForm("ci", "", "90"), []string{"must be read or write"}},
		{"unknown expiry", newTokenForm("ci", "write", "forever"), []string{"choose when the token expires", `value="write" checked`}},
		{"date missing", dated(""), []string{"is required for an expiry on a date", `value="date" checked`}},
		{"date malformed", dated("31/12/2030"), []string{"must be a date like 2030-12-31", `value="31/12/2030"`}},
		{"date past", dated("2001-01-01"), []string{"must be today or later"}},
		{"date far", dated("9999-01-01"), []string{"within ten years"}},
		{"user not a number", func() url.Values { v := newTokenForm("ci", "read", "90"); v.Set("user", "me"); return v }(),
			[]string{"does not exist or is deactivated"}},
		{"unknown user", func() url.Values { v := newTokenForm("ci", "read", "90"); v.Set("user", "424242"); return v }(),
			[]string{"does not exist or is deactivated"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.post("/admin/tokens/new", tt.form)
			must(t, r, http.StatusUnprocessableEntity, append(tt.want, "The token was not created", `id="token-form"`)...)
			if secretPattern.MatchString(r.body) {
				t.Error("a refused form shows a secret")
			}
		})
	}
	if n := a.tokenCount(); n != 0 {
		t.Errorf("%d tokens after refused forms, want 0", n)
	}
}

// The list searches names and emails, filters by scope and state, sorts and pages.
func TestTokenList(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	ctx := context.Background()
	viewer := a.ids[viewEmail]
	tokens := auth.NewTokens(a.st)
	a.token(viewer, "alpha")
	_, beta, err := tokens.Create(ctx, nil, viewer, "beta", auth.ScopeWrite, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.Pool().Exec(ctx, `UPDATE api_tokens SET expires_at = now() - interval '1 day' WHERE id = $1`, beta.ID); err != nil {
		t.Fatal(err)
	}
	if err := tokens.Revoke(ctx, nil, a.token(viewer, "gamma")); err != nil {
		t.Fatal(err)
	}
	a.token(a.ids[staffEmail], "delta")
	c := a.signedIn(viewEmail)

	tests := []struct {
		query string
		want  string // the names shown, in order
	}{
		{"", "delta gamma beta alpha"}, // newest first
		{"?q=ALP", "alpha"},
		{"?q=staff%40", "delta"},
		{"?scope=write", "beta"},
		{"?state=active", "delta alpha"},
		{"?state=expired", "beta"},
		{"?state=revoked", "gamma"},
		{"?state=active&scope=read&q=a", "delta alpha"},
		{"?sort=name", "alpha beta delta gamma"},
		{"?sort=-user", "gamma beta alpha delta"},   // viewer@ before staff@, then by id, descending
		{"?sort=expires", "beta alpha gamma delta"}, // the expired one first, then never, by id
		{"?q=nothing-like-this", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := c.get("/admin/tokens/" + tt.query)
			must(t, r, http.StatusOK)
			if got := strings.Join(listedNames(r.body), " "); got != tt.want {
				t.Errorf("names %q, want %q", got, tt.want)
			}
		})
	}
	must(t, c.get("/admin/tokens/"), http.StatusOK, "4 tokens", `<span class="badge off">Expired</span>`, `<span class="badge ok">Active</span>`)

	// Keyset pages: 30 more tokens by name, 25 a page, each shown once.
	for i := range 30 {
		a.token(viewer, fmt.Sprintf("page %02d", i))
	}
	seen := map[string]int{}
	next := "/admin/tokens/?sort=name&size=25"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		r := c.get(next)
		must(t, r, http.StatusOK)
		for _, n := range listedNames(r.body) {
			seen[n]++
		}
		next = ""
		if m := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(r.body); m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(seen) != 34 {
		t.Errorf("paging showed %d tokens, want 34", len(seen))
	}
	for n, k := range seen {
		if k != 1 {
			t.Errorf("%s shown %d times", n, k)
		}
	}
}

// listedNames returns the token names of a list page, in order.
func listedNames(body string) []string {
	var names []string
	for _, m := range regexp.MustCompile(`<tr>\n<td>([^<]*)</td>`).FindAllStringSubmatch(body, -1) {
		names = append(names, m[1])
	}
	return names
}

func TestTokenExpiry(t *testing.T) {
	now := time.Date(2030, 6, 1, 12, 30, 15, 500, time.UTC)
	at := func(y int, m time.Month, d, h, min, s int) *time.Time {
		t := time.Date(y, m, d, h, min, s, 0, time.UTC)
		return &t
	}
	tests := []struct {
		choice, on string
		want       *time.Time
		field      string
	}{
		{"never", "", nil, ""},
		{"30", "", at(2030, 7, 1, 12, 30, 15), ""},
		{"90", "", at(2030, 8, 30, 12, 30, 15), ""},
		{"365", "", at(2031, 6, 1, 12, 30, 15), ""},
		{"date", "2030-06-01", at(2030, 6, 2, 0, 0, 0), ""}, // today: to the end of it
		{"date", "2030-12-31", at(2031, 1, 1, 0, 0, 0), ""},
		{"date", "2030-05-31", nil, "expires_on"},
		{"date", "", nil, "expires_on"},
		{"date", "tomorrow", nil, "expires_on"},
		{"date", "2041-01-01", nil, "expires_on"},
		{"", "", nil, "expires"},
		{"7", "", nil, "expires"},
	}
	for _, tt := range tests {
		errs := validator.Errors{}
		got := tokenExpiry(tt.choice, tt.on, now, errs)
		if tt.field != "" {
			if errs[tt.field] == "" {
				t.Errorf("tokenExpiry(%q, %q): errors %v, want one on %s", tt.choice, tt.on, errs, tt.field)
			}
			continue
		}
		if len(errs) > 0 || (got == nil) != (tt.want == nil) || got != nil && !got.Equal(*tt.want) {
			t.Errorf("tokenExpiry(%q, %q) = %v (%v), want %v", tt.choice, tt.on, got, errs, tt.want)
		}
	}
}

// In a real browser: the secret is on the page the form returns; Back from the list
// does not bring it back (the response was no-store: Chromium has nothing to show
// and asks to post again), and posting again, as Reload does, makes no second token.
func TestBrowserTokenSecretShownOnce(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	ctx := newTab(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/admin/login?next=%2Fadmin%2Ftokens%2Fnew"),
		chromedp.SendKeys(chromedp.ID("email"), superEmail),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("#login button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("token-form")),
		chromedp.SendKeys(chromedp.ID("name"), "browser"),
		chromedp.Click(chromedp.CSS("#token-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("token-secret")),
	)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	secret, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("token-secret")))
	if err != nil || !secretPattern.MatchString(secret) {
		t.Fatalf("secret on the page %q (%v)", secret, err)
	}
	page := func() string {
		t.Helper()
		html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
		if err != nil {
			t.Fatal(err)
		}
		return html
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("a.button.primary")), chromedp.WaitVisible(chromedp.ID("token-list"))); err != nil {
		t.Fatalf("on to the list: %v", err)
	}
	_ = chromedp.Do(ctx, chromedp.NavigateBack()) // a load error: the page is not cached
	if strings.Contains(page(), secret) {
		t.Error("Back shows the secret again")
	}
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("token-list"))); err != nil {
		t.Fatalf("reload: %v", err)
	}
	html := page()
	if strings.Contains(html, secret) || secretPattern.MatchString(html) || !strings.Contains(html, "That form was sent before") {
		t.Errorf("after Reload re-posted the form: a secret shown %v, the note missing:\n%.3000s", secretPattern.MatchString(html), html)
	}
	if n := a.tokenCount(); n != 1 {
		t.Errorf("%d tokens after the form was posted again, want 1", n)
	}
}
