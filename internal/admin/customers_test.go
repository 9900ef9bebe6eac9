package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// customerValues is a posted customer form.
func customerValues(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestCustomerPages(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.user("desk@example.com", false, "customers.view", "customers.add", "customers.change", "customers.delete", "orders.view", "orders.add")
	c := a.signedIn("desk@example.com")

	// Add: a refused form keeps what was typed; a good one goes to the new page.
	must(t, c.get("/admin/customers/new"), http.StatusOK, `id="customer-form"`)
	must(t, c.post("/admin/customers/new", customerValues("email", "not an email", "name", "Ada Lovelace",
		"shipping_address.country", "Britain")), http.StatusUnprocessableEntity,
		"must be an email address", "two-letter ISO 3166 code", `value="Ada Lovelace"`)
	r := c.post("/admin/customers/new", customerValues("email", "ada@example.com", "name", "Ada Lovelace",
		"shipping_address.line1", "12 St James's Square", "shipping_address.city", "London", "shipping_address.country", "gb"))
	if r.status != http.StatusSeeOther {
		t.Fatalf("add: %d\n%.2000s", r.status, r.body)
	}
	page := r.header.Get("Location")
	must(t, c.get(page), http.StatusOK, "Customer ada@example.com was added.", `value="GB"`, "No orders yet.",
		`href="/admin/orders/new?customer=`)
	must(t, c.post("/admin/customers/new", customerValues("email", "ADA@example.com")), http.StatusUnprocessableEntity,
		"is already used by another customer")

	// Their orders and lifetime value: paid and fulfilled count, pending does not.
	id := a.customerID("ada@example.com")
	v := a.productWithStock("Desk lamp", "LAMP-1", 10_000, 100)
	for _, path := range [][]string{{"paid"}, {"paid", "fulfilled"}, nil} {
		o := a.order("ada@example.com", v, 1)
		a.move(o.ID, path...)
	}
	must(t, c.get(page), http.StatusOK, "SR-10001", "SR-10003", `<span class="card-figure" id="lifetime">238.00 EUR</span>`)

	// Edit: 422 keeps the input; a stale save shows both values (409); a good one saves.
	edit := func(version int32, kv ...string) response {
		v := customerValues(append([]string{"version", fmt.Sprint(version), "email", "ada@example.com"}, kv...)...)
		return c.post(page, v)
	}
	must(t, edit(1, "name", strings.Repeat("x", 201)), http.StatusUnprocessableEntity, "must be at most 200 characters")
	r = edit(1, "name", "Augusta Ada King", "notes", "Prefers email.")
	if r.status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%.2000s", r.status, r.body)
	}
	must(t, edit(1, "name", "Ada Byron"), http.StatusConflict, "Someone else saved this customer", "Augusta Ada King", "Ada Byron",
		`name="version" value="2"`)
	stored, err := a.ord.Customer(context.Background(), id)
	if err != nil || stored.Name != "Augusta Ada King" || stored.Notes != "Prefers email." || stored.Version != 2 {
		t.Errorf("stored %+v (%v)", stored.Customer, err)
	}
	must(t, c.get(page+"history"), http.StatusOK, "Augusta Ada King")

	// The list searches email and name.
	a.customer("grace@example.com", "Grace Hopper")
	r = c.get("/admin/customers/?q=hopper")
	must(t, r, http.StatusOK, "1 customer", "grace@example.com")
	if strings.Contains(r.body, "ada@example.com") {
		t.Error("the search for hopper lists Ada")
	}

	// Delete: one with orders stays (no button; a post anyway is 409); one without goes.
	must(t, c.get(page+"delete"), http.StatusOK, "has 3 orders: a customer with orders cannot be deleted")
	if strings.Contains(c.get(page+"delete").body, "Yes, delete") {
		t.Error("the delete page offers a button for a customer with orders")
	}
	must(t, c.post(page+"delete", url.Values{}), http.StatusConflict, "cannot be deleted")
	grace := fmt.Sprintf("/admin/customers/%d/", a.customerID("grace@example.com"))
	must(t, c.get(grace+"delete"), http.StatusOK, "Yes, delete")
	if r := c.post(grace+"delete", url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.status)
	}
	must(t, c.get(grace), http.StatusNotFound)

	// A viewer sees the page without a Save button or the order and delete buttons.
	r = a.signedIn(viewEmail).get(page)
	must(t, r, http.StatusOK, "You can view this customer but not change them.")
	for _, no := range []string{">Save<", `id="new-order"`, "/delete"} {
		if strings.Contains(r.body, no) {
			t.Errorf("a viewer's customer page has %s", no)
		}
	}
}
