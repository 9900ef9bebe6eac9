package orders_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// now is the fixed clock of every test: a Wednesday afternoon in UTC.
var now = time.Date(2026, 3, 18, 15, 30, 0, 0, time.UTC)

// ops is the staff user the tests act as, allowed every move; staff is ops in the
// audit log, for the calls that take an actor.
var (
	ops   = auth.NewPrincipal(7, "ops@example.com", "Olive Ops", true, nil)
	staff = ops.Actor()
)

// env is a fresh database with the orders and catalog on it.
type env struct {
	pool    *pgxpool.Pool
	st      *store.Store
	orders  *orders.Orders
	catalog *catalog.Catalog
	queries *dbtest.Tally // statements run, when the env counts them
}

// newEnv gives a test its own migrated database, tax at 19%.
func newEnv(t testing.TB) *env {
	t.Helper()
	c := &dbtest.Tally{}
	pool := dbtest.NewWithConfig(t, func(cfg *pgxpool.Config) {
		store.Tune(cfg)
		c.Install(cfg)
		cfg.MaxConns = 16
	})
	return envOn(pool, c)
}

func envOn(pool *pgxpool.Pool, c *dbtest.Tally) *env {
	st := store.New(pool)
	return &env{
		pool:    pool,
		st:      st,
		orders:  orders.New(st, orders.Config{Currency: "EUR", TaxRate: 1900, Now: func() time.Time { return now }}),
		catalog: catalog.New(st, catalog.Config{LowStock: 5}),
		queries: c,
	}
}

// variant creates an active product with one variant of price and stock, and
// returns the variant.
func (e *env) variant(t testing.TB, sku string, price, stock int64) db.ProductVariant {
	t.Helper()
	p, err := e.catalog.CreateProduct(context.Background(), audit.System, catalog.ProductInput{
		Name: "Product " + sku, Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: sku, PriceCents: price, Stock: stock}},
	})
	if err != nil {
		t.Fatalf("create product %s: %v", sku, err)
	}
	return p.Variants[0]
}

// stock returns a variant's stock and its product's stock_total.
func (e *env) stock(t testing.TB, variantID int64) (stock, total int64) {
	t.Helper()
	err := e.pool.QueryRow(context.Background(), `SELECT v.stock, p.stock_total FROM product_variants v
		JOIN products p ON p.id = v.product_id WHERE v.id = $1`, variantID).Scan(&stock, &total)
	if err != nil {
		t.Fatal(err)
	}
	return stock, total
}

// rows counts the rows of a table that match where (a fixed SQL condition).
func (e *env) rows(t testing.TB, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table+" WHERE "+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// customer creates a customer with a fixed email.
func (e *env) customer(t testing.TB, email, name string) db.Customer {
	t.Helper()
	c, err := e.orders.CreateCustomer(context.Background(), staff, orders.CustomerInput{Email: email, Name: name})
	if err != nil {
		t.Fatalf("create customer %s: %v", email, err)
	}
	return c
}

// place places an order of lines for customer and fails the test on an error.
func (e *env) place(t testing.TB, customerID int64, lines ...orders.LineInput) *orders.Order {
	t.Helper()
	o, err := e.orders.PlaceOrder(context.Background(), staff, orders.PlaceInput{CustomerID: customerID, Lines: lines})
	if err != nil {
		t.Fatalf("place order: %v", err)
	}
	return o
}

// move walks an order through the state machine to status, failing on an error.
func (e *env) move(t testing.TB, id int64, path ...string) {
	t.Helper()
	for _, to := range path {
		if _, err := e.orders.Transition(context.Background(), ops, id, to, 0); err != nil {
			t.Fatalf("order %d to %s: %v", id, to, err)
		}
	}
}

// pathTo is a way from pending to each status.
var pathTo = map[string][]string{
	orders.StatusPending:   nil,
	orders.StatusPaid:      {orders.StatusPaid},
	orders.StatusFulfilled: {orders.StatusPaid, orders.StatusFulfilled},
	orders.StatusDelivered: {orders.StatusPaid, orders.StatusFulfilled, orders.StatusDelivered},
	orders.StatusCancelled: {orders.StatusCancelled},
	orders.StatusRefunded:  {orders.StatusPaid, orders.StatusRefunded},
}

// setPlaced moves an order's placed_at: fixtures for date filters and the dashboard.
func (e *env) setPlaced(t testing.TB, id int64, at time.Time) {
	t.Helper()
	if _, err := e.pool.Exec(context.Background(), "UPDATE orders SET placed_at = $2 WHERE id = $1", id, at); err != nil {
		t.Fatal(err)
	}
}

func line(v db.ProductVariant, q int64) orders.LineInput {
	return orders.LineInput{VariantID: v.ID, Quantity: q}
}

func sku(i int) string { return fmt.Sprintf("SKU-%03d", i) }

// concurrently runs fn(0) to fn(n-1) in n goroutines released at once, so that they
// race, and returns their errors by i.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// fieldError reports whether err is a validator.Errors with a message on field.
func fieldError(err error, field string) bool {
	var errs validator.Errors
	return errors.As(err, &errs) && errs[field] != ""
}
