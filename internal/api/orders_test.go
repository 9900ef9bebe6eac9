package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/orders"
)

// orderPerms is everything staff may do with orders and customers.
var orderPerms = []string{
	"orders.view", "orders.add", "orders.change", "orders.delete", "orders.fulfil", "orders.refund", "orders.cancel",
	"customers.view", "customers.add", "customers.change", "customers.delete",
}

// clerk returns a write token of a new user who holds perms (orderPerms when none).
func (h *harness) clerk(t testing.TB, perms ...string) string {
	t.Helper()
	if len(perms) == 0 {
		perms = orderPerms
	}
	id := h.user(t, fmt.Sprintf("clerk%d@example.com", h.seq.Add(1)), perms...)
	return h.token(t, id, auth.ScopeWrite)
}

// variant creates an active product with one variant of price and stock.
func (h *harness) variant(t testing.TB, sku string, price, stock int64) db.ProductVariant {
	t.Helper()
	p, err := h.catalog.CreateProduct(context.Background(), audit.System, catalog.ProductInput{
		Name: "Product " + sku, Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: sku, PriceCents: price, Stock: stock}},
	})
	if err != nil {
		t.Fatalf("create product %s: %v", sku, err)
	}
	return p.Variants[0]
}

// count returns the number of rows of table matching where.
func (h *harness) count(t testing.TB, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := h.st.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+table+" WHERE "+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// stock returns a variant's stock.
func (h *harness) stock(t testing.TB, variantID int64) int64 {
	t.Helper()
	var n int64
	if err := h.st.Pool().QueryRow(context.Background(), "SELECT stock FROM product_variants WHERE id = $1", variantID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// place places an order through the API and returns it.
func (h *harness) place(t testing.TB, tok, body string) orderDetail {
	t.Helper()
	var o orderDetail
	h.call(t, "POST", "/api/v1/orders", tok, body).want(t, 201).decode(t, &o)
	return o
}

// move posts transitions of order id, each of which must succeed.
func (h *harness) move(t testing.TB, tok string, id int64, to ...string) {
	t.Helper()
	for _, s := range to {
		h.call(t, "POST", fmt.Sprintf("/api/v1/orders/%d/transitions", id), tok, `{"to":"`+s+`"}`).want(t, 200)
	}
}

// fields returns a problem's errors as field → message.
func (p problem) fields() map[string]string {
	m := map[string]string{}
	for _, e := range p.Errors {
		m[e.Field] = e.Message
	}
	return m
}

func TestOrderLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.clerk(t)
	mug := h.variant(t, "MUG-1", 1_999, 10)
	lamp := h.variant(t, "LAMP-1", 4_500, 3)

	r := h.call(t, "POST", "/api/v1/orders", tok, fmt.Sprintf(`{
		"customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
		"lines": [{"variant_id": %d, "quantity": 3}, {"variant_id": %d, "quantity": 1}],
		"shipping_cents": 495,
		"shipping_address": {"name": "Ada Lovelace", "line1": "1 Byron Row", "city": "London", "country": "gb"},
		"note": "gift wrap"}`, mug.ID, lamp.ID)).want(t, 201)
	var o orderDetail
	r.decode(t, &o)
	if loc := r.header.Get("Location"); loc != fmt.Sprintf("/api/v1/orders/%d", o.ID) {
		t.Errorf("Location = %q", loc)
	}
	// 3 × 19.99 + 45.00 = 104.97; with 4.95 shipping 109.92; 19% of it 20.8848.
	if o.Number != "SR-10001" || o.Status != "pending" || o.SubtotalCents != 10_497 || o.ShippingCents != 495 ||
		o.TaxCents != 2_088 || o.TotalCents != 13_080 || o.Currency != "EUR" || o.Version != 1 {
		t.Errorf("order = %+v", o.orderItem)
	}
	if o.Customer.Email != "ada@example.com" || o.Customer.Name != "Ada Lovelace" || o.ShippingAddress.Country != "GB" ||
		o.BillingAddress != o.ShippingAddress {
		t.Errorf("customer %+v, addresses %+v / %+v", o.Customer, o.ShippingAddress, o.BillingAddress)
	}
	if len(o.Lines) != 2 || o.Lines[0].SKU != "MUG-1" || o.Lines[0].UnitPriceCents != 1_999 || o.Lines[0].LineTotalCents != 5_997 ||
		*o.Lines[1].VariantID != lamp.ID {
		t.Errorf("lines = %+v", o.Lines)
	}
	if len(o.Events) != 1 || o.Events[0].Kind != "created" || o.Events[0].Note != "gift wrap" ||
		!strings.HasSuffix(o.Events[0].Actor, "(token test write)") {
		t.Errorf("events = %+v", o.Events)
	}
	if !slices.Equal(o.AllowedTransitions, []string{"paid", "cancelled"}) {
		t.Errorf("allowed_transitions = %v", o.AllowedTransitions)
	}
	if h.stock(t, mug.ID) != 7 || h.stock(t, lamp.ID) != 2 {
		t.Errorf("stock %d, %d; want 7, 2", h.stock(t, mug.ID), h.stock(t, lamp.ID))
	}

	item := fmt.Sprintf("/api/v1/orders/%d", o.ID)
	got := h.call(t, "GET", item, tok, "").want(t, 200)
	if got.header.Get("ETag") != r.header.Get("ETag") || !bytes.Equal(got.body, r.body) {
		t.Errorf("GET differs from the POST's answer:\n%s\n%s", got.body, r.body)
	}
	h.call(t, "GET", item, tok, "", "If-None-Match", got.header.Get("ETag")).want(t, 304)

	tr := h.call(t, "POST", item+"/transitions", tok, `{"to":"paid"}`, "If-Match", got.header.Get("ETag")).want(t, 200)
	tr.decode(t, &o)
	if o.Status != "paid" || o.Version != 2 || len(o.Events) != 2 || o.Events[1].Kind != "paid" ||
		!slices.Equal(o.AllowedTransitions, []string{"fulfilled", "cancelled", "refunded"}) {
		t.Errorf("after paying: %+v, events %+v, allowed %v", o.orderItem, o.Events, o.AllowedTransitions)
	}
	// The old tag names the order before it was paid.
	h.call(t, "POST", item+"/transitions", tok, `{"to":"fulfilled"}`, "If-Match", got.header.Get("ETag")).want(t, 412)
	h.call(t, "POST", item+"/transitions", tok, `{"to":"cancelled"}`, "If-Match", tr.header.Get("ETag")).want(t, 200)
	if h.stock(t, mug.ID) != 10 || h.stock(t, lamp.ID) != 3 {
		t.Errorf("after cancelling: stock %d, %d; want 10, 3", h.stock(t, mug.ID), h.stock(t, lamp.ID))
	}
	h.call(t, "GET", "/api/v1/orders/999999", tok, "").want(t, 404)
	h.call(t, "POST", "/api/v1/orders/999999/transitions", tok, `{"to":"paid"}`).want(t, 404)
}

// Acceptance 1, through the API: 200 concurrent orders of one unit each, with
// different Idempotency-Keys, on a variant with 10 in stock. Exactly 10 are placed,
// the stock ends at 0, and the other 190 get a 409 naming the SKU and what is
// available, having written nothing.
func TestConcurrentOrdersNeverOversell(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *harnessOptions) { o.maxConns = 20 })
	tok := h.clerk(t)
	v := h.variant(t, "LAST-10", 2_500, 10)
	var cust customerDetail
	h.call(t, "POST", "/api/v1/customers", tok, `{"email":"rush@example.com"}`).want(t, 201).decode(t, &cust)
	body := fmt.Sprintf(`{"customer_id":%d,"lines":[{"variant_id":%d,"quantity":1}]}`, cust.ID, v.ID)

	const n = 200
	results := make([]response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i] = h.call(t, "POST", "/api/v1/orders", tok, body, "Idempotency-Key", fmt.Sprintf("rush-%03d", i))
		})
	}
	close(start)
	wg.Wait()

	statuses := map[int]int{}
	numbers := map[string]bool{}
	for _, r := range results {
		statuses[r.status]++
		switch r.status {
		case 201:
			var o orderDetail
			r.decode(t, &o)
			numbers[o.Number] = true
		case 409:
			p := r.problem(t)
			if msg := p.fields()["lines[0].quantity"]; msg != "LAST-10: 1 requested, 0 available" ||
				!strings.Contains(p.Detail, "LAST-10") || !strings.Contains(p.Detail, "0 available") {
				t.Errorf("409 problem = %+v; want lines[0].quantity naming LAST-10 with 0 available", p)
			}
		}
	}
	if statuses[201] != 10 || statuses[409] != 190 || len(statuses) != 2 || len(numbers) != 10 {
		t.Errorf("statuses %v, %d distinct numbers; want 10 × 201 (distinct) and 190 × 409", statuses, len(numbers))
	}
	if s := h.stock(t, v.ID); s != 0 {
		t.Errorf("stock = %d, want 0", s)
	}
	for table, want := range map[string]int64{"orders": 10, "order_lines": 10, "order_events": 10} {
		if got := h.count(t, table, "true"); got != want {
			t.Errorf("%d rows in %s, want %d", got, table, want)
		}
	}
	if got := h.count(t, "audit_log", "resource = 'orders'"); got != 10 {
		t.Errorf("%d audit rows for orders, want 10", got)
	}
}

// Acceptance 5, through the API: the server computes every amount. A client that
// sends one is refused with 422 naming it; nothing is written; amounts that are not
// integers are refused too.
func TestOrderAmountsAreNotWritable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.clerk(t)
	v := h.variant(t, "MUG-1", 1_999, 10)
	lines := fmt.Sprintf(`"lines":[{"variant_id":%d,"quantity":1}]`, v.ID)
	cust := `"customer":{"email":"ada@example.com"}`
	tests := []struct {
		name, body string
		field      string
		message    string // a part of the field's message
	}{
		{"total_cents", `{` + cust + `,` + lines + `,"total_cents":1}`, "total_cents", "computed by the server"},
		{"subtotal_cents", `{` + cust + `,` + lines + `,"subtotal_cents":1}`, "subtotal_cents", "computed by the server"},
		{"tax_cents", `{` + cust + `,` + lines + `,"tax_cents":0}`, "tax_cents", "computed by the server"},
		{"total", `{` + cust + `,` + lines + `,"total":0.01}`, "total", "computed by the server"},
		{"a line's unit price", fmt.Sprintf(`{%s,"lines":[{"variant_id":%d,"quantity":1,"unit_price_cents":1}]}`, cust, v.ID),
			"lines[0].unit_price_cents", "computed by the server"},
		{"a line's price", fmt.Sprintf(`{%s,"lines":[{"variant_id":%d,"quantity":1,"price_cents":1}]}`, cust, v.ID),
			"lines[0].price_cents", "computed by the server"},
		{"a line's total", fmt.Sprintf(`{%s,"lines":[{"variant_id":%d,"quantity":1,"line_total_cents":1}]}`, cust, v.ID),
			"lines[0].line_total_cents", "computed by the server"},
		{"status", `{` + cust + `,` + lines + `,"status":"paid"}`, "status", "read-only"},
		{"an unknown member", `{` + cust + `,` + lines + `,"coupon":"FREE"}`, "coupon", "not a field"},
		{"an unknown line member", fmt.Sprintf(`{%s,"lines":[{"variant_id":%d,"quantity":1,"colour":"red"}]}`, cust, v.ID),
			"lines[0].colour", "not a field"},
		{"a line that is not an object", `{` + cust + `,"lines":[7]}`, "lines[0]", "object"},
		{"shipping as a decimal", `{` + cust + `,` + lines + `,"shipping_cents":4.95}`, "shipping_cents", "integer"},
		{"shipping in exponent form", `{` + cust + `,` + lines + `,"shipping_cents":1e2}`, "shipping_cents", "integer"},
		{"a decimal quantity", fmt.Sprintf(`{%s,"lines":[{"variant_id":%d,"quantity":1.5}]}`, cust, v.ID), "lines[0].quantity", "integer"},
		{"a negative shipping", `{` + cust + `,` + lines + `,"shipping_cents":-1}`, "shipping_cents", "from 0"},
		{"no lines", `{` + cust + `,"lines":[]}`, "lines", "at least one"},
		{"no customer", `{` + lines + `}`, "customer", "required"},
		{"both customers", `{` + cust + `,"customer_id":1,` + lines + `}`, "customer", "not both"},
		{"a bad customer email", `{"customer":{"email":"nope"},` + lines + `}`, "email", "email address"},
		{"an unknown customer member", `{"customer":{"email":"a@example.com","vip":true},` + lines + `}`, "customer.vip", "not a field"},
		{"an unknown customer", `{"customer_id":424242,` + lines + `}`, "customer_id", "does not exist"},
		{"an unknown variant", `{` + cust + `,"lines":[{"variant_id":424242,"quantity":1}]}`, "lines[0].variant_id", "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := h.call(t, "POST", "/api/v1/orders", tok, tt.body).want(t, 422).problem(t)
			if msg := p.fields()[tt.field]; !strings.Contains(msg, tt.message) {
				t.Errorf("errors = %+v; want %s to say %q", p.Errors, tt.field, tt.message)
			}
		})
	}
	if n := h.count(t, "orders", "true"); n != 0 {
		t.Errorf("%d orders written by refused requests", n)
	}
	if n := h.count(t, "customers", "true"); n != 0 {
		t.Errorf("%d customers written by refused requests", n)
	}
	if s := h.stock(t, v.ID); s != 10 {
		t.Errorf("stock = %d, want 10", s)
	}
}

// An order whose amounts float64 cannot hold comes back exact through the JSON
// API: every digit of every figure, as the database stored it.
func TestOrderAmountsPastFloat(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.clerk(t)
	var lines []string
	for i := range 9 {
		v := h.variant(t, fmt.Sprintf("BIG-%d", i), 99_999_999_999, 10_000)
		lines = append(lines, fmt.Sprintf(`{"variant_id":%d,"quantity":10000}`, v.ID))
	}
	v := h.variant(t, "BIG-9", 719_925_483, 10_000)
	lines = append(lines, fmt.Sprintf(`{"variant_id":%d,"quantity":10000}`, v.ID))
	r := h.call(t, "POST", "/api/v1/orders", tok,
		`{"customer":{"email":"big@example.com"},"shipping_cents":955,"lines":[`+strings.Join(lines, ",")+`]}`).want(t, 201)

	// Decoded as exact numbers, not through float64.
	var got map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	// The subtotal is 2^53 - 992: float64 holds it, but not the sums above it.
	want := map[string]string{
		"subtotal_cents": "9007199254740000", "shipping_cents": "955",
		"tax_cents": "1711367858400781", "total_cents": "10718567113141736",
	}
	for k, w := range want {
		if s := got[k].(json.Number).String(); s != w {
			t.Errorf("%s = %s, want %s", k, s, w)
		}
	}
	// Tax through float64 would be a cent off: 19% of 90,071,992,547,409.55 is
	// 17,113,678,584,007.8145, which float64 rounds up a cent.
	if base, rate := int64(9_007_199_254_740_955), 0.19; int64(math.Round(float64(base)*rate)) == 1_711_367_858_400_781 {
		t.Fatal("the fixture no longer breaks float64")
	}
	var stored int64
	err := h.st.Pool().QueryRow(context.Background(), "SELECT total_cents FROM orders").Scan(&stored)
	if err != nil || stored != 10_718_567_113_141_736 {
		t.Errorf("stored total = %d (%v)", stored, err)
	}
}

// A transition the state machine refuses is a 409 naming the allowed moves.
func TestOrderTransitionRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.clerk(t)
	v := h.variant(t, "MUG-1", 1_000, 100)
	body := fmt.Sprintf(`{"customer":{"email":"ada@example.com"},"lines":[{"variant_id":%d,"quantity":1}]}`, v.ID)
	tests := []struct {
		path    []string // from pending
		to      string
		status  int
		message string // the errors' message on "to"
	}{
		{nil, "fulfilled", 409, "cannot go from pending to fulfilled; allowed: paid, cancelled"},
		{nil, "pending", 409, "cannot go from pending to pending; allowed: paid, cancelled"},
		{[]string{"paid"}, "delivered", 409, "allowed: fulfilled, cancelled, refunded"},
		{[]string{"paid", "fulfilled"}, "cancelled", 409, "allowed: delivered, refunded"},
		{[]string{"paid", "fulfilled", "delivered"}, "paid", 409, "allowed: refunded"},
		{[]string{"cancelled"}, "paid", 409, "allowed: none: cancelled is final"},
		{[]string{"paid", "refunded"}, "refunded", 409, "allowed: none: refunded is final"},
		{nil, "shipped", 422, "must be one of pending, paid, fulfilled, delivered, cancelled, refunded"},
		{nil, "", 422, "must be one of"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append(tt.path, tt.to), "→"), func(t *testing.T) {
			o := h.place(t, tok, body)
			h.move(t, tok, o.ID, tt.path...)
			p := h.call(t, "POST", fmt.Sprintf("/api/v1/orders/%d/transitions", o.ID), tok, `{"to":"`+tt.to+`"}`).want(t, tt.status).problem(t)
			if msg := p.fields()["to"]; !strings.Contains(msg, tt.message) {
				t.Errorf("errors = %+v, detail %q; want to: %q", p.Errors, p.Detail, tt.message)
			}
			if tt.status == 409 && !strings.Contains(p.Detail, "allowed") {
				t.Errorf("detail = %q, want the allowed moves", p.Detail)
			}
		})
	}
}

// Each move needs its own permission: a token of a user with orders.fulfil but not
// orders.refund fulfils a paid order and is refused the refund (403).
func TestOrderTransitionPermissions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	boss := h.clerk(t)
	fulfiller := h.clerk(t, "orders.view", "orders.fulfil")
	v := h.variant(t, "MUG-1", 1_000, 100)
	o := h.place(t, boss, fmt.Sprintf(`{"customer":{"email":"ada@example.com"},"lines":[{"variant_id":%d,"quantity":1}]}`, v.ID))
	path := fmt.Sprintf("/api/v1/orders/%d/transitions", o.ID)

	p := h.call(t, "POST", path, fulfiller, `{"to":"paid"}`).want(t, 403).problem(t)
	if !strings.Contains(p.Detail, "orders.change") {
		t.Errorf("paying without orders.change: detail %q", p.Detail)
	}
	h.move(t, boss, o.ID, "paid")
	p = h.call(t, "POST", path, fulfiller, `{"to":"refunded"}`).want(t, 403).problem(t)
	if !strings.Contains(p.Detail, "orders.refund") {
		t.Errorf("refunding without orders.refund: detail %q", p.Detail)
	}
	var after orderDetail
	h.call(t, "POST", path, fulfiller, `{"to":"fulfilled"}`).want(t, 200).decode(t, &after)
	last := after.Events[len(after.Events)-1]
	if after.Status != "fulfilled" || last.Kind != "fulfilled" || !strings.HasPrefix(last.Actor, "clerk") {
		t.Errorf("after fulfilling: status %s, last event %+v", after.Status, last)
	}
	// A read token of a user who may do everything moves nothing.
	reader := h.token(t, h.user(t, "reader@example.com", orderPerms...), auth.ScopeRead)
	p = h.call(t, "POST", path, reader, `{"to":"delivered"}`).want(t, 403).problem(t)
	if !strings.Contains(p.Detail, "read scope") {
		t.Errorf("read token: detail %q", p.Detail)
	}
	// Without orders.view the route itself is closed.
	h.call(t, "POST", path, h.clerk(t, "orders.fulfil"), `{"to":"delivered"}`).want(t, 403)
	h.call(t, "GET", fmt.Sprintf("/api/v1/orders/%d", o.ID), fulfiller, "").want(t, 200)
	h.call(t, "POST", "/api/v1/orders", fulfiller, `{}`).want(t, 403)
}

// A retried order with the same Idempotency-Key is placed once and answered with
// the first response.
func TestOrderCreateIdempotent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.clerk(t)
	v := h.variant(t, "MUG-1", 1_000, 100)
	body := fmt.Sprintf(`{"customer":{"email":"ada@example.com"},"lines":[{"variant_id":%d,"quantity":2}]}`, v.ID)
	first := h.call(t, "POST", "/api/v1/orders", tok, body, "Idempotency-Key", "order-1").want(t, 201)
	again := h.call(t, "POST", "/api/v1/orders", tok, body, "Idempotency-Key", "order-1").want(t, 201)
	if !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry: replayed %q, body %s; want the first body replayed", again.header.Get("Idempotent-Replayed"), again.body)
	}
	if n := h.count(t, "orders", "true"); n != 1 || h.stock(t, v.ID) != 98 {
		t.Errorf("%d orders, stock %d; want 1 order, 98 in stock", n, h.stock(t, v.ID))
	}
	h.call(t, "POST", "/api/v1/orders", tok, strings.Replace(body, `"quantity":2`, `"quantity":3`, 1),
		"Idempotency-Key", "order-1").want(t, 422)
}

func TestOrderListFilters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.clerk(t)
	cheap := h.variant(t, "CHEAP", 1_000, 1000)
	dear := h.variant(t, "DEAR", 50_000, 1000)
	place := func(email string, v db.ProductVariant, path ...string) orderDetail {
		o := h.place(t, tok, fmt.Sprintf(`{"customer":{"email":%q,"name":"Name of %s"},"lines":[{"variant_id":%d,"quantity":1}]}`, email, email, v.ID))
		h.move(t, tok, o.ID, path...)
		return o
	}
	a := place("ada@example.com", cheap)                     // SR-10001, 1190
	b := place("grace@example.com", dear, "paid")            // SR-10002, 59500
	c := place("ada@example.com", dear, "paid", "fulfilled") // SR-10003, 59500
	d := place("linus@example.com", cheap, "cancelled")      // SR-10004, 1190
	// Placed on fixed days, so the date filters have something to tell apart.
	for i, o := range []orderDetail{a, b, c, d} {
		h.exec(t, "UPDATE orders SET placed_at = $2 WHERE id = $1", o.ID, time.Date(2026, 1, 10+i, 12, 0, 0, 0, time.UTC))
	}
	numbers := func(path string) []string {
		var out []string
		for _, o := range walk[orderItem](t, h, tok, path) {
			out = append(out, o.Number)
		}
		return out
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"SR-10004", "SR-10003", "SR-10002", "SR-10001"}},
		{"ordering=placed_at", []string{"SR-10001", "SR-10002", "SR-10003", "SR-10004"}},
		{"ordering=-total", []string{"SR-10003", "SR-10002", "SR-10004", "SR-10001"}},
		{"ordering=total", []string{"SR-10001", "SR-10004", "SR-10002", "SR-10003"}},
		{"status=paid", []string{"SR-10002"}},
		{"q=ada", []string{"SR-10003", "SR-10001"}},
		{"q=Name+of+grace", []string{"SR-10002"}},
		{"q=sr-10004", []string{"SR-10004"}},
		{"q=nobody", nil},
		{fmt.Sprintf("customer=%d", a.Customer.ID), []string{"SR-10003", "SR-10001"}},
		{"total_min=2000", []string{"SR-10003", "SR-10002"}},
		{"total_max=1190", []string{"SR-10004", "SR-10001"}},
		{"total_min=1190&total_max=1190&status=pending", []string{"SR-10001"}},
		{"placed_from=2026-01-11T00:00:00Z&placed_to=2026-01-13T00:00:00Z", []string{"SR-10003", "SR-10002"}},
		{"placed_from=2026-01-12T12:00:00%2B00:00", []string{"SR-10004", "SR-10003"}},
		{"placed=today", nil}, // the fixtures are in January 2026
		{"limit=1&ordering=-total", []string{"SR-10003", "SR-10002", "SR-10004", "SR-10001"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if got := numbers("/api/v1/orders?" + tt.query); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	bad := []struct{ query, param string }{
		{"status=lost", "status"},
		{"customer=x", "customer"},
		{"total_min=-1", "total_min"},
		{"total_min=1.5", "total_min"},
		{"total_min=10&total_max=5", "total_max"},
		{"placed=yesterday", "placed"},
		{"placed=custom", "placed"},
		{"placed=today&placed_from=2026-01-01T00:00:00Z", "placed"},
		{"placed_from=2026-01-01", "placed_from"},
		{"placed_from=2026-01-02T00:00:00Z&placed_to=2026-01-01T00:00:00Z", "placed_to"},
		{"ordering=number", "ordering"},
		{"q=" + strings.Repeat("x", 201), "q"},
	}
	for _, tt := range bad {
		t.Run("bad "+tt.query, func(t *testing.T) {
			p := h.call(t, "GET", "/api/v1/orders?"+tt.query, tok, "").want(t, 400).problem(t)
			if _, ok := p.fields()[tt.param]; !ok {
				t.Errorf("errors = %+v, want one on %s", p.Errors, tt.param)
			}
		})
	}
	// A cursor is bound to its filters.
	var page list[orderItem]
	h.call(t, "GET", "/api/v1/orders?limit=1&status=paid", tok, "").want(t, 200)
	h.call(t, "GET", "/api/v1/orders?limit=1", tok, "").want(t, 200).decode(t, &page)
	h.call(t, "GET", "/api/v1/orders?limit=1&status=paid&cursor="+*page.NextCursor, tok, "").want(t, 400)
}

func TestCustomerLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.clerk(t)
	r := h.call(t, "POST", "/api/v1/customers", tok, `{"email":" Ada@Example.com ","name":"Ada","phone":"+44 1",
		"shipping_address":{"line1":"1 Byron Row","city":"London","country":"gb"}}`).want(t, 201)
	var c customerDetail
	r.decode(t, &c)
	if c.Email != "Ada@Example.com" || c.Name != "Ada" || c.ShippingAddress.Country != "GB" || c.OrderCount != 0 ||
		c.LifetimeCents != 0 || c.FirstOrderAt != nil || c.Currency != "EUR" || c.Version != 1 {
		t.Errorf("created %+v", c)
	}
	item := fmt.Sprintf("/api/v1/customers/%d", c.ID)
	if loc := r.header.Get("Location"); loc != item {
		t.Errorf("Location = %q", loc)
	}
	p := h.call(t, "POST", "/api/v1/customers", tok, `{"email":"ada@example.COM"}`).want(t, 422).problem(t)
	if !strings.Contains(p.fields()["email"], "already used") {
		t.Errorf("duplicate email: %+v", p.Errors)
	}
	h.call(t, "POST", "/api/v1/customers", tok, `{"email":"x@example.com","lifetime_cents":5}`).want(t, 422)

	got := h.call(t, "GET", item, tok, "").want(t, 200)
	if got.header.Get("ETag") != r.header.Get("ETag") {
		t.Errorf("GET's ETag %s differs from POST's %s", got.header.Get("ETag"), r.header.Get("ETag"))
	}
	patched := h.call(t, "PATCH", item, tok, `{"name":"Ada Lovelace","shipping_address":null}`,
		"If-Match", got.header.Get("ETag"), "Content-Type", "application/merge-patch+json").want(t, 200)
	c = customerDetail{} // decoding {} into an address keeps what was there
	patched.decode(t, &c)
	if c.Name != "Ada Lovelace" || c.Phone != "+44 1" || !c.ShippingAddress.IsZero() || c.Version != 2 {
		t.Errorf("after PATCH: %+v", c)
	}
	h.call(t, "PATCH", item, tok, `{"name":"stale"}`, "If-Match", got.header.Get("ETag")).want(t, 412)
	h.call(t, "PATCH", item, tok, `{"email":null}`).want(t, 422)

	// With an order, the figures show and the customer cannot be deleted.
	v := h.variant(t, "MUG-1", 1_000, 10)
	o := h.place(t, tok, fmt.Sprintf(`{"customer_id":%d,"lines":[{"variant_id":%d,"quantity":2}]}`, c.ID, v.ID))
	h.move(t, tok, o.ID, "paid")
	h.call(t, "GET", item, tok, "").want(t, 200).decode(t, &c)
	if c.OrderCount != 1 || c.LifetimeCents != o.TotalCents || c.FirstOrderAt == nil || c.LastOrderAt == nil {
		t.Errorf("figures: %+v, want 1 order worth %d", c, o.TotalCents)
	}
	p = h.call(t, "DELETE", item, tok, "").want(t, 409).problem(t)
	if !strings.Contains(p.Detail, "has orders") {
		t.Errorf("delete with orders: detail %q", p.Detail)
	}

	var other customerDetail
	h.call(t, "POST", "/api/v1/customers", tok, `{"email":"grace@example.com","name":"Grace"}`).want(t, 201).decode(t, &other)
	var page list[customerItem]
	h.call(t, "GET", "/api/v1/customers?q=grace", tok, "").want(t, 200).decode(t, &page)
	if len(page.Data) != 1 || page.Data[0].ID != other.ID {
		t.Errorf("search: %+v", page.Data)
	}
	emails := []string{}
	for _, c := range walk[customerItem](t, h, tok, "/api/v1/customers?limit=1") {
		emails = append(emails, c.Email)
	}
	if !slices.Equal(emails, []string{"grace@example.com", "Ada@Example.com"}) {
		t.Errorf("walk = %v, want newest first", emails)
	}
	h.call(t, "DELETE", fmt.Sprintf("/api/v1/customers/%d", other.ID), tok, "").want(t, 204)
	h.call(t, "GET", fmt.Sprintf("/api/v1/customers/%d", other.ID), tok, "").want(t, 404)
}

// The order and customer endpoints run a fixed number of statements, token lookup
// included, whatever the page size or the number of lines and events.
func TestOrderQueryBudget(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.clerk(t)
	var lines []string
	for i := range 20 {
		v := h.variant(t, fmt.Sprintf("SKU-%02d", i), 1_000, 1000)
		lines = append(lines, fmt.Sprintf(`{"variant_id":%d,"quantity":1}`, v.ID))
	}
	var first orderDetail
	for i := range 30 {
		o := h.place(t, tok, fmt.Sprintf(`{"customer":{"email":"c%d@example.com"},"lines":[%s]}`, i%7, strings.Join(lines[:1+i%20], ",")))
		h.move(t, tok, o.ID, "paid", "fulfilled")
		if i == 0 {
			first = o
		}
	}
	tests := []struct {
		path string
		want int
	}{
		{"/api/v1/orders?limit=1", 2},   // token, page
		{"/api/v1/orders?limit=200", 2}, // token, page
		{"/api/v1/orders?status=fulfilled&ordering=-total&limit=5", 2},
		{"/api/v1/orders?q=c3", 3},                         // token, matching ids, page
		{fmt.Sprintf("/api/v1/orders/%d", first.ID), 4},    // token, order and customer, lines, events
		{fmt.Sprintf("/api/v1/orders/%d", first.ID+29), 4}, // 20 lines, 3 events
		{"/api/v1/customers?limit=200", 2},
		{fmt.Sprintf("/api/v1/customers/%d", first.Customer.ID), 4}, // token, customer, figures, recent orders
	}
	h.call(t, "GET", "/api/v1/me", tok, "").want(t, 200) // the first use writes last_used_at
	for _, tt := range tests {
		h.counter.Reset()
		h.call(t, "GET", tt.path, tok, "").want(t, 200)
		if got := h.counter.Count(); got != tt.want {
			t.Errorf("GET %s: %d statements, want %d:\n%s", tt.path, got, tt.want, h.counter.Statements())
		}
	}
}

// An order placed for a customer by id ships to their stored address.
func TestOrderForKnownCustomer(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.clerk(t)
	c, err := h.orders.CreateCustomer(context.Background(), audit.System, orders.CustomerInput{
		Email: "ada@example.com", ShippingAddress: orders.Address{Line1: "1 Byron Row", Country: "GB"}})
	if err != nil {
		t.Fatal(err)
	}
	v := h.variant(t, "MUG-1", 1_000, 10)
	o := h.place(t, tok, fmt.Sprintf(`{"customer_id":%d,"lines":[{"variant_id":%d,"quantity":1}]}`, c.ID, v.ID))
	if o.ShippingAddress.Line1 != "1 Byron Row" || o.BillingAddress.Line1 != "1 Byron Row" || o.Customer.ID != c.ID {
		t.Errorf("order = %+v", o)
	}
}
