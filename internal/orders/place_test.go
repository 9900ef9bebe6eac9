package orders_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/store"
)

func TestPlaceOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mug := e.variant(t, "MUG-1", 1_999, 10)
	lamp := e.variant(t, "LAMP-1", 4_500, 3)
	ship := orders.Address{Name: "Ada Lovelace", Line1: "1 Byron Row", City: "London", PostalCode: "N1", Country: "gb"}

	o, err := e.orders.PlaceOrder(ctx, staff, orders.PlaceInput{
		Email: "  ada@example.com ", Name: "Ada Lovelace",
		Lines:         []orders.LineInput{line(mug, 3), line(lamp, 1)},
		ShippingCents: 495, ShippingAddress: ship, Note: "gift wrap",
	})
	if err != nil {
		t.Fatalf("PlaceOrder: %v", err)
	}
	// 3 × 19.99 + 45.00 = 104.97; with 4.95 shipping 109.92; 19% of it 20.8848.
	want := orders.Totals{Subtotal: 10_497, Shipping: 495, Tax: 2_088, Total: 13_080}
	got := orders.Totals{Subtotal: o.SubtotalCents, Shipping: o.ShippingCents, Tax: o.TaxCents, Total: o.TotalCents}
	if got != want {
		t.Errorf("totals = %+v, want %+v", got, want)
	}
	if o.Number != "SR-10001" || o.Status != "pending" || o.Currency != "EUR" {
		t.Errorf("number, status, currency = %s, %s, %s; want SR-10001, pending, EUR", o.Number, o.Status, o.Currency)
	}
	if o.Customer.Email != "ada@example.com" || o.Customer.ID != o.CustomerID {
		t.Errorf("customer = %d %q, want a new customer ada@example.com", o.Customer.ID, o.Customer.Email)
	}
	ship.Country = "GB"
	if o.ShipTo != ship || o.BillTo != ship {
		t.Errorf("addresses = %+v / %+v, want %+v for both", o.ShipTo, o.BillTo, ship)
	}
	if len(o.Lines) != 2 || o.Lines[0].Sku != "MUG-1" || o.Lines[0].UnitPriceCents != 1_999 ||
		o.Lines[0].Quantity != 3 || o.Lines[0].LineTotalCents != 5_997 || o.Lines[0].Name != "Product MUG-1" ||
		o.Lines[1].Sku != "LAMP-1" || *o.Lines[1].VariantID != lamp.ID {
		t.Errorf("lines = %+v", o.Lines)
	}
	if len(o.Events) != 1 || o.Events[0].Kind != "created" || o.Events[0].Note != "gift wrap" ||
		o.Events[0].ActorLabel != "ops@example.com" || *o.Events[0].ActorUserID != 7 {
		t.Errorf("events = %+v, want one created entry by staff with the note", o.Events)
	}
	for _, c := range []struct {
		id                int64
		stock, stockTotal int64
	}{{mug.ID, 7, 7}, {lamp.ID, 2, 2}} {
		if s, total := e.stock(t, c.id); s != c.stock || total != c.stockTotal {
			t.Errorf("variant %d: stock %d, stock_total %d; want %d, %d", c.id, s, total, c.stock, c.stockTotal)
		}
	}
	if n := e.rows(t, "product_variants", "id = $1 AND version = $2", mug.ID, mug.Version+1); n != 1 {
		t.Error("the sale did not bump the variant's version: an open form could write the old stock back")
	}
	if n := e.rows(t, "audit_log", "resource = 'orders' AND action = 'create' AND object_id = $1 AND actor_user_id = 7", o.ID); n != 1 {
		t.Errorf("%d audit rows for the order, want 1", n)
	}
	if n := e.rows(t, "audit_log", "resource = 'customers' AND action = 'create' AND object_id = $1", o.CustomerID); n != 1 {
		t.Errorf("%d audit rows for the new customer, want 1", n)
	}
	// The order reads back as it was placed; a later price change does not touch it.
	if _, err := e.pool.Exec(ctx, "UPDATE product_variants SET price_cents = 1 WHERE id = $1", mug.ID); err != nil {
		t.Fatal(err)
	}
	back, err := e.orders.Order(ctx, o.ID)
	if err != nil {
		t.Fatalf("Order: %v", err)
	}
	if back.TotalCents != 13_080 || back.Lines[0].UnitPriceCents != 1_999 || back.ShipTo != ship {
		t.Errorf("order read back = %+v", back)
	}

	// A second order by the same email, in another case, is the same customer's; the
	// customer's stored addresses become the order's.
	o2, err := e.orders.PlaceOrder(ctx, staff, orders.PlaceInput{Email: "ADA@example.com", Lines: []orders.LineInput{line(lamp, 1)}})
	if err != nil {
		t.Fatalf("PlaceOrder again: %v", err)
	}
	if o2.CustomerID != o.CustomerID || o2.ShipTo != ship || o2.Number != "SR-10002" {
		t.Errorf("second order: customer %d, ship to %+v, number %s; want customer %d, %+v, SR-10002",
			o2.CustomerID, o2.ShipTo, o2.Number, o.CustomerID, ship)
	}
	if n := e.rows(t, "customers", "true"); n != 1 {
		t.Errorf("%d customers, want 1", n)
	}
}

// TestPlaceOrderPastFloat places an order whose amounts float64 cannot hold: every
// figure comes out exact.
func TestPlaceOrderPastFloat(t *testing.T) {
	e := newEnv(t)
	var lines []orders.LineInput
	for i := range 9 {
		lines = append(lines, line(e.variant(t, sku(i), 99_999_999_999, 10_000), 10_000))
	}
	lines = append(lines, line(e.variant(t, sku(9), 719_925_483, 10_000), 10_000))
	c := e.customer(t, "big@example.com", "")
	o, err := e.orders.PlaceOrder(context.Background(), staff, orders.PlaceInput{CustomerID: c.ID, Lines: lines, ShippingCents: 955})
	if err != nil {
		t.Fatalf("PlaceOrder: %v", err)
	}
	want := orders.Totals{Subtotal: 9_007_199_254_740_000, Shipping: 955, Tax: 1_711_367_858_400_781, Total: 10_718_567_113_141_736}
	got := orders.Totals{Subtotal: o.SubtotalCents, Shipping: o.ShippingCents, Tax: o.TaxCents, Total: o.TotalCents}
	if got != want {
		t.Errorf("totals = %+v, want %+v", got, want)
	}
	if exact := exactTax(want.Subtotal+want.Shipping, 1_900); o.TaxCents != exact {
		t.Errorf("tax = %d, exactly it is %d", o.TaxCents, exact)
	}
}

func TestPlaceOrderShortStock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.variant(t, "A-1", 100, 5)
	b := e.variant(t, "B-1", 100, 1)
	c := e.variant(t, "C-1", 100, 0)
	_, err := e.orders.PlaceOrder(ctx, staff, orders.PlaceInput{
		Email: "short@example.com", Lines: []orders.LineInput{line(c, 2), line(a, 5), line(b, 3)},
	})
	var short *orders.ShortStockError
	if !errors.As(err, &short) || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("PlaceOrder: %v, want a ShortStockError wrapping ErrConflict", err)
	}
	want := []orders.Shortage{
		{Line: 0, VariantID: c.ID, SKU: "C-1", Requested: 2, Available: 0},
		{Line: 2, VariantID: b.ID, SKU: "B-1", Requested: 3, Available: 1},
	}
	if fmt.Sprint(short.Shortages) != fmt.Sprint(want) {
		t.Errorf("shortages = %+v, want %+v", short.Shortages, want)
	}
	if msg := "not enough stock: C-1: 2 requested, 0 available; B-1: 3 requested, 1 available"; err.Error() != "place order: "+msg {
		t.Errorf("error = %q, want %q", err, msg)
	}
	e.nothingWritten(t)
	for _, v := range []struct{ id, stock int64 }{{a.ID, 5}, {b.ID, 1}, {c.ID, 0}} {
		if s, total := e.stock(t, v.id); s != v.stock || total != v.stock {
			t.Errorf("variant %d: stock %d (total %d) after a refused order, want %d", v.id, s, total, v.stock)
		}
	}
}

// nothingWritten fails unless no order, line, event, customer or audit row of
// either exists.
func (e *env) nothingWritten(t *testing.T) {
	t.Helper()
	for _, table := range []string{"orders", "order_lines", "order_events", "customers"} {
		if n := e.rows(t, table, "true"); n != 0 {
			t.Errorf("%d rows in %s, want none", n, table)
		}
	}
	if n := e.rows(t, "audit_log", "resource IN ('orders', 'customers')"); n != 0 {
		t.Errorf("%d audit rows for orders or customers, want none", n)
	}
}

func TestPlaceOrderInvalid(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.variant(t, "OK-1", 100, 10)
	draft, err := e.catalog.CreateProduct(ctx, audit.System, catalog.ProductInput{
		Name: "Draft", Status: catalog.StatusDraft, Variants: []catalog.VariantInput{{SKU: "DRAFT-1", PriceCents: 100, Stock: 10}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ok := orders.PlaceInput{Email: "x@example.com", Lines: []orders.LineInput{line(v, 1)}}
	with := func(f func(*orders.PlaceInput)) orders.PlaceInput {
		in := ok
		in.Lines = append([]orders.LineInput(nil), ok.Lines...)
		f(&in)
		return in
	}
	tests := []struct {
		name  string
		in    orders.PlaceInput
		field string
	}{
		{"no email", with(func(in *orders.PlaceInput) { in.Email = " " }), "email"},
		{"bad email", with(func(in *orders.PlaceInput) { in.Email = "not an email" }), "email"},
		{"long email", with(func(in *orders.PlaceInput) { in.Email = strings.Repeat("a", 250) + "@x.io" }), "email"},
		{"long name", with(func(in *orders.PlaceInput) { in.Name = strings.Repeat("n", orders.MaxCustomerName+1) }), "name"},
		{"negative customer", with(func(in *orders.PlaceInput) { in.CustomerID = -1 }), "customer_id"},
		{"missing customer", with(func(in *orders.PlaceInput) { in.CustomerID = 999_999 }), "customer_id"},
		{"no lines", with(func(in *orders.PlaceInput) { in.Lines = nil }), "lines"},
		{"too many lines", with(func(in *orders.PlaceInput) {
			for i := range orders.MaxLines {
				in.Lines = append(in.Lines, orders.LineInput{VariantID: int64(1_000 + i), Quantity: 1})
			}
		}), "lines"},
		{"no variant", with(func(in *orders.PlaceInput) { in.Lines[0].VariantID = 0 }), "lines[0].variant_id"},
		{"duplicate variant", with(func(in *orders.PlaceInput) { in.Lines = append(in.Lines, line(v, 2)) }), "lines[1].variant_id"},
		{"zero quantity", with(func(in *orders.PlaceInput) { in.Lines[0].Quantity = 0 }), "lines[0].quantity"},
		{"huge quantity", with(func(in *orders.PlaceInput) { in.Lines[0].Quantity = orders.MaxQuantity + 1 }), "lines[0].quantity"},
		{"missing variant", with(func(in *orders.PlaceInput) { in.Lines[0].VariantID = 999_999 }), "lines[0].variant_id"},
		{"product not for sale", with(func(in *orders.PlaceInput) { in.Lines[0] = line(draft.Variants[0], 1) }), "lines[0].variant_id"},
		{"negative shipping", with(func(in *orders.PlaceInput) { in.ShippingCents = -1 }), "shipping_cents"},
		{"huge shipping", with(func(in *orders.PlaceInput) { in.ShippingCents = orders.MaxShippingCents + 1 }), "shipping_cents"},
		{"bad country", with(func(in *orders.PlaceInput) { in.ShippingAddress.Country = "Germany" }), "shipping_address.country"},
		{"long address line", with(func(in *orders.PlaceInput) { in.BillingAddress.Line1 = strings.Repeat("l", 201) }), "billing_address.line1"},
		{"long note", with(func(in *orders.PlaceInput) { in.Note = strings.Repeat("n", orders.MaxNote+1) }), "note"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.orders.PlaceOrder(ctx, staff, tt.in); !fieldError(err, tt.field) {
				t.Fatalf("PlaceOrder: %v, want a field error on %s", err, tt.field)
			}
			e.nothingWritten(t)
			if s, _ := e.stock(t, v.ID); s != 10 {
				t.Errorf("stock = %d after a refused order, want 10", s)
			}
		})
	}
}

// TestPlaceOrderConcurrent: 200 customers try to buy one unit each of a variant
// with 10 in stock, all at once. Exactly 10 orders exist afterwards, stock is 0, and
// the other 190 got a ShortStockError and left no trace.
func TestPlaceOrderConcurrent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.variant(t, "HOT-1", 2_500, 10)
	errs := concurrently(200, func(i int) error {
		_, err := e.orders.PlaceOrder(ctx, staff, orders.PlaceInput{
			Email: fmt.Sprintf("buyer-%03d@example.com", i), Lines: []orders.LineInput{line(v, 1)},
		})
		return err
	})

	var placed, short int
	for i, err := range errs {
		var se *orders.ShortStockError
		switch {
		case err == nil:
			placed++
		case errors.As(err, &se) && errors.Is(err, store.ErrConflict):
			short++
			if len(se.Shortages) != 1 || se.Shortages[0].SKU != "HOT-1" || se.Shortages[0].Available != 0 {
				t.Errorf("attempt %d: shortages %+v, want HOT-1 with 0 available", i, se.Shortages)
			}
		default:
			t.Errorf("attempt %d: %v, want success or a ShortStockError", i, err)
		}
	}
	if placed != 10 || short != 190 {
		t.Errorf("%d placed and %d short, want 10 and 190", placed, short)
	}
	if s, total := e.stock(t, v.ID); s != 0 || total != 0 {
		t.Errorf("stock %d, stock_total %d; want 0, 0", s, total)
	}
	for table, want := range map[string]int64{"orders": 10, "order_lines": 10, "order_events": 10, "customers": 10} {
		if n := e.rows(t, table, "true"); n != want {
			t.Errorf("%d rows in %s, want %d", n, table, want)
		}
	}
	if n := e.rows(t, "audit_log", "resource = 'orders'"); n != 10 {
		t.Errorf("%d audit rows for orders, want 10", n)
	}
	if n := e.rows(t, "audit_log", "resource = 'customers'"); n != 10 {
		t.Errorf("%d audit rows for customers, want 10", n)
	}
	if n := e.rows(t, "(SELECT DISTINCT number FROM orders) AS n", "true"); n != 10 {
		t.Errorf("%d distinct order numbers, want 10", n)
	}
}

// TestPlaceOrderAtomic makes the last write of PlaceOrder (the audit row) fail and
// checks that the order, its lines, its timeline entry and the stock it took went
// with it: they are one transaction.
func TestPlaceOrderAtomic(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.variant(t, "ATOM-1", 100, 5)
	c := e.customer(t, "atom@example.com", "")
	e.failAuditOf(t, "orders")
	_, err := e.orders.PlaceOrder(ctx, staff, orders.PlaceInput{CustomerID: c.ID, Lines: []orders.LineInput{line(v, 2)}})
	if err == nil || !strings.Contains(err.Error(), "audit refused") {
		t.Fatalf("PlaceOrder: %v, want the audit failure", err)
	}
	for _, table := range []string{"orders", "order_lines", "order_events"} {
		if n := e.rows(t, table, "true"); n != 0 {
			t.Errorf("%d rows in %s after the audit row failed, want none", n, table)
		}
	}
	if s, total := e.stock(t, v.ID); s != 5 || total != 5 {
		t.Errorf("stock %d, total %d after the audit row failed; want 5, 5", s, total)
	}
}

// failAuditOf makes every audit row for resource fail, from now on.
func (e *env) failAuditOf(t *testing.T, resource string) {
	t.Helper()
	_, err := e.pool.Exec(context.Background(), `
CREATE FUNCTION test_fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit refused';
END $$;
CREATE TRIGGER test_fail_audit BEFORE INSERT ON audit_log FOR EACH ROW
    WHEN (NEW.resource = '`+resource+`') EXECUTE FUNCTION test_fail_audit();`)
	if err != nil {
		t.Fatal(err)
	}
}
