package admin

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/web/session"
)

// Acceptance 1: signed out, the admin sends you to sign in and remembers where to.
func TestSignedOutIsSentToSignIn(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.client()
	tests := []struct{ path, want string }{
		{"/admin/", "/admin/login?next=%2Fadmin%2F"},
		{"/admin/users/?q=ada&size=25", "/admin/login?next=%2Fadmin%2Fusers%2F%3Fq%3Dada%26size%3D25"},
		{"/admin/password", "/admin/login?next=%2Fadmin%2Fpassword"},
	}
	for _, tt := range tests {
		r := c.get(tt.path)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != tt.want {
			t.Errorf("GET %s = %d Location %q, want 303 %q", tt.path, r.status, r.header.Get("Location"), tt.want)
		}
	}
	// Not a GET: nothing to come back to, so 401 and no redirect.
	if r := c.post("/admin/logout", nil); r.status != http.StatusUnauthorized {
		t.Errorf("POST /admin/logout signed out = %d, want 401", r.status)
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	tests := []struct{ next, want string }{
		{"/admin/users/", "/admin/users/"},
		{"/admin/users/?q=a&sort=-email", "/admin/users/?q=a&sort=-email"},
		{"/admin/", "/admin/"},
		{"", "/admin/"},
		{"https://evil.example", "/admin/"},
		{"https://evil.example/admin/", "/admin/"},
		{"//evil.example", "/admin/"},
		{"//evil.example/admin/", "/admin/"},
		{"/\\evil.example", "/admin/"},
		{"/admin/\\evil.example", "/admin/"},
		{"\\\\evil.example", "/admin/"},
		{"/%2F%2Fevil.example", "/admin/"},
		{"%2F%2Fevil.example", "/admin/"},
		{"/admin/../evil", "/admin/"},
		{"/admin/%2e%2e/%2e%2e/evil", "/admin/"},
		{"/admin/\t//evil.example", "/admin/"},
		{"\t/admin/", "/admin/"},
		{"javascript:alert(1)", "/admin/"},
		{"/api/v1/products", "/admin/"},
		{"/adminx", "/admin/"},
		{"/admin", "/admin/"},
	}
	for _, tt := range tests {
		if got := safeNext(tt.next); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.next, got, tt.want)
		}
	}
}

// Acceptance 1: next never leads off-site, whether posted with the form or given to
// the sign-in page of someone already signed in, encoded or not.
func TestSignInNextStaysLocal(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	tests := []struct{ next, want string }{
		{"/admin/users/?active=yes", "/admin/users/?active=yes"},
		{"https://evil.example", "/admin/"},
		{"//evil.example", "/admin/"},
		{"/\\evil.example", "/admin/"},
		{"%2F%2Fevil.example", "/admin/"},
		{"https:%2F%2Fevil.example", "/admin/"},
	}
	for _, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			c := a.client()
			r := c.post("/admin/login", url.Values{"email": {superEmail}, "password": {password}, "next": {tt.next}})
			if r.status != http.StatusSeeOther || r.header.Get("Location") != tt.want {
				t.Errorf("POST login next=%q: %d Location %q, want 303 %q", tt.next, r.status, r.header.Get("Location"), tt.want)
			}
			r = c.get("/admin/login?next=" + url.QueryEscape(tt.next))
			if r.header.Get("Location") != tt.want {
				t.Errorf("GET login (signed in) next=%q: Location %q, want %q", tt.next, r.header.Get("Location"), tt.want)
			}
		})
	}
}

// Acceptance 2: a failed sign-in shows one generic message whatever failed, and no
// session; the password is never sent back.
func TestWrongPasswordIsGeneric(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	inactive := a.user("gone@example.com", false)
	if _, err := a.auth.UpdateUser(context.Background(), nil, inactive, 1, auth.UserInput{Email: "gone@example.com"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, email, password string }{
		{"wrong password", superEmail, "not the password at all"},
		{"unknown email", "nobody@example.com", password},
		{"inactive user", "gone@example.com", password},
		{"empty form", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := a.client()
			r := c.login(tt.email, tt.password)
			must(t, r, http.StatusUnauthorized, badCredentials, `id="login"`)
			if c.token() != "" || r.header.Get("Set-Cookie") != "" {
				t.Errorf("failed sign-in set a cookie: %q", r.header.Get("Set-Cookie"))
			}
			if tt.password != "" && strings.Contains(r.body, tt.password) {
				t.Errorf("the page echoes the password")
			}
			if strings.Count(r.body, `role="alert"`) != 1 {
				t.Errorf("want exactly one message")
			}
		})
	}
	if strings.Contains(a.logs.String(), password) {
		t.Error("a password reached the log")
	}
}

// Acceptance 2: a sign-in sets an HttpOnly, SameSite=Lax cookie under a token the
// client never had before: neither one planted on it nor its earlier session's.
func TestSignInRenewsToken(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.client()
	u, _ := url.Parse(a.srv.URL)
	c.c.Jar.SetCookies(u, []*http.Cookie{{Name: session.CookieName, Value: "planted-by-an-attacker-0123456789abcdef"}})
	r := c.login(superEmail, password)
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", r.status)
	}
	set := r.header.Get("Set-Cookie")
	for _, want := range []string{session.CookieName + "=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %s", set, want)
		}
	}
	first := c.token()
	if first == "" || first == "planted-by-an-attacker-0123456789abcdef" {
		t.Fatalf("token after sign-in = %q: want a new one", first)
	}
	if strings.Contains(a.logs.String(), first) {
		t.Error("the session token reached the log")
	}
	must(t, c.get("/admin/"), http.StatusOK, `id="dashboard"`)

	// Sign out: the session ends, the next page has a new (anonymous) one.
	r = c.post("/admin/logout", nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login" {
		t.Fatalf("sign out: %d %q", r.status, r.header.Get("Location"))
	}
	afterLogout := c.token()
	if afterLogout == first {
		t.Error("sign-out kept the token")
	}
	must(t, c.get("/admin/login"), http.StatusOK, "You have signed out.")
	if !isLoginRedirect(c.get("/admin/")) {
		t.Error("still signed in after sign-out")
	}
	c.login(superEmail, password)
	if tok := c.token(); tok == afterLogout || tok == first || tok == "" {
		t.Errorf("second sign-in token %q: want one never seen before", tok)
	}
}

// Acceptance 3: a cross-site POST with a valid session is refused and changes nothing.
func TestCrossOriginPostRefused(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.signedIn(superEmail)
	victim := a.ids[staffEmail]
	form := url.Values{"version": {"1"}, "email": {staffEmail}, "name": {"Hacked"}}
	for _, headers := range [][]string{
		{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "https://evil.example"},
	} {
		r := c.post(fmt.Sprintf("/admin/users/%d/", victim), form, headers...)
		if r.status != http.StatusForbidden {
			t.Errorf("%v: status %d, want 403", headers, r.status)
		}
	}
	if u := a.getUser(victim); u.Name != "" || !u.IsActive || u.Version != 1 {
		t.Errorf("user after cross-site posts: name %q active %t version %d; want unchanged", u.Name, u.IsActive, u.Version)
	}
	if r := c.post("/admin/logout", nil, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); r.status != http.StatusForbidden {
		t.Errorf("cross-site sign-out: %d, want 403", r.status)
	}
	must(t, c.get("/admin/"), http.StatusOK, `id="dashboard"`)
	// The same post from the same origin goes through.
	r := c.post(fmt.Sprintf("/admin/users/%d/", victim), url.Values{"version": {"1"}, "email": {staffEmail},
		"name": {"Renamed"}, "is_active": {"on"}}, "Origin", a.srv.URL, "Sec-Fetch-Site", "same-origin")
	if r.status != http.StatusSeeOther || a.getUser(victim).Name != "Renamed" {
		t.Errorf("same-origin post: %d, name %q", r.status, a.getUser(victim).Name)
	}
}

// Acceptance 4: after five failures an email is refused even with the right password,
// with a "try again" message and 429; other emails are unaffected.
func TestThrottleByEmail(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.client()
	for i := 1; i <= 5; i++ {
		if r := c.login(staffEmail, "wrong password number "+fmt.Sprint(i)); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i, r.status)
		}
	}
	r := c.login(staffEmail, "wrong password number 6")
	must(t, r, http.StatusTooManyRequests, "Too many failed sign-ins. Try again in 15 minutes.")
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	r = c.login(staffEmail, password)
	must(t, r, http.StatusTooManyRequests, "Try again in")
	if c.token() != "" {
		t.Error("a throttled sign-in set a session")
	}
	// The email's lock is its own.
	if r := a.client().login(viewEmail, password); r.status != http.StatusSeeOther {
		t.Errorf("other email: status %d, want 303", r.status)
	}
	// Case and spaces do not make a new email.
	if r := c.login("  STAFF@example.com ", password); r.status != http.StatusTooManyRequests {
		t.Errorf("same email in capitals: status %d, want 429", r.status)
	}
}

// A success forgets the email's failures.
func TestSuccessResetsThrottle(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.client()
	for range 4 {
		c.login(staffEmail, "wrong password!")
	}
	if r := c.login(staffEmail, password); r.status != http.StatusSeeOther {
		t.Fatalf("fifth attempt, right password: %d", r.status)
	}
	for range 4 {
		c.login(staffEmail, "wrong password!")
	}
	if r := a.client().login(staffEmail, password); r.status != http.StatusSeeOther {
		t.Errorf("after a success and four more failures: %d, want 303", r.status)
	}
}

// Failures from one address across many emails hit the per-address limit.
func TestThrottleByAddress(t *testing.T) {
	t.Parallel()
	a := newTestAppWith(t, auth.Options{AddressLimit: 3}, nil)
	c := a.client()
	for i := range 3 {
		c.login(fmt.Sprintf("guess%d@example.com", i), "wrong password")
	}
	must(t, c.login(superEmail, password), http.StatusTooManyRequests, "Try again in")
}

// Acceptance 5.
func TestPasswordHashIsArgon2id(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	var hash string
	if err := a.st.Pool().QueryRow(context.Background(), "SELECT password_hash FROM users WHERE email = $1", superEmail).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$") {
		t.Errorf("password_hash = %q, want prefix $argon2id$v=19$", hash)
	}
}

// A weaker stored hash is replaced at sign-in, transparently.
func TestRehashOnSignIn(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	weak, err := auth.NewHasher(auth.Params{Memory: 32, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1).Hash(context.Background(), password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.Pool().Exec(context.Background(), "UPDATE users SET password_hash = $1 WHERE email = $2", weak, staffEmail); err != nil {
		t.Fatal(err)
	}
	a.signedIn(staffEmail)
	if got := a.getUser(a.ids[staffEmail]).PasswordHash; !strings.HasPrefix(got, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash after sign-in = %q, want it rehashed with m=64", got)
	}
	a.signedIn(staffEmail) // and the new hash verifies
}

// Deactivating a user ends their sessions at once.
func TestDeactivationEndsSessions(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	staff := a.signedIn(staffEmail)
	must(t, staff.get("/admin/"), http.StatusOK)
	admin := a.signedIn(superEmail)
	id := a.ids[staffEmail]
	r := admin.post(fmt.Sprintf("/admin/users/%d/", id), url.Values{"version": {"1"}, "email": {staffEmail}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("deactivate: %d\n%s", r.status, r.body)
	}
	if !isLoginRedirect(staff.get("/admin/")) {
		t.Error("a deactivated user's session still works")
	}
	if r := a.client().login(staffEmail, password); r.status != http.StatusUnauthorized {
		t.Errorf("deactivated user signs in: %d, want 401", r.status)
	}
}

// Changing your own password keeps this session and ends the others; an admin
// setting it ends all of them.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	here, there := a.signedIn(staffEmail), a.signedIn(staffEmail)
	before := here.token()
	const newPW = "a brand new passphrase"
	r := here.post("/admin/password", url.Values{"current": {password}, "password": {newPW}, "password2": {newPW}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("change password: %d\n%s", r.status, r.body)
	}
	must(t, here.get("/admin/"), http.StatusOK, "Your password has been changed")
	if here.token() == before {
		t.Error("the token was not renewed on password change")
	}
	if !isLoginRedirect(there.get("/admin/")) {
		t.Error("the other session survived the password change")
	}
	if r := a.client().login(staffEmail, password); r.status != http.StatusUnauthorized {
		t.Errorf("old password still works: %d", r.status)
	}
	// An admin sets it: every session of the user ends.
	admin := a.signedIn(superEmail)
	r = admin.post(fmt.Sprintf("/admin/users/%d/password", a.ids[staffEmail]), url.Values{"password": {password}, "password2": {password}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("set password: %d\n%s", r.status, r.body)
	}
	if !isLoginRedirect(here.get("/admin/")) {
		t.Error("the user's session survived an admin setting the password")
	}
	must(t, admin.get("/admin/"), http.StatusOK)
}

func TestChangePasswordErrors(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.signedIn(staffEmail)
	tests := []struct {
		name             string
		current, pw, pw2 string
		want             string
	}{
		{"wrong current", "not my password", "a brand new passphrase", "a brand new passphrase", "is not your current password"},
		{"no current", "", "a brand new passphrase", "a brand new passphrase", "is required"},
		{"mismatch", password, "a brand new passphrase", "another passphrase", "does not match the new password"},
		{"too short", password, "short", "short", "must be at least 12 characters"},
		{"the email", password, staffEmail, staffEmail, "must not be your email address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.post("/admin/password", url.Values{"current": {tt.current}, "password": {tt.pw}, "password2": {tt.pw2}})
			must(t, r, http.StatusUnprocessableEntity, tt.want, `aria-invalid="true"`)
			if tt.pw != "" && strings.Contains(r.body, tt.pw) && tt.pw != staffEmail {
				t.Error("the page echoes a password")
			}
		})
	}
	must(t, c.get("/admin/"), http.StatusOK) // still signed in, password unchanged
	a.signedIn(staffEmail)
}

// Expired sessions and sign-in failures too old to count are deleted in the
// background, and Close stops that cleanly.
func TestExpiredSessionsAreDeleted(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	ctx := context.Background()
	if _, err := a.st.Pool().Exec(ctx, `INSERT INTO sessions (token, data, expiry)
		VALUES ('expired', '', now() - interval '1 minute'), ('live', '', now() + interval '1 hour');
		INSERT INTO login_attempts (email, client_addr, attempted_at)
		VALUES ('old@example.com', '127.0.0.1', now() - interval '2 days'), ('new@example.com', '127.0.0.1', now())`); err != nil {
		t.Fatal(err)
	}
	s := session.New(a.st, a.auth, slog.New(slog.DiscardHandler), session.Options{
		Idle: time.Hour, Lifetime: time.Hour, Cleanup: time.Millisecond})
	defer s.Close()
	for range 500 {
		var tokens []string
		rows, err := a.st.Pool().Query(ctx, "SELECT token FROM sessions ORDER BY token")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var tok string
			rows.Scan(&tok)
			tokens = append(tokens, tok)
		}
		rows.Close()
		var emails string
		if err := a.st.Pool().QueryRow(ctx, "SELECT string_agg(email::text, ',') FROM login_attempts").Scan(&emails); err != nil {
			t.Fatal(err)
		}
		if len(tokens) == 1 && tokens[0] == "live" && emails == "new@example.com" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("the expired session or the old sign-in failure was never deleted")
}
