package catalog_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/store"
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

// A variant's update takes its product's lock inside the update's statement
// (UpdateVariant), before the variant's row, like AdjustStock and
// AddVariant take it in a statement of their own. Updates of one variant from a
// read that went stale, adjustments of the same variant and of its sibling, all at
// once: none deadlocks, at most one update lands and the others are told they are
// stale, and the product's total is the sum of its variants.
func TestVariantWritesOfOneProductQueue(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.create(t, product("Lamp", "LAMP-1", "LAMP-2"))
	a, b := p.Variants[0], p.Variants[1]

	var wg sync.WaitGroup
	var mu sync.Mutex
	updated, stale := 0, 0
	var failures []error
	fail := func(err error) { mu.Lock(); failures = append(failures, err); mu.Unlock() }
	for i := range 40 {
		wg.Go(func() {
			switch i % 4 {
			case 0, 1: // an update from the variant as first read: all but one go stale
				in := catalog.VariantInputOf(a)
				in.Stock = int64(100 + i)
				_, err := e.cat.UpdateVariant(ctx, editor, a, in)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					updated++
				case errors.Is(err, store.ErrStale):
					stale++
				default:
					failures = append(failures, err)
				}
			case 2:
				if _, err := e.cat.AdjustStock(ctx, editor, a.ID, 1, "count"); err != nil {
					fail(err)
				}
			default:
				if _, err := e.cat.AdjustStock(ctx, editor, b.ID, 1, "count"); err != nil {
					fail(err)
				}
			}
		})
	}
	wg.Wait()
	for _, err := range failures {
		t.Errorf("unexpected error: %v", err)
	}
	// One update may land (if it comes before every adjustment of a), the others
	// find a newer version.
	if updated > 1 || updated+stale != 20 {
		t.Errorf("%d updates landed and %d were stale, want at most one landed and 20 in all", updated, stale)
	}
	got, err := e.cat.Product(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sum := got.Variants[0].Stock + got.Variants[1].Stock; got.StockTotal != int64(sum) {
		t.Errorf("stock total %d, variants %d + %d", got.StockTotal, got.Variants[0].Stock, got.Variants[1].Stock)
	}
}
