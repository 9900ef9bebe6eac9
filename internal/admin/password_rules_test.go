package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/auth"
)

// Every password rule on every admin path that sets a password: the user form (new
// user), a superuser setting someone's password, the account's own password page and
// a reset link.
// Each refusal is a 422 with the rule's message on the password field.
func TestPasswordRulesOnEveryAdminPath(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	const email, name = "gh@example.com", "Grace Hopper"
	u, err := a.auth.CreateUser(context.Background(), nil, auth.UserInput{Email: email, Name: name, Password: password, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	rules := []struct{ name, password, want string }{
		{"short", "eleven char", "must be at least 12 characters"},
		{"only digits", "314159265358979", "must not be only digits"},
		{"the email", email, "must not be your email address"},
		{"like the email", "gh@example.co", "is too similar to your email address"},
		{"like the name", "grace hopper!", "is too similar to your name"},
		{"common", "password1234", "is too common"},
	}
	super, own := a.signedIn(superEmail), a.signedIn(email)
	link := makeResetLink(t, a, super, u.ID)
	paths := []struct {
		name string
		post func(pw string) response
	}{
		{"user form", func(pw string) response {
			// The new user has the same email shape and name, so the same rules bite.
			return super.post("/admin/users/new", userFormValues(0, "gh2@example.com", name, true, false,
				"password", pw, "password2", pw))
		}},
		{"set a user's password", func(pw string) response {
			return super.post(fmt.Sprintf("/admin/users/%d/password", u.ID), url.Values{"password": {pw}, "password2": {pw}})
		}},
		{"own password", func(pw string) response {
			return own.post("/admin/password", url.Values{"current": {password}, "password": {pw}, "password2": {pw}})
		}},
		{"reset link", func(pw string) response { // a refused password leaves the link working
			return a.client().post(link, url.Values{"password": {pw}, "password2": {pw}})
		}},
	}
	for _, p := range paths {
		for _, rule := range rules {
			pw := rule.password
			if p.name == "user form" && pw == email {
				pw = "gh2@example.com"
			}
			t.Run(p.name+"/"+rule.name, func(t *testing.T) {
				must(t, p.post(pw), http.StatusUnprocessableEntity, rule.want, `id="password-error"`)
			})
		}
	}
	// The same paths take a password that breaks no rule.
	for _, p := range paths[:2] {
		if r := p.post("a fine new passphrase"); r.status != http.StatusSeeOther {
			t.Errorf("%s with a good password: %d\n%s", p.name, r.status, r.body)
		}
	}
}
