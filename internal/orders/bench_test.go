package orders_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/seed"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// benchURL names a database to benchmark against, seeded by hand (stockroom seed
// --products 100000 --orders 1000000); without it the benchmarks seed a small one.
// Each benchmark reports the median time of one call, "median-ms".
const benchURL = "STOCKROOM_BENCH_DATABASE_URL"

// benchOrders returns the orders to benchmark: those of benchURL's database, else of
// a new test database with 5,000 seeded orders.
func benchOrders(b *testing.B) *orders.Orders {
	b.Helper()
	ctx := context.Background()
	if url := os.Getenv(benchURL); url != "" {
		st, err := store.Open(ctx, url, store.Options{})
		if err != nil {
			b.Fatalf("%s: %v", benchURL, err)
		}
		b.Cleanup(st.Close)
		return orders.New(st, orders.Config{Currency: "EUR"})
	}
	e := newEnv(b)
	if _, err := seed.Run(ctx, e.st, seed.Options{Products: 500, Categories: 10}); err != nil {
		b.Fatal(err)
	}
	if _, err := seed.Orders(ctx, e.st, seed.OrderOptions{Orders: 5000, Now: now}); err != nil {
		b.Fatal(err)
	}
	return orders.New(e.st, orders.Config{Currency: "EUR", Now: func() time.Time { return now }})
}

// measure runs fn in a b.Loop and reports the median time of one call, which a
// few slow outliers (a checkpoint, the scheduler) do not move.
func measure(b *testing.B, fn func() error) {
	b.Helper()
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := fn(); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
}

func BenchmarkOrders(b *testing.B) {
	o := benchOrders(b)
	ctx := context.Background()
	month, _, err := o.PlacedRange(orders.Placed30Days, "", "")
	if err != nil {
		b.Fatal(err)
	}
	hundred := int64(10_000)
	first, err := o.ListOrders(ctx, orders.ListParams{})
	if err != nil || len(first.Items) == 0 {
		b.Fatalf("no orders to benchmark: %v", err)
	}
	someOrder := first.Items[len(first.Items)/2].ID
	lists := []struct {
		name string
		p    orders.ListParams
	}{
		{"ListFirstPage", orders.ListParams{}},
		{"ListNextPage", orders.ListParams{Cursor: first.Next}},
		{"ListFiltered", orders.ListParams{Filter: orders.Filter{Status: orders.StatusDelivered, PlacedFrom: month, TotalMin: &hundred}}},
		{"ListPaid", orders.ListParams{Filter: orders.Filter{Status: orders.StatusPaid}}},
		{"ListByTotal", orders.ListParams{Sort: orders.Sort{Key: orders.SortTotal, Desc: true}}},
		{"ListSearchNumber", orders.ListParams{Filter: orders.Filter{Q: first.Items[0].Number}}},
		{"ListSearchFewCustomers", orders.ListParams{Filter: orders.Filter{Q: "ada hopper"}}}, // 0.07% of customers
		{"ListSearchManyCustomers", orders.ListParams{Filter: orders.Filter{Q: "lovelace"}}},  // 2.5% of customers
	}
	for _, l := range lists {
		b.Run(l.name, func(b *testing.B) {
			measure(b, func() error { _, err := o.ListOrders(ctx, l.p); return err })
		})
	}
	b.Run("CountFiltered", func(b *testing.B) {
		measure(b, func() error { _, err := o.CountOrders(ctx, lists[2].p.Filter); return err })
	})
	b.Run("Dashboard", func(b *testing.B) {
		measure(b, func() error { _, err := o.Dashboard(ctx); return err })
	})
	b.Run("Order", func(b *testing.B) {
		measure(b, func() error { _, err := o.Order(ctx, someOrder); return err })
	})
}
