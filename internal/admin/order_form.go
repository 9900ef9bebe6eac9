package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// An order placed by hand is a form of lines (a SKU or variant id and a quantity),
// the customer, shipping, an address and a note. Prices, tax and totals are the
// orders package's to compute: the form has no amount but shipping. Without
// JavaScript, its helper buttons (more lines, find a variant, add a found one) post
// the form back and get it again with everything typed kept; only "Place order"
// writes.

const (
	orderFormRows = 5  // the empty lines a new form has, and how many "More lines" adds
	foundVariants = 20 // the most variants a search lists
)

// orderFormLine is one line of the form, as typed, with the variant it named when
// that is known.
type orderFormLine struct {
	Ref      string // a SKU or a variant id
	Quantity string
	Variant  *orders.Variant
}

// orderForm is the order form's values, as typed.
type orderForm struct {
	CustomerID int64 // placing for this customer; 0: Email and Name say who
	Email      string
	Name       string
	Lines      []orderFormLine
	Shipping   string
	ShipTo     orders.Address
	Note       string
	Find       string // the variant search
}

// orderFormPage is the page that places an order by hand.
type orderFormPage struct {
	Layout
	Form     orderForm
	Customer *db.Customer // the customer of Form.CustomerID
	Errors   validator.Errors
	Alert    string
	Found    []orders.Variant
	Searched bool
	Currency string
	TaxRate  string // "19%"
}

// ShippingInputs is the order's shipping address fieldset.
func (p *orderFormPage) ShippingInputs() addressView {
	return addressInputs("Ship to", "Empty: the customer's shipping address.", "shipping_address.", p.Form.ShipTo, p.Errors)
}

// LineError is the message of a line's input (ref or quantity), if any.
func (p *orderFormPage) LineError(i int, input string) string {
	return p.Errors[fmt.Sprintf("lines[%d].%s", i, input)]
}

// newOrderForm is GET /admin/orders/new, for a customer with ?customer=ID.
func (s *Server) newOrderForm(w http.ResponseWriter, r *http.Request) error {
	f := orderForm{Lines: make([]orderFormLine, orderFormRows)}
	if v := r.URL.Query().Get("customer"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("customer %q: %w", v, store.ErrNotFound)
		}
		f.CustomerID = id
	}
	pg, err := s.orderFormPage(r.Context(), f)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "orders/form", pg)
}

func (s *Server) orderFormPage(ctx context.Context, f orderForm) (*orderFormPage, error) {
	pg := &orderFormPage{Layout: Layout{Title: "New order"}, Form: f, Errors: validator.Errors{},
		Currency: s.money.code, TaxRate: percent(s.orders.TaxRate())}
	if f.CustomerID != 0 {
		c, err := s.orders.Customer(ctx, f.CustomerID)
		if err != nil {
			return nil, err
		}
		pg.Customer = &c.Customer
	}
	return pg, nil
}

// percent writes basis points as a percentage: 1900 is "19%", 750 "7.5%".
func percent(bps int) string {
	s := strconv.FormatFloat(float64(bps)/100, 'f', -1, 64) // display only: never an amount
	return s + "%"
}

// lineName matches a line's input names: lines[3].ref, lines[3].quantity.
var lineName = regexp.MustCompile(`^lines\[(\d+)\]\.(ref|quantity)$`)

// postedOrderForm reads the order form. The lines are the indexed inputs up to
// orders.MaxLines, in index order; gaps are dropped.
func postedOrderForm(r *http.Request) orderForm {
	f := orderForm{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"),
		Shipping: r.PostFormValue("shipping"), Note: r.PostFormValue("note"), Find: r.PostFormValue("find_q"),
		ShipTo: postedAddress(r, "shipping_address.")}
	f.CustomerID, _ = strconv.ParseInt(r.PostFormValue("customer_id"), 10, 64)
	n := 0
	for name := range r.PostForm {
		if m := lineName.FindStringSubmatch(name); m != nil {
			if i, err := strconv.Atoi(m[1]); err == nil && i < orders.MaxLines {
				n = max(n, i+1)
			}
		}
	}
	f.Lines = make([]orderFormLine, max(n, 1))
	for i := range f.Lines {
		f.Lines[i] = orderFormLine{Ref: strings.TrimSpace(r.PostFormValue(fmt.Sprintf("lines[%d].ref", i))),
			Quantity: strings.TrimSpace(r.PostFormValue(fmt.Sprintf("lines[%d].quantity", i)))}
	}
	return f
}

// createOrder is POST /admin/orders/new: one of the form's helper buttons, or
// "Place order". A refused order shows the form again with everything typed: 422
// for input to correct, 409 when the stock is short (each short line says what is
// available).
func (s *Server) createOrder(w http.ResponseWriter, r *http.Request) error {
	bad, err := readForm(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	f := postedOrderForm(r)
	pg, err := s.orderFormPage(ctx, f)
	if err != nil {
		return err
	}
	if len(bad) > 0 { // whichever button: nothing is searched or placed with such text
		pg.Errors = withText(pg.Errors, bad)
		pg.Alert = "Not placed: please correct the fields marked below."
		return s.render(w, r, http.StatusUnprocessableEntity, "orders/form", pg)
	}
	switch {
	case r.PostFormValue("more") != "":
		if n := len(f.Lines) + orderFormRows; n <= orders.MaxLines {
			pg.Form.Lines = append(pg.Form.Lines, make([]orderFormLine, orderFormRows)...)
		}
		return s.render(w, r, http.StatusOK, "orders/form", pg)
	case r.PostFormValue("search") != "":
		pg.Searched = true
		pg.Found, err = s.orders.FindVariants(ctx, f.Find, foundVariants)
		if fe := fieldErrors(err); fe != nil {
			pg.Errors["find_q"] = fe["q"]
		} else if err != nil {
			return err
		}
		return s.render(w, r, http.StatusOK, "orders/form", pg)
	case r.PostFormValue("refresh") != "": // Enter in a field: never places an order
		if _, _, errs, err := s.placeInput(ctx, &pg.Form); err != nil {
			return err
		} else if errs["lines"] == "" {
			pg.Errors = errs // show what each line names so far
		}
		return s.render(w, r, http.StatusOK, "orders/form", pg)
	case r.PostFormValue("add") != "":
		pg.Form.Lines = withLine(pg.Form.Lines, r.PostFormValue("add"))
		return s.render(w, r, http.StatusOK, "orders/form", pg)
	}

	in, rows, errs, err := s.placeInput(ctx, &pg.Form)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		pg.Errors = errs
		pg.Alert = "Not placed: please correct the fields marked below."
		return s.render(w, r, http.StatusUnprocessableEntity, "orders/form", pg)
	}
	o, err := s.orders.PlaceOrder(ctx, auth.FromContext(r.Context()).Actor(), in)
	var short *orders.ShortStockError
	switch {
	case errors.As(err, &short):
		var skus []string
		for _, sh := range short.Shortages {
			pg.Errors[fmt.Sprintf("lines[%d].quantity", rows[sh.Line])] = fmt.Sprintf(
				"only %d of %s in stock (%d asked)", sh.Available, sh.SKU, sh.Requested)
			skus = append(skus, sh.SKU)
		}
		pg.Alert = "Not placed: not enough stock of " + strings.Join(skus, ", ") + ". Nothing was reserved."
		return s.render(w, r, http.StatusConflict, "orders/form", pg)
	case fieldErrors(err) != nil:
		pg.Errors = formErrors(fieldErrors(err), rows)
		pg.Alert = "Not placed: please correct the fields marked below."
		return s.render(w, r, http.StatusUnprocessableEntity, "orders/form", pg)
	case err != nil:
		return err
	}
	return s.redirect(w, r, orderURL(o.ID, ""), fmt.Sprintf("Order %s was placed.", o.Number))
}

// withLine puts ref on the first empty line, or a new one when none is empty.
func withLine(lines []orderFormLine, ref string) []orderFormLine {
	for i, l := range lines {
		if l.Ref == "" && l.Quantity == "" {
			lines[i] = orderFormLine{Ref: ref, Quantity: "1"}
			return lines
		}
	}
	if len(lines) >= orders.MaxLines {
		return lines
	}
	return append(lines, orderFormLine{Ref: ref, Quantity: "1"})
}

// placeInput turns the form into the orders' input. It resolves every line's SKU
// or id in one statement and notes on f which variant each names. rows maps the
// input's lines to the form's (blank lines are skipped). errs are what the form
// itself can tell: a line naming nothing, a quantity or an amount that is not one.
func (s *Server) placeInput(ctx context.Context, f *orderForm) (orders.PlaceInput, []int, validator.Errors, error) {
	in := orders.PlaceInput{CustomerID: f.CustomerID, Email: f.Email, Name: f.Name, Note: f.Note, ShippingAddress: f.ShipTo}
	errs := validator.Errors{}
	var refs []string
	for _, l := range f.Lines {
		refs = append(refs, l.Ref)
	}
	found, err := s.orders.VariantsByRef(ctx, refs)
	if err != nil {
		return in, nil, nil, err
	}
	var rows []int
	for i := range f.Lines {
		l := &f.Lines[i]
		if l.Ref == "" && l.Quantity == "" {
			continue
		}
		field := fmt.Sprintf("lines[%d].", i)
		v, ok := found[l.Ref]
		switch {
		case l.Ref == "":
			errs.Add(field+"ref", "enter a SKU or a variant id")
		case !ok:
			errs.Add(field+"ref", "no variant has this SKU or id")
		default:
			l.Variant = &v
		}
		q := int64(1)
		if l.Quantity != "" {
			var err error
			if q, err = strconv.ParseInt(l.Quantity, 10, 64); err != nil {
				errs.Add(field+"quantity", "must be a whole number")
			}
		}
		rows = append(rows, i)
		in.Lines = append(in.Lines, orders.LineInput{VariantID: l.variantID(), Quantity: q})
	}
	if len(rows) == 0 {
		errs.Add("lines", "add at least one line")
	}
	if strings.TrimSpace(f.Shipping) != "" {
		c, ok := s.money.parse(f.Shipping)
		if !ok {
			errs.Add("shipping_cents", "is not an amount")
		}
		in.ShippingCents = c
	}
	return in, rows, errs, nil
}

func (l orderFormLine) variantID() int64 {
	if l.Variant == nil {
		return 0
	}
	return l.Variant.ID
}

// formErrors renames the orders' field errors to the form's inputs: a line's
// variant_id is its ref input, and lines[k] is the form's line rows[k].
func formErrors(fe validator.Errors, rows []int) validator.Errors {
	out := validator.Errors{}
	for field, msg := range fe {
		var k int
		var input string
		if n, _ := fmt.Sscanf(field, "lines[%d].%s", &k, &input); n == 2 && k < len(rows) {
			if input == "variant_id" {
				input = "ref"
			}
			field = fmt.Sprintf("lines[%d].%s", rows[k], input)
		}
		out.Add(field, msg)
	}
	return out
}
