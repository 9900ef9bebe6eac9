package orders_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

func TestCustomers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	home := orders.Address{Name: "Grace Hopper", Line1: "1 Navy Way", City: "Arlington", Country: "US"}
	c, err := e.orders.CreateCustomer(ctx, staff, orders.CustomerInput{
		Email: "grace@example.com", Name: " Grace Hopper ", Phone: "+1 555 0100", ShippingAddress: home,
	})
	if err != nil {
		t.Fatalf("CreateCustomer: %v", err)
	}
	if c.Name != "Grace Hopper" || c.Version != 1 {
		t.Errorf("customer = %+v", c)
	}
	// Same email, other case: a field error, from the unique index.
	_, err = e.orders.CreateCustomer(ctx, staff, orders.CustomerInput{Email: "GRACE@example.com"})
	var errs validator.Errors
	if !errors.As(err, &errs) || errs["email"] != "is already used by another customer" {
		t.Errorf("duplicate email: %v, want a field error on email", err)
	}

	in, err := orders.CustomerInputOf(c)
	if err != nil {
		t.Fatal(err)
	}
	in.Notes = "prefers email"
	updated, err := e.orders.UpdateCustomer(ctx, staff, c.ID, c.Version, in)
	if err != nil {
		t.Fatalf("UpdateCustomer: %v", err)
	}
	if updated.Notes != "prefers email" || updated.Version != 2 {
		t.Errorf("updated = %+v", updated)
	}
	if n := e.rows(t, "audit_log", "resource = 'customers' AND object_id = $1 AND action = 'update' AND changes ? 'notes' AND NOT changes ? 'email'", c.ID); n != 1 {
		t.Errorf("%d update audit rows naming notes alone, want 1", n)
	}
	// The old version is stale now; a missing customer is not found.
	if _, err := e.orders.UpdateCustomer(ctx, staff, c.ID, c.Version, in); !errors.Is(err, store.ErrStale) {
		t.Errorf("stale update: %v, want ErrStale", err)
	}
	if _, err := e.orders.UpdateCustomer(ctx, staff, c.ID+1000, 1, in); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of a missing customer: %v, want ErrNotFound", err)
	}
	other := e.customer(t, "other@example.com", "Other")
	in.Email = "other@EXAMPLE.com"
	if _, err := e.orders.UpdateCustomer(ctx, staff, c.ID, 0, in); !errors.As(err, &errs) || errs["email"] == "" {
		t.Errorf("update to a taken email: %v, want a field error on email", err)
	}

	// A customer with orders stays; one without can go, at the right version.
	v := e.variant(t, "CU-1", 1_000, 10)
	o := e.place(t, c.ID, line(v, 1))
	if o.ShipTo != home {
		t.Errorf("order ships to %+v, want the customer's default %+v", o.ShipTo, home)
	}
	if err := e.orders.DeleteCustomer(ctx, staff, c.ID, 0); !errors.As(err, new(*orders.HasOrdersError)) || !errors.Is(err, store.ErrReferenced) {
		t.Errorf("delete with orders: %v, want a HasOrdersError", err)
	}
	if err := e.orders.DeleteCustomer(ctx, staff, other.ID, other.Version+1); !errors.Is(err, store.ErrStale) {
		t.Errorf("stale delete: %v, want ErrStale", err)
	}
	if err := e.orders.DeleteCustomer(ctx, staff, other.ID, other.Version); err != nil {
		t.Errorf("DeleteCustomer: %v", err)
	}
	if err := e.orders.DeleteCustomer(ctx, staff, other.ID, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete again: %v, want ErrNotFound", err)
	}
}

func TestCustomerInvalid(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name  string
		in    orders.CustomerInput
		field string
	}{
		{"no email", orders.CustomerInput{}, "email"},
		{"bad email", orders.CustomerInput{Email: "a@b@c"}, "email"},
		{"long name", orders.CustomerInput{Email: "a@b.c", Name: strings.Repeat("n", 201)}, "name"},
		{"long phone", orders.CustomerInput{Email: "a@b.c", Phone: strings.Repeat("1", 51)}, "phone"},
		{"long notes", orders.CustomerInput{Email: "a@b.c", Notes: strings.Repeat("n", orders.MaxNotes+1)}, "notes"},
		{"bad country", orders.CustomerInput{Email: "a@b.c", BillingAddress: orders.Address{Country: "DEU"}}, "billing_address.country"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.orders.CreateCustomer(context.Background(), staff, tt.in); !fieldError(err, tt.field) {
				t.Errorf("CreateCustomer: %v, want a field error on %s", err, tt.field)
			}
		})
	}
}

// TestCustomerPage: a customer's figures count the money the shop kept, and their
// recent orders come newest first.
func TestCustomerPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.variant(t, "LTV-1", 10_000, 100) // 119.00 with tax
	c := e.customer(t, "ltv@example.com", "Loyal")
	var ids []int64
	for _, path := range [][]string{
		nil,                                // pending: not yet paid
		{"paid"},                           // 119.00
		{"paid", "fulfilled"},              // 119.00
		{"paid", "fulfilled", "delivered"}, // 119.00
		{"cancelled"},                      // never paid
		{"paid", "refunded"},               // paid back
	} {
		o := e.place(t, c.ID, line(v, 1))
		e.move(t, o.ID, path...)
		ids = append(ids, o.ID)
	}
	got, err := e.orders.Customer(ctx, c.ID)
	if err != nil {
		t.Fatalf("Customer: %v", err)
	}
	if got.Orders != 6 || got.LifetimeCents != 3*11_900 || got.FirstOrderAt == nil || got.LastOrderAt == nil {
		t.Errorf("orders %d, lifetime %d, first %v, last %v; want 6, %d and both dates", got.Orders, got.LifetimeCents, got.FirstOrderAt, got.LastOrderAt, 3*11_900)
	}
	var recent []int64
	for _, o := range got.Recent {
		recent = append(recent, o.ID)
	}
	slices.Reverse(ids)
	if !slices.Equal(recent, ids) {
		t.Errorf("recent = %v, want %v", recent, ids)
	}
	empty := e.customer(t, "new@example.com", "")
	if got, err := e.orders.Customer(ctx, empty.ID); err != nil || got.Orders != 0 || got.LifetimeCents != 0 || got.FirstOrderAt != nil {
		t.Errorf("customer without orders = %+v, %v", got, err)
	}
	if _, err := e.orders.Customer(ctx, empty.ID+1000); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing customer: %v, want ErrNotFound", err)
	}
}

func TestListCustomers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var all []string
	for _, c := range []struct{ email, name string }{
		{"ann@example.com", "Ann Archer"}, {"ben@shop.test", "Ben Baker"}, {"cat@example.com", "Cat Cooper"},
		{"dan@shop.test", "Dan Archer"}, {"eva@example.com", "Eva"},
	} {
		e.customer(t, c.email, c.name)
		all = append([]string{c.email}, all...) // newest first
	}
	tests := []struct {
		q    string
		want []string
	}{
		{"", all},
		{"archer", []string{"dan@shop.test", "ann@example.com"}},
		{"SHOP", []string{"dan@shop.test", "ben@shop.test"}},
		{"_", nil},
	}
	for _, tt := range tests {
		var got []string
		p := orders.CustomerListParams{Q: tt.q, Limit: 2}
		for {
			page, err := e.orders.ListCustomers(ctx, p)
			if err != nil {
				t.Fatalf("ListCustomers(%q): %v", tt.q, err)
			}
			for _, c := range page.Items {
				got = append(got, c.Email)
			}
			if page.Next == "" {
				break
			}
			p.Cursor = page.Next
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ListCustomers(%q) = %v, want %v", tt.q, got, tt.want)
		}
		n, err := e.orders.CountCustomers(ctx, tt.q)
		if err != nil || n.N != int64(len(tt.want)) || !n.Exact {
			t.Errorf("CountCustomers(%q) = %+v, %v; want exactly %d", tt.q, n, err, len(tt.want))
		}
	}
	for _, p := range []orders.CustomerListParams{{Cursor: "x"}, {Limit: -1}, {Q: strings.Repeat("q", orders.MaxQuery+1)}} {
		if _, err := e.orders.ListCustomers(ctx, p); !errors.As(err, new(validator.Errors)) {
			t.Errorf("ListCustomers(%+v): %v, want a field error", p, err)
		}
	}
}
