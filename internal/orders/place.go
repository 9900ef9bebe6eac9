package orders

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Limits on an order's input, each checked with a field message. With
// catalog.MaxPriceCents they keep every sum far inside an int64.
const (
	MaxLines         = 100
	MaxQuantity      = 10_000
	MaxShippingCents = catalog.MaxPriceCents
	MaxNote          = 5000
	MaxEmail         = 254
	MaxCustomerName  = 200
)

// email is the shape the database's customers_email_check accepts.
var email = regexp.MustCompile(`^[^@\s]+@[^@\s]+$`)

// LineInput is one line of an order as a form or an API payload gives it: a variant
// and how many. The price is not part of it: it is the variant's price now.
type LineInput struct {
	VariantID int64
	Quantity  int64
}

// PlaceInput is an order as a form or an API payload gives it. It holds no amount
// but shipping: the prices, tax and totals are computed from the variants, so a
// client cannot set them (a transport that receives a total ignores it or refuses
// the field before it gets here).
type PlaceInput struct {
	// CustomerID is the customer the order is for. When it is 0, Email (and Name)
	// say who: the customer with that email, or a new one created with it.
	CustomerID    int64
	Email         string
	Name          string
	Lines         []LineInput
	ShippingCents int64
	// The addresses the order ships to and bills. A zero shipping address is the
	// customer's default; a zero billing address is the customer's default, else the
	// shipping address.
	ShippingAddress Address
	BillingAddress  Address
	Note            string // goes on the timeline's "created" entry
}

// normalize trims what people pad by accident.
func (in PlaceInput) normalize() PlaceInput {
	in.Email = strings.TrimSpace(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	in.Note = strings.TrimSpace(in.Note)
	in.ShippingAddress = in.ShippingAddress.normalize()
	in.BillingAddress = in.BillingAddress.normalize()
	return in
}

// Validate checks the input without the database and returns a message per bad
// field, or nil. What only the database can tell (a customer or variant that does
// not exist, stock) comes back from PlaceOrder.
func (in PlaceInput) Validate() validator.Errors {
	in = in.normalize()
	errs := validator.Errors{}
	switch {
	case in.CustomerID < 0:
		errs.Add("customer_id", "does not exist")
	case in.CustomerID == 0:
		checkEmail(errs, in.Email)
		errs.Check(validator.MaxLen(in.Name, MaxCustomerName), "name", fmt.Sprintf("must be at most %d characters", MaxCustomerName))
	}
	switch {
	case len(in.Lines) == 0:
		errs.Add("lines", "an order needs at least one line")
	case len(in.Lines) > MaxLines:
		errs.Add("lines", fmt.Sprintf("at most %d lines", MaxLines))
	}
	seen := map[int64]int{}
	for i, l := range in.Lines {
		prefix := fmt.Sprintf("lines[%d].", i)
		if l.VariantID <= 0 {
			errs.Add(prefix+"variant_id", "does not exist")
		} else if j, dup := seen[l.VariantID]; dup {
			errs.Add(prefix+"variant_id", fmt.Sprintf("is already on line %d: change its quantity instead", j+1))
		} else {
			seen[l.VariantID] = i
		}
		errs.Check(l.Quantity >= 1 && l.Quantity <= MaxQuantity, prefix+"quantity", fmt.Sprintf("must be from 1 to %d", MaxQuantity))
	}
	errs.Check(in.ShippingCents >= 0 && in.ShippingCents <= MaxShippingCents, "shipping_cents",
		fmt.Sprintf("must be from 0 to %d", int64(MaxShippingCents)))
	in.ShippingAddress.validate(errs, "shipping_address.")
	in.BillingAddress.validate(errs, "billing_address.")
	errs.Check(validator.MaxLen(in.Note, MaxNote), "note", fmt.Sprintf("must be at most %d characters", MaxNote))
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func checkEmail(errs validator.Errors, s string) {
	switch {
	case s == "":
		errs.Add("email", "is required")
	case len(s) > MaxEmail || !email.MatchString(s):
		errs.Add("email", "must be an email address")
	}
}

// Shortage is one line that cannot be filled.
type Shortage struct {
	Line      int // the line's index in PlaceInput.Lines
	VariantID int64
	SKU       string
	Requested int64
	Available int64
}

// ShortStockError refuses an order some of whose lines ask for more than is in
// stock; nothing was written. It lists every short line with what is available, and
// wraps store.ErrConflict (409: the stock is not there for it).
type ShortStockError struct {
	Shortages []Shortage // in line order
}

// Error lists each short SKU with what was asked and what is available.
func (e *ShortStockError) Error() string {
	parts := make([]string, len(e.Shortages))
	for i, s := range e.Shortages {
		parts[i] = fmt.Sprintf("%s: %d requested, %d available", s.SKU, s.Requested, s.Available)
	}
	return "not enough stock: " + strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(err, store.ErrConflict) hold.
func (e *ShortStockError) Unwrap() error { return store.ErrConflict }

// PlaceOrder places an order, pending, for in's customer, in one transaction: it
// finds or creates the customer, reserves stock for every line, prices the lines at
// the variants' current prices, computes the totals (tax at Config.TaxRate), and
// writes the order, its lines, the timeline's "created" entry and the audit rows.
//
// Stock is reserved line by line with a conditional update (stock - q, only where
// stock >= q), in variant id order, after locking the variants' products in product
// id order (see LockProductsOfVariants): concurrent orders queue per product, each
// sees the stock the previous one left, and none can deadlock another. If any line
// is short the whole order is refused with a *ShortStockError naming every short
// line, and nothing is written. A line for a variant that does not exist, or whose
// product is not active, is a field error ("lines[2].variant_id").
//
// The order number comes from a sequence, so a refused order leaves a gap in the
// numbers.
func (o *Orders) PlaceOrder(ctx context.Context, actor audit.Actor, in PlaceInput) (*Order, error) {
	in = in.normalize()
	if errs := in.Validate(); errs != nil {
		return nil, errs
	}
	var placed *Order
	err := o.st.InTx(ctx, func(q *db.Queries) error {
		cust, err := o.customerFor(ctx, q, actor, in)
		if err != nil {
			return err
		}
		lines, productIDs, err := reserve(ctx, q, in.Lines)
		if err != nil {
			return err
		}
		priced := make([]Line, len(lines))
		for i, l := range lines {
			priced[i] = Line{UnitPrice: l.PriceCents, Quantity: in.Lines[i].Quantity}
		}
		totals, lineTotals, err := ComputeTotals(priced, in.ShippingCents, o.cfg.TaxRate)
		if err != nil {
			return validator.Errors{"lines": "the order's total is too large"}
		}
		ship, bill, err := addressesFor(cust, in)
		if err != nil {
			return err
		}
		ord, err := q.CreateOrder(ctx, db.CreateOrderParams{
			CustomerID: cust.ID, SubtotalCents: totals.Subtotal, ShippingCents: totals.Shipping,
			TaxCents: totals.Tax, TotalCents: totals.Total, Currency: o.cfg.Currency,
			ShippingAddress: ship.encode(), BillingAddress: bill.encode(),
		})
		if err != nil {
			return orderFieldError(err)
		}
		p := db.CreateOrderLinesParams{OrderID: ord.ID}
		for i, l := range lines {
			p.VariantIds = append(p.VariantIds, l.ID)
			p.Skus = append(p.Skus, l.Sku)
			p.Names = append(p.Names, l.ProductName)
			p.Titles = append(p.Titles, l.Title)
			p.UnitPrices = append(p.UnitPrices, l.PriceCents)
			p.Quantities = append(p.Quantities, int32(in.Lines[i].Quantity))
			p.LineTotals = append(p.LineTotals, lineTotals[i])
			p.Positions = append(p.Positions, int32(i))
		}
		orderLines, err := q.CreateOrderLines(ctx, p)
		if err != nil {
			return err
		}
		slices.SortFunc(orderLines, func(a, b db.OrderLine) int { return int(a.Position - b.Position) })
		if err := catalog.RefreshSummaries(ctx, q, productIDs); err != nil {
			return err
		}
		ev, err := q.CreateOrderEvent(ctx, eventParams(ord.ID, actor, EventCreated, in.Note))
		if err != nil {
			return err
		}
		err = audit.Append(ctx, q, actor, audit.Event{
			Action: audit.ActionCreate, Resource: ResourceOrders, ObjectID: ord.ID, Repr: ord.Number,
			Changes: audit.Diff(nil, orderSnapshot(ord, orderLines)), Note: in.Note,
			Type: audit.TypeOrderPlaced,
		})
		if err != nil {
			return err
		}
		placed = &Order{Order: ord, Customer: cust, Lines: orderLines, Events: []db.OrderEvent{ev}}
		return placed.decode()
	})
	if err != nil {
		return nil, fmt.Errorf("place order: %w", err)
	}
	return placed, nil
}

// reserve takes the stock of every line, in variant id order under the products'
// locks, and returns the variants in line order and the products they belong to. Any
// line that cannot be filled makes it return an error after trying every line, so
// the error names them all; the caller's transaction then rolls back what it took.
func reserve(ctx context.Context, q *db.Queries, lines []LineInput) ([]db.ReserveVariantStockRow, []int64, error) {
	ids := make([]int64, len(lines))
	for i, l := range lines {
		ids[i] = l.VariantID
	}
	productIDs, err := q.LockProductsOfVariants(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	order := make([]int, len(lines)) // line indexes in variant id order
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(lines[a].VariantID, lines[b].VariantID) })

	out := make([]db.ReserveVariantStockRow, len(lines))
	errs := validator.Errors{}
	var short []Shortage
	for _, i := range order {
		l := lines[i]
		v, err := q.ReserveVariantStock(ctx, db.ReserveVariantStockParams{ID: l.VariantID, Quantity: int32(l.Quantity)})
		if store.IsNotFound(err) {
			cur, err := q.GetVariantStock(ctx, l.VariantID)
			if store.IsNotFound(err) {
				errs.Add(fmt.Sprintf("lines[%d].variant_id", i), "does not exist")
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			short = append(short, Shortage{Line: i, VariantID: l.VariantID, SKU: cur.Sku, Requested: l.Quantity, Available: int64(cur.Stock)})
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if v.ProductStatus != catalog.StatusActive {
			errs.Add(fmt.Sprintf("lines[%d].variant_id", i), "is not for sale: its product is "+v.ProductStatus)
			continue
		}
		out[i] = v
	}
	// A line that names no sellable variant is the caller's mistake, whatever the
	// stock: it is reported first, as input to correct.
	if len(errs) > 0 {
		return nil, nil, errs
	}
	if len(short) > 0 {
		slices.SortFunc(short, func(a, b Shortage) int { return a.Line - b.Line })
		return nil, nil, &ShortStockError{Shortages: short}
	}
	return out, productIDs, nil
}

// customerFor returns the customer in names: the one with in.CustomerID, else the
// one with in.Email, created (with the order's addresses as defaults) when there is
// none. Creating is an insert that yields to an existing email rather than a look
// first, so two first orders of one new customer cannot both create them.
func (o *Orders) customerFor(ctx context.Context, q *db.Queries, actor audit.Actor, in PlaceInput) (db.Customer, error) {
	if in.CustomerID != 0 {
		c, err := q.GetCustomer(ctx, in.CustomerID)
		if store.IsNotFound(err) {
			return c, validator.Errors{"customer_id": "does not exist"}
		}
		return c, err
	}
	bill := in.BillingAddress
	if bill.IsZero() {
		bill = in.ShippingAddress
	}
	c, err := q.CreateCustomerIfNew(ctx, db.CreateCustomerIfNewParams{
		Email: in.Email, Name: in.Name,
		ShippingAddress: in.ShippingAddress.encode(), BillingAddress: bill.encode(),
	})
	if store.IsNotFound(err) {
		return q.GetCustomerByEmail(ctx, in.Email)
	}
	if err != nil {
		return c, customerFieldError(err)
	}
	return c, audit.Record(ctx, q, actor, audit.ActionCreate, ResourceCustomers, c.ID, customerRepr(c),
		audit.Diff(nil, customerSnapshot(c)))
}

// addressesFor picks the order's addresses: the ones given, else the customer's
// defaults, and for billing last of all the shipping address.
func addressesFor(c db.Customer, in PlaceInput) (ship, bill Address, err error) {
	ship, bill = in.ShippingAddress, in.BillingAddress
	if ship.IsZero() {
		if ship, err = DecodeAddress(c.ShippingAddress); err != nil {
			return ship, bill, err
		}
	}
	if bill.IsZero() {
		if bill, err = DecodeAddress(c.BillingAddress); err != nil {
			return ship, bill, err
		}
	}
	if bill.IsZero() {
		bill = ship
	}
	return ship, bill, nil
}

// orderFieldError turns the constraint an order insert can violate by a caller's
// doing into a field error.
func orderFieldError(err error) error {
	if store.Constraint(err) == "orders_customer_id_fkey" {
		return validator.Errors{"customer_id": "does not exist"}
	}
	return err
}

// orderSnapshot is what an order's audit row records of it when it is created.
func orderSnapshot(o db.Order, lines []db.OrderLine) map[string]any {
	ls := make([]string, len(lines))
	for i, l := range lines {
		ls[i] = fmt.Sprintf("%d × %s @ %d", l.Quantity, l.Sku, l.UnitPriceCents)
	}
	return map[string]any{
		"status": o.Status, "customer_id": o.CustomerID, "subtotal_cents": o.SubtotalCents,
		"shipping_cents": o.ShippingCents, "tax_cents": o.TaxCents, "total_cents": o.TotalCents,
		"currency": o.Currency, "lines": ls,
	}
}
