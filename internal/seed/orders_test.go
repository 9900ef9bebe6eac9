package seed_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/seed"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// seedNow is the fixed end of the seeded orders' 90 days.
var seedNow = time.Date(2026, 3, 18, 15, 30, 0, 0, time.UTC)

// shop is a new database with 300 seeded products and n seeded orders.
func shop(t *testing.T, n int) *store.Store {
	t.Helper()
	ctx := context.Background()
	st := store.New(dbtest.New(t))
	if _, err := seed.Run(ctx, st, seed.Options{Products: 300, Categories: 10}); err != nil {
		t.Fatal(err)
	}
	res, err := seed.Orders(ctx, st, seed.OrderOptions{Orders: n, Now: seedNow, TaxRate: 1900})
	if err != nil {
		t.Fatalf("seed.Orders: %v", err)
	}
	if res.Orders != n || res.Customers != n/10 || res.Lines < n || res.Events < n {
		t.Fatalf("seed.Orders = %+v", res)
	}
	return st
}

// dumpOrders lists the seeded orders with their lines and timelines as text.
func dumpOrders(t *testing.T, st *store.Store) []string {
	t.Helper()
	return textRows(t, st, `
		SELECT o.number, c.email, o.status, o.subtotal_cents, o.shipping_cents, o.tax_cents, o.total_cents,
		       o.placed_at, o.updated_at, o.version, o.restocked_at, o.shipping_address::text,
		       (SELECT string_agg(l.sku || 'x' || l.quantity || '@' || l.unit_price_cents, ' ' ORDER BY l.position)
		        FROM order_lines l WHERE l.order_id = o.id),
		       (SELECT string_agg(e.kind || '@' || e.at, ' ' ORDER BY e.at, e.id)
		        FROM order_events e WHERE e.order_id = o.id)
		FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.id`)
}

func TestSeedOrdersIsDeterministic(t *testing.T) {
	a, b := dumpOrders(t, shop(t, 6000)), dumpOrders(t, shop(t, 6000))
	if len(a) != 6000 || !slices.Equal(a, b) {
		t.Fatalf("two runs differ (%d and %d orders); first rows:\n%s\n%s", len(a), len(b), a[0], b[0])
	}
}

// TestSeedOrdersShape checks what every seeded order must be: consistent money, a
// timeline that ends in its status, placed within the 90 days, restocked exactly
// when cancelled or refunded; and the shop around them: every index back, the
// dashboard's buckets in agreement, the numbers going on from the last.
func TestSeedOrdersShape(t *testing.T) {
	ctx := context.Background()
	fresh := store.New(dbtest.New(t))
	st := shop(t, 6000)
	checks := []struct {
		name string
		sql  string // counts the orders (or rows) that break the rule
	}{
		{"totals", `SELECT count(*) FROM orders WHERE subtotal_cents <> (SELECT sum(line_total_cents) FROM order_lines l WHERE l.order_id = orders.id)`},
		{"tax", `SELECT count(*) FROM orders WHERE tax_cents <> ((subtotal_cents + shipping_cents) * 1900 + 5000) / 10000`},
		{"shipping", `SELECT count(*) FROM orders WHERE shipping_cents <> CASE WHEN subtotal_cents >= 10000 THEN 0 ELSE 495 END`},
		{"placed", `SELECT count(*) FROM orders WHERE placed_at < $1::timestamptz - interval '90 days' OR placed_at > $1`},
		{"events in time", `SELECT count(*) FROM order_events e JOIN orders o ON o.id = e.order_id WHERE e.at < o.placed_at OR e.at > $1`},
		{"timeline starts with created", `SELECT count(*) FROM orders o WHERE (SELECT kind FROM order_events e WHERE e.order_id = o.id ORDER BY at, id LIMIT 1) <> 'created'`},
		{"timeline ends in the status", `SELECT count(*) FROM orders o WHERE (SELECT replace(kind, 'created', 'pending') FROM order_events e WHERE e.order_id = o.id ORDER BY at DESC, id DESC LIMIT 1) <> o.status`},
		{"version counts the steps", `SELECT count(*) FROM orders o WHERE version <> (SELECT count(*) FROM order_events e WHERE e.order_id = o.id)`},
		{"restocked", `SELECT count(*) FROM orders WHERE (restocked_at IS NOT NULL) <> (status IN ('cancelled', 'refunded'))`},
		{"old orders are done", `SELECT count(*) FROM orders WHERE placed_at < $1::timestamptz - interval '10 days' AND status NOT IN ('delivered', 'cancelled', 'refunded')`},
		{"stats", `SELECT count(*) FROM (
			SELECT date_bin('15 minutes', placed_at, 'epoch') AS bucket, count(*) AS n, sum(order_revenue(status, total_cents)) AS r
			FROM orders GROUP BY 1) o
			FULL JOIN (SELECT bucket, sum(orders) AS n, sum(revenue_cents) AS r FROM order_stats GROUP BY 1) s USING (bucket)
			WHERE o.n IS DISTINCT FROM s.n OR o.r IS DISTINCT FROM s.r`},
	}
	for _, c := range checks {
		var n int64
		args := []any{}
		if strings.Contains(c.sql, "$1") {
			args = append(args, seedNow)
		}
		if err := st.Pool().QueryRow(ctx, c.sql, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n != 0 {
			t.Errorf("%s: %d rows break it", c.name, n)
		}
	}
	var statuses []string
	if err := st.Pool().QueryRow(ctx, `SELECT array_agg(DISTINCT status ORDER BY status) FROM orders`).Scan(&statuses); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(statuses, []string{"cancelled", "delivered", "fulfilled", "paid", "pending", "refunded"}) {
		t.Errorf("statuses = %v, want all six", statuses)
	}
	// The deferred indexes and keys are all back, as the migrations made them.
	if got, want := schemaOf(t, st), schemaOf(t, fresh); !slices.Equal(got, want) {
		t.Errorf("indexes and constraints after the seed:\n%v\nwant:\n%v", got, want)
	}
	// The app goes on from where the seed stopped.
	o := orders.New(st, orders.Config{Now: func() time.Time { return seedNow }})
	var variant int64
	if err := st.Pool().QueryRow(ctx, `SELECT v.id FROM product_variants v JOIN products p ON p.id = v.product_id
		WHERE p.status = 'active' AND v.stock > 0 ORDER BY v.id LIMIT 1`).Scan(&variant); err != nil {
		t.Fatal(err)
	}
	placed, err := o.PlaceOrder(ctx, audit.System, orders.PlaceInput{Email: "after@example.com", Lines: []orders.LineInput{{VariantID: variant, Quantity: 1}}})
	if err != nil {
		t.Fatalf("PlaceOrder after the seed: %v", err)
	}
	if placed.Number != "SR-16001" {
		t.Errorf("first order after the seed is %s, want SR-16001", placed.Number)
	}
	d, err := o.Dashboard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.OrdersToday == 0 || d.Orders7Days == 0 || d.Revenue7Days == 0 || d.AwaitingFulfilment == 0 {
		t.Errorf("dashboard after the seed = %+v, want orders today, revenue this week and some to fulfil", d)
	}
}

// schemaOf lists the indexes, constraints and triggers (with whether they are on)
// of the tables the order seed loads.
func schemaOf(t *testing.T, st *store.Store) []string {
	t.Helper()
	return textRows(t, st, `
		SELECT indexdef FROM pg_indexes WHERE tablename IN ('customers', 'orders', 'order_lines', 'order_events')
		UNION ALL
		SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid IN ('customers'::regclass, 'orders'::regclass, 'order_lines'::regclass, 'order_events'::regclass)
		UNION ALL
		SELECT tgrelid::regclass || ' ' || tgname || ' ' || tgenabled::text FROM pg_trigger
		WHERE tgrelid IN ('customers'::regclass, 'orders'::regclass, 'order_lines'::regclass, 'order_events'::regclass)
		  AND NOT tgisinternal -- the foreign keys' own triggers, named by oid, come with the keys
		ORDER BY 1`)
}

func TestSeedOrdersRefuses(t *testing.T) {
	ctx := context.Background()
	empty := store.New(dbtest.New(t))
	if _, err := seed.Orders(ctx, empty, seed.OrderOptions{Orders: 10, Now: seedNow}); !errors.Is(err, seed.ErrNothingForSale) {
		t.Errorf("orders into an empty catalog: %v, want ErrNothingForSale", err)
	}
	st := shop(t, 100)
	if _, err := seed.Orders(ctx, st, seed.OrderOptions{Orders: 10, Now: seedNow}); !errors.Is(err, seed.ErrHasOrders) {
		t.Errorf("second run: %v, want ErrHasOrders", err)
	}
	res, err := seed.Orders(ctx, st, seed.OrderOptions{Orders: 50, Now: seedNow, Append: true})
	if err != nil || res.Orders != 50 || res.Customers != 5 {
		t.Fatalf("append: %+v, %v", res, err)
	}
	var orders, customers int64
	var last string
	err = st.Pool().QueryRow(ctx, `SELECT count(*), (SELECT count(*) FROM customers), max(number) FROM orders`).Scan(&orders, &customers, &last)
	if err != nil {
		t.Fatal(err)
	}
	if orders != 150 || customers != 15 || last != "SR-10150" {
		t.Errorf("after appending: %d orders, %d customers, last %s; want 150, 15, SR-10150", orders, customers, last)
	}
	if _, err := seed.Orders(ctx, st, seed.OrderOptions{Orders: -1}); err == nil {
		t.Error("a negative count: no error")
	}
}
