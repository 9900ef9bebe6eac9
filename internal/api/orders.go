package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// orderItem is an order in a list.
type orderItem struct {
	ID            int64       `json:"id"`
	Number        string      `json:"number"`
	Status        string      `json:"status"`
	Customer      customerRef `json:"customer"`
	SubtotalCents int64       `json:"subtotal_cents"`
	ShippingCents int64       `json:"shipping_cents"`
	TaxCents      int64       `json:"tax_cents"`
	TotalCents    int64       `json:"total_cents"`
	Currency      string      `json:"currency"`
	PlacedAt      time.Time   `json:"placed_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
	Version       int32       `json:"version"`
}

// customerRef names an order's customer.
type customerRef struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// orderDetail is a single order: the list item with its lines, addresses, timeline
// and the statuses it may move to next (by the state machine; what the caller may do
// depends on their permissions too, see orders.Permission).
type orderDetail struct {
	orderItem
	Lines              []orderLineBody  `json:"lines"`
	ShippingAddress    orders.Address   `json:"shipping_address"`
	BillingAddress     orders.Address   `json:"billing_address"`
	Events             []orderEventBody `json:"events"`
	AllowedTransitions []string         `json:"allowed_transitions"`
}

// orderLineBody is one line of an order, priced when the order was placed.
type orderLineBody struct {
	ID             int64  `json:"id"`
	VariantID      *int64 `json:"variant_id"` // null once the variant is deleted
	SKU            string `json:"sku"`
	Name           string `json:"name"`
	Title          string `json:"title"`
	UnitPriceCents int64  `json:"unit_price_cents"`
	Quantity       int32  `json:"quantity"`
	LineTotalCents int64  `json:"line_total_cents"`
}

// orderEventBody is one entry of an order's timeline.
type orderEventBody struct {
	ID    int64     `json:"id"`
	Kind  string    `json:"kind"` // created, note, or the status moved to
	At    time.Time `json:"at"`
	Actor string    `json:"actor"` // who: an email, with the token's name for API calls
	Note  string    `json:"note"`
}

// orderCreate is the body of POST /api/v1/orders. It has no amount but shipping:
// the prices, tax and totals are the server's to compute. Lines and the new
// customer are decoded one by one (see decodeMember), so an error names its path.
type orderCreate struct {
	CustomerID      *int64            `json:"customer_id"`
	Customer        json.RawMessage   `json:"customer"` // orderCustomer
	Lines           []json.RawMessage `json:"lines"`    // orderLineCreate each
	ShippingCents   int64             `json:"shipping_cents"`
	ShippingAddress orders.Address    `json:"shipping_address"`
	BillingAddress  orders.Address    `json:"billing_address"`
	Note            string            `json:"note"`
}

// orderCustomer is who an order is for when it names no customer_id: the customer
// with this email, or a new one.
type orderCustomer struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

// orderLineCreate is one line of a new order: a variant and how many.
type orderLineCreate struct {
	VariantID int64 `json:"variant_id"`
	Quantity  int64 `json:"quantity"`
}

// transitionCreate is the body of POST /api/v1/orders/{id}/transitions.
type transitionCreate struct {
	To string `json:"to"`
}

// Fields an order shows but a client never sets. The amounts among them get their
// own message (computedMessage): a client sending a total is told who computes it.
var (
	orderReadOnly = []string{"id", "number", "status", "currency", "placed_at", "updated_at", "version",
		"events", "allowed_transitions", "subtotal_cents", "tax_cents", "total_cents", "subtotal", "tax", "total"}
	lineReadOnly = []string{"id", "sku", "name", "title", "unit_price_cents", "price_cents", "price",
		"line_total_cents", "total_cents", "total"}
	orderComputed = []string{"subtotal_cents", "tax_cents", "total_cents", "subtotal", "tax", "total",
		"unit_price_cents", "price_cents", "price", "line_total_cents"}
)

const computedMessage = "is computed by the server from the variants' current prices: do not send it"

// orderList is what GET /api/v1/orders accepts.
var orderList = listSpec{
	orderings: orders.Sorts.Orderings(),
	filters:   []string{"q", "status", "customer", "placed", "placed_from", "placed_to", "total_min", "total_max"},
}

func itemOfOrder(o db.OrderListing) orderItem {
	return orderItem{
		ID: o.ID, Number: o.Number, Status: o.Status,
		Customer:      customerRef{ID: o.CustomerID, Email: o.CustomerEmail, Name: o.CustomerName},
		SubtotalCents: o.SubtotalCents, ShippingCents: o.ShippingCents, TaxCents: o.TaxCents, TotalCents: o.TotalCents,
		Currency: o.Currency, PlacedAt: o.PlacedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(), Version: o.Version,
	}
}

func detailOfOrder(o *orders.Order) orderDetail {
	d := orderDetail{
		orderItem: orderItem{
			ID: o.ID, Number: o.Number, Status: o.Status,
			Customer:      customerRef{ID: o.Customer.ID, Email: o.Customer.Email, Name: o.Customer.Name},
			SubtotalCents: o.SubtotalCents, ShippingCents: o.ShippingCents, TaxCents: o.TaxCents, TotalCents: o.TotalCents,
			Currency: o.Currency, PlacedAt: o.PlacedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(), Version: o.Version,
		},
		Lines: make([]orderLineBody, len(o.Lines)), ShippingAddress: o.ShipTo, BillingAddress: o.BillTo,
		Events: make([]orderEventBody, len(o.Events)), AllowedTransitions: orders.Allowed(o.Status),
	}
	if d.AllowedTransitions == nil {
		d.AllowedTransitions = []string{}
	}
	for i, l := range o.Lines {
		d.Lines[i] = orderLineBody{
			ID: l.ID, VariantID: l.VariantID, SKU: l.Sku, Name: l.Name, Title: l.Title,
			UnitPriceCents: l.UnitPriceCents, Quantity: l.Quantity, LineTotalCents: l.LineTotalCents,
		}
	}
	for i, e := range o.Events {
		d.Events[i] = orderEventBody{ID: e.ID, Kind: e.Kind, At: e.At.UTC(), Actor: e.ActorLabel, Note: e.Note}
	}
	return d
}

// listOrders answers GET /api/v1/orders: one page, filtered and ordered.
func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) error {
	p, err := s.page(r, orderList)
	if err != nil {
		return err
	}
	f, err := s.orderFilter(r)
	if err != nil {
		return err
	}
	sort, err := orders.ParseSort(p.Ordering) // the API's orderings are the domain's words
	if err != nil {
		return queryError(err)
	}
	params := orders.ListParams{Filter: f, Sort: sort, Limit: p.Limit}
	if p.After != nil {
		params.Cursor = p.After.Key // the domain's own cursor, signed inside ours
	}
	page, err := s.orders.ListOrders(r.Context(), params)
	if err != nil {
		return queryError(err)
	}
	out := list[orderItem]{Data: make([]orderItem, len(page.Items))}
	for i, row := range page.Items {
		out.Data[i] = itemOfOrder(row)
	}
	if page.Next != "" {
		out.NextCursor, out.HasMore = s.next(p, page.Next, 0), true
	}
	return writeJSON(w, http.StatusOK, out)
}

// orderFilter reads the order list's filters. The placed date is either a preset
// (placed=today|7d|30d, in the shop's time zone, as the admin's filter) or a range of
// RFC 3339 times (placed_from inclusive, placed_to exclusive), not both.
func (s *Server) orderFilter(r *http.Request) (orders.Filter, error) {
	q := r.URL.Query()
	f := orders.Filter{Q: q.Get("q"), Status: q.Get("status")}
	var err error
	if v := q.Get("customer"); v != "" {
		if f.CustomerID, err = strconv.ParseInt(v, 10, 64); err != nil || f.CustomerID < 1 {
			return f, badParam("customer", "must be a customer id")
		}
	}
	if preset := q.Get("placed"); preset != "" {
		if q.Has("placed_from") || q.Has("placed_to") {
			return f, badParam("placed", "cannot be combined with placed_from or placed_to")
		}
		if preset == orders.PlacedCustom {
			return f, badParam("placed", "must be one of today, 7d, 30d (for a custom range use placed_from and placed_to)")
		}
		if f.PlacedFrom, f.PlacedTo, err = s.orders.PlacedRange(preset, "", ""); err != nil {
			return f, queryError(err)
		}
	}
	for name, dst := range map[string]*time.Time{"placed_from": &f.PlacedFrom, "placed_to": &f.PlacedTo} {
		if v := q.Get(name); v != "" {
			if *dst, err = time.Parse(time.RFC3339, v); err != nil {
				return f, badParam(name, "must be an RFC 3339 time such as 2026-01-31T00:00:00Z")
			}
		}
	}
	if !f.PlacedFrom.IsZero() && !f.PlacedTo.IsZero() && !f.PlacedFrom.Before(f.PlacedTo) {
		return f, badParam("placed_to", "must be after placed_from")
	}
	for name, dst := range map[string]**int64{"total_min": &f.TotalMin, "total_max": &f.TotalMax} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return f, badParam(name, "must be a whole number of cents, 0 or more")
			}
			*dst = &n
		}
	}
	return f, nil
}

// createOrder answers POST /api/v1/orders: the order placed, pending, its stock
// reserved. A line the stock cannot fill is a 409 naming every short SKU and what is
// available; nothing is written then.
func (s *Server) createOrder(w http.ResponseWriter, r *http.Request) error {
	var in orderCreate
	if _, err := decode(r, &in, orderReadOnly...); err != nil {
		return explainComputed(err)
	}
	input := orders.PlaceInput{
		ShippingCents: in.ShippingCents, ShippingAddress: in.ShippingAddress, BillingAddress: in.BillingAddress,
		Note: in.Note, Lines: make([]orders.LineInput, len(in.Lines)),
	}
	errs := validator.Errors{}
	for i, raw := range in.Lines {
		var l orderLineCreate
		if err := decodeMember(raw, &l, fmt.Sprintf("lines[%d].", i), errs, lineReadOnly...); err != nil {
			continue
		}
		input.Lines[i] = orders.LineInput{VariantID: l.VariantID, Quantity: l.Quantity}
	}
	hasCustomer := len(in.Customer) > 0 && string(in.Customer) != "null"
	switch {
	case in.CustomerID != nil && hasCustomer:
		errs.Add("customer", "give customer_id or customer, not both")
	case in.CustomerID != nil:
		input.CustomerID = *in.CustomerID
		errs.Check(input.CustomerID > 0, "customer_id", "does not exist")
	case hasCustomer:
		var c orderCustomer
		if decodeMember(in.Customer, &c, "customer.", errs) == nil {
			input.Email, input.Name = c.Email, c.Name
		}
	default:
		errs.Add("customer", "is required: give customer_id, or customer with an email")
	}
	if err := errs.Err(); err != nil {
		return explainComputed(err)
	}
	o, err := s.orders.PlaceOrder(r.Context(), actor(r), input)
	if err != nil {
		return orderError(err)
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/orders/%d", o.ID))
	return writeOrder(w, r, http.StatusCreated, o)
}

// explainComputed replaces the generic message ("is read-only") of an amount the
// client sent with one that says the server computes it; other errors pass as they
// are.
func explainComputed(err error) error {
	fields, ok := errors.AsType[validator.Errors](err)
	if !ok {
		return err
	}
	for f := range fields {
		name := f[strings.LastIndex(f, ".")+1:]
		if slices.Contains(orderComputed, name) {
			fields[f] = computedMessage
		}
	}
	return fields
}

// orderError gives the order conflicts the words the client needs: a short stock
// names each SKU with what is available, a refused transition the allowed ones.
// Other errors pass as they are.
func orderError(err error) error {
	if short, ok := errors.AsType[*orders.ShortStockError](err); ok {
		fields := validator.Errors{}
		for _, sh := range short.Shortages {
			fields[fmt.Sprintf("lines[%d].quantity", sh.Line)] = fmt.Sprintf(
				"%s: %d requested, %d available", sh.SKU, sh.Requested, sh.Available)
		}
		return &clientError{kind: err, detail: capitalize(short.Error()) + ". Nothing was ordered.", fields: fields}
	}
	if refused, ok := errors.AsType[*orders.TransitionError](err); ok {
		allowed := "none: " + refused.From + " is final"
		if len(refused.Allowed) > 0 {
			allowed = strings.Join(refused.Allowed, ", ")
		}
		return &clientError{kind: err, detail: capitalize(refused.Error()) + ".",
			fields: validator.Errors{"to": fmt.Sprintf("cannot go from %s to %s; allowed: %s", refused.From, refused.To, allowed)}}
	}
	return err
}

// capitalize starts a message written for the log with a capital, as a detail.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// getOrder answers GET /api/v1/orders/{id}: the order with its lines and timeline.
func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	o, err := s.orders.Order(r.Context(), id)
	if err != nil {
		return err
	}
	return writeOrder(w, r, http.StatusOK, o)
}

// transitionOrder answers POST /api/v1/orders/{id}/transitions {"to": "paid"}. The
// route needs orders.view; the move itself needs orders.Permission(to) (fulfilling
// orders.fulfil, refunding orders.refund, ...), which Transition checks: a 403 that
// names the permission. A move the state machine refuses is a 409 naming the allowed ones. With
// If-Match, the move applies only to the order as the client last read it.
func (s *Server) transitionOrder(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in transitionCreate
	if _, err := decode(r, &in); err != nil {
		return err
	}
	if !slices.Contains(orders.Statuses, in.To) {
		return validator.Errors{"to": "must be one of " + strings.Join(orders.Statuses, ", ")}
	}
	version, err := conditionalVersion(r, func() (int32, error) {
		cur, err := s.checkedOrder(r, id)
		if err != nil {
			return 0, err
		}
		return cur.Version, nil
	})
	if err != nil {
		return err
	}
	if _, err := s.orders.Transition(r.Context(), auth.FromContext(r.Context()), id, in.To, version); err != nil {
		return orderError(err)
	}
	o, err := s.orders.Order(r.Context(), id)
	if err != nil {
		return err
	}
	return writeOrder(w, r, http.StatusOK, o)
}

// checkedOrder loads order id and checks the request's If-Match against it.
func (s *Server) checkedOrder(r *http.Request, id int64) (*orders.Order, error) {
	return loadForWrite(r, func(ctx context.Context) (*orders.Order, error) { return s.orders.Order(ctx, id) },
		func(o *orders.Order) (string, error) { return etagOf(o.ID, o.Version, detailOfOrder(o)) })
}

func writeOrder(w http.ResponseWriter, r *http.Request, status int, o *orders.Order) error {
	body, tag, err := represent(o.ID, o.Version, detailOfOrder(o))
	if err != nil {
		return err
	}
	return writeRepresentation(w, r, status, body, tag)
}
