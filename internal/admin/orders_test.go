package admin

import (
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/orders"
)

// orderNumbers is the order list's rows as order numbers, in order, read from the
// page.
func orderNumbers(t *testing.T, body string) []string {
	t.Helper()
	return linkTexts(t, body, "order-list", "number")
}

// orderFixtures places four orders on fixed days before testNow: SR-10001 (Ada,
// 11.90, pending, today), SR-10002 (Grace, 59.50, paid, 3 days ago), SR-10003 (Ada,
// 59.50, fulfilled, 10 days ago), SR-10004 (Linus, 11.90, cancelled, 40 days ago).
func orderFixtures(a *testApp) (cheap, dear int64, ids []int64) {
	cheap = a.productWithStock("Tea towel", "TOWEL-1", 1_000, 100)
	dear = a.productWithStock("Desk lamp", "LAMP-1", 50_000, 100)
	a.customer("ada@example.com", "Ada Lovelace")
	a.customer("grace@example.com", "Grace Hopper")
	a.customer("linus@example.com", "Linus Torvalds")
	for _, f := range []struct {
		email   string
		variant int64
		path    []string
		ago     time.Duration
	}{
		{"ada@example.com", cheap, nil, time.Hour},
		{"grace@example.com", dear, []string{"paid"}, 3 * 24 * time.Hour},
		{"ada@example.com", dear, []string{"paid", "fulfilled"}, 10 * 24 * time.Hour},
		{"linus@example.com", cheap, []string{"cancelled"}, 40 * 24 * time.Hour},
	} {
		o := a.order(f.email, f.variant, 1)
		a.move(o.ID, f.path...)
		a.placedAt(o.ID, testNow.Add(-f.ago))
		ids = append(ids, o.ID)
	}
	return cheap, dear, ids
}

func TestOrderList(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	_, _, ids := orderFixtures(a)
	c := a.signedIn(viewEmail)
	tests := []struct {
		query string
		want  []string
		count string
	}{
		{"", []string{"SR-10001", "SR-10002", "SR-10003", "SR-10004"}, "4 orders"},
		{"sort=placed_at", []string{"SR-10004", "SR-10003", "SR-10002", "SR-10001"}, "4 orders"},
		{"sort=-total", []string{"SR-10003", "SR-10002", "SR-10004", "SR-10001"}, "4 orders"},
		{"status=paid", []string{"SR-10002"}, "1 order"},
		{"q=ada", []string{"SR-10001", "SR-10003"}, "2 orders"},
		{"q=Grace+Hopper", []string{"SR-10002"}, "1 order"},
		{"q=sr-10004", []string{"SR-10004"}, "1 order"},
		{"placed=today", []string{"SR-10001"}, "1 order"},
		{"placed=7d", []string{"SR-10001", "SR-10002"}, "2 orders"},
		{"placed=30d", []string{"SR-10001", "SR-10002", "SR-10003"}, "3 orders"},
		{"placed=custom&placed_from=2026-03-08&placed_to=2026-03-15", []string{"SR-10002", "SR-10003"}, "2 orders"},
		{"placed=custom&placed_to=2026-03-01", []string{"SR-10004"}, "1 order"},
		{"total_min=20", []string{"SR-10002", "SR-10003"}, "2 orders"},
		{"total_max=11.90", []string{"SR-10001", "SR-10004"}, "2 orders"},
		{"total_min=11,90&total_max=11.90&status=pending", []string{"SR-10001"}, "1 order"},
		{fmt.Sprintf("customer=%d", a.customerID("ada@example.com")), []string{"SR-10001", "SR-10003"}, "2 orders"},
		// Values the list does not read are dropped, as an old bookmark's would be.
		{"status=lost&placed_from=yesterday&total_min=lots", []string{"SR-10001", "SR-10002", "SR-10003", "SR-10004"}, "4 orders"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := c.get("/admin/orders/?" + tt.query)
			must(t, r, http.StatusOK, tt.count)
			if got := orderNumbers(t, r.body); !slices.Equal(got, tt.want) {
				t.Errorf("rows %v, want %v", got, tt.want)
			}
		})
	}

	// A range that does not read says so, and the list is shown without it.
	bad := []struct{ query, message, count string }{
		{"placed=custom&placed_from=2026-03-10&placed_to=2026-03-01", "The end date must not be before the start date.", "4 orders"},
		{"placed=custom&placed_from=2026-02-31", "The start date must be a date like 2026-01-31.", "4 orders"},
		{"total_min=30&total_max=20", "The maximum total must not be below the minimum.", "2 orders"}, // the minimum stays
	}
	for _, tt := range bad {
		t.Run("bad "+tt.query, func(t *testing.T) {
			r := c.get("/admin/orders/?" + tt.query)
			must(t, r, http.StatusOK, html.EscapeString(tt.message), tt.count)
		})
	}

	// Pages of 25 keep the filters; the customer's page links to their orders.
	for range 30 {
		a.order("grace@example.com", a.productWithStock(fmt.Sprintf("Item %d", len(ids)), fmt.Sprintf("ITEM-%d", len(ids)), 100, 1), 1)
		ids = append(ids, 0)
	}
	r := c.get("/admin/orders/?size=25&q=grace")
	must(t, r, http.StatusOK, "31 orders", `rel="next"`)
	next := html.UnescapeString(extractHref(t, r.body, `rel="next"`))
	if !strings.Contains(next, "q=grace") || !strings.Contains(next, "size=25") {
		t.Errorf("next link %q lost the query", next)
	}
	if got := orderNumbers(t, c.get(next).body); len(got) != 6 {
		t.Errorf("second page: %d rows, want 6", len(got))
	}
}

// customerID is the id of the customer with email.
func (a *testApp) customerID(email string) int64 {
	a.t.Helper()
	page, err := a.ord.ListCustomers(context.Background(), orders.CustomerListParams{Q: email})
	if err != nil || len(page.Items) != 1 {
		a.t.Fatalf("customer %s: %d found (%v)", email, len(page.Items), err)
	}
	return page.Items[0].ID
}

func TestOrderExport(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	orderFixtures(a)
	a.customer("=cmd@example.com", "=HYPERLINK(1)")
	a.order("=cmd@example.com", a.productWithStock("Sneaky", "SNEAKY-1", 100, 5), 2)
	c := a.signedIn(viewEmail)
	r := c.get("/admin/orders/export.csv?status=pending&sort=-total")
	must(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"number", "status", "customer_email", "customer_name", "placed_at", "subtotal (EUR)", "shipping (EUR)", "tax (EUR)", "total (EUR)", "currency"},
		{"SR-10001", "pending", "ada@example.com", "Ada Lovelace", "2026-03-18T14:30:00Z", "10.00", "0.00", "1.90", "11.90", "EUR"},
		{"SR-10005", "pending", "'=cmd@example.com", "'=HYPERLINK(1)", rows[len(rows)-1][4], "2.00", "0.00", "0.38", "2.38", "EUR"},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("export:\n%v\nwant\n%v", rows, want)
	}
	// The list links to exactly its own export.
	list := c.get("/admin/orders/?status=pending&sort=-total")
	if href := html.UnescapeString(extractHref(t, list.body, `id="export"`)); href != "/admin/orders/export.csv?sort=-total&status=pending" {
		t.Errorf("export link %q", href)
	}
}

func TestOrderBulkFulfil(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	_, _, ids := orderFixtures(a)
	a.user("fulfiller@example.com", false, "orders.view", "orders.fulfil")
	c := a.signedIn("fulfiller@example.com")
	form := url.Values{"action": {"fulfil"}, "back": {"/admin/orders/?status=paid"}}
	for _, id := range ids {
		form.Add("ids", fmt.Sprint(id))
	}
	// The confirmation lists every order and says which stay; nothing is written.
	r := c.post("/admin/orders/actions", form)
	must(t, r, http.StatusOK, "Mark 1 order fulfilled?", "SR-10001", "stays pending", "paid → fulfilled", "stays cancelled")
	if o, _ := a.ord.Order(context.Background(), ids[1]); o.Status != "paid" {
		t.Fatalf("the confirmation page moved the order: %s", o.Status)
	}
	form.Set("confirm", "1")
	r = c.post("/admin/orders/actions", form)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/orders/?status=paid" {
		t.Fatalf("confirm: %d to %q", r.status, r.header.Get("Location"))
	}
	must(t, c.get("/admin/orders/"), http.StatusOK,
		"1 order marked fulfilled. Not fulfilled (only paid orders can be): SR-10001 is pending, SR-10003 is fulfilled, SR-10004 is cancelled.")
	if o, _ := a.ord.Order(context.Background(), ids[1]); o.Status != "fulfilled" || o.Events[len(o.Events)-1].ActorLabel != "fulfiller@example.com" {
		t.Errorf("after the bulk action: %s by %q", o.Status, o.Events[len(o.Events)-1].ActorLabel)
	}
	for _, tt := range []struct {
		name  string
		form  url.Values
		flash string
	}{
		{"no action", url.Values{"ids": {fmt.Sprint(ids[0])}}, "Choose an action first."},
		{"no orders", url.Values{"action": {"fulfil"}}, "Select one or more orders first."},
	} {
		r := c.post("/admin/orders/actions", tt.form)
		if r.status != http.StatusSeeOther {
			t.Errorf("%s: %d", tt.name, r.status)
		}
		must(t, c.get("/admin/orders/"), http.StatusOK, tt.flash)
	}
	// Without orders.fulfil there is no bulk action.
	viewer := a.signedIn(viewEmail)
	must(t, viewer.post("/admin/orders/actions", form), http.StatusForbidden)
	if strings.Contains(viewer.get("/admin/orders/").body, `name="ids"`) {
		t.Error("a viewer sees the bulk checkboxes")
	}
}

// The buttons an order shows are the moves its status allows that the viewer may
// make; each move is checked again when posted.
func TestOrderMoves(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	_, _, ids := orderFixtures(a)
	pending, paid := ids[0], ids[1]
	a.user("fulfiller@example.com", false, "orders.view", "orders.fulfil")
	a.user("refunder@example.com", false, "orders.view", "orders.refund", "orders.cancel", "orders.change")
	buttons := func(c *client, id int64) []string {
		t.Helper()
		r := c.get(fmt.Sprintf("/admin/orders/%d/", id))
		must(t, r, http.StatusOK)
		var out []string
		for _, part := range strings.Split(r.body, `data-to="`)[1:] {
			out = append(out, part[:strings.Index(part, `"`)])
		}
		return out
	}
	tests := []struct {
		who  string
		id   int64
		want []string
	}{
		{superEmail, pending, []string{"paid", "cancelled"}},
		{superEmail, paid, []string{"fulfilled", "cancelled", "refunded"}},
		{"fulfiller@example.com", pending, nil},
		{"fulfiller@example.com", paid, []string{"fulfilled"}},
		{"refunder@example.com", paid, []string{"cancelled", "refunded"}},
		{viewEmail, paid, nil},
	}
	for _, tt := range tests {
		if got := buttons(a.signedIn(tt.who), tt.id); !slices.Equal(got, tt.want) {
			t.Errorf("%s on order %d: buttons %v, want %v", tt.who, tt.id, got, tt.want)
		}
	}

	c := a.signedIn("fulfiller@example.com")
	post := func(c *client, id int64, to string, version int32) response {
		return c.post(fmt.Sprintf("/admin/orders/%d/transitions", id), url.Values{"to": {to}, "version": {fmt.Sprint(version)}})
	}
	must(t, post(c, paid, "refunded", 2), http.StatusForbidden)
	must(t, post(c, paid, "shipped", 2), http.StatusUnprocessableEntity, "Choose one of the buttons below.")
	must(t, post(c, paid, "fulfilled", 1), http.StatusConflict, "someone else changed this order")
	r := post(c, paid, "fulfilled", 2)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != fmt.Sprintf("/admin/orders/%d/", paid) {
		t.Fatalf("fulfil: %d to %q", r.status, r.header.Get("Location"))
	}
	must(t, c.get(r.header.Get("Location")), http.StatusOK, "Order SR-10002 is now fulfilled.", "Fulfilled</span> <span class=\"event-who\">by fulfiller@example.com")
	// A second click of the same button, from the page as it was: refused, with why.
	must(t, post(c, paid, "fulfilled", 0), http.StatusConflict, "Not done: the order is fulfilled, and from there it can only become delivered or refunded.")
	s := a.signedIn(superEmail)
	must(t, post(s, ids[3], "paid", 0), http.StatusConflict, "cancelled is final")
	must(t, post(s, 999999, "paid", 0), http.StatusNotFound)
}

func TestOrderNotes(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	_, _, ids := orderFixtures(a)
	_, err := a.auth.CreateUser(context.Background(), nil, auth.UserInput{Email: "ops@example.com", Name: "Olive Ops",
		Password: password, Active: true, PermIDs: a.permIDs("orders.view", "orders.change")})
	if err != nil {
		t.Fatal(err)
	}
	c := a.signedIn("ops@example.com")
	path := fmt.Sprintf("/admin/orders/%d/notes", ids[0])
	must(t, c.post(path, url.Values{"note": {"   "}}), http.StatusUnprocessableEntity, "is required", `id="note-error"`)
	r := c.post(path, url.Values{"note": {"Customer called: <leave at the door>"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("note: %d", r.status)
	}
	must(t, c.get(fmt.Sprintf("/admin/orders/%d/", ids[0])), http.StatusOK, "Note added.",
		"Note</span> <span class=\"event-who\">by ops@example.com", "Customer called: &lt;leave at the door&gt;")
	must(t, a.signedIn(viewEmail).post(path, url.Values{"note": {"hi"}}), http.StatusForbidden)
	if strings.Contains(a.signedIn(viewEmail).get(fmt.Sprintf("/admin/orders/%d/", ids[0])).body, `id="note-form"`) {
		t.Error("a viewer sees the note form")
	}
}

// Placing an order by hand: the form's helper buttons, every way it is refused
// (nothing written), and an order placed with server-computed totals.
func TestOrderForm(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.productWithStock("Stoneware mug", "MUG-1", 1_999, 5)
	lampID := a.productWithStock("Desk lamp", "LAMP-1", 4_500, 1)
	ada := a.customer("ada@example.com", "Ada Lovelace")
	a.user("clerk@example.com", false, "orders.view", "orders.add", "customers.view")
	c := a.signedIn("clerk@example.com")
	must(t, c.get(fmt.Sprintf("/admin/orders/new?customer=%d", ada.ID)), http.StatusOK, "for Ada Lovelace", `name="lines[4].ref"`)
	must(t, c.get("/admin/orders/new?customer=999999"), http.StatusNotFound)

	form := func(kv ...string) url.Values {
		v := url.Values{"customer_id": {fmt.Sprint(ada.ID)}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	must(t, c.post("/admin/orders/new", form("lines[0].ref", "x", "more", "1")), http.StatusOK, `name="lines[5].ref"`, `value="x"`)
	must(t, c.post("/admin/orders/new", form("find_q", "mug", "search", "1")), http.StatusOK, `id="found"`, "MUG-1", "Stoneware mug")
	must(t, c.post("/admin/orders/new", form("lines[0].ref", "LAMP-1", "lines[0].quantity", "1", "add", "MUG-1")),
		http.StatusOK, `name="lines[1].ref" value="MUG-1"`)
	must(t, c.post("/admin/orders/new", form("lines[0].ref", "mug-1", "refresh", "1")), http.StatusOK, "Stoneware mug", "5 in stock")

	refused := []struct {
		name   string
		form   url.Values
		status int
		want   []string
	}{
		{"no lines", form(), 422, []string{"add at least one line"}},
		{"unknown SKU", form("lines[0].ref", "NOPE-1", "lines[0].quantity", "1"), 422, []string{"no variant has this SKU or id"}},
		{"quantity not a number", form("lines[0].ref", "MUG-1", "lines[0].quantity", "two"), 422, []string{"must be a whole number"}},
		{"quantity zero", form("lines[0].ref", "MUG-1", "lines[0].quantity", "0"), 422, []string{"must be from 1 to 10000"}},
		{"quantity without a SKU", form("lines[2].quantity", "3"), 422, []string{"enter a SKU or a variant id"}},
		{"the same variant twice", form("lines[0].ref", "MUG-1", "lines[1].ref", "mug-1"), 422, []string{"is already on line 1"}},
		{"shipping not an amount", form("lines[0].ref", "MUG-1", "shipping", "4,999"), 422, []string{"is not an amount"}},
		{"bad country", form("lines[0].ref", "MUG-1", "shipping_address.country", "Germany"), 422, []string{"two-letter ISO 3166 code"}},
		{"new customer without an email", url.Values{"lines[0].ref": {"MUG-1"}}, 422, []string{"is required"}},
		{"short stock", form("lines[0].ref", "MUG-1", "lines[0].quantity", "2", "lines[1].ref", fmt.Sprint(lampID), "lines[1].quantity", "3"),
			409, []string{"not enough stock of LAMP-1", "only 1 of LAMP-1 in stock (3 asked)", `value="3"`}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			must(t, c.post("/admin/orders/new", tt.form), tt.status, tt.want...)
		})
	}
	if o, _ := a.ord.ListOrders(context.Background(), orders.ListParams{}); len(o.Items) != 0 {
		t.Fatalf("refused forms placed %d orders", len(o.Items))
	}

	// A total in the form is nothing the server reads: the totals are its own.
	r := c.post("/admin/orders/new", form("lines[0].ref", "mug-1", "lines[0].quantity", "3", "shipping", "4.95",
		"total_cents", "1", "place", "1", "note", "by phone"))
	if r.status != http.StatusSeeOther {
		t.Fatalf("place: %d\n%s", r.status, r.body)
	}
	page := c.get(r.header.Get("Location"))
	// 3 × 19.99 = 59.97; + 4.95 = 64.92; 19% tax 12.33 (12.3348); 77.25.
	must(t, page, http.StatusOK, "Order SR-10001 was placed.", "59.97", "4.95", "12.33", "77.25 EUR", "by phone")
	o, err := a.ord.Order(context.Background(), 1)
	if err != nil || o.TotalCents != 7725 || o.CustomerID != ada.ID || o.Events[0].ActorLabel != "clerk@example.com" {
		t.Errorf("stored: %+v (%v)", o, err)
	}
	// A new customer by email.
	r = c.post("/admin/orders/new", url.Values{"email": {"new@example.com"}, "name": {"New Person"}, "lines[0].ref": {"MUG-1"}, "place": {"1"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("place for a new customer: %d\n%.2000s", r.status, r.body)
	}
	must(t, c.get(r.header.Get("Location")), http.StatusOK, "New Person")
}
