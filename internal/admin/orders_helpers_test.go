package admin

import (
	"context"
	"time"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/orders"
)

// customer creates a customer.
func (a *testApp) customer(email, name string) db.Customer {
	a.t.Helper()
	c, err := a.ord.CreateCustomer(context.Background(), fixture, orders.CustomerInput{Email: email, Name: name})
	if err != nil {
		a.t.Fatalf("create customer %s: %v", email, err)
	}
	return c
}

// order places an order of quantity units of variant for the customer with email
// (made when new).
func (a *testApp) order(email string, variant int64, quantity int64) *orders.Order {
	a.t.Helper()
	o, err := a.ord.PlaceOrder(context.Background(), fixture, orders.PlaceInput{Email: email,
		Lines: []orders.LineInput{{VariantID: variant, Quantity: quantity}}})
	if err != nil {
		a.t.Fatalf("place order: %v", err)
	}
	return o
}

// move walks order id through the statuses path.
func (a *testApp) move(id int64, path ...string) {
	a.t.Helper()
	for _, to := range path {
		if _, err := a.ord.Transition(context.Background(), fixtureStaff, id, to, 0); err != nil {
			a.t.Fatalf("order %d to %s: %v", id, to, err)
		}
	}
}

// placedAt sets when order id was placed, for the date filters and the dashboard.
func (a *testApp) placedAt(id int64, at time.Time) {
	a.t.Helper()
	if _, err := a.st.Pool().Exec(context.Background(), "UPDATE orders SET placed_at = $2 WHERE id = $1", id, at); err != nil {
		a.t.Fatal(err)
	}
}

// productWithStock creates an active product with one variant of price (cents)
// and stock, and returns the variant's id.
func (a *testApp) productWithStock(name, sku string, price, stock int64) int64 {
	a.t.Helper()
	p, err := a.cat.CreateProduct(context.Background(), fixture, catalog.ProductInput{Name: name, Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: sku, PriceCents: price, Stock: stock}}})
	if err != nil {
		a.t.Fatal(err)
	}
	return p.Variants[0].ID
}
