package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

type customerRow = db.Customer

// customersPath is where the customer list lives.
const customersPath = "/admin/customers/"

// customerListSpec declares the customer list: orders.ListCustomers, newest first,
// with its search and its own cursors.
func (s *Server) customerListSpec() *ListSpec[customerRow] {
	return &ListSpec[customerRow]{
		Path: customersPath, Singular: "customer", Plural: "customers",
		Columns: []Column{{Label: "Name"}, {Label: "Email"}, {Label: "Phone"}, {Label: "Customer since"}},
		Search:  "Search email or name",
		Pager: func(ctx context.Context, req PageRequest) (Paged[customerRow], error) {
			p, err := s.orders.ListCustomers(ctx, orders.CustomerListParams{Q: req.Search, Limit: req.Limit, Cursor: req.Token})
			return Paged[customerRow]{Rows: p.Items, Next: p.Next}, err
		},
		Count: func(ctx context.Context, q ListQuery) (keyset.Count, error) {
			return s.orders.CountCustomers(ctx, q.Search)
		},
	}
}

// customersPage is the customer list.
type customersPage struct {
	Layout
	List   *List[customerRow]
	CanAdd bool
}

func (p *customersPage) list() framed { return p.List }

// listCustomers is GET /admin/customers/.
func (s *Server) listCustomers(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	l, err := s.customerList.Load(ctx, s.customerList.Parse(r.URL.Query()))
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "customers/list", &customersPage{Layout: Layout{Title: "Customers"},
		List: l, CanAdd: auth.FromContext(ctx).Can("customers.add")})
}

// customerForm is the customer form's values, as typed.
type customerForm struct {
	ID      int64
	Version int32
	orders.CustomerInput
}

// customerPage is the add and edit page of a customer; an existing one shows their
// figures and latest orders beside the form.
type customerPage struct {
	Layout
	Form      customerForm
	New       bool
	ReadOnly  bool
	CanDelete bool
	CanOrder  bool // may place an order for them
	Errors    validator.Errors
	Conflicts []Conflict
	Customer  *orders.Customer // nil on the add form
}

// Tab is which tab of an edit page is open.
func (p *customerPage) Tab() string { return "edit" }

// EditHref is the customer's page.
func (p *customerPage) EditHref() string { return fmt.Sprintf("%s%d/", customersPath, p.Form.ID) }

// HistoryHref is the customer's history tab.
func (p *customerPage) HistoryHref() string { return p.EditHref() + "history" }

// addressField is one input of an address fieldset.
type addressField struct{ Key, Label, Autocomplete string }

var addressFields = []addressField{
	{"name", "Name", "name"}, {"company", "Company", "organization"}, {"line1", "Address", "address-line1"},
	{"line2", "Address line 2", "address-line2"}, {"postal_code", "Postal code", "postal-code"},
	{"city", "City", "address-level2"}, {"region", "Region", "address-level1"},
	{"country", "Country (two letters, e.g. DE)", "country"}, {"phone", "Phone", "tel"},
}

// postedAddress reads the address fieldset prefix ("shipping_address.").
func postedAddress(r *http.Request, prefix string) orders.Address {
	v := func(k string) string { return r.PostFormValue(prefix + k) }
	return orders.Address{Name: v("name"), Company: v("company"), Line1: v("line1"), Line2: v("line2"),
		City: v("city"), Region: v("region"), PostalCode: v("postal_code"), Country: v("country"), Phone: v("phone")}
}

func postedCustomer(r *http.Request) orders.CustomerInput {
	return orders.CustomerInput{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"),
		Phone: r.PostFormValue("phone"), Notes: r.PostFormValue("notes"),
		ShippingAddress: postedAddress(r, "shipping_address."), BillingAddress: postedAddress(r, "billing_address.")}
}

func (s *Server) customerPageFor(ctx context.Context, title string) *customerPage {
	p := auth.FromContext(ctx)
	return &customerPage{Layout: Layout{Title: title}, CanDelete: p.Can("customers.delete"),
		ReadOnly: !p.Can("customers.change"), CanOrder: p.Can("orders.add")}
}

// newCustomerForm is GET /admin/customers/new.
func (s *Server) newCustomerForm(w http.ResponseWriter, r *http.Request) error {
	pg := s.customerPageFor(r.Context(), "Add customer")
	pg.New, pg.ReadOnly = true, false
	return s.render(w, r, http.StatusOK, "customers/form", pg)
}

// createCustomer is POST /admin/customers/new.
func (s *Server) createCustomer(w http.ResponseWriter, r *http.Request) error {
	bad, err := readForm(w, r)
	if err != nil {
		return err
	}
	in := postedCustomer(r)
	c, err := saveUnless(bad, func() (db.Customer, error) {
		return s.orders.CreateCustomer(r.Context(), auth.FromContext(r.Context()).Actor(), in)
	})
	if fe := fieldErrors(err); fe != nil {
		pg := s.customerPageFor(r.Context(), "Add customer")
		pg.New, pg.ReadOnly, pg.Form, pg.Errors = true, false, customerForm{CustomerInput: in}, fe
		return s.render(w, r, http.StatusUnprocessableEntity, "customers/form", pg)
	} else if err != nil {
		return err
	}
	return s.redirect(w, r, fmt.Sprintf("%s%d/", customersPath, c.ID), fmt.Sprintf("Customer %s was added.", c.Email))
}

// loadCustomerPage is the page of customer id with the form holding what is stored.
func (s *Server) loadCustomerPage(ctx context.Context, id int64) (*customerPage, error) {
	c, err := s.orders.Customer(ctx, id)
	if err != nil {
		return nil, err
	}
	in, err := orders.CustomerInputOf(c.Customer)
	if err != nil {
		return nil, err
	}
	pg := s.customerPageFor(ctx, customerName(c.Customer))
	pg.Customer, pg.Form = c, customerForm{ID: c.ID, Version: c.Version, CustomerInput: in}
	return pg, nil
}

// customerName is how a customer is titled: their name, else their email.
func customerName(c db.Customer) string {
	if c.Name != "" {
		return c.Name
	}
	return c.Email
}

// editCustomerForm is GET /admin/customers/{id}/: the customer's form, figures and
// latest orders.
func (s *Server) editCustomerForm(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	pg, err := s.loadCustomerPage(r.Context(), id)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "customers/form", pg)
}

// updateCustomer is POST /admin/customers/{id}/. A save over a newer one shows the
// stored values and the typed ones per field (409), the typed ones kept.
func (s *Server) updateCustomer(w http.ResponseWriter, r *http.Request) error {
	id, version, bad, err := readEdit(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	in := postedCustomer(r)
	c, err := saveUnless(bad, func() (db.Customer, error) {
		return s.orders.UpdateCustomer(ctx, auth.FromContext(r.Context()).Actor(), id, version, in)
	})
	switch {
	case errors.Is(err, store.ErrStale):
		pg, err := s.loadCustomerPage(ctx, id)
		if err != nil {
			return err
		}
		pg.Conflicts = customerConflicts(pg.Form.CustomerInput, in)
		pg.Form.CustomerInput = in // keep what they typed; the version is the stored one
		return s.render(w, r, http.StatusConflict, "customers/form", pg)
	case fieldErrors(err) != nil:
		pg, lerr := s.loadCustomerPage(ctx, id)
		if lerr != nil {
			return lerr
		}
		pg.Form = customerForm{ID: id, Version: version, CustomerInput: in}
		pg.Errors = fieldErrors(err)
		return s.render(w, r, http.StatusUnprocessableEntity, "customers/form", pg)
	case err != nil:
		return err
	}
	return s.redirect(w, r, fmt.Sprintf("%s%d/", customersPath, id), fmt.Sprintf("Customer %s was saved.", c.Email))
}

// customerConflicts lists the fields where what is stored now differs from what
// was typed.
func customerConflicts(stored, typed orders.CustomerInput) []Conflict {
	var out []Conflict
	add := func(field, theirs, yours string) {
		if theirs != yours {
			out = append(out, Conflict{Field: field, Theirs: theirs, Yours: yours})
		}
	}
	add("Email", stored.Email, typed.Email)
	add("Name", stored.Name, typed.Name)
	add("Phone", stored.Phone, typed.Phone)
	add("Notes", stored.Notes, typed.Notes)
	add("Shipping address", addressText(stored.ShippingAddress), addressText(typed.ShippingAddress))
	add("Billing address", addressText(stored.BillingAddress), addressText(typed.BillingAddress))
	return out
}

// addressText is an address on one line.
func addressText(a orders.Address) string {
	var parts []string
	for _, p := range []string{a.Name, a.Company, a.Line1, a.Line2, a.PostalCode + " " + a.City, a.Region, a.Country, a.Phone} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "(none)"
	}
	return strings.Join(parts, ", ")
}

// customerTitle names a customer for their history tab.
func (s *Server) customerTitle(ctx context.Context, id int64) (string, error) {
	c, err := s.orders.Customer(ctx, id)
	if err != nil {
		return "", err
	}
	return customerName(c.Customer), nil
}

// customerDeletePage is the confirmation of deleting customer id. One with orders
// cannot be deleted: the page says so and offers no button.
func (s *Server) customerDeletePage(r *http.Request) (*deletePage, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	c, err := s.orders.Customer(r.Context(), id)
	if err != nil {
		return nil, err
	}
	name := customerName(c.Customer)
	pg := &deletePage{Layout: Layout{Title: "Delete " + name}, Kind: "customer", Name: name,
		Action: fmt.Sprintf("%s%d/delete", customersPath, id), Cancel: fmt.Sprintf("%s%d/", customersPath, id),
		Effects: []string{"their addresses and notes"}}
	if c.Orders > 0 {
		pg.Error = fmt.Sprintf("%s has %s: a customer with orders cannot be deleted.", name, plural(int(c.Orders), "order", "orders"))
	}
	return pg, nil
}

// deleteCustomerForm is GET /admin/customers/{id}/delete.
func (s *Server) deleteCustomerForm(w http.ResponseWriter, r *http.Request) error {
	pg, err := s.customerDeletePage(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "confirm/delete", pg)
}

// deleteCustomer is POST /admin/customers/{id}/delete. An order placed since the
// confirmation was shown still stops it (the foreign key decides): 409.
func (s *Server) deleteCustomer(w http.ResponseWriter, r *http.Request) error {
	pg, err := s.customerDeletePage(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, _ := pathID(r)
	err = s.orders.DeleteCustomer(r.Context(), auth.FromContext(r.Context()).Actor(), id, 0)
	var has *orders.HasOrdersError
	if errors.As(err, &has) {
		if pg.Error == "" {
			pg.Error = "This customer has orders: a customer with orders cannot be deleted."
		}
		return s.render(w, r, http.StatusConflict, "confirm/delete", pg)
	} else if err != nil {
		return err
	}
	return s.redirect(w, r, customersPath, fmt.Sprintf("Customer %s was deleted.", pg.Name))
}

// addressView is an address fieldset: its legend and an input per line.
type addressView struct {
	Legend string
	Hint   string
	Fields []Field
}

// addressInputs is the fieldset of address a under prefix ("shipping_address."),
// with errs' messages for its lines.
func addressInputs(legend, hint, prefix string, a orders.Address, errs validator.Errors) addressView {
	values := map[string]string{"name": a.Name, "company": a.Company, "line1": a.Line1, "line2": a.Line2,
		"city": a.City, "region": a.Region, "postal_code": a.PostalCode, "country": a.Country, "phone": a.Phone}
	v := addressView{Legend: legend, Hint: hint}
	for _, f := range addressFields {
		v.Fields = append(v.Fields, newField(prefix+f.Key, f.Label, "text", values[f.Key], errs[prefix+f.Key],
			"autocomplete="+f.Autocomplete))
	}
	return v
}

// ShippingInputs is the customer's default shipping address fieldset.
func (p *customerPage) ShippingInputs() addressView {
	return addressInputs("Shipping address", "Their orders ship here unless the order says otherwise.",
		"shipping_address.", p.Form.ShippingAddress, p.Errors)
}

// BillingInputs is the customer's default billing address fieldset.
func (p *customerPage) BillingInputs() addressView {
	return addressInputs("Billing address", "Empty: the shipping address.", "billing_address.", p.Form.BillingAddress, p.Errors)
}
