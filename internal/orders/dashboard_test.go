package orders_test

import (
	"context"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/orders"
)

func TestDashboard(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.variant(t, "DASH-1", 10_000, 1_000) // 119.00 with tax
	c := e.customer(t, "dash@example.com", "")
	day := func(days, hour int) time.Time { return time.Date(2026, 3, 18-days, hour, 0, 0, 0, time.UTC) }
	for _, o := range []struct {
		placed time.Time
		path   []string
	}{
		{day(0, 0), []string{"paid"}}, // today: revenue
		{day(0, 15), nil},             // today: pending, no revenue
		{day(1, 23), []string{"paid", "fulfilled", "delivered"}}, // yesterday
		{day(6, 0), []string{"cancelled"}},                       // in the 7 days, no revenue
		{day(7, 12), []string{"paid"}},                           // before the 7 days
		{day(29, 0), []string{"paid", "refunded"}},               // first day of the chart, no revenue
		{day(30, 12), []string{"paid"}},                          // before the chart
	} {
		placed := e.place(t, c.ID, line(v, 1))
		e.move(t, placed.ID, o.path...)
		e.setPlaced(t, placed.ID, o.placed)
	}
	d, err := e.orders.Dashboard(ctx)
	if err != nil {
		t.Fatalf("Dashboard: %v", err)
	}
	if d.OrdersToday != 2 || d.RevenueToday != 11_900 {
		t.Errorf("today: %d orders, %d revenue; want 2, 11900", d.OrdersToday, d.RevenueToday)
	}
	if d.Orders7Days != 4 || d.Revenue7Days != 2*11_900 {
		t.Errorf("7 days: %d orders, %d revenue; want 4, 23800", d.Orders7Days, d.Revenue7Days)
	}
	// Paid and not fulfilled: today's first, the one of 7 days ago and the one before
	// the chart.
	if d.AwaitingFulfilment != 3 {
		t.Errorf("awaiting fulfilment = %d, want 3", d.AwaitingFulfilment)
	}
	if len(d.Days) != orders.ChartDays || !d.Days[0].Day.Equal(day(29, 0)) || !d.Days[29].Day.Equal(day(0, 0)) {
		t.Fatalf("days run %v to %v (%d), want 30 from %v", d.Days[0].Day, d.Days[len(d.Days)-1].Day, len(d.Days), day(29, 0))
	}
	want := map[int]orders.DayFigures{
		0:  {Orders: 1},
		22: {Orders: 1, RevenueCents: 11_900},
		23: {Orders: 1},
		28: {Orders: 1, RevenueCents: 11_900},
		29: {Orders: 2, RevenueCents: 11_900},
	}
	for i, f := range d.Days {
		w := want[i]
		if f.Orders != w.Orders || f.RevenueCents != w.RevenueCents {
			t.Errorf("day %d (%s): %d orders, %d revenue; want %d, %d", i, f.Day.Format("01-02"), f.Orders, f.RevenueCents, w.Orders, w.RevenueCents)
		}
	}
	if d.MaxRevenue() != 11_900 {
		t.Errorf("MaxRevenue = %d, want 11900", d.MaxRevenue())
	}
}

// TestOrderStatsAgree: whatever happens to orders (placed, moved on, cancelled,
// refunded, placed_at changed, concurrently), the trigger-kept buckets the dashboard
// reads agree with the orders themselves.
func TestOrderStatsAgree(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.variant(t, "STAT-1", 1_234, 1_000)
	c := e.customer(t, "stats@example.com", "")
	paths := [][]string{nil, {"paid"}, {"paid", "fulfilled", "delivered"}, {"cancelled"}, {"paid", "refunded"}}
	for i, err := range concurrently(20, func(i int) error {
		o, err := e.orders.PlaceOrder(ctx, staff, orders.PlaceInput{CustomerID: c.ID, Lines: []orders.LineInput{line(v, int64(1+i%3))}})
		if err != nil {
			return err
		}
		for _, to := range paths[i%len(paths)] {
			if _, err := e.orders.Transition(ctx, ops, o.ID, to, 0); err != nil {
				return err
			}
		}
		if i%4 == 0 {
			_, err = e.pool.Exec(ctx, "UPDATE orders SET placed_at = $2 WHERE id = $1", o.ID, now.Add(-time.Duration(i)*7*time.Hour))
		}
		return err
	}) {
		if err != nil {
			t.Errorf("order %d: %v", i, err)
		}
	}
	var mismatches int64
	err := e.pool.QueryRow(ctx, `
		SELECT count(*) FROM (
			SELECT date_bin('15 minutes', placed_at, 'epoch') AS bucket, count(*) AS orders,
			       sum(order_revenue(status, total_cents)) AS revenue
			FROM orders GROUP BY 1
		) o FULL JOIN (
			SELECT bucket, sum(orders) AS orders, sum(revenue_cents) AS revenue
			FROM order_stats GROUP BY 1 HAVING sum(orders) <> 0 OR sum(revenue_cents) <> 0
		) s USING (bucket)
		WHERE o.orders IS DISTINCT FROM s.orders OR o.revenue IS DISTINCT FROM s.revenue`).Scan(&mismatches)
	if err != nil {
		t.Fatal(err)
	}
	if mismatches != 0 {
		t.Errorf("%d buckets of order_stats disagree with the orders", mismatches)
	}
	if n := e.rows(t, "order_stats", "true"); n == 0 {
		t.Error("order_stats is empty")
	}
}
