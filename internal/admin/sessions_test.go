package admin

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/stockroom-dev/stockroom/internal/auth"
)

// sessionRow records a session of user id that is not live (no session row): a
// fixture for routes that take a session's id.
func (a *testApp) sessionRow(userID int64) int64 {
	a.t.Helper()
	var id int64
	err := a.st.Pool().QueryRow(context.Background(),
		`INSERT INTO user_sessions (token, user_id, client_addr, user_agent, auth_version) VALUES ($1, $2, '192.0.2.1', 'test', 1) RETURNING id`,
		rand.Text(), userID).Scan(&id)
	if err != nil {
		a.t.Fatal(err)
	}
	return id
}

var (
	sessionIDRe = regexp.MustCompile(`<tr id="session-(\d+)"`)
	currentRe   = regexp.MustCompile(`<tr id="session-(\d+)" class="current">`)
)

// sessionIDs are the sessions c's list shows, and which one is c's own.
func (c *client) sessionIDs(t *testing.T, path string) (all []string, current string) {
	t.Helper()
	r := c.get(path)
	must(t, r, http.StatusOK)
	for _, m := range sessionIDRe.FindAllStringSubmatch(r.body, -1) {
		all = append(all, m[1])
	}
	if m := currentRe.FindStringSubmatch(r.body); m != nil {
		current = m[1]
	}
	return all, current
}

func signedOut(t *testing.T, c *client) bool {
	t.Helper()
	return isLoginRedirect(c.get("/admin/"))
}

// Acceptance 5: the sessions page lists where the user is signed in, this one
// marked; "sign out" ends another session (its next request is signed out), "sign
// out everywhere else" ends all but this one; nobody ends someone else's, except a
// superuser from the user's page; a password change keeps this session listed.
func TestSessionsPage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c1, c2, c3 := a.signedIn(staffEmail), a.signedIn(staffEmail), a.signedIn(staffEmail)
	all, cur1 := c1.sessionIDs(t, sessionsPath)
	_, cur2 := c2.sessionIDs(t, sessionsPath)
	if len(all) != 3 || cur1 == "" || cur2 == "" || cur1 == cur2 {
		t.Fatalf("sessions %v, current %q and %q: want 3, each its own marked", all, cur1, cur2)
	}
	must(t, c1.get(sessionsPath), http.StatusOK, "Go program", "127.0.0.1", "(this session)")

	// Nobody else ends it: a viewer's try finds nothing of theirs.
	must(t, a.signedIn(viewEmail).post(sessionsPath+"/"+cur2+"/end", nil), http.StatusSeeOther)
	if signedOut(t, c2) {
		t.Fatal("another user ended the session")
	}
	// This session is not ended from the list.
	must(t, c1.post(sessionsPath+"/"+cur1+"/end", nil), http.StatusSeeOther)
	must(t, c1.get(sessionsPath), http.StatusOK, "That is this session")

	must(t, c1.post(sessionsPath+"/"+cur2+"/end", nil), http.StatusSeeOther)
	must(t, c1.get(sessionsPath), http.StatusOK, "The session was signed out.")
	if !signedOut(t, c2) {
		t.Error("the ended session is still signed in")
	}
	if signedOut(t, c3) || signedOut(t, c1) {
		t.Error("ending one session ended others")
	}
	if n := a.auditCount(auth.ActionEndSession, auth.ResourceSessions, a.ids[staffEmail]); n != 1 {
		t.Errorf("%d end_session audit rows, want 1", n)
	}

	// A password change renews this session's token: still listed, still this one.
	must(t, c1.post("/admin/password", url.Values{"current": {password}, "password": {"a brand new passphrase 42"},
		"password2": {"a brand new passphrase 42"}}), http.StatusSeeOther)
	if all, cur := c1.sessionIDs(t, sessionsPath); len(all) != 1 || cur != cur1 {
		t.Errorf("after the password change: sessions %v, current %q; want only %s (the others ended with the password)", all, cur, cur1)
	}
	c4 := a.client()
	must(t, c4.login(staffEmail, "a brand new passphrase 42"), http.StatusSeeOther)
	must(t, c1.post(sessionsPath+"/end-others", nil), http.StatusSeeOther)
	must(t, c1.get(sessionsPath), http.StatusOK, "1 other session was signed out.")
	if !signedOut(t, c4) || signedOut(t, c1) {
		t.Error("sign out everywhere else: want c4 out and c1 in")
	}
	must(t, c1.post(sessionsPath+"/end-others", nil), http.StatusSeeOther)
	must(t, c1.get(sessionsPath), http.StatusOK, "You had no other sessions.")
}

// A superuser sees and ends any user's sessions; users.change alone is not enough.
func TestUserSessionsBySuperuser(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	victim := a.signedIn(viewEmail)
	_, cur := victim.sessionIDs(t, sessionsPath)
	path := fmt.Sprintf("/admin/users/%d/sessions", a.ids[viewEmail])
	a.user("changer@example.com", false, "users.view", "users.change")
	changer := a.signedIn("changer@example.com")
	must(t, changer.get(path), http.StatusForbidden)
	must(t, changer.post(path+"/"+cur+"/end", nil), http.StatusForbidden)

	super := a.signedIn(superEmail)
	must(t, super.get(fmt.Sprintf("/admin/users/%d/", a.ids[viewEmail])), http.StatusOK, `href="`+path+`"`)
	all, mine := super.sessionIDs(t, path)
	if len(all) != 1 || all[0] != cur || mine != "" {
		t.Fatalf("superuser sees %v (current %q), want the viewer's %s unmarked", all, mine, cur)
	}
	must(t, super.post(path+"/"+cur+"/end", nil), http.StatusSeeOther)
	if !signedOut(t, victim) {
		t.Error("the superuser's end left the session signed in")
	}
	if n := a.auditCount(auth.ActionEndSession, auth.ResourceSessions, a.ids[viewEmail]); n != 1 {
		t.Errorf("%d end_session audit rows, want 1", n)
	}
	if all, _ := super.sessionIDs(t, path); len(all) != 0 {
		t.Errorf("after the end: sessions %v", all)
	}
	for _, d := range []struct{ ua, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36 Edg/130.0", "Edge on Windows"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1", "Safari on iPhone"},
		{"", "Unknown browser"},
	} {
		if got := auth.Device(d.ua); got != d.want {
			t.Errorf("Device(%q) = %q, want %q", d.ua, got, d.want)
		}
	}
}

// Acceptance 5 in a browser: a session ended from another one's sessions page is
// signed out on that browser's next request.
func TestBrowserSessionEnded(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	ctx := newTab(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/admin/login?next=%2Fadmin%2Faccount%2Fsessions"),
		chromedp.SendKeys(chromedp.ID("email"), staffEmail),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("#login button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("session-list")),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	other := a.signedIn(staffEmail)
	all, mine := other.sessionIDs(t, sessionsPath)
	if len(all) != 2 {
		t.Fatalf("sessions %v, want the browser's and this one", all)
	}
	browserSession := all[0]
	if browserSession == mine {
		browserSession = all[1]
	}
	must(t, other.post(sessionsPath+"/"+browserSession+"/end", nil), http.StatusSeeOther)
	err = chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("login")))
	if err != nil {
		t.Fatalf("the browser after its session ended: %v", err)
	}
	if signedOut(t, other) {
		t.Error("the session that ended the other one was signed out too")
	}
}
