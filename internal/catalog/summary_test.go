package catalog_test

import (
	"context"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
)

// TestRefreshSummaries: another package that changes variants in its own
// transaction (an order taking stock) brings the products' summaries up to date
// with one call, in any order of ids, repeated or gone.
func TestRefreshSummaries(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var ids []int64
	for _, sku := range []string{"SUM-1", "SUM-2"} {
		p, err := e.cat.CreateProduct(ctx, editor, catalog.ProductInput{
			Name: "Summary " + sku, Variants: []catalog.VariantInput{{SKU: sku, PriceCents: 100, Stock: 10}},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	if _, err := e.st.Pool().Exec(ctx, "UPDATE product_variants SET stock = stock - 3, price_cents = 250"); err != nil {
		t.Fatal(err)
	}
	err := e.st.InTx(ctx, func(q *db.Queries) error {
		return catalog.RefreshSummaries(ctx, q, []int64{ids[1], ids[0], ids[1], ids[1] + 1000})
	})
	if err != nil {
		t.Fatalf("RefreshSummaries: %v", err)
	}
	for _, id := range ids {
		stock := e.scalar(t, "SELECT stock_total FROM products WHERE id = $1", id)
		price := e.scalar(t, "SELECT price_min_cents FROM products WHERE id = $1", id)
		if stock != 7 || price != 250 {
			t.Errorf("product %d: stock_total %d, price_min_cents %d; want 7, 250", id, stock, price)
		}
	}
}
