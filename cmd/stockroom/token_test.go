package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// withAda returns the URL of a new database holding one user, ada@example.com, and
// a store on it.
func withAda(t *testing.T) (string, *store.Store) {
	t.Helper()
	url := dbtest.NewURL(t)
	st, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	_, err = st.Pool().Exec(context.Background(), `INSERT INTO users (email, password_hash) VALUES ('ada@example.com', 'x')`)
	if err != nil {
		t.Fatal(err)
	}
	return url, st
}

func TestTokenCommands(t *testing.T) {
	ctx := context.Background()
	url, st := withAda(t)
	env := map[string]string{"STOCKROOM_DATABASE_URL": url}

	code, secret, stderr := stockroom(ctx, env, "token", "create", "--email", "ada@example.com", "--name", "ci",
		"--scope", "write", "--expires", "90d")
	if code != 0 || !regexp.MustCompile(`^srk_[A-Za-z0-9_-]{43}\n$`).MatchString(secret) {
		t.Fatalf("token create: exit %d, stdout %q, stderr %q; want the secret alone", code, secret, stderr)
	}
	if !strings.Contains(stderr, "not shown again") || strings.Contains(stderr, secret[4:20]) {
		t.Errorf("token create stderr = %q: want the warning and not the secret", stderr)
	}
	p, err := auth.NewTokens(st).Authenticate(ctx, strings.TrimSpace(secret))
	if err != nil || p.Scope != auth.ScopeWrite {
		t.Fatalf("the printed secret: %v, %+v", err, p)
	}

	code, out, _ := stockroom(ctx, env, "token", "list", "--email", "ada@example.com")
	if code != 0 || !strings.Contains(out, secret[:10]) || !strings.Contains(out, "active") {
		t.Errorf("token list: exit %d:\n%s", code, out)
	}
	var expires time.Time
	if err := st.Pool().QueryRow(ctx, `SELECT expires_at FROM api_tokens`).Scan(&expires); err != nil {
		t.Fatal(err)
	}
	if days := time.Until(expires).Hours() / 24; days < 89 || days > 91 {
		t.Errorf("--expires 90d stored %v, %.1f days away", expires, days)
	}

	if code, out, stderr := stockroom(ctx, env, "token", "revoke", "1"); code != 0 || !strings.Contains(out, "revoked") {
		t.Errorf("token revoke 1: exit %d, %q %q", code, out, stderr)
	}
	if _, err := auth.NewTokens(st).Authenticate(ctx, strings.TrimSpace(secret)); err == nil {
		t.Error("the revoked token still authenticates")
	}
	if _, out, _ := stockroom(ctx, env, "token", "list"); !strings.Contains(out, "revoked") {
		t.Errorf("token list after revoke:\n%s", out)
	}
	// Both writes are in the audit log, by the command line, without the secret.
	var actions, labels, log string
	err = st.Pool().QueryRow(ctx, `SELECT string_agg(action, ' ' ORDER BY id), string_agg(DISTINCT actor_label, ' '),
		string_agg(a::text, ' ') FROM audit_log a WHERE resource = 'tokens'`).Scan(&actions, &labels, &log)
	if err != nil || actions != "create revoke" || labels != "cli" || strings.Contains(log, strings.TrimSpace(secret)[10:]) {
		t.Errorf("audit: actions %q by %q (%v), secret in it %v; want create revoke by cli, no secret",
			actions, labels, err, strings.Contains(log, strings.TrimSpace(secret)[10:]))
	}

	failures := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no subcommand", []string{"token"}, 2, "create, list, revoke"},
		{"unknown subcommand", []string{"token", "rotate"}, 2, "rotate"},
		{"create without email", []string{"token", "create", "--name", "x"}, 2, "--email"},
		{"bad expiry", []string{"token", "create", "--email", "ada@example.com", "--name", "x", "--expires", "soon"}, 2, "--expires"},
		{"bad scope", []string{"token", "create", "--email", "ada@example.com", "--name", "x", "--scope", "admin"}, 2, "scope"},
		{"unknown user", []string{"token", "create", "--email", "nobody@example.com", "--name", "x"}, 1, "no user"},
		{"revoke non-number", []string{"token", "revoke", "one"}, 2, "not a token id"},
		{"revoke unknown", []string{"token", "revoke", "99"}, 1, "no token with id 99"},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := stockroom(ctx, env, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

func TestParseLifetime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true},
		{"90d", 90 * 24 * time.Hour, true},
		{"12h", 12 * time.Hour, true},
		{"0d", 0, false},
		{"-1h", 0, false},
		{"3651d", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, err := parseLifetime(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseLifetime(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// serve answers the API on the same listener: a token made with the CLI works, and
// no token is a problem+json 401.
func TestServeAPI(t *testing.T) {
	ctx := context.Background()
	url, _ := withAda(t)
	addr := freeAddr(t)
	env := map[string]string{"STOCKROOM_DATABASE_URL": url, "STOCKROOM_ADDR": addr}
	_, secret, _ := stockroom(ctx, env, "token", "create", "--email", "ada@example.com", "--name", "ci")
	sctx, stop := context.WithCancel(ctx)
	done := make(chan int, 1)
	go func() {
		code, _, _ := stockroom(sctx, env, "serve")
		done <- code
	}()
	defer func() { stop(); <-done }()
	base := "http://" + addr
	waitFor(t, base+"/healthz")
	resp, err := http.Get(base + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("no token: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(secret))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"email":"ada@example.com"`) {
		t.Errorf("with the token: %d %s", resp.StatusCode, body)
	}
}
