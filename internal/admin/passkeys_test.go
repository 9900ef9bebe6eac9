package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/stockroom-dev/stockroom/internal/auth"
)

// passkeyRow stores a passkey for user id straight in the database: a fixture for
// the pages that list, rename and remove passkeys (its key signs nothing).
func (a *testApp) passkeyRow(userID int64, name string) int64 {
	a.t.Helper()
	var id int64
	err := a.st.Pool().QueryRow(context.Background(),
		`INSERT INTO passkeys (user_id, name, credential_id, credential) VALUES ($1, $2, $3, '{"id": ""}') RETURNING id`,
		userID, name, []byte(name)).Scan(&id)
	if err != nil {
		a.t.Fatal(err)
	}
	return id
}

// postJSON sends a JSON body as the passkey script does.
func (c *client) postJSON(path, body string) response {
	c.a.t.Helper()
	req, err := http.NewRequest("POST", c.a.srv.URL+path, strings.NewReader(body))
	if err != nil {
		c.a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req)
}

// problemDetail is the detail of a problem+json answer.
func problemDetail(t *testing.T, r response) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json; body %.500s", ct, r.body)
	}
	var p struct{ Detail string }
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatal(err)
	}
	return p.Detail
}

// The passkey exchanges refuse what is out of order or malformed with a clear JSON
// answer, and write nothing; the pages around them are the owner's only.
func TestPasskeyRefusals(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.signedIn(staffEmail)
	tests := []struct {
		name, path, body string
		status           int
		detail           string
	}{
		{"no name", "/admin/account/passkeys/register/begin", `{"name": "  "}`, 422, "Name is required"},
		{"not JSON", "/admin/account/passkeys/register/begin", `name=x`, 400, "not understood"},
		{"finish without begin", "/admin/account/passkeys/register/finish", `{}`, 400, "did not match"},
		{"second step without password", "/admin/login/passkey/begin", `{}`, 401, "sign in again"},
		{"passwordless finish without begin", "/admin/login/passwordless/finish", `{}`, 400, "did not match"},
		{"NUL in the name", "/admin/account/passkeys/register/begin", `{"name": "a\u0000b"}`, 422, "Name must not contain the NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.postJSON(tt.path, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if d := problemDetail(t, r); !strings.Contains(d, tt.detail) {
				t.Errorf("detail %q, want %q in it", d, tt.detail)
			}
		})
	}
	// A name already given is refused before the browser is asked.
	a.passkeyRow(a.ids[staffEmail], "Laptop")
	r := c.postJSON("/admin/account/passkeys/register/begin", `{"name": "laptop"}`)
	if r.status != 422 || !strings.Contains(problemDetail(t, r), "another of your passkeys") {
		t.Errorf("taken name: %d %s", r.status, r.body)
	}
	r = c.postJSON("/admin/account/passkeys/register/begin", `{"name": "Phone", "passwordless": true}`)
	must(t, r, http.StatusOK, `"publicKey"`, `"residentKey":"required"`)

	// Someone else's passkey is not found; the owner renames (validated) and removes it.
	other := a.passkeyRow(a.ids[viewEmail], "Viewer key")
	must(t, c.get(fmt.Sprintf("/admin/account/passkeys/%d/", other)), http.StatusNotFound)
	must(t, c.post(fmt.Sprintf("/admin/account/passkeys/%d/delete", other), nil), http.StatusNotFound)
	mine := a.passkeyRow(a.ids[staffEmail], "Desk key")
	edit := fmt.Sprintf("/admin/account/passkeys/%d/", mine)
	must(t, c.post(edit, url.Values{"name": {""}}), http.StatusUnprocessableEntity, "is required: name the device")
	must(t, c.post(edit, url.Values{"name": {"Laptop"}}), http.StatusUnprocessableEntity, "another of your passkeys")
	must(t, c.post(edit, url.Values{"name": {"Desk key 2"}, "passwordless": {"on"}}), http.StatusSeeOther)
	must(t, c.get(securityPath), http.StatusOK, "Desk key 2", "yes")
	must(t, c.get(edit+"delete"), http.StatusOK, "Yes, delete")
	must(t, c.post(edit+"delete", nil), http.StatusSeeOther)
	must(t, c.get(securityPath), http.StatusOK, "Passkey “Desk key 2” removed.")
	for _, action := range []string{auth.ActionUpdatePasskey, auth.ActionRemovePasskey} {
		if n := a.auditCount(action, auth.ResourceUsers, a.ids[staffEmail]); n != 1 {
			t.Errorf("%d %s audit rows, want 1", n, action)
		}
	}
}

// virtualAuthenticator gives the tab a CTAP2 platform authenticator that holds
// discoverable credentials and verifies the user (Chromium's DevTools WebAuthn
// domain): a passkey device with no person needed.
func virtualAuthenticator(ctx context.Context) error {
	return chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
			}})
		return err
	}))
}

// Acceptance 1: with Chromium's virtual authenticator, register a passkey, sign out,
// sign in with password and passkey; passwordless is refused until the owner allows
// it, then works; remove the passkey.
func TestBrowserPasskeys(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	base := strings.Replace(a.srv.URL, "127.0.0.1", "localhost", 1)
	ctx := newTab(t)
	if err := virtualAuthenticator(ctx); err != nil {
		t.Fatalf("virtual authenticator: %v", err)
	}
	signIn := chromedp.Steps(
		chromedp.Navigate(base+"/admin/login"),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("email"), superEmail),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("#login button[type=submit]")),
	)
	err := chromedp.Do(ctx, signIn,
		chromedp.WaitVisible(chromedp.ID("dashboard")),
		chromedp.Navigate(base+securityPath),
		chromedp.WaitVisible(chromedp.ID("no-passkeys")),
		chromedp.SendKeys(chromedp.ID("passkey-name"), "Test laptop"),
		chromedp.Click(chromedp.ID("register-passkey")),
		chromedp.WaitVisible(chromedp.ID("passkey-list")),
	)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if txt, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("passkey-list"))); err != nil || !strings.Contains(txt, "Test laptop") {
		t.Errorf("passkey list %q (%v)", txt, err)
	}
	if n := a.auditCount(auth.ActionAddPasskey, auth.ResourceUsers, a.ids[superEmail]); n != 1 {
		t.Errorf("%d add_passkey audit rows, want 1", n)
	}

	// Password, then the passkey.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("login")),
		signIn,
		chromedp.WaitVisible(chromedp.ID("use-passkey")),
		chromedp.Click(chromedp.ID("use-passkey")),
		chromedp.WaitVisible(chromedp.ID("dashboard")),
	)
	if err != nil {
		t.Fatalf("password and passkey: %v", err)
	}

	// Alone: refused while the passkey is a second factor only.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("passwordless")),
		chromedp.Click(chromedp.ID("passwordless")),
		chromedp.WaitVisible(chromedp.ID("passwordless-status")),
	)
	if err != nil {
		t.Fatalf("passwordless before opting in: %v", err)
	}
	if msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("passwordless-status"))); err != nil || !strings.Contains(msg, "not accepted") {
		t.Errorf("passwordless before opting in says %q (%v)", msg, err)
	}

	// Opted in, it signs in alone.
	var keyID int64
	if err := a.st.Pool().QueryRow(context.Background(), `SELECT id FROM passkeys WHERE user_id = $1`, a.ids[superEmail]).Scan(&keyID); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx, signIn,
		chromedp.Click(chromedp.ID("use-passkey")),
		chromedp.WaitVisible(chromedp.ID("dashboard")),
		chromedp.Navigate(fmt.Sprintf("%s/admin/account/passkeys/%d/", base, keyID)),
		chromedp.Click(chromedp.ID("passwordless")),
		chromedp.Click(chromedp.CSS("#passkey-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("passkey-list")),
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("passwordless")),
		chromedp.Click(chromedp.ID("passwordless")),
		chromedp.WaitVisible(chromedp.ID("dashboard")),
	)
	if err != nil {
		t.Fatalf("passwordless after opting in: %v", err)
	}

	// Remove it, after the confirmation.
	err = chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/admin/account/passkeys/%d/delete", base, keyID)),
		chromedp.Click(chromedp.CSS("form button.danger")),
		chromedp.WaitVisible(chromedp.ID("no-passkeys")),
	)
	if err != nil {
		t.Fatalf("remove: %v", err)
	}
	if n := a.auditCount(auth.ActionRemovePasskey, auth.ResourceUsers, a.ids[superEmail]); n != 1 {
		t.Errorf("%d remove_passkey audit rows, want 1", n)
	}
}
