package catalog_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store/listen"
)

// listening starts a listener for c's category tree, as serve does, and waits
// until it is connected.
func listening(t *testing.T, e *env, c *catalog.Catalog) {
	t.Helper()
	l := listen.New(e.st.Pool(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	l.Handle(catalog.CategoriesChannel, c.CategoryTreeHandler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	heard(t, c, 0)
}

// heard waits until c has heard of a change after generation gen.
func heard(t *testing.T, c *catalog.Catalog, gen uint64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for c.CategoryTreeGeneration() <= gen {
		if time.Now().After(deadline) {
			t.Fatalf("no change heard after generation %d", gen)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// With the listener connected, a kept category tree costs no statement at all, and
// a change on another instance (a second Catalog with its own listener), or by any
// statement on the categories, is shown once its notification arrives; this
// instance's own change at once.
func TestCategoryTreeWithListener(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, b := e.cat, catalog.New(e.st, catalog.Config{MediaDir: e.media, LowStock: 5})
	listening(t, e, a)
	listening(t, e, b)
	paths := func(c *catalog.Catalog) string {
		t.Helper()
		tree, err := c.CategoryTree(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, n := range tree {
			out = append(out, n.Path)
		}
		return strings.Join(out, "|")
	}
	want := func(c *catalog.Catalog, want string) {
		t.Helper()
		if got := paths(c); got != want {
			t.Errorf("tree = %q, want %q", got, want)
		}
	}

	gen := b.CategoryTreeGeneration()
	home := e.category(t, "Home", nil) // through e.cat: a
	heard(t, b, gen)
	want(b, "Home")
	if n := e.count(func() { want(b, "Home") }); n != 0 {
		t.Errorf("a kept tree took %d statements, want 0", n)
	}

	// Changed on a: b shows it once it has heard.
	gen = b.CategoryTreeGeneration()
	if _, err := a.CreateCategory(ctx, editor, catalog.CategoryInput{Name: "Lamps", ParentID: &home}); err != nil {
		t.Fatal(err)
	}
	want(a, "Home|Home › Lamps") // a's own change, without waiting
	heard(t, b, gen)
	want(b, "Home|Home › Lamps")

	// Changed by a statement outside the catalog: both hear of it.
	genA, genB := a.CategoryTreeGeneration(), b.CategoryTreeGeneration()
	if err := e.st.InTx(ctx, func(q *db.Queries) error {
		_, err := q.CreateCategory(ctx, db.CreateCategoryParams{Name: "Garden", Slug: "garden"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	heard(t, a, genA)
	heard(t, b, genB)
	want(a, "Garden|Home|Home › Lamps")
	want(b, "Garden|Home|Home › Lamps")

	// Renamed and deleted on b: a follows.
	cat, err := b.Category(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	gen = a.CategoryTreeGeneration()
	if _, err := b.UpdateCategory(ctx, editor, home, cat.Version, catalog.CategoryInput{Name: "House"}); err != nil {
		t.Fatal(err)
	}
	want(b, "Garden|House|House › Lamps")
	heard(t, a, gen)
	want(a, "Garden|House|House › Lamps")
}
