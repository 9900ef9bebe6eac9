package catalog_test

import (
	"context"
	"os"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// benchCatalog is the catalog the benchmarks read: the database at
// STOCKROOM_BENCH_DATABASE_URL when set (seed it first: stockroom seed --products
// 1000000), else a fresh test database seeded with 20,000 products, so that
// `go test -bench` works anywhere.
func benchCatalog(b *testing.B) *catalog.Catalog {
	b.Helper()
	if url := os.Getenv("STOCKROOM_BENCH_DATABASE_URL"); url != "" {
		st, err := store.Open(context.Background(), url, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(st.Close)
		return catalog.New(st, catalog.Config{LowStock: 5})
	}
	return seeded(b, 20_000).cat
}

// BenchmarkListProducts measures the list pages the admin and the API serve, each a
// page of 50 as the API's default.
func BenchmarkListProducts(b *testing.B) {
	ctx := context.Background()
	cat := benchCatalog(b)
	list := func(p catalog.ListParams) func(b *testing.B) {
		return func(b *testing.B) {
			p.Limit = 50
			for b.Loop() {
				if _, err := cat.ListProducts(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	// The middle of the list by name, reached page by page as a user would (slowly).
	total, err := cat.CountProducts(ctx, catalog.Filter{})
	if err != nil {
		b.Fatal(err)
	}
	deep := catalog.ListParams{Limit: keyset.MaxLimit}
	for range total.N / 2 / keyset.MaxLimit {
		page, err := cat.ListProducts(ctx, deep)
		if err != nil {
			b.Fatal(err)
		}
		deep.Cursor = page.Next
	}
	tree, err := cat.CategoryTree(ctx)
	if err != nil || len(tree) == 0 {
		b.Fatalf("no categories (%v): seed the database first", err)
	}
	top, leaf := tree[0].ID, tree[len(tree)-1].ID

	b.Run("first page", list(catalog.ListParams{}))
	b.Run("deep page", list(catalog.ListParams{Cursor: deep.Cursor}))
	b.Run("last page", list(catalog.ListParams{Last: true}))
	b.Run("by price desc", list(catalog.ListParams{Sort: catalog.Sort{Key: catalog.SortPrice, Desc: true}}))
	b.Run("search word", list(catalog.ListParams{Filter: catalog.Filter{Q: "oak"}}))
	b.Run("search two words", list(catalog.ListParams{Filter: catalog.Filter{Q: "walnut lamp"}}))
	b.Run("search leading word", list(catalog.ListParams{Filter: catalog.Filter{Q: "vintage"}}))
	b.Run("search sku", list(catalog.ListParams{Filter: catalog.Filter{Q: "SR-0012345"}}))
	b.Run("category with subcategories", list(catalog.ListParams{Filter: catalog.Filter{CategoryID: top}}))
	b.Run("category leaf", list(catalog.ListParams{Filter: catalog.Filter{CategoryID: leaf}}))
	b.Run("active, low stock", list(catalog.ListParams{Filter: catalog.Filter{Status: catalog.StatusActive, Stock: catalog.StockLow}}))
	count := func(f catalog.Filter) func(b *testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				if _, err := cat.CountProducts(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("count all", count(catalog.Filter{}))
	b.Run("count category leaf", count(catalog.Filter{CategoryID: leaf}))
	b.Run("count search word", count(catalog.Filter{Q: "oak"}))
}

// BenchmarkProduct measures the product page's reads.
func BenchmarkProduct(b *testing.B) {
	ctx := context.Background()
	cat := benchCatalog(b)
	page, err := cat.ListProducts(ctx, catalog.ListParams{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	id := page.Items[0].ID
	for b.Loop() {
		if _, err := cat.Product(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}
