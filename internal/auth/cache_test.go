package auth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/store/listen"
)

// instance is one stockroom process as far as principals go: its own pool, listener
// and cache, on the database every instance shares.
type instance struct {
	st      *store.Store
	tokens  *auth.Tokens
	svc     *auth.Service
	cache   *auth.PrincipalCache
	counter *dbtest.Counter
}

func newInstance(t *testing.T, url string) *instance {
	t.Helper()
	in := &instance{counter: &dbtest.Counter{}, cache: auth.NewPrincipalCache(time.Hour, 0)} // no TTL help
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	in.counter.Install(cfg)
	store.Tune(cfg)
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	in.st = store.New(pool)
	in.tokens = auth.NewTokens(in.st).WithCache(in.cache)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	in.svc = auth.New(in.st, auth.NewHasher(auth.DefaultParams, 0), log, auth.Options{Cache: in.cache})
	l := listen.New(pool, log)
	l.Handle(auth.ChangesChannel, in.cache.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFlush(t, in, 0) // connected: the cache may keep principals from now on
	return in
}

// waitFlush waits until in's cache has forgotten everything after generation gen:
// the notification of a change has reached this instance.
func waitFlush(t *testing.T, in *instance, gen uint64) { waitGen(t, in, gen+1) }

// waitGen waits until in's cache has seen generation gen: each transaction that
// changes auth tables is one notification (its payloads are folded), and each is
// one flush.
func waitGen(t *testing.T, in *instance, gen uint64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for in.cache.Generation() < gen {
		if time.Now().After(deadline) {
			t.Fatalf("instance's cache never heard of the change (generation %d)", gen)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// cached asserts that fn runs no statement on in: its answer came from the cache.
func cached(t *testing.T, in *instance, what string, fn func()) {
	t.Helper()
	in.counter.Reset()
	fn()
	if n := in.counter.Count(); n != 0 {
		t.Fatalf("%s: %d statements, want 0 (from the cache):\n%s", what, n, in.counter.Statements())
	}
}

// Whatever changes on instance A — the token revoked, its user deactivated, a
// permission taken from the user's group — instance B, which holds the principal
// in its cache, refuses it once the change's notification arrives, without waiting
// for any TTL.
func TestPrincipalCacheAcrossInstances(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, a *instance, tokenID, userID int64)
	}{
		{"token revoked", func(t *testing.T, a *instance, tokenID, _ int64) {
			if err := a.tokens.Revoke(context.Background(), tester, tokenID); err != nil {
				t.Fatal(err)
			}
		}},
		{"user deactivated", func(t *testing.T, a *instance, _, userID int64) {
			execOn(t, a, "UPDATE users SET is_active = false, auth_version = auth_version + 1 WHERE id = $1", userID)
		}},
		{"permission taken from the group", func(t *testing.T, a *instance, _, _ int64) {
			execOn(t, a, `DELETE FROM group_permissions WHERE permission_id =
				(SELECT id FROM permissions WHERE codename = 'products.view')`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := dbtest.NewURL(t)
			a, b := newInstance(t, url), newInstance(t, url)
			ctx := context.Background()
			gen := b.cache.Generation()
			userID := staffInGroup(t, a, "products.view")
			secret, tok, err := a.tokens.Create(ctx, tester, userID, "ci", auth.ScopeRead, nil)
			if err != nil {
				t.Fatal(err)
			}
			waitGen(t, b, gen+2) // the user's creation and the token's are changes too
			p, err := b.tokens.Authenticate(ctx, secret)
			if err != nil || !p.Can("products.view") {
				t.Fatalf("before the change: %v, %v; want a principal that may view products", p, err)
			}
			cached(t, b, "second use on B", func() {
				if _, err := b.tokens.Authenticate(ctx, secret); err != nil {
					t.Fatal(err)
				}
			})

			gen = b.cache.Generation()
			tt.change(t, a, tok.ID, userID)
			waitFlush(t, b, gen)
			p, err = b.tokens.Authenticate(ctx, secret)
			if err == nil && p.Can("products.view") {
				t.Fatalf("after the change on A, B still lets the token view products")
			}
			if err != nil && !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatal(err)
			}
		})
	}
}

// A signed-in user's permissions likewise: B keeps the session's principal until a
// change on A reaches it.
func TestSessionPrincipalCacheAcrossInstances(t *testing.T) {
	url := dbtest.NewURL(t)
	a, b := newInstance(t, url), newInstance(t, url)
	ctx := context.Background()
	gen := b.cache.Generation()
	userID := staffInGroup(t, a, "products.view", "products.change")
	waitFlush(t, b, gen)
	var version int32
	if err := b.st.Pool().QueryRow(ctx, "SELECT auth_version FROM users WHERE id = $1", userID).Scan(&version); err != nil {
		t.Fatal(err)
	}
	p, err := b.svc.SessionPrincipal(ctx, userID, version)
	if err != nil || !p.Can("products.change") {
		t.Fatalf("before: %v, %v; want a principal that may change products", p, err)
	}
	cached(t, b, "next page on B", func() {
		if _, err := b.svc.SessionPrincipal(ctx, userID, version); err != nil {
			t.Fatal(err)
		}
	})
	gen = b.cache.Generation()
	execOn(t, a, `DELETE FROM group_permissions WHERE permission_id =
		(SELECT id FROM permissions WHERE codename = 'products.change')`)
	waitFlush(t, b, gen)
	p, err = b.svc.SessionPrincipal(ctx, userID, version)
	if err != nil {
		t.Fatal(err)
	}
	if p.Can("products.change") || !p.Can("products.view") {
		t.Errorf("after the change on A: B's principal may change products %v, view %v; want false, true",
			p.Can("products.change"), p.Can("products.view"))
	}

	gen = b.cache.Generation()
	execOn(t, a, "UPDATE users SET is_active = false WHERE id = $1", userID)
	waitFlush(t, b, gen)
	if _, err := b.svc.SessionPrincipal(ctx, userID, version); !errors.Is(err, auth.ErrSignedOut) {
		t.Errorf("after deactivation on A: %v, want ErrSignedOut", err)
	}
}

// Recording a token's use (last_used_at, once a minute) or a sign-in (last_login_at)
// is no auth change: it sends no notification, or every busy token would empty
// every cache once a minute. Notifications arrive in commit order, so the first one
// a listener hears after those writes must be the marker sent after them.
func TestUseIsNoAuthChange(t *testing.T) {
	in := newInstance(t, dbtest.NewURL(t))
	ctx := context.Background()
	userID := staffInGroup(t, in, "products.view")
	_, tok, err := in.tokens.Create(ctx, tester, userID, "ci", auth.ScopeRead, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := in.st.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+auth.ChangesChannel); err != nil {
		t.Fatal(err)
	}
	execOn(t, in, "UPDATE api_tokens SET last_used_at = now() WHERE id = $1", tok.ID)
	execOn(t, in, "UPDATE users SET last_login_at = now() WHERE id = $1", userID)
	execOn(t, in, "SELECT pg_notify($1, 'marker')", auth.ChangesChannel)
	n, err := conn.Conn().WaitForNotification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n.Payload != "marker" {
		t.Errorf("first notification %q, want the marker: a use was taken for an auth change", n.Payload)
	}
	execOn(t, in, "UPDATE api_tokens SET revoked_at = now() WHERE id = $1", tok.ID)
	if n, err = conn.Conn().WaitForNotification(ctx); err != nil || n.Payload != "" {
		t.Errorf("after a revocation: %v, %v; want the change's notification", n, err)
	}
	conn.Exec(ctx, "UNLISTEN *")
}

func execOn(t *testing.T, in *instance, sql string, args ...any) {
	t.Helper()
	if _, err := in.st.Pool().Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// staffInGroup creates an active user in a new group holding perms.
func staffInGroup(t *testing.T, in *instance, perms ...string) int64 {
	t.Helper()
	var userID int64
	err := in.st.Pool().QueryRow(context.Background(), `
		WITH u AS (INSERT INTO users (email, name, password_hash, is_active) VALUES ('ada@example.com', 'Ada', 'x', true) RETURNING id),
		     g AS (INSERT INTO groups (name) VALUES ('Staff') RETURNING id),
		     gp AS (INSERT INTO group_permissions (group_id, permission_id)
		            SELECT g.id, p.id FROM g, permissions p WHERE p.codename = ANY($1)),
		     ug AS (INSERT INTO user_groups (user_id, group_id) SELECT u.id, g.id FROM u, g)
		SELECT id FROM u`, perms).Scan(&userID)
	if err != nil {
		t.Fatal(err)
	}
	return userID
}
