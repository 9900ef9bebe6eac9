package admin

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/orders"
)

// Acceptance 4 in a real browser: a staff user who may fulfil orders but not
// refund them opens a paid order, sees "Fulfil" and no "Refund", fulfils it, and
// the timeline shows the move with their name. With STOCKROOM_SCREENSHOTS set, the
// order list, the order page, the order form and the dashboard are saved too.
func TestBrowserFulfilOrder(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	_, err := a.auth.CreateUser(context.Background(), nil, auth.UserInput{Email: "grace@example.com", Name: "Grace Hopper",
		Password: password, Active: true, PermIDs: a.permIDs("orders.view", "orders.fulfil", "customers.view")})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []orders.CustomerInput{
		{Email: "ada@example.com", Name: "Ada Lovelace", ShippingAddress: orders.Address{Name: "Ada Lovelace",
			Line1: "12 St James's Square", City: "London", PostalCode: "SW1Y 4JH", Country: "GB"}},
		{Email: "linus@example.com", Name: "Linus Torvalds"},
	} {
		if _, err := a.ord.CreateCustomer(context.Background(), fixture, c); err != nil {
			t.Fatal(err)
		}
	}
	lamp := a.product("Brass desk lamp", 0, "LAMP-1", "LAMP-2")
	mug := a.product("Stoneware mug", 0, "MUG-1")
	var paid *orders.Order
	for i, email := range []string{"ada@example.com", "linus@example.com", "ada@example.com", "barbara@example.com"} {
		o := a.order(email, lamp.Variants[i%2].ID, int64(1+i%3))
		switch i {
		case 0:
			paid = o
			a.move(o.ID, orders.StatusPaid)
		case 1:
			a.move(o.ID, orders.StatusPaid, orders.StatusFulfilled)
		case 3:
			a.move(o.ID, orders.StatusCancelled)
		}
		a.placedAt(o.ID, testNow.Add(-time.Duration(i)*26*time.Hour))
	}
	a.order("ada@example.com", mug.Variants[0].ID, 2)

	ctx := newTab(t)
	step := func(name string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	step("sign in", browserSignIn(ctx, a.srv.URL, "grace@example.com", "/admin/orders/"))
	step("list", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("order-list"))))
	screenshot(t, ctx, "order-list")
	step("open the paid order", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#order-list a[href^="/admin/orders/%d/"]`, paid.ID))),
		chromedp.WaitVisible(chromedp.ID("timeline")),
	))
	buttons, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("moves")))
	step("buttons", err)
	if !strings.Contains(buttons, "Fulfil") || strings.Contains(buttons, "Refund") || strings.Contains(buttons, "Cancel") {
		t.Errorf("buttons %q: want Fulfil, and neither Refund nor Cancel", buttons)
	}
	screenshot(t, ctx, "order-page")
	step("fulfil", chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#moves button[data-to="fulfilled"]`))))
	step("flash", waitText(ctx, ".flash", fmt.Sprintf("Order %s is now fulfilled.", paid.Number)))
	step("timeline", waitText(ctx, "#timeline li:last-child", "Fulfilled by grace@example.com"))
	if o, err := a.ord.Order(context.Background(), paid.ID); err != nil || o.Status != orders.StatusFulfilled {
		t.Errorf("stored status %v (%v), want fulfilled", o.Status, err)
	}
	buttons, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID("moves")))
	if err != nil || !strings.Contains(buttons, "Mark delivered") || strings.Contains(buttons, "Fulfil") {
		t.Errorf("after fulfilling, buttons %q (%v): want Mark delivered only", buttons, err)
	}

	// The other order pages as a superuser sees them, when screenshots are asked for,
	// with a month of paid orders for the chart.
	if os.Getenv("STOCKROOM_SCREENSHOTS") == "" {
		return
	}
	stock := a.productWithStock("Linen tea towel", "TOWEL-1", 1_250, 1000)
	for i := range 60 {
		o := a.order("linus@example.com", stock, int64(1+i*7%5))
		a.move(o.ID, orders.StatusPaid)
		a.placedAt(o.ID, testNow.Add(-time.Duration(i*i%29)*24*time.Hour-time.Duration(i)*time.Minute))
	}
	admin := separateTab(t, ctx)
	step("superuser", browserSignIn(admin, a.srv.URL, superEmail, "/admin/"))
	step("dashboard", chromedp.Do(admin, chromedp.WaitVisible(chromedp.ID("dashboard"))))
	screenshot(t, admin, "dashboard")
	step("order page", chromedp.Do(admin, chromedp.Navigate(fmt.Sprintf("%s/admin/orders/%d/", a.srv.URL, paid.ID)),
		chromedp.WaitVisible(chromedp.ID("timeline"))))
	screenshot(t, admin, "order-page-superuser")
	step("list filtered", chromedp.Do(admin, chromedp.Navigate(a.srv.URL+"/admin/orders/?placed=custom&placed_from=2026-03-16&total_min=20"),
		chromedp.WaitVisible(chromedp.ID("order-list"))))
	screenshot(t, admin, "order-list-filtered")
	step("order form", chromedp.Do(admin, chromedp.Navigate(fmt.Sprintf("%s/admin/orders/new?customer=%d", a.srv.URL, paid.CustomerID)),
		chromedp.WaitVisible(chromedp.ID("order-form")),
		chromedp.SetValue(chromedp.ID("line-0-ref"), "lamp-1"),
		chromedp.SetValue(chromedp.ID("line-0-quantity"), "50"),
		chromedp.SetValue(chromedp.ID("find_q"), "mug"),
		chromedp.Click(chromedp.CSS(`button[name="search"]`)),
		chromedp.WaitVisible(chromedp.ID("found"))))
	screenshot(t, admin, "order-form-find")
	step("short stock", chromedp.Do(admin, chromedp.Click(chromedp.ID("place")), chromedp.WaitVisible(chromedp.ID("order-alert"))))
	screenshot(t, admin, "order-form-short")
	step("customer", chromedp.Do(admin, chromedp.Navigate(fmt.Sprintf("%s/admin/customers/%d/", a.srv.URL, paid.CustomerID)),
		chromedp.WaitVisible(chromedp.ID("customer-form"))))
	screenshot(t, admin, "customer-page")
	step("customers", chromedp.Do(admin, chromedp.Navigate(a.srv.URL+"/admin/customers/"),
		chromedp.WaitVisible(chromedp.ID("customer-list"))))
	screenshot(t, admin, "customer-list")
}
