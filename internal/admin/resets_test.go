package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/auth"
)

var resetLinkRe = regexp.MustCompile(`<code id="reset-link">([^<]+)</code>`)

// makeResetLink makes a reset link for user id as the superuser c and returns its
// path.
func makeResetLink(t *testing.T, a *testApp, c *client, id int64) string {
	t.Helper()
	r := c.post(fmt.Sprintf("/admin/users/%d/reset-link", id), nil)
	must(t, r, http.StatusOK, "You will not see this link again")
	m := resetLinkRe.FindStringSubmatch(r.body)
	if m == nil || !strings.HasPrefix(m[1], a.srv.URL+"/admin/reset/") {
		t.Fatalf("no link on the page:\n%.3000s", r.body)
	}
	return strings.TrimPrefix(m[1], a.srv.URL)
}

// Acceptance 5: a superuser's reset link works once, expires, dies when the password
// changes another way or a newer link is made; using it ends the user's sessions.
// Only a superuser makes one.
func TestResetLink(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	uid := a.ids[staffEmail]
	form := fmt.Sprintf("/admin/users/%d/reset-link", uid)
	a.user("changer@example.com", false, "users.view", "users.change")
	changer := a.signedIn("changer@example.com")
	must(t, changer.get(form), http.StatusForbidden)
	must(t, changer.post(form, nil), http.StatusForbidden)

	super := a.signedIn(superEmail)
	must(t, super.get(fmt.Sprintf("/admin/users/%d/", uid)), http.StatusOK, `href="`+form+`"`)
	must(t, super.get(form), http.StatusOK, "Make a reset link")
	old := a.signedIn(staffEmail)
	link := makeResetLink(t, a, super, uid)
	if strings.Contains(a.logs.String(), strings.TrimPrefix(link, "/admin/reset/")) {
		t.Error("the token is in the log")
	}

	c := a.client()
	must(t, c.get(link), http.StatusOK, "For staff@example.com")
	must(t, c.post(link, url.Values{"password": {"short"}, "password2": {"short"}}), http.StatusUnprocessableEntity, "Not set")
	must(t, c.post(link, url.Values{"password": {"a fresh passphrase 77"}, "password2": {"another"}}), http.StatusUnprocessableEntity, "does not match")
	r := c.post(link, url.Values{"password": {"a fresh passphrase 77"}, "password2": {"a fresh passphrase 77"}})
	must(t, r, http.StatusSeeOther)
	if r.header.Get("Location") != "/admin/login" {
		t.Errorf("after the reset: Location %q", r.header.Get("Location"))
	}
	if !signedOut(t, old) {
		t.Error("the user's session survived the reset")
	}
	must(t, a.client().login(staffEmail, "a fresh passphrase 77"), http.StatusSeeOther)
	// Once only.
	must(t, a.client().get(link), http.StatusNotFound, "This link is not valid")
	must(t, a.client().post(link, url.Values{"password": {"yet another passphrase"}, "password2": {"yet another passphrase"}}),
		http.StatusNotFound, "This link is not valid")

	// Expired.
	link = makeResetLink(t, a, super, uid)
	if _, err := a.st.Pool().Exec(context.Background(), `UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`); err != nil {
		t.Fatal(err)
	}
	must(t, a.client().get(link), http.StatusNotFound)
	// Voided by a password change made another way.
	link = makeResetLink(t, a, super, uid)
	if err := a.auth.SetPasswordByEmail(context.Background(), staffEmail, "changed on the command line"); err != nil {
		t.Fatal(err)
	}
	must(t, a.client().get(link), http.StatusNotFound)
	// Voided by a newer link.
	first := makeResetLink(t, a, super, uid)
	second := makeResetLink(t, a, super, uid)
	must(t, a.client().get(first), http.StatusNotFound)
	must(t, a.client().get(second), http.StatusOK)

	if n := a.auditCount(auth.ActionMakeResetLink, auth.ResourceUsers, uid); n != 5 {
		t.Errorf("%d make_reset_link audit rows, want 5", n)
	}
	if n := a.auditCount(auth.ActionUseResetLink, auth.ResourceUsers, uid); n != 1 {
		t.Errorf("%d use_reset_link audit rows, want 1", n)
	}
}
