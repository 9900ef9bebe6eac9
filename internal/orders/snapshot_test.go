package orders_test

import (
	"context"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/seed"
)

// An order export is one snapshot: an order changed while it streams (after its
// first batch) is in the file as it was when the export began.
func TestExportOrdersIsOneSnapshot(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := seed.Run(ctx, e.st, seed.Options{Products: 50}); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Orders(ctx, e.st, seed.OrderOptions{Orders: keyset.ExportBatch + 50, Now: now}); err != nil {
		t.Fatal(err)
	}
	var want int64
	var late int64 // the order exported last: placed first
	var lateStatus string
	var lateTotal int64
	err := e.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM orders), id, status, total_cents FROM orders
		ORDER BY placed_at, id LIMIT 1`).Scan(&want, &late, &lateStatus, &lateTotal)
	if err != nil {
		t.Fatal(err)
	}
	var got int64
	var exported *db.OrderListing
	err = e.orders.ExportOrders(ctx, orders.ListParams{}, func(rows []db.OrderListing) error {
		if got == 0 { // while the export streams, others write
			if _, err := e.pool.Exec(ctx, "UPDATE orders SET status = 'cancelled', shipping_cents = shipping_cents + 1, total_cents = total_cents + 1 WHERE id = $1", late); err != nil {
				t.Fatal(err)
			}
		}
		got += int64(len(rows))
		for i := range rows {
			if rows[i].ID == late {
				exported = &rows[i]
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != want || exported == nil {
		t.Fatalf("exported %d orders (the last one: %v), want %d", got, exported != nil, want)
	}
	if exported.Status != lateStatus || exported.TotalCents != lateTotal {
		t.Errorf("order %d exported as %s, total %d: the change made during the export, want %s as it was",
			late, exported.Status, exported.TotalCents, lateStatus)
	}
}
