package admin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/orders"
)

// The dashboard's sales: today's and the week's orders and revenue (revenue counts
// paid, fulfilled and delivered orders), the orders waiting to be fulfilled, and the
// 30-day chart as accessible inline SVG with the same figures as a table. It runs
// the same statements however many orders there are.
func TestDashboardSales(t *testing.T) {
	t.Parallel()
	var count dbtest.Tally
	a := newTestAppWith(t, auth.Options{}, &count)
	cheap, _, _ := orderFixtures(a)
	c := a.signedIn(viewEmail)
	measure := func() (response, int64) {
		var r response
		n := count.During(func() { r = c.get("/admin/") })
		return r, n
	}
	c.get("/admin/") // the first view builds the category tree, which is kept after
	r, few := measure()
	must(t, r, http.StatusOK,
		`<span class="card-figure big" id="orders-today">1</span>`,
		`<span class="card-figure big" id="revenue-today">0.00 <small>EUR</small></span>`,
		`<span class="card-figure big" id="orders-7d">2</span>`,
		`<span class="card-figure big" id="revenue-7d">595.00 <small>EUR</small></span>`,
		`<span class="card-figure big" id="awaiting">1</span>`,
		`role="img" aria-labelledby="chart-title chart-desc"`,
		`<title id="chart-title">Revenue per day, last 30 days</title>`,
		"from 17 February to 18 March 2026: 1,190.00 EUR in all; the best day was 8 March with 595.00 EUR.",
		"<title>Sun 8 Mar: 595.00 EUR, 1 order</title>",
		`<th scope="row">Sun 8 Mar 2026</th><td class="num">1</td><td class="num">595.00</td>`,
	)
	if n := strings.Count(r.body, `<rect class="bar"`); n != 30 {
		t.Errorf("%d bars, want 30", n)
	}
	if n := strings.Count(r.body, `<tr><th scope="row">`); n != 30 {
		t.Errorf("%d table rows, want 30", n)
	}
	for range 40 {
		o := a.order("grace@example.com", cheap, 1)
		a.move(o.ID, "paid")
		a.placedAt(o.ID, testNow.Add(-48*time.Hour))
	}
	_, many := measure()
	t.Logf("dashboard: %d statements", few)
	if few != many || few > 12 {
		t.Errorf("dashboard: %d statements with 4 orders, %d with 44; want the same, at most 12", few, many)
	}

	// Without orders.view there are no sales figures.
	a.user("catalog@example.com", false, "products.view")
	r = a.signedIn("catalog@example.com").get("/admin/")
	must(t, r, http.StatusOK, `id="dashboard"`)
	if strings.Contains(r.body, `id="sales"`) || strings.Contains(r.body, "revenue-chart") {
		t.Error("a user without orders.view sees the sales figures")
	}
}

// niceStep picks round grid steps: four of them reach the highest bar.
func TestNiceStep(t *testing.T) {
	tests := []struct {
		max      int64
		decimals int
		want     int64
	}{
		{0, 2, 100},          // nothing sold: a scale of 1.00 steps
		{399, 2, 100},        // 3.99 → steps of 1.00
		{401, 2, 200},        // 4.01 → steps of 2.00
		{119_000, 2, 50_000}, // 1,190.00 → steps of 500.00
		{2_000_001, 2, 1_000_000},
		{1_000, 0, 500}, // yen: whole units
		{9_999_999_999_999, 2, 5_000_000_000_000},
	}
	for _, tt := range tests {
		if got := niceStep(tt.max, tt.decimals); got != tt.want || got*chartLines < tt.max {
			t.Errorf("niceStep(%d, %d) = %d, want %d", tt.max, tt.decimals, got, tt.want)
		}
	}
}

// The order list, the order page and the customer page run the same statements
// however many rows, lines and events they show.
func TestOrderQueryBudget(t *testing.T) {
	t.Parallel()
	var count dbtest.Tally
	a := newTestAppWith(t, auth.Options{}, &count)
	var skus []string
	for i := range 20 {
		skus = append(skus, fmt.Sprintf("SKU-%02d", i))
	}
	p := a.product("Many variants", 0, skus...)
	var lines []orders.LineInput
	for _, v := range p.Variants {
		lines = append(lines, orders.LineInput{VariantID: v.ID, Quantity: 1})
	}
	big, err := a.ord.PlaceOrder(context.Background(), fixture, orders.PlaceInput{Email: "big@example.com", Lines: lines})
	if err != nil {
		t.Fatal(err)
	}
	a.move(big.ID, "paid", "fulfilled", "delivered")
	stock := a.productWithStock("Towel", "TOWEL-1", 1_000, 1000)
	var small *orders.Order
	for i := range 210 {
		small = a.order(fmt.Sprintf("c%d@example.com", i%9), stock, 1)
	}
	c := a.signedIn(superEmail)
	measure := func(path string) int64 {
		t.Helper()
		return count.During(func() { must(t, c.get(path), http.StatusOK) })
	}
	for _, q := range []string{"", "q=c3", "status=pending&sort=-total", "placed=custom&placed_from=2026-01-01&total_min=5"} {
		few, many := measure("/admin/orders/?size=25&"+q), measure("/admin/orders/?size=200&"+q)
		t.Logf("order list %q: %d statements", q, few)
		if few != many || few > 9 {
			t.Errorf("order list %q: %d statements for 25 rows, %d for 200; want the same, at most 9", q, few, many)
		}
	}
	one, twenty := measure(fmt.Sprintf("/admin/orders/%d/", small.ID)), measure(fmt.Sprintf("/admin/orders/%d/", big.ID))
	t.Logf("order page: %d statements", one)
	if one != twenty || one > 6 {
		t.Errorf("order page: %d statements for 1 line, %d for 20 lines and 4 events; want the same, at most 6", one, twenty)
	}
	cust := measure(fmt.Sprintf("/admin/customers/%d/", small.CustomerID))
	t.Logf("customer page: %d statements", cust)
	if cust > 6 {
		t.Errorf("customer page: %d statements, want at most 6", cust)
	}
	if few, many := measure("/admin/customers/?size=25"), measure("/admin/customers/?size=200"); few != many {
		t.Errorf("customer list: %d statements for 25 rows, %d for 200", few, many)
	}
}
