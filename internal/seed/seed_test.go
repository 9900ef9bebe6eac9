package seed_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/seed"
	"github.com/stockroom-dev/stockroom/internal/store"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// dump lists the seeded products and variants as text, in id order.
func dump(t *testing.T, st *store.Store, limit int) []string {
	t.Helper()
	return textRows(t, st, `
		SELECT p.id, p.name, p.slug, p.status, coalesce(c.slug, '-'), p.price_min_cents, p.price_max_cents,
		       p.stock_total, p.variant_count, p.skus, p.updated_at,
		       (SELECT string_agg(v.sku || ':' || v.price_cents || ':' || v.stock || ':' || v.title || ':' || v.option_values::text, ' ' ORDER BY v.position)
		        FROM product_variants v WHERE v.product_id = p.id)
		FROM products p LEFT JOIN categories c ON c.id = p.category_id
		ORDER BY p.id LIMIT $1`, limit)
}

// textRows runs a test query and returns each row's values as one line of text.
func textRows(t *testing.T, st *store.Store, sql string, args ...any) []string {
	t.Helper()
	rows, err := st.Pool().Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals...))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The same run gives the same data, and a longer run begins with a shorter one's.
func TestSeedIsDeterministic(t *testing.T) {
	ctx := context.Background()
	run := func(n int) *store.Store {
		st := store.New(dbtest.New(t))
		res, err := seed.Run(ctx, st, seed.Options{Products: n})
		if err != nil {
			t.Fatal(err)
		}
		if res.Categories != seed.DefaultCategories || res.Products != n || res.FirstID != 1 {
			t.Fatalf("Run(%d) = %+v", n, res)
		}
		return st
	}
	a, b, longer := run(12000), run(12000), run(13000)
	first, second, third := dump(t, a, 12000), dump(t, b, 12000), dump(t, longer, 12000)
	if !slices.Equal(first, second) {
		t.Error("two runs of 12000 differ")
	}
	if !slices.Equal(first, third) {
		t.Error("a run of 13000 does not begin with the run of 12000")
	}
	if !strings.Contains(first[0], "SR-0000001-1") {
		t.Errorf("first row %q, want SKU SR-0000001-1", first[0])
	}
}

// The data is spread as the admin needs to try it: nested categories, every status,
// products out of stock and low on stock, and words to search for.
func TestSeedSpread(t *testing.T) {
	ctx := context.Background()
	st := store.New(dbtest.New(t))
	schema := func() string {
		var s string
		err := st.Pool().QueryRow(ctx, `SELECT string_agg(d, E'\n' ORDER BY d) FROM (
			SELECT indexdef AS d FROM pg_indexes WHERE tablename IN ('products', 'product_variants')
			UNION ALL
			SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
			WHERE conrelid IN ('products'::regclass, 'product_variants'::regclass)) AS defs`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := schema()
	if _, err := seed.Run(ctx, st, seed.Options{Products: 5000}); err != nil {
		t.Fatal(err)
	}
	if after := schema(); after != before {
		t.Errorf("indexes and constraints after the load:\n%s\nwant as before:\n%s", after, before)
	}
	checks := []struct {
		name, sql string
		lo, hi    int64
	}{
		{"categories", "SELECT count(*) FROM categories", 100, 100},
		{"top-level categories", "SELECT count(*) FROM categories WHERE parent_id IS NULL", 12, 12},
		{"third-level categories", "SELECT count(*) FROM categories c JOIN categories p ON p.id = c.parent_id WHERE p.parent_id IS NOT NULL", 10, 30},
		{"active", "SELECT count(*) FROM products WHERE status = 'active'", 3500, 4000},
		{"archived", "SELECT count(*) FROM products WHERE status = 'archived'", 300, 700},
		{"out of stock", "SELECT count(*) FROM products WHERE stock_total = 0", 200, 400},
		{"low stock", "SELECT count(*) FROM products WHERE stock_total BETWEEN 1 AND 5", 350, 650},
		{"named oak", "SELECT count(*) FROM products WHERE name ILIKE '%oak%'", 100, 250},
		{"variants", "SELECT count(*) FROM product_variants", 8500, 10000},
		{"summaries that disagree with the variants", `SELECT count(*) FROM products p, LATERAL (
			SELECT min(price_cents) AS lo, max(price_cents) AS hi, sum(stock) AS stock, count(*)::int AS n,
			       string_agg(sku, ' ' ORDER BY position) AS skus, (array_agg(sku ORDER BY position))[1] AS first
			FROM product_variants v WHERE v.product_id = p.id) s
			WHERE (p.price_min_cents, p.price_max_cents, p.stock_total, p.variant_count, p.skus, p.first_sku)
			      IS DISTINCT FROM (s.lo, s.hi, s.stock, s.n, s.skus, s.first)`, 0, 0},
		{"search rows that disagree with the products", `SELECT count(*) FROM products p FULL JOIN product_search s USING (id)
			WHERE (p.name, p.skus) IS DISTINCT FROM (s.name, s.skus)`, 0, 0},
	}
	for _, c := range checks {
		var n int64
		if err := st.Pool().QueryRow(ctx, c.sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n < c.lo || n > c.hi {
			t.Errorf("%s: %d, want %d to %d", c.name, n, c.lo, c.hi)
		}
	}
}

// A catalog with products is refused unless appending, and appending adds products
// whose slugs and SKUs cannot clash with what is there.
func TestSeedRefusesOrAppends(t *testing.T) {
	ctx := context.Background()
	st := store.New(dbtest.New(t))
	if _, err := seed.Run(ctx, st, seed.Options{Products: 50, Categories: 10}); err != nil {
		t.Fatal(err)
	}
	_, err := seed.Run(ctx, st, seed.Options{Products: 50})
	if !errors.Is(err, seed.ErrNotEmpty) || !strings.Contains(err.Error(), "--append") {
		t.Fatalf("second run: err = %v, want ErrNotEmpty naming --append", err)
	}
	res, err := seed.Run(ctx, st, seed.Options{Products: 70, Append: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Categories != 0 || res.FirstID != 51 || res.Products != 70 {
		t.Errorf("append = %+v, want 70 products from id 51 in the existing categories", res)
	}
	var products, categories int64
	if err := st.Pool().QueryRow(ctx, "SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM categories)").Scan(&products, &categories); err != nil {
		t.Fatal(err)
	}
	if products != 120 || categories != 10 {
		t.Errorf("%d products in %d categories, want 120 in 10", products, categories)
	}
	// The sequence has moved past the seeded ids: an ordinary insert still works.
	if _, err := st.Pool().Exec(ctx, "INSERT INTO products (name, slug) VALUES ('Later', 'later')"); err != nil {
		t.Errorf("insert after seeding: %v", err)
	}
}

// Every search word finds products, by name, in a seeded catalog: the bench's S4 relies
// on it to search for something that exists.
func TestSearchWordsFindProducts(t *testing.T) {
	ctx := context.Background()
	st := store.New(dbtest.New(t))
	if _, err := seed.Run(ctx, st, seed.Options{Products: 5000}); err != nil {
		t.Fatal(err)
	}
	words := seed.SearchWords()
	if len(words) < 50 {
		t.Fatalf("SearchWords() has %d words, want at least 50", len(words))
	}
	for _, w := range words {
		if w == "" || strings.Contains(w, " ") {
			t.Errorf("SearchWords() has %q, want single words", w)
			continue
		}
		var n int
		err := st.Pool().QueryRow(ctx, "SELECT count(*) FROM products WHERE name ILIKE '%' || $1 || '%'", w).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("search word %q: no product of 5,000 has it in its name", w)
		}
	}
}

// The search's trigram indexes keep fastupdate off (0007) through a bulk load, which
// drops and rebuilds them from their definitions.
func TestSeedKeepsSearchIndexOptions(t *testing.T) {
	ctx := context.Background()
	st := store.New(dbtest.New(t))
	if _, err := seed.Run(ctx, st, seed.Options{Products: 100}); err != nil {
		t.Fatal(err)
	}
	for _, idx := range []string{"products_name_trgm_idx", "products_skus_trgm_idx"} {
		var opts []string
		if err := st.Pool().QueryRow(ctx, "SELECT coalesce(reloptions, '{}') FROM pg_class WHERE relname = $1", idx).Scan(&opts); err != nil {
			t.Fatalf("%s: %v", idx, err)
		}
		if !slices.Contains(opts, "fastupdate=off") {
			t.Errorf("%s options %v, want fastupdate=off", idx, opts)
		}
	}
}
