package session

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/store/listen"
)

// copyOf is one instance's session store with its own pool, statement counter and
// listener, on the database every instance shares.
type copyOf struct {
	ts      *touchStore
	pool    *pgxpool.Pool
	counter *dbtest.Counter
}

func newCopy(t *testing.T, url string, listening bool) *copyOf {
	t.Helper()
	c := &copyOf{counter: &dbtest.Counter{}}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	c.counter.Install(cfg)
	store.Tune(cfg)
	if c.pool, err = pgxpool.NewWithConfig(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.pool.Close)
	c.ts = newTouchStore(store.New(c.pool), scs.GobCodec{})
	c.ts.rows.ttl = time.Hour // no help from the backstop
	if !listening {
		return c
	}
	l := listen.New(c.pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	l.Handle(Channel, c.ts.rows.handler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	c.waitGen(t, 1) // connected: rows may be kept from now on
	return c
}

// waitGen waits until the copy has heard of gen changes (the connection is one).
func (c *copyOf) waitGen(t *testing.T, gen uint64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if g, _ := c.ts.rows.generation(); g >= gen {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the copy never heard of the change (generation %d)", gen)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// find is Find, with the statements it ran.
func (c *copyOf) find(t *testing.T, token string) (string, bool, int) {
	t.Helper()
	c.counter.Reset()
	b, found, err := c.ts.Find(token)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), found, c.counter.Count()
}

// A session row read on B is kept there: its next reads run no statement. Whatever
// happens to it elsewhere — new data written on A, a sign-out on A, a DELETE from
// another program (a password change ending the user's sessions) — B forgets it once
// the change's notification arrives, without waiting for any TTL, and reads the row
// as it now is.
func TestSessionRowsAcrossCopies(t *testing.T) {
	url := dbtest.NewURL(t)
	a, b := newCopy(t, url, true), newCopy(t, url, true)
	expiry := time.Now().Add(time.Hour)
	if err := a.ts.PostgresStore.Commit("tok", []byte("one"), expiry); err != nil {
		t.Fatal(err)
	}
	// A new row notifies nothing: nobody can have kept it.
	if data, found, n := b.find(t, "tok"); data != "one" || !found || n != 1 {
		t.Fatalf("first read on B: %q, %t in %d statements; want one, true, 1", data, found, n)
	}
	if data, found, n := b.find(t, "tok"); data != "one" || !found || n != 0 {
		t.Fatalf("next read on B: %q, %t in %d statements; want one, true, kept (0)", data, found, n)
	}

	step := func(what, want string, wantFound bool, change func()) {
		t.Helper()
		gen, _ := b.ts.rows.generation()
		change()
		b.waitGen(t, gen+1)
		data, found, n := b.find(t, "tok")
		if data != want || found != wantFound || n != 1 {
			t.Fatalf("%s: B read %q, %t in %d statements; want %q, %t read afresh (1)", what, data, found, n, want, wantFound)
		}
	}
	step("new data on A", "two", true, func() {
		if err := a.ts.Commit("tok", []byte("two"), expiry); err != nil {
			t.Fatal(err)
		}
	})
	step("a sign-out on A", "", false, func() {
		if err := a.ts.Delete("tok"); err != nil {
			t.Fatal(err)
		}
	})
	if err := a.ts.PostgresStore.Commit("tok", []byte("three"), expiry); err != nil {
		t.Fatal(err)
	}
	b.find(t, "tok")
	step("a DELETE from elsewhere", "", false, func() {
		if _, err := a.pool.Exec(context.Background(), "DELETE FROM sessions WHERE token = 'tok'"); err != nil {
			t.Fatal(err)
		}
	})
}

// Without a listener nothing is kept: every Find reads the row.
func TestSessionRowsNotKeptWithoutListener(t *testing.T) {
	c := newCopy(t, dbtest.NewURL(t), false)
	if err := c.ts.PostgresStore.Commit("tok", []byte("one"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if data, found, n := c.find(t, "tok"); data != "one" || !found || n != 1 {
			t.Fatalf("read %d: %q, %t in %d statements; want one, true, 1", i, data, found, n)
		}
	}
}

// A kept row is served until its expiry or the TTL, whichever comes first; a read
// that began before a change is not kept; a notification that is not a token hash
// forgets every row.
func TestRowCacheRules(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	c := newRowCache()
	c.now = func() time.Time { return now }
	k1, k2 := rowKey("one"), rowKey("two")
	gen, keep := c.generation()
	c.put(gen, k1, []byte("x"), now.Add(time.Hour))
	if _, ok := c.get(k1); ok || keep {
		t.Fatal("a row was kept before the listener connected")
	}
	c.handler().Connected(context.Background())
	gen, _ = c.generation()
	c.put(gen, k1, []byte("x"), now.Add(2*time.Second)) // expires before the TTL
	c.put(gen, k2, []byte("y"), now.Add(time.Hour))
	now = now.Add(3 * time.Second)
	if _, ok := c.get(k1); ok {
		t.Error("a row was served past its expiry")
	}
	if b, ok := c.get(k2); !ok || string(b) != "y" {
		t.Errorf("row two: %q, %t; want y, true", b, ok)
	}
	now = now.Add(c.ttl)
	if _, ok := c.get(k2); ok {
		t.Error("a row was served past the TTL")
	}

	gen, _ = c.generation()
	c.handler().Notify(context.Background(), "not a hash")
	c.put(gen, k1, []byte("x"), now.Add(time.Hour))
	if _, ok := c.get(k1); ok {
		t.Error("a read that began before a change was kept")
	}
	gen, _ = c.generation()
	c.put(gen, k1, []byte("x"), now.Add(time.Hour))
	c.put(gen, k2, []byte("y"), now.Add(time.Hour))
	c.handler().Notify(context.Background(), "")
	if _, ok := c.get(k1); ok {
		t.Error("an empty notification (TRUNCATE) left a row kept")
	}
	if _, ok := c.get(k2); ok {
		t.Error("an empty notification (TRUNCATE) left a row kept")
	}
}
