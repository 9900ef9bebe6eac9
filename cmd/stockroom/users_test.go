package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// stockroomIn is stockroom with stdin.
func stockroomIn(ctx context.Context, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errOut dbtest.LogBuffer
	err := run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errOut)
	code = exitCode(err, &errOut)
	return code, out.String(), errOut.String()
}

// signIn reports whether email and password sign in on the database at url.
func signIn(t *testing.T, url, email, password string) error {
	t.Helper()
	st, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := auth.New(st, auth.NewHasher(auth.DefaultParams, 1), testLogger(), auth.Options{})
	_, err = svc.Authenticate(context.Background(), email, password, "127.0.0.1")
	return err
}

func TestCreateSuperuserAndChangePassword(t *testing.T) {
	ctx := context.Background()
	url := dbtest.NewURL(t)
	env := map[string]string{"STOCKROOM_DATABASE_URL": url}
	code, out, stderr := stockroomIn(ctx, env, "first password 1\n", "createsuperuser", "--email", "Boss@Example.com", "--name", "Roy Hobbs", "--password-stdin")
	if code != 0 || !strings.Contains(out, "superuser Boss@Example.com created") {
		t.Fatalf("createsuperuser: exit %d, out %q, err %q", code, out, stderr)
	}
	if err := signIn(t, url, "boss@example.com", "first password 1"); err != nil {
		t.Errorf("sign in with the created password: %v", err)
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"taken email", "another password\n", []string{"createsuperuser", "--email", "boss@example.com", "--password-stdin"}, 1, "email is already used"},
		{"short password", "short\n", []string{"createsuperuser", "--email", "x@example.com", "--password-stdin"}, 1, "password must be at least 12 characters"},
		{"no email", "", []string{"createsuperuser", "--password-stdin"}, 2, "--email"},
		{"empty stdin", "", []string{"createsuperuser", "--email", "x@example.com", "--password-stdin"}, 2, "standard input is empty"},
		{"no terminal", "", []string{"createsuperuser", "--email", "x@example.com"}, 2, "--password-stdin"},
		{"unknown user", "some new password\n", []string{"changepassword", "--email", "nobody@example.com", "--password-stdin"}, 1, "no user has that email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := stockroomIn(ctx, env, tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
	// Every password rule, on both commands that set one.
	rules := []struct{ name, password, want string }{
		{"short", "eleven char", "password must be at least 12 characters"},
		{"only digits", "314159265358979", "password must not be only digits"},
		{"like the email", "boss@example.org", "password is too similar to your email address"},
		{"like the name", "hobbs and roy!", "password is too similar to your name"},
		{"common", "password1234", "password is too common"},
	}
	for _, rule := range rules {
		for _, args := range [][]string{
			{"createsuperuser", "--email", "boss2@Example.com", "--name", "Roy Hobbs", "--password-stdin"},
			{"changepassword", "--email", "boss@example.com", "--password-stdin"},
		} {
			t.Run(args[0]+" "+rule.name, func(t *testing.T) {
				code, _, stderr := stockroomIn(ctx, env, rule.password+"\n", args...)
				if code != 1 || !strings.Contains(stderr, rule.want) {
					t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, rule.want)
				}
			})
		}
	}
	code, out, stderr = stockroomIn(ctx, env, "second password 2\r\n", "changepassword", "--email", "BOSS@example.com", "--password-stdin")
	if code != 0 || !strings.Contains(out, "changed") {
		t.Fatalf("changepassword: exit %d, out %q, err %q", code, out, stderr)
	}
	if err := signIn(t, url, "boss@example.com", "second password 2"); err != nil {
		t.Errorf("sign in with the new password: %v", err)
	}
	if err := signIn(t, url, "boss@example.com", "first password 1"); err == nil {
		t.Error("the old password still signs in")
	}
}

// dev makes admin@example.com once, prints its password once and keeps it in a
// file only its owner reads.
func TestDevAdmin(t *testing.T) {
	ctx := context.Background()
	url := dbtest.NewURL(t)
	dir := t.TempDir()
	st, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out dbtest.LogBuffer
	e := &env{stdout: &out, stderr: io.Discard}
	e.cfg.DataDir = filepath.Join(dir, "data")
	e.cfg.LoginFailureLimit = 5
	if err := prepareDev(ctx, e, st); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(e.cfg.DataDir, "admin-password")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pw := strings.TrimSpace(string(b))
	if !strings.Contains(out.String(), pw) || !strings.Contains(out.String(), file) || len(pw) < 20 {
		t.Errorf("first start printed %q; want the password and %s", out.String(), file)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("password file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if err := signIn(t, url, "admin@example.com", pw); err != nil {
		t.Errorf("sign in as the dev admin: %v", err)
	}
	var again dbtest.LogBuffer
	e.stdout = &again
	if err := prepareDev(ctx, e, st); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(again.String(), pw) || !strings.Contains(again.String(), file) {
		t.Errorf("second start printed %q; want where the password is, not the password", again.String())
	}
}

// newApp serves the admin on the same mux as health and metrics, and the API takes
// the admin's session cookie for same-origin calls but refuses cross-site writes.
func TestAppServesAdmin(t *testing.T) {
	ctx := context.Background()
	url := dbtest.NewURL(t)
	if code, _, stderr := stockroomIn(ctx, map[string]string{"STOCKROOM_DATABASE_URL": url}, "correct-horse-battery\n",
		"createsuperuser", "--email", "boss@example.com", "--password-stdin"); code != 0 {
		t.Fatalf("createsuperuser: %s", stderr)
	}
	st, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := &env{stdout: io.Discard, stderr: io.Discard}
	e.cfg.SessionIdle, e.cfg.SessionLifetime, e.cfg.LoginFailureLimit = time.Hour, 2*time.Hour, 5
	e.cfg.Currency, e.cfg.APIRatePerMinute, e.cfg.MediaDir = "EUR", 1000, t.TempDir()
	a, err := newApp(ctx, e, st, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	srv := httptest.NewServer(a.handler)
	defer srv.Close()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(srv.URL + "/admin/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/login?next=%2Fadmin%2F" {
		t.Errorf("GET /admin/ = %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, p := range []string{"/admin/login", "/healthz"} {
		resp, err := c.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", p, resp.StatusCode)
		}
	}

	jar, _ := cookiejar.New(nil)
	c.Jar = jar
	resp, err = c.PostForm(srv.URL+"/admin/login", neturl.Values{"email": {"boss@example.com"}, "password": {"correct-horse-battery"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in = %d, want 303", resp.StatusCode)
	}
	resp, err = c.Get(srv.URL + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "boss@example.com") {
		t.Errorf("GET /api/v1/me with the session cookie = %d %s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/categories", strings.NewReader(`{"name":"Cross-site"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST with the session cookie = %d, want 403", resp.StatusCode)
	}
	var n int
	if err := st.Pool().QueryRow(ctx, "SELECT count(*) FROM categories WHERE name = 'Cross-site'").Scan(&n); err != nil || n != 0 {
		t.Errorf("cross-site POST wrote %d categories (%v)", n, err)
	}
}

func testLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// A superuser held at enrolment by STOCKROOM_REQUIRE_2FA=superusers cannot use the
// JSON API with the session cookie either; an API token is outside the policy.
func TestHeldSessionCannotUseAPI(t *testing.T) {
	ctx := context.Background()
	url := dbtest.NewURL(t)
	if code, _, stderr := stockroomIn(ctx, map[string]string{"STOCKROOM_DATABASE_URL": url}, "correct-horse-battery\n",
		"createsuperuser", "--email", "boss@example.com", "--password-stdin"); code != 0 {
		t.Fatalf("createsuperuser: %s", stderr)
	}
	st, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := &env{stdout: io.Discard, stderr: io.Discard}
	e.cfg.SessionIdle, e.cfg.SessionLifetime, e.cfg.LoginFailureLimit = time.Hour, 2*time.Hour, 5
	e.cfg.Currency, e.cfg.APIRatePerMinute, e.cfg.MediaDir = "EUR", 1000, t.TempDir()
	e.cfg.Require2FA = "superusers"
	a, err := newApp(ctx, e, st, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	srv := httptest.NewServer(a.handler)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(srv.URL+"/admin/login", neturl.Values{"email": {"boss@example.com"}, "password": {"correct-horse-battery"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, p := range []string{"/admin/", "/api/v1/me"} {
		resp, err = c.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := map[string]int{"/admin/": http.StatusSeeOther, "/api/v1/me": http.StatusUnauthorized}[p]
		if resp.StatusCode != want {
			t.Errorf("held superuser GET %s = %d, want %d", p, resp.StatusCode, want)
		}
	}
}
