package admin

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// stepClock is the TOTP clock of a test: codes of a step are accepted once, so a
// test moves the clock on instead of waiting 30 seconds.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func newStepClock() *stepClock {
	return &stepClock{now: time.Date(2026, 3, 18, 15, 30, 0, 0, time.UTC)}
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// step moves the clock on by n TOTP steps.
func (c *stepClock) step(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Duration(n) * 30 * time.Second)
}

// code is the app's code for secret at the clock's time plus offset steps.
func (c *stepClock) code(t *testing.T, secret string, offset int) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, c.Now().Add(time.Duration(offset)*30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// newTOTPApp is the test app on a step clock.
func newTOTPApp(t *testing.T) (*testApp, *stepClock) {
	clock := newStepClock()
	return newTestAppWith(t, auth.Options{Now: clock.Now}, nil), clock
}

var (
	secretRe = regexp.MustCompile(`<code id="totp-secret">([A-Z2-7]+)</code>`)
	codesRe  = regexp.MustCompile(`<li><code>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</code></li>`)
)

// recoveryCodes are the codes a page shows.
func recoveryCodes(t *testing.T, body string) []string {
	t.Helper()
	var codes []string
	for _, m := range codesRe.FindAllStringSubmatch(body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		t.Fatalf("page shows %d recovery codes, want 10:\n%.3000s", len(codes), body)
	}
	return codes
}

// enrol switches an authenticator app on for c's user through the pages and returns
// its secret (read off the page, as a person would type it) and the recovery codes.
func enrol(t *testing.T, c *client, clock *stepClock) (string, []string) {
	t.Helper()
	r := c.post("/admin/account/security/totp/start", nil)
	must(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != securityPath+"/totp" {
		t.Fatalf("start went to %q", loc)
	}
	r = c.get(securityPath + "/totp")
	must(t, r, http.StatusOK, `src="data:image/png;base64,`, "Switch on")
	m := secretRe.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no secret on the enrolment page:\n%.3000s", r.body)
	}
	secret := m[1]
	r = c.post(securityPath+"/totp", url.Values{"code": {clock.code(t, secret, 0)}})
	must(t, r, http.StatusOK, "You will not see these codes again")
	return secret, recoveryCodes(t, r.body)
}

// signInWithCode signs c in as email: password, then code; it returns the answer to
// the code.
func signInWithCode(t *testing.T, c *client, email, code string) response {
	t.Helper()
	r := c.login(email, password)
	must(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/admin/login/verify") {
		t.Fatalf("after the password: Location %q, want the code page", loc)
	}
	return c.post("/admin/login/verify", url.Values{"code": {code}, "next": {"/admin/"}})
}

// auditCount counts audit rows of action on user id.
func (a *testApp) auditCount(action, resource string, id int64) int {
	a.t.Helper()
	var n int
	err := a.st.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM audit_log WHERE action = $1 AND resource = $2 AND object_id = $3`, action, resource, id).Scan(&n)
	if err != nil {
		a.t.Fatal(err)
	}
	return n
}

// Acceptance 2: enrol, sign out, sign in with a code; the code page is the only thing
// a half-signed-in session reaches; a reused code and a code two steps old are
// refused; the secret is sealed at rest.
func TestTOTPEnrolAndSignIn(t *testing.T) {
	t.Parallel()
	a, clock := newTOTPApp(t)
	c := a.signedIn(superEmail)
	uid := a.ids[superEmail]

	// A wrong code does not switch it on, and says why.
	must(t, c.post("/admin/account/security/totp/start", nil), http.StatusSeeOther)
	r := c.post(securityPath+"/totp", url.Values{"code": {"000000"}})
	must(t, r, http.StatusUnprocessableEntity, "is not the app&#39;s current code", `src="data:image/png;base64,`)
	must(t, c.get(securityPath), http.StatusOK, "You started setting one up")

	secret, _ := enrol(t, c, clock)
	must(t, c.get(securityPath), http.StatusOK, "<strong>On:</strong>", "10 of 10 recovery codes left")
	if n := a.auditCount(auth.ActionEnableTOTP, auth.ResourceUsers, uid); n != 1 {
		t.Errorf("%d enable_totp audit rows, want 1", n)
	}
	var sealed []byte
	if err := a.st.Pool().QueryRow(context.Background(), `SELECT secret FROM user_totp WHERE user_id = $1`, uid).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), secret) || len(sealed) < len(secret)+28 {
		t.Errorf("stored secret %q is not sealed", sealed)
	}
	if strings.Contains(a.logs.String(), secret) {
		t.Error("the secret is in the log")
	}
	// Enrolling again while on is refused.
	r = c.post("/admin/account/security/totp/start", nil)
	must(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != securityPath {
		t.Errorf("second start went to %q, want the security page", loc)
	}
	must(t, c.post("/admin/logout", nil), http.StatusSeeOther)

	// The password alone signs nobody in: the half-signed-in session reaches no route
	// but the public ones.
	half := a.client()
	must(t, half.login(superEmail, password), http.StatusSeeOther)
	must(t, half.get("/admin/login/verify?next=/admin/"), http.StatusOK, "Two-factor sign-in")
	for _, rt := range a.routes {
		if rt.Perm == web.Public {
			continue
		}
		method, path := requestFor(t, a, rt)
		if method == "GET" {
			if r := half.get(path); !isLoginRedirect(r) {
				t.Errorf("half-signed-in GET %s = %d %q, want the sign-in page", path, r.status, r.header.Get("Location"))
			}
		} else if r := half.post(path, url.Values{}); r.status != http.StatusUnauthorized {
			t.Errorf("half-signed-in %s %s = %d, want 401", method, path, r.status)
		}
	}
	r = half.post("/admin/login/verify", url.Values{"code": {"123456"}})
	must(t, r, http.StatusUnauthorized, html.EscapeString(badCode))

	clock.step(1) // the enrolment used this step's code
	code := clock.code(t, secret, 0)
	r = half.post("/admin/login/verify", url.Values{"code": {code[:3] + " " + code[3:]}, "next": {"/admin/orders/"}})
	must(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/admin/orders/" {
		t.Errorf("after the code: Location %q, want next", loc)
	}
	must(t, half.get("/admin/"), http.StatusOK)
	if n := a.auditCount(auth.ActionSignIn, auth.ResourceSessions, uid); n < 2 {
		t.Errorf("%d sign_in audit rows, want the code's too", n)
	}

	// The same code again, from another browser: refused (replay).
	other := a.client()
	must(t, signInWithCode(t, other, superEmail, code), http.StatusUnauthorized)
	// A code two steps old: refused; one step ahead: accepted (±1 step).
	clock.step(2)
	must(t, other.post("/admin/login/verify", url.Values{"code": {clock.code(t, secret, -2)}}), http.StatusUnauthorized)
	must(t, other.post("/admin/login/verify", url.Values{"code": {clock.code(t, secret, 1)}}), http.StatusSeeOther)
	// The current step's code is older than the one just used: refused too.
	third := a.client()
	must(t, signInWithCode(t, third, superEmail, clock.code(t, secret, 0)), http.StatusUnauthorized)
}

// Acceptance 2: wrong codes count toward the sign-in throttle: after 5, even the
// right code is refused for a while.
func TestTOTPThrottle(t *testing.T) {
	t.Parallel()
	a, clock := newTOTPApp(t)
	secret, _ := enrol(t, a.signedIn(superEmail), clock)
	clock.step(1)
	c := a.client()
	must(t, signInWithCode(t, c, superEmail, "111111"), http.StatusUnauthorized)
	for range 4 {
		must(t, c.post("/admin/login/verify", url.Values{"code": {"111111"}}), http.StatusUnauthorized)
	}
	r := c.post("/admin/login/verify", url.Values{"code": {clock.code(t, secret, 0)}})
	must(t, r, http.StatusTooManyRequests, "Too many failed sign-ins")
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// The password step is throttled too: the failures were the email's.
	must(t, a.client().login(superEmail, password), http.StatusTooManyRequests)
	if n := a.auditCount(auth.ActionSignInFailed, auth.ResourceSessions, a.ids[superEmail]); n != 5 {
		t.Errorf("%d sign_in_failed audit rows, want 5", n)
	}
}

// Acceptance 3: a recovery code signs in once; regenerating makes the old set void.
func TestRecoveryCodes(t *testing.T) {
	t.Parallel()
	a, clock := newTOTPApp(t)
	uid := a.ids[staffEmail]
	owner := a.signedIn(staffEmail)
	secret, codes := enrol(t, owner, clock)

	c := a.client()
	r := signInWithCode(t, c, staffEmail, codes[0])
	must(t, r, http.StatusSeeOther)
	must(t, c.get("/admin/"), http.StatusOK, "You signed in with a recovery code", "9 recovery codes left")
	if n := a.auditCount(auth.ActionRecoveryCodeUsed, auth.ResourceUsers, uid); n != 1 {
		t.Errorf("%d recovery_code_used audit rows, want 1", n)
	}
	must(t, signInWithCode(t, a.client(), staffEmail, codes[0]), http.StatusUnauthorized)
	// The next sign-in, with the app, is told a recovery code was used; the one after
	// that is not.
	clock.step(1)
	next := a.client()
	must(t, signInWithCode(t, next, staffEmail, clock.code(t, secret, 0)), http.StatusSeeOther)
	must(t, next.get("/admin/"), http.StatusOK, "A recovery code was used to sign in to your account at")
	clock.step(1)
	after := a.client()
	must(t, signInWithCode(t, after, staffEmail, clock.code(t, secret, 0)), http.StatusSeeOther)
	if r := after.get("/admin/"); strings.Contains(r.body, "A recovery code was used") {
		t.Error("the sign-in after next is told of the recovery code again")
	}
	// Typed in lower case with spaces: still the code.
	must(t, signInWithCode(t, a.client(), staffEmail, strings.ToLower(strings.ReplaceAll(codes[1], "-", " "))), http.StatusSeeOther)
	must(t, owner.get(securityPath), http.StatusOK, "8 of 10 recovery codes left")

	// Regenerating needs the password.
	must(t, owner.get(securityPath+"/recovery-codes"), http.StatusOK, "Make new codes")
	must(t, owner.post(securityPath+"/recovery-codes", url.Values{"password": {"wrong password here"}}),
		http.StatusUnprocessableEntity, "is not your current password")
	r = owner.post(securityPath+"/recovery-codes", url.Values{"password": {password}})
	must(t, r, http.StatusOK, "Your old codes no longer work")
	fresh := recoveryCodes(t, r.body)
	must(t, signInWithCode(t, a.client(), staffEmail, codes[2]), http.StatusUnauthorized)
	must(t, signInWithCode(t, a.client(), staffEmail, fresh[0]), http.StatusSeeOther)
	if n := a.auditCount(auth.ActionNewRecoveryCodes, auth.ResourceUsers, uid); n != 1 {
		t.Errorf("%d new_recovery_codes audit rows, want 1", n)
	}
}

// Switching the app off needs the password; then the password alone signs in.
func TestDisableTOTP(t *testing.T) {
	t.Parallel()
	a, clock := newTOTPApp(t)
	c := a.signedIn(viewEmail)
	enrol(t, c, clock)
	must(t, c.get(securityPath+"/totp/disable"), http.StatusOK, "Switch off")
	must(t, c.post(securityPath+"/totp/disable", url.Values{}), http.StatusUnprocessableEntity, "is required")
	must(t, c.post(securityPath+"/totp/disable", url.Values{"password": {"not the password"}}), http.StatusUnprocessableEntity, "is not your current password")
	must(t, c.get(securityPath), http.StatusOK, "<strong>On:</strong>")
	must(t, c.post(securityPath+"/totp/disable", url.Values{"password": {password}}), http.StatusSeeOther)
	must(t, c.get(securityPath), http.StatusOK, "<strong>Off:</strong>", "The authenticator app is off")
	if n := a.auditCount(auth.ActionDisableTOTP, auth.ResourceUsers, a.ids[viewEmail]); n != 1 {
		t.Errorf("%d disable_totp audit rows, want 1", n)
	}
	r := a.client().login(viewEmail, password)
	must(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/admin/" {
		t.Errorf("sign-in without a second factor went to %q", loc)
	}
}

// The code page without a password step behind it sends people to sign in; a
// changed password voids a waiting password step.
func TestVerifyNeedsPasswordStep(t *testing.T) {
	t.Parallel()
	a, clock := newTOTPApp(t)
	secret, _ := enrol(t, a.signedIn(superEmail), clock)
	clock.step(1)
	c := a.client()
	if r := c.get("/admin/login/verify"); !isLoginRedirect(r) {
		t.Errorf("code page without a password step: %d %q", r.status, r.header.Get("Location"))
	}
	if r := c.post("/admin/login/verify", url.Values{"code": {clock.code(t, secret, 0)}}); !isLoginRedirect(r) {
		t.Errorf("code without a password step: %d %q", r.status, r.header.Get("Location"))
	}
	must(t, c.login(superEmail, password), http.StatusSeeOther)
	if err := a.auth.SetPasswordByEmail(context.Background(), superEmail, "another long passphrase here"); err != nil {
		t.Fatal(err)
	}
	if r := c.post("/admin/login/verify", url.Values{"code": {clock.code(t, secret, 0)}}); !isLoginRedirect(r) {
		t.Errorf("code after a password change: %d %q, want the sign-in page", r.status, r.header.Get("Location"))
	}
	if r := c.get("/admin/"); !isLoginRedirect(r) {
		t.Errorf("dashboard after a refused code: %d", r.status)
	}
}

// Acceptance 2 in a browser: enrol with the code computed from the secret shown on
// the page, sign out, sign in with password and code; then a reused code and one
// two steps old are refused, and five failures throttle the right code.
func TestBrowserTOTP(t *testing.T) {
	t.Parallel()
	a, clock := newTOTPApp(t)
	ctx := newTab(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/admin/login"),
		chromedp.SendKeys(chromedp.ID("email"), superEmail),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("#login button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("dashboard")),
		chromedp.Click(chromedp.ID("account-security")),
		chromedp.Click(chromedp.ID("start-totp")),
		chromedp.WaitVisible(chromedp.ID("totp-qr")),
	)
	if err != nil {
		t.Fatalf("to the enrolment page: %v", err)
	}
	secret, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("totp-secret")))
	if err != nil {
		t.Fatal(err)
	}
	// The QR code is an image the browser decoded, not a broken link.
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.getElementById("totp-qr").naturalWidth`)); err != nil || w < 100 {
		t.Errorf("QR code image width %d (%v)", w, err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("code"), clock.code(t, secret, 0)),
		chromedp.Click(chromedp.CSS("#confirm-totp button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("recovery-codes")),
	)
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#recovery-codes li").length`))
	if err != nil || n != 10 {
		t.Errorf("%d recovery codes shown (%v), want 10", n, err)
	}
	clock.step(1)
	used := clock.code(t, secret, 0)
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("codes-saved")),
		chromedp.WaitVisible(chromedp.ID("totp-status")),
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("email"), superEmail),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("#login button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("verify")),
		chromedp.SendKeys(chromedp.ID("code"), used),
		chromedp.Click(chromedp.CSS("#verify button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("dashboard")),
	)
	if err != nil {
		t.Fatalf("sign in with a code: %v", err)
	}

	// In the browser too: the code just used, then one two steps old, are refused;
	// with three wrong ones that makes five failures, and the right code is then
	// throttled.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("email"), superEmail),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("#login button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("verify")),
	)
	if err != nil {
		t.Fatalf("password step again: %v", err)
	}
	// submit sends a code and returns the message of the page that answers (the old
	// page's message is removed first, so the wait is for the new one).
	submit := func(code string) string {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("[role=alert]").forEach(e => e.remove());
				document.getElementById("code").value = ""`),
			chromedp.SendKeys(chromedp.ID("code"), code),
			chromedp.Click(chromedp.CSS("#verify button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("[role=alert]")),
		)
		if err != nil {
			t.Fatalf("code %s: %v", code, err)
		}
		msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("[role=alert]")))
		if err != nil {
			t.Fatalf("code %s: %v", code, err)
		}
		return msg
	}
	if msg := submit(used); !strings.Contains(msg, badCode) {
		t.Errorf("the code used a moment ago: %q, want it refused", msg)
	}
	clock.step(2)
	if msg := submit(clock.code(t, secret, -2)); !strings.Contains(msg, badCode) {
		t.Errorf("a code two steps old: %q, want it refused", msg)
	}
	for range 3 {
		if msg := submit("111111"); !strings.Contains(msg, badCode) {
			t.Errorf("a wrong code: %q, want it refused", msg)
		}
	}
	if msg := submit(clock.code(t, secret, 0)); !strings.Contains(msg, "Too many failed sign-ins") {
		t.Errorf("the right code after five failures: %q, want the throttle", msg)
	}
}

// enrolmentRoutes are all a user held by the 2FA policy may reach (besides the
// public ones): the security page, enrolling an authenticator app, signing out.
var enrolmentRoutes = map[string]bool{
	"GET /admin/account/security":                  true,
	"POST /admin/account/security/totp/start":      true,
	"GET /admin/account/security/totp":             true,
	"POST /admin/account/security/totp":            true,
	"POST /admin/logout":                           true,
	"POST /admin/account/passkeys/register/begin":  true,
	"POST /admin/account/passkeys/register/finish": true,
}

// Acceptance 4: under STOCKROOM_REQUIRE_2FA=superusers, a superuser without a second
// factor opens no admin page but enrolment and sign-out (the whole route table is
// walked); staff are not held; once enrolled, the superuser is free.
func TestPolicyHoldsAtEnrolment(t *testing.T) {
	t.Parallel()
	clock := newStepClock()
	a := newPolicyTestApp(t, auth.Options{Now: clock.Now}, nil, auth.PolicySuperusers)
	c := a.signedIn(superEmail)
	for _, rt := range a.routes {
		if rt.Perm == web.Public || rt.Pattern == "POST /admin/logout" {
			continue
		}
		method, path := requestFor(t, a, rt)
		var r response
		if method == "GET" {
			r = c.get(path)
		} else {
			r = c.post(path, url.Values{})
		}
		if r.status >= 500 {
			t.Fatalf("%s %s: %d\n%s", method, path, r.status, r.logged)
		}
		held := r.status == http.StatusForbidden || r.status == http.StatusSeeOther && r.header.Get("Location") == securityPath
		if enrolmentRoutes[rt.Pattern] {
			if held || isLoginRedirect(r) {
				t.Errorf("enrolment route %s %s held: %d %q", method, path, r.status, r.header.Get("Location"))
			}
			continue
		}
		switch {
		case method == "GET" && (r.status != http.StatusSeeOther || r.header.Get("Location") != securityPath):
			t.Errorf("held superuser GET %s = %d %q, want 303 to %s", path, r.status, r.header.Get("Location"), securityPath)
		case method != "GET" && r.status != http.StatusForbidden:
			t.Errorf("held superuser %s %s = %d, want 403", method, path, r.status)
		}
	}
	r := c.get(securityPath)
	must(t, r, http.StatusOK, `id="must-enrol"`)
	if strings.Contains(r.body, `href="/admin/orders/"`) {
		t.Error("the held user's page shows the navigation")
	}
	// Staff are not covered by "superusers".
	must(t, a.signedIn(staffEmail).get("/admin/"), http.StatusOK)

	// Enrolled, the superuser is free (the enrolment's own request already was).
	enrol(t, c, clock)
	must(t, c.get("/admin/"), http.StatusOK)
	must(t, c.get("/admin/users/"), http.StatusOK)
	must(t, c.post("/admin/logout", nil), http.StatusSeeOther)
}

// "staff" holds every user without a second factor; "off" holds nobody.
func TestPolicyStaff(t *testing.T) {
	t.Parallel()
	a := newPolicyTestApp(t, auth.Options{}, nil, auth.PolicyStaff)
	for _, email := range []string{staffEmail, viewEmail, superEmail} {
		r := a.signedIn(email).get("/admin/")
		if r.status != http.StatusSeeOther || r.header.Get("Location") != securityPath {
			t.Errorf("%s under staff: GET /admin/ = %d %q, want the security page", email, r.status, r.header.Get("Location"))
		}
	}
	if !auth.PolicyStaff.Covers(&auth.Principal{UserID: 1}) || auth.PolicyOff.Covers(&auth.Principal{UserID: 1, Superuser: true}) ||
		auth.PolicyStaff.Covers(&auth.Principal{UserID: 1, TokenID: 3}) {
		t.Error("Covers: staff covers staff, off nobody, and no policy covers an API token")
	}
}

// A superuser resets another user's second factor after a confirmation: the app and
// codes go, the user's sessions end, the audit log says who did it. Nobody else may,
// and not on themselves.
func TestResetSecondFactor(t *testing.T) {
	t.Parallel()
	a, clock := newTOTPApp(t)
	owner := a.signedIn(staffEmail)
	enrol(t, owner, clock)
	uid := a.ids[staffEmail]
	path := fmt.Sprintf("/admin/users/%d/two-factor", uid)

	a.user("changer@example.com", false, "users.view", "users.change")
	changer := a.signedIn("changer@example.com")
	must(t, changer.get(path), http.StatusForbidden)
	must(t, changer.post(path, nil), http.StatusForbidden)
	must(t, a.signedIn(viewEmail).get(path), http.StatusForbidden)

	super := a.signedIn(superEmail)
	must(t, super.get(fmt.Sprintf("/admin/users/%d/", uid)), http.StatusOK, `href="`+path+`"`)
	must(t, super.get(path), http.StatusOK, "<strong>On:</strong>", "Yes, reset two-factor sign-in")
	self := fmt.Sprintf("/admin/users/%d/two-factor", a.ids[superEmail])
	must(t, super.post(self, nil), http.StatusUnprocessableEntity, "This is you")

	r := super.post(path, nil)
	must(t, r, http.StatusSeeOther)
	must(t, super.get(fmt.Sprintf("/admin/users/%d/", uid)), http.StatusOK, "was reset and their sessions ended")
	if r := owner.get("/admin/"); !isLoginRedirect(r) {
		t.Errorf("the user's session after the reset: %d, want signed out", r.status)
	}
	if n := a.auditCount(auth.ActionResetSecondFactor, auth.ResourceUsers, uid); n != 1 {
		t.Errorf("%d reset_second_factor audit rows, want 1", n)
	}
	r = a.client().login(staffEmail, password)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/" {
		t.Errorf("sign-in after the reset: %d %q, want straight in", r.status, r.header.Get("Location"))
	}
	must(t, super.get(path), http.StatusOK, "There is nothing to reset")
	must(t, super.post(path, nil), http.StatusSeeOther)
}
