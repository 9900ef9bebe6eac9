package orders

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Limits on a customer's input.
const (
	MaxPhone = 50
	MaxNotes = 20000
	// RecentOrders is how many of a customer's orders Customer returns; the rest are
	// a ListOrders with Filter.CustomerID away.
	RecentOrders = 20
)

// CustomerInput is a customer as a form or an API payload gives it.
type CustomerInput struct {
	Email           string
	Name            string
	Phone           string
	Notes           string
	ShippingAddress Address // the default for their orders
	BillingAddress  Address
}

// CustomerInputOf is a stored customer as input: what an edit form starts from and
// what an API PATCH applies its fields to.
func CustomerInputOf(c db.Customer) (CustomerInput, error) {
	ship, err := DecodeAddress(c.ShippingAddress)
	if err != nil {
		return CustomerInput{}, err
	}
	bill, err := DecodeAddress(c.BillingAddress)
	if err != nil {
		return CustomerInput{}, err
	}
	return CustomerInput{Email: c.Email, Name: c.Name, Phone: c.Phone, Notes: c.Notes,
		ShippingAddress: ship, BillingAddress: bill}, nil
}

func (in CustomerInput) normalize() CustomerInput {
	in.Email = strings.TrimSpace(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	in.Phone = strings.TrimSpace(in.Phone)
	in.Notes = strings.TrimSpace(in.Notes)
	in.ShippingAddress = in.ShippingAddress.normalize()
	in.BillingAddress = in.BillingAddress.normalize()
	return in
}

// Validate checks the input and returns a message per bad field, or nil. An email
// already in use comes back from the write, as the same kind of error.
func (in CustomerInput) Validate() validator.Errors {
	in = in.normalize()
	errs := validator.Errors{}
	checkEmail(errs, in.Email)
	errs.Check(validator.MaxLen(in.Name, MaxCustomerName), "name", fmt.Sprintf("must be at most %d characters", MaxCustomerName))
	errs.Check(validator.MaxLen(in.Phone, MaxPhone), "phone", fmt.Sprintf("must be at most %d characters", MaxPhone))
	errs.Check(validator.MaxLen(in.Notes, MaxNotes), "notes", fmt.Sprintf("must be at most %d characters", MaxNotes))
	in.ShippingAddress.validate(errs, "shipping_address.")
	in.BillingAddress.validate(errs, "billing_address.")
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Customer is a customer with what their page shows: the addresses decoded, their
// order count and lifetime value, and their most recent orders.
type Customer struct {
	db.Customer
	ShipTo        Address
	BillTo        Address
	Orders        int64
	LifetimeCents int64 // totals of their paid, fulfilled and delivered orders
	FirstOrderAt  *time.Time
	LastOrderAt   *time.Time
	Recent        []db.OrderListing // newest first, at most RecentOrders
}

// Customer returns customer id with their figures and recent orders, in three
// statements.
func (o *Orders) Customer(ctx context.Context, id int64) (*Customer, error) {
	var out Customer
	err := o.st.Replica(ctx, func(q *db.Queries) error {
		c, err := q.GetCustomer(ctx, id)
		if err != nil {
			return err
		}
		out.Customer = c
		stats, err := q.CustomerStats(ctx, id)
		if err != nil {
			return err
		}
		out.Orders, out.LifetimeCents = stats.Orders, stats.LifetimeCents
		if stats.Orders > 0 {
			out.FirstOrderAt, out.LastOrderAt = &stats.FirstOrderAt, &stats.LastOrderAt
		}
		out.Recent, err = q.ListOrdersByPlacedDesc(ctx, db.ListOrdersByPlacedDescParams{CustomerID: &id, RowLimit: RecentOrders})
		return err
	})
	if err == nil {
		if out.ShipTo, err = DecodeAddress(out.ShippingAddress); err == nil {
			out.BillTo, err = DecodeAddress(out.BillingAddress)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("customer %d: %w", id, err)
	}
	return &out, nil
}

// CreateCustomer adds a customer. An email in use (in any case) is a field error.
func (o *Orders) CreateCustomer(ctx context.Context, actor audit.Actor, in CustomerInput) (db.Customer, error) {
	in = in.normalize()
	if errs := in.Validate(); errs != nil {
		return db.Customer{}, errs
	}
	var c db.Customer
	err := o.st.InTx(ctx, func(q *db.Queries) (err error) {
		c, err = q.CreateCustomer(ctx, db.CreateCustomerParams{
			Email: in.Email, Name: in.Name, Phone: in.Phone, Notes: in.Notes,
			ShippingAddress: in.ShippingAddress.encode(), BillingAddress: in.BillingAddress.encode(),
		})
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, actor, audit.ActionCreate, ResourceCustomers, c.ID, customerRepr(c),
			audit.Diff(nil, customerSnapshot(c)))
	})
	if err != nil {
		return db.Customer{}, customerFieldError(fmt.Errorf("create customer: %w", err))
	}
	return c, nil
}

// UpdateCustomer stores in over customer id if it is at version (0: whatever its
// version). A newer version is store.ErrStale; an email in use is a field error.
func (o *Orders) UpdateCustomer(ctx context.Context, actor audit.Actor, id int64, version int32, in CustomerInput) (db.Customer, error) {
	in = in.normalize()
	if errs := in.Validate(); errs != nil {
		return db.Customer{}, errs
	}
	var c db.Customer
	err := o.st.InTx(ctx, func(q *db.Queries) error {
		before, err := q.GetCustomer(ctx, id)
		if err != nil {
			return err
		}
		if version != 0 && before.Version != version {
			return fmt.Errorf("customer %d is at version %d, not %d: %w", id, before.Version, version, store.ErrStale)
		}
		// The stored version guards the gap between the read above and this write.
		c, err = q.UpdateCustomer(ctx, db.UpdateCustomerParams{
			ID: id, Version: &before.Version, Email: in.Email, Name: in.Name, Phone: in.Phone, Notes: in.Notes,
			ShippingAddress: in.ShippingAddress.encode(), BillingAddress: in.BillingAddress.encode(),
		})
		if store.IsNotFound(err) {
			return fmt.Errorf("customer %d: %w", id, store.ErrStale)
		}
		if err != nil {
			return err
		}
		changes := audit.Diff(customerSnapshot(before), customerSnapshot(c))
		if len(changes) == 0 {
			return nil
		}
		return audit.Record(ctx, q, actor, audit.ActionUpdate, ResourceCustomers, id, customerRepr(c), changes)
	})
	if err != nil {
		return db.Customer{}, customerFieldError(fmt.Errorf("update customer %d: %w", id, err))
	}
	return c, nil
}

// HasOrdersError refuses to delete a customer who has orders: the orders keep their
// customer. It wraps store.ErrReferenced (409).
type HasOrdersError struct {
	CustomerID int64
}

// Error says why the customer stays.
func (e *HasOrdersError) Error() string {
	return "this customer has orders: a customer with orders cannot be deleted"
}

// Unwrap makes errors.Is(err, store.ErrReferenced) hold.
func (e *HasOrdersError) Unwrap() error { return store.ErrReferenced }

// DeleteCustomer deletes customer id if it is at version (0: whatever its version)
// and has no orders (*HasOrdersError otherwise, decided by the foreign key, so an
// order placed meanwhile still counts).
func (o *Orders) DeleteCustomer(ctx context.Context, actor audit.Actor, id int64, version int32) error {
	err := o.st.InTx(ctx, func(q *db.Queries) error {
		c, err := q.DeleteCustomer(ctx, db.DeleteCustomerParams{ID: id, Version: versionOrNil(version)})
		if store.IsNotFound(err) {
			if _, err := q.GetCustomerVersion(ctx, id); err != nil {
				return err
			}
			return fmt.Errorf("customer %d: %w", id, store.ErrStale)
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, actor, audit.ActionDelete, ResourceCustomers, id, customerRepr(c),
			audit.Diff(customerSnapshot(c), nil))
	})
	if store.Constraint(err) == "orders_customer_id_fkey" {
		return &HasOrdersError{CustomerID: id}
	}
	if err != nil {
		return fmt.Errorf("delete customer %d: %w", id, err)
	}
	return nil
}

// CustomerListParams asks for one page of the customer list, newest first.
type CustomerListParams struct {
	Q      string // a substring of the email or name
	Limit  int    // 1 to keyset.MaxLimit; 0 is keyset.DefaultLimit
	Cursor string // "" for the first page, else a CustomerPage's Next
}

// CustomerPage is one page of the customer list; Next is "" on the last.
type CustomerPage = keyset.Page[db.Customer]

// customerSort names the customer list's one ordering (newest first, by id) in its
// cursors.
const customerSort = "-id"

// ListCustomers returns one page of customers, newest first, in one statement.
func (o *Orders) ListCustomers(ctx context.Context, p CustomerListParams) (CustomerPage, error) {
	limit, err := keyset.Limit(p.Limit, keyset.DefaultLimit, keyset.MaxLimit)
	if err != nil {
		return CustomerPage{}, err
	}
	args := db.ListCustomersParams{RowLimit: int32(limit + 1)}
	if args.Pattern, err = searchPattern(p.Q); err != nil {
		return CustomerPage{}, err
	}
	cur, err := keyset.ReadNext(p.Cursor, customerSort, func(string) bool { return true })
	if err != nil {
		return CustomerPage{}, err
	}
	if cur != nil {
		args.BeforeID = &cur.ID
	}
	var rows []db.Customer
	err = o.st.Replica(ctx, func(q *db.Queries) (err error) {
		rows, err = q.ListCustomers(ctx, args)
		return err
	})
	if err != nil {
		return CustomerPage{}, fmt.Errorf("list customers: %w", err)
	}
	var page CustomerPage
	page.Items, page.Next = keyset.Next(rows, limit, customerSort, func(c db.Customer) (string, int64) { return "", c.ID })
	return page, nil
}

// CountCustomers counts the customers a search matches (the policy is
// keyset.CountOf).
func (o *Orders) CountCustomers(ctx context.Context, q string) (Count, error) {
	pattern, err := searchPattern(q)
	if err != nil {
		return Count{}, err
	}
	estimate, err := o.st.Estimate(ctx, func(qs *db.Queries) error {
		_, err := qs.ListCustomers(ctx, db.ListCustomersParams{Pattern: pattern, RowLimit: 1})
		return err
	})
	if err != nil {
		return Count{}, fmt.Errorf("count customers: %w", err)
	}
	n, err := keyset.CountOf(estimate, func(max int32) (n int64, err error) {
		err = o.st.Replica(ctx, func(qs *db.Queries) (err error) {
			n, err = qs.CountCustomers(ctx, db.CountCustomersParams{Pattern: pattern, MaxCount: max})
			return err
		})
		return n, err
	})
	if err != nil {
		return Count{}, fmt.Errorf("count customers: %w", err)
	}
	return n, nil
}

// searchPattern turns search text into an ILIKE pattern, or nil for none.
func searchPattern(q string) (*string, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	if !validator.MaxLen(q, MaxQuery) {
		return nil, validator.Errors{"q": fmt.Sprintf("must be at most %d characters", MaxQuery)}
	}
	p := "%" + escapeLike(q) + "%"
	return &p, nil
}

// customerFieldError turns the constraints a customer write can violate into field
// errors; anything else passes through.
func customerFieldError(err error) error {
	switch store.Constraint(err) {
	case "customers_email_key":
		return validator.Errors{"email": "is already used by another customer"}
	case "customers_email_check":
		return validator.Errors{"email": "must be an email address"}
	}
	return err
}

// customerRepr is how a customer reads in the audit log.
func customerRepr(c db.Customer) string {
	if c.Name == "" {
		return c.Email
	}
	return c.Name + " <" + c.Email + ">"
}

// customerSnapshot is the fields a customer's audit rows compare.
func customerSnapshot(c db.Customer) map[string]any {
	return map[string]any{
		"email": c.Email, "name": c.Name, "phone": c.Phone, "notes": c.Notes,
		"shipping_address": c.ShippingAddress, "billing_address": c.BillingAddress,
	}
}
