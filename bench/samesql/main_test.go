package main

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/seed"
	"github.com/stockroom-dev/stockroom/internal/store"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// The floor's S4 is stockroom's: for every word of seed.SearchWords the first page
// is the catalog's, read in one statement (SearchProductWordsByNameAsc); a search
// of two words, or of a word in catalog.MaxWords words or more (overflow), which
// stockroom runs another way, still gets the catalog's page.
func TestPageIsTheCatalogs(t *testing.T) {
	var n dbtest.Tally
	pool := dbtest.NewWithConfig(t, func(cfg *pgxpool.Config) {
		store.Tune(cfg)
		n.Install(cfg)
	})
	ctx := context.Background()
	st := store.New(pool)
	if _, err := seed.Run(ctx, st, seed.Options{Products: 300}); err != nil {
		t.Fatal(err)
	}
	f := &floor{pool: pool, q: db.New(pool), st: st}
	var err error
	if f.products, err = f.q.ProductsRowEstimate(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 70 { // "qzx" is in 70 words of the vocabulary, in no name
		if _, err := pool.Exec(ctx, "INSERT INTO search_words (word) VALUES ('qzx' || $1::int)", i); err != nil {
			t.Fatal(err)
		}
	}
	cat := catalog.New(st, catalog.Config{MediaDir: t.TempDir(), LowStock: 5})
	for _, q := range append(seed.SearchWords(), "Candle Holder", "oak lamp", "Qzx") {
		page, err := cat.ListProducts(ctx, catalog.ListParams{Filter: catalog.Filter{Q: q}, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var rows []db.ProductListing
		statements := n.During(func() { rows, err = f.page(ctx, q, 11) })
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if got, want := ids(rows[:min(len(rows), 10)]), ids(page.Items); !slices.Equal(got, want) || (len(rows) == 11) != (page.Next != "") {
			t.Errorf("%q: %v (%d rows), want %v (more: %v)", q, got, len(rows), want, page.Next != "")
		}
		want := int64(2) // the estimate and the list
		if catalog.OneWord(q) {
			want = 1 // SearchProductWordsByNameAsc
			if q == "Qzx" {
				want = 3 // it, saying overflow, then the estimate and the list
			}
		}
		if statements != want {
			t.Errorf("%q: %d statements, want %d", q, statements, want)
		}
	}
}

func ids(rows []db.ProductListing) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}
