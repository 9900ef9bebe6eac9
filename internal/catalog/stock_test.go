package catalog_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Fifty concurrent decrements of a variant with twenty in stock: exactly twenty
// succeed, the others are told there is not enough, and stock ends at zero.
func TestAdjustStockNeverBelowZero(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := product("Candle", "CANDLE-1")
	in.Variants[0].Stock = 20
	p := e.create(t, in)
	audits := e.rows(t)[2]

	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = e.cat.AdjustStock(ctx, editor, p.Variants[0].ID, -1, "order")
		})
	}
	wg.Wait()
	ok, short := 0, 0
	for _, err := range errs {
		var fe validator.Errors
		switch {
		case err == nil:
			ok++
		case errors.As(err, &fe) && fe["stock"] == "cannot go below zero: 0 in stock":
			short++
		default:
			t.Errorf("AdjustStock: unexpected error %v", err)
		}
	}
	if ok != 20 || short != 30 {
		t.Errorf("%d succeeded and %d were refused, want 20 and 30", ok, short)
	}
	got, err := e.cat.Product(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Variants[0].Stock != 0 || got.StockTotal != 0 {
		t.Errorf("stock %d, total %d; want 0 and 0", got.Variants[0].Stock, got.StockTotal)
	}
	if n := e.rows(t)[2] - audits; n != 20 {
		t.Errorf("%d audit rows, want one per successful adjustment (20)", n)
	}
	if _, err := e.cat.AdjustStock(ctx, editor, p.Variants[0].ID, 5, "restock"); err != nil {
		t.Errorf("restock: %v", err)
	}
}
