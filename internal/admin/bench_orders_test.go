package admin

import (
	"context"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/seed"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// Acceptance 6: the dashboard and the order list through the real handler, signed
// in as a superuser (so the dashboard shows everything: sales, chart, stock,
// recent changes). Against STOCKROOM_BENCH_DATABASE_URL when set (a database seeded
// with `stockroom seed --products 100000 --orders 1000000`), else a small seeded
// test database. Each list scenario logs its count line once.
//
//	STOCKROOM_BENCH_DATABASE_URL=postgres://... go test ./internal/admin -run '^$' -bench OrderPages -count 5
func BenchmarkOrderPages(b *testing.B) {
	ctx := context.Background()
	_, get := benchAdmin(b, func(st *store.Store) error {
		if _, err := seed.Run(ctx, st, seed.Options{Products: 2000, Categories: 20}); err != nil {
			return err
		}
		_, err := seed.Orders(ctx, st, seed.OrderOptions{Orders: 20_000, TaxRate: 1900})
		return err
	})
	last := get("/admin/orders/?last=1")
	deep := extractHref(b, last, `rel="prev"`)
	scenarios := []struct{ name, path string }{
		{"dashboard", "/admin/"},
		{"list", "/admin/orders/"},
		{"list-deep", deep},
		{"list-by-total", "/admin/orders/?sort=-total"},
		{"list-paid-7d", "/admin/orders/?status=paid&placed=7d"},
		{"list-range", "/admin/orders/?placed=custom&placed_from=2026-01-01&total_min=100&total_max=200"},
		{"search-customer", "/admin/orders/?q=james.pike.1%40"}, // one customer's orders
		{"search-number", "/admin/orders/?q=SR-1000"},           // a few numbers
		{"search-broad", "/admin/orders/?q=example"},            // every order
		{"order", "/admin/orders/1/"},
	}
	for _, sc := range scenarios {
		b.Run(sc.name, func(b *testing.B) {
			body := get(sc.path)
			if strings.Contains(sc.path, "/admin/orders/?") || sc.path == "/admin/orders/" {
				b.Logf("%s: %s, %d rows", sc.path, countOf(body), strings.Count(body, `<td class="number">`))
			}
			for b.Loop() {
				get(sc.path)
			}
		})
	}
}
