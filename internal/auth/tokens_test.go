package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// tester is the superuser who makes the fixtures' token changes.
var tester = auth.NewPrincipal(1, "tester@example.com", "", true, nil)

// tokenFixture is a database with one staff user who holds users.view and
// users.change, and the token service on it.
type tokenFixture struct {
	st      *store.Store
	tokens  *auth.Tokens
	userID  int64
	counter *dbtest.Counter
}

func newTokenFixture(t testing.TB) *tokenFixture {
	t.Helper()
	f := &tokenFixture{counter: &dbtest.Counter{}}
	f.st = store.New(dbtest.NewWithConfig(t, f.counter.Install))
	f.tokens = auth.NewTokens(f.st)
	f.userID = f.user(t, "ada@example.com", "users.view", "users.change")
	return f
}

// user creates an active staff user holding perms and returns their id.
func (f *tokenFixture) user(t testing.TB, email string, perms ...string) int64 {
	t.Helper()
	ctx := context.Background()
	var u db.User
	err := f.st.InTx(ctx, func(q *db.Queries) error {
		var err error
		u, err = q.CreateUser(ctx, db.CreateUserParams{Email: email, Name: "Ada", PasswordHash: "x", IsActive: true})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	f.exec(t, `INSERT INTO user_permissions (user_id, permission_id)
		SELECT $1, id FROM permissions WHERE codename = ANY($2)`, u.ID, perms)
	return u.ID
}

func (f *tokenFixture) exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := f.st.Pool().Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func (f *tokenFixture) create(t testing.TB, scope string) (string, auth.Token) {
	t.Helper()
	secret, tok, err := f.tokens.Create(context.Background(), tester, f.userID, "ci", scope, nil)
	if err != nil {
		t.Fatal(err)
	}
	return secret, tok
}

func TestCreateTokenStoresOnlyTheHash(t *testing.T) {
	f := newTokenFixture(t)
	secret, tok := f.create(t, auth.ScopeWrite)
	raw, err := base64.RawURLEncoding.Strict().DecodeString(strings.TrimPrefix(secret, "srk_"))
	if !strings.HasPrefix(secret, "srk_") || err != nil || len(raw) != 32 {
		t.Fatalf("secret %q: want srk_ and 32 bytes in unpadded base64url (err %v, %d bytes)", secret, err, len(raw))
	}
	if tok.Prefix != secret[:10] {
		t.Errorf("prefix %q, want the secret's first 10 characters %q", tok.Prefix, secret[:10])
	}
	var stored []byte
	var row string
	err = f.st.Pool().QueryRow(context.Background(),
		`SELECT token_hash, t::text FROM api_tokens t WHERE id = $1`, tok.ID).Scan(&stored, &row)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte(secret))
	if !bytes.Equal(stored, want[:]) {
		t.Errorf("token_hash = %x, want SHA-256 of the secret %x", stored, want)
	}
	if strings.Contains(row, secret[10:]) {
		t.Errorf("the stored row holds the secret: %s", row)
	}
}

func TestCreateTokenValidates(t *testing.T) {
	f := newTokenFixture(t)
	past := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		userID  int64
		token   string
		scope   string
		expires *time.Time
		field   string
	}{
		{"no name", f.userID, "  ", auth.ScopeRead, nil, "name"},
		{"long name", f.userID, strings.Repeat("n", 101), auth.ScopeRead, nil, "name"},
		{"unknown scope", f.userID, "ci", "admin", nil, "scope"},
		{"expired already", f.userID, "ci", auth.ScopeRead, &past, "expires_at"},
		{"unknown user", 424242, "ci", auth.ScopeRead, nil, "user"},
		{"deactivated user", f.user(t, "gone@example.com"), "ci", auth.ScopeRead, nil, "user"},
	}
	f.exec(t, `UPDATE users SET is_active = false WHERE email = 'gone@example.com'`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := f.tokens.Create(context.Background(), tester, tt.userID, tt.token, tt.scope, tt.expires)
			var errs validator.Errors
			if !errors.As(err, &errs) || errs[tt.field] == "" {
				t.Errorf("Create() = %v, want a field error on %s", err, tt.field)
			}
		})
	}
}

// TestCreateTokenRules: who may make a token for whom, and how far ahead it may
// expire, are Create's rules whichever transport asks: staff make their own, a
// superuser anyone's, the command line (nil) anyone's; the expiry may reach the end
// of the tenth year from now, never past it.
func TestCreateTokenRules(t *testing.T) {
	f := newTokenFixture(t)
	other := f.user(t, "other@example.com")
	staff := auth.NewPrincipal(f.userID, "ada@example.com", "Ada", false, []string{"tokens.add"})
	now := time.Now().UTC()
	limit := auth.TokenExpiryLimit(now)
	lastDay, past := limit.Add(-time.Hour), limit.Add(time.Hour)
	if limit.Year() != now.Year()+11 || limit.YearDay() != 1 {
		t.Fatalf("TokenExpiryLimit(%v) = %v, want the first of January eleven years on", now, limit)
	}
	tests := []struct {
		name    string
		by      *auth.Principal
		userID  int64
		expires *time.Time
		field   string // "" when the token is made
	}{
		{"staff for themselves", staff, f.userID, nil, ""},
		{"staff for someone else", staff, other, nil, "user"},
		{"a superuser for someone else", tester, other, nil, ""},
		{"the command line for anyone", nil, other, nil, ""},
		{"on the last day of the tenth year", staff, f.userID, &lastDay, ""},
		{"past the tenth year", staff, f.userID, &past, "expires_at"},
		{"past the tenth year from the command line", nil, other, &past, "expires_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, tok, err := f.tokens.Create(context.Background(), tt.by, tt.userID, "ci", auth.ScopeRead, tt.expires)
			var errs validator.Errors
			switch {
			case tt.field == "" && (err != nil || tok.UserID != tt.userID):
				t.Errorf("Create() = %+v, %v; want a token of user %d", tok, err, tt.userID)
			case tt.field != "" && (!errors.As(err, &errs) || errs[tt.field] == ""):
				t.Errorf("Create() = %v, want a field error on %s", err, tt.field)
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	f := newTokenFixture(t)
	ctx := context.Background()
	for _, tt := range []struct {
		scope      string
		wantChange bool
	}{{auth.ScopeRead, false}, {auth.ScopeWrite, true}} {
		secret, tok := f.create(t, tt.scope)
		p, err := f.tokens.Authenticate(ctx, secret)
		if err != nil {
			t.Fatalf("%s token: %v", tt.scope, err)
		}
		if p.UserID != f.userID || p.TokenID != tok.ID || p.Scope != tt.scope || p.TokenName != "ci" || p.Email != "ada@example.com" {
			t.Errorf("%s token: principal %+v", tt.scope, p)
		}
		if !p.Can("users.view") {
			t.Errorf("%s token: cannot users.view, which its user holds", tt.scope)
		}
		if got := p.Can("users.change"); got != tt.wantChange {
			t.Errorf("%s token: Can(users.change) = %v, want %v", tt.scope, got, tt.wantChange)
		}
		if p.Can("groups.view") {
			t.Errorf("%s token: can groups.view, which its user lacks", tt.scope)
		}
	}
}

// Every reason a token stops working takes effect on the very next request.
func TestAuthenticateRefuses(t *testing.T) {
	f := newTokenFixture(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		prepare func(t *testing.T, secret string, tok auth.Token) string // returns the secret to try
	}{
		{"unknown", func(t *testing.T, secret string, tok auth.Token) string {
			return "srk_" + strings.Repeat("A", 43)
		}},
		{"malformed", func(t *testing.T, secret string, tok auth.Token) string { return "hello" }},
		{"padded", func(t *testing.T, secret string, tok auth.Token) string { return secret[:46] + "=" }},
		{"revoked", func(t *testing.T, secret string, tok auth.Token) string {
			if err := f.tokens.Revoke(ctx, tester, tok.ID); err != nil {
				t.Fatal(err)
			}
			return secret
		}},
		{"expired", func(t *testing.T, secret string, tok auth.Token) string {
			f.exec(t, `UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, tok.ID)
			return secret
		}},
		{"user deactivated", func(t *testing.T, secret string, tok auth.Token) string {
			f.exec(t, `UPDATE users SET is_active = false WHERE id = $1`, tok.UserID)
			t.Cleanup(func() { f.exec(t, `UPDATE users SET is_active = true WHERE id = $1`, tok.UserID) })
			return secret
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret, tok := f.create(t, auth.ScopeWrite)
			if _, err := f.tokens.Authenticate(ctx, secret); err != nil {
				t.Fatalf("before: %v", err)
			}
			p, err := f.tokens.Authenticate(ctx, tt.prepare(t, secret, tok))
			if !errors.Is(err, auth.ErrInvalidToken) || p != nil {
				t.Errorf("Authenticate() = %v, %v; want ErrInvalidToken", p, err)
			}
		})
	}
}

// A busy token costs one statement a request: last_used_at is written only when it
// is more than a minute old.
func TestAuthenticateTouchesAtMostOnceAMinute(t *testing.T) {
	f := newTokenFixture(t)
	ctx := context.Background()
	secret, tok := f.create(t, auth.ScopeRead)
	steps := []struct {
		name    string
		before  string // SQL run first, $1 is the token id
		want    int    // statements Authenticate runs
		touched bool   // whether last_used_at moved
	}{
		{"first use", "", 2, true},
		{"again at once", "", 1, false},
		{"59 seconds later", `UPDATE api_tokens SET last_used_at = now() - interval '59 seconds' WHERE id = $1`, 1, false},
		{"61 seconds later", `UPDATE api_tokens SET last_used_at = now() - interval '61 seconds' WHERE id = $1`, 2, true},
	}
	for _, s := range steps {
		if s.before != "" {
			f.exec(t, s.before, tok.ID)
		}
		before := f.lastUsed(t, tok.ID)
		f.counter.Reset()
		if _, err := f.tokens.Authenticate(ctx, secret); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := f.counter.Count(); got != s.want {
			t.Errorf("%s: %d statements, want %d:\n%s", s.name, got, s.want, f.counter.Statements())
		}
		after := f.lastUsed(t, tok.ID)
		if moved := !after.Equal(before); moved != s.touched {
			t.Errorf("%s: last_used_at %v -> %v, want moved = %v", s.name, before, after, s.touched)
		}
	}
}

func (f *tokenFixture) lastUsed(t *testing.T, id int64) time.Time {
	t.Helper()
	var at *time.Time
	if err := f.st.Pool().QueryRow(context.Background(), `SELECT last_used_at FROM api_tokens WHERE id = $1`, id).Scan(&at); err != nil {
		t.Fatal(err)
	}
	if at == nil {
		return time.Time{}
	}
	return *at
}

func TestRevokeAndList(t *testing.T) {
	f := newTokenFixture(t)
	ctx := context.Background()
	_, first := f.create(t, auth.ScopeRead)
	_, second := f.create(t, auth.ScopeWrite)
	other := f.user(t, "grace@example.com")
	if _, _, err := f.tokens.Create(ctx, tester, other, "theirs", auth.ScopeRead, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.tokens.Revoke(ctx, tester, first.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if err := f.tokens.Revoke(ctx, tester, first.ID); err != nil {
		t.Errorf("Revoke twice: %v, want nil", err)
	}
	if err := f.tokens.Revoke(ctx, tester, 424242); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Revoke(unknown) = %v, want ErrNotFound", err)
	}
	mine, err := f.tokens.List(ctx, &f.userID)
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 2 || mine[0].ID != second.ID || mine[1].ID != first.ID {
		t.Fatalf("List(mine) = %+v, want the two tokens, newest first", mine)
	}
	if mine[1].RevokedAt == nil || mine[0].RevokedAt != nil || mine[0].Email != "ada@example.com" {
		t.Errorf("List(mine): revoked %v / %v, email %q", mine[1].RevokedAt, mine[0].RevokedAt, mine[0].Email)
	}
	all, err := f.tokens.List(ctx, nil)
	if err != nil || len(all) != 3 {
		t.Errorf("List(all) = %d tokens, %v; want 3", len(all), err)
	}
}

// Creating and revoking a token each write one audit row in their transaction,
// naming the token by name and prefix; neither the secret nor its hash is in it.
// Revoking again changes nothing and records nothing.
func TestTokenWritesAreAudited(t *testing.T) {
	f := newTokenFixture(t)
	ctx := context.Background()
	expires := time.Now().UTC().AddDate(1, 0, 0).Truncate(time.Second) // within the ten-year limit
	secret, tok, err := f.tokens.Create(ctx, tester, f.userID, "deploy", auth.ScopeWrite, &expires)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.tokens.Revoke(ctx, tester, tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.tokens.Revoke(ctx, tester, tok.ID); err != nil {
		t.Fatal(err)
	}
	page, err := audit.New(f.st).History(ctx, auth.ResourceTokens, tok.ID, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 2 {
		t.Fatalf("%d audit rows, want 2 (create, revoke once): %+v", len(page.Entries), page.Entries)
	}
	revoke, create := page.Entries[0], page.Entries[1]
	repr := "deploy (" + tok.Prefix + ")"
	for _, e := range []struct {
		got    audit.Entry
		action string
		fields string
	}{
		{create, audit.ActionCreate, "expires_at name prefix scope user"},
		{revoke, auth.ActionRevoke, "revoked_at"},
	} {
		var fields []string
		for _, c := range e.got.Fields {
			fields = append(fields, c.Field)
		}
		if e.got.Action != e.action || e.got.ObjectRepr != repr || e.got.ActorLabel != tester.Actor().Label ||
			e.got.ActorUserID == nil || *e.got.ActorUserID != tester.UserID || strings.Join(fields, " ") != e.fields {
			t.Errorf("%s row: action %q repr %q actor %q/%v fields %v; want %q %q %q/%d [%s]", e.action, e.got.Action,
				e.got.ObjectRepr, e.got.ActorLabel, e.got.ActorUserID, fields, e.action, repr, tester.Actor().Label, tester.UserID, e.fields)
		}
	}
	if got := fmt.Sprint(create.Fields); !strings.Contains(got, "ada@example.com") || !strings.Contains(got, "write") {
		t.Errorf("create row fields %s: want the owner and the scope", got)
	}
	hash := sha256.Sum256([]byte(secret))
	var rows string
	if err := f.st.Pool().QueryRow(ctx, `SELECT string_agg(a::text, ' ') FROM audit_log a`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{secret[len(tok.Prefix):], fmt.Sprintf("%x", hash), base64.StdEncoding.EncodeToString(hash[:])} {
		if strings.Contains(rows, leak) {
			t.Errorf("the audit log holds %q: %s", leak, rows)
		}
	}
}

// A token change and its audit row commit together: when the audit row cannot be
// written, no token is created and none is revoked.
func TestTokenWritesFailWithTheirAudit(t *testing.T) {
	f := newTokenFixture(t)
	ctx := context.Background()
	secret, tok := f.create(t, auth.ScopeRead)
	f.exec(t, `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN RAISE EXCEPTION 'audit refused'; END $$`)
	f.exec(t, `CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit()`)
	if _, _, err := f.tokens.Create(ctx, tester, f.userID, "second", auth.ScopeRead, nil); err == nil {
		t.Error("Create succeeded without its audit row")
	}
	if err := f.tokens.Revoke(ctx, tester, tok.ID); err == nil {
		t.Error("Revoke succeeded without its audit row")
	}
	var n int
	if err := f.st.Pool().QueryRow(ctx, `SELECT count(*) FROM api_tokens`).Scan(&n); err != nil || n != 1 {
		t.Errorf("tokens = %d (%v), want only the first", n, err)
	}
	if _, err := f.tokens.Authenticate(ctx, secret); err != nil {
		t.Errorf("the token whose revocation failed: %v, want it still working", err)
	}
}

func TestTokenState(t *testing.T) {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Second), now.Add(time.Second)
	tests := []struct {
		name string
		tok  auth.Token
		want string
	}{
		{"no expiry", auth.Token{}, auth.StateActive},
		{"expires later", auth.Token{ExpiresAt: &future}, auth.StateActive},
		{"expires now", auth.Token{ExpiresAt: &now}, auth.StateExpired},
		{"expired", auth.Token{ExpiresAt: &past}, auth.StateExpired},
		{"revoked before expiring", auth.Token{ExpiresAt: &past, RevokedAt: &past}, auth.StateRevoked},
	}
	for _, tt := range tests {
		if got := tt.tok.State(now); got != tt.want {
			t.Errorf("%s: State = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	f := newTokenFixture(b)
	secret, _ := f.create(b, auth.ScopeRead)
	ctx := context.Background()
	for b.Loop() {
		if _, err := f.tokens.Authenticate(ctx, secret); err != nil {
			b.Fatal(err)
		}
	}
}
