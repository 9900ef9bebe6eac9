package admin

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/imports"
	"github.com/stockroom-dev/stockroom/internal/webhooks"
)

// axeViolation is what the accessibility test reports of one axe-core rule broken.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeRun runs axe-core (vendored in testdata/axe for the tests only; see its
// VERSION) on the page and returns its serious and critical violations.
const axeRun = `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
	.filter(v => v.impact === "serious" || v.impact === "critical")
	.map(v => ({id: v.id, impact: v.impact, help: v.help,
		nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " "))})))`

// Every list page and the main forms and detail pages pass axe-core without a
// serious or critical violation (WCAG 2.1 AA contrast among them), in the light
// and in the dark colour scheme: the pager's disabled links included, which every
// list with one page shows.
func TestAccessibility(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	axe, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	cat := a.category("Lamps", 0)
	p := a.product("Desk lamp", cat, "LAMP-1", "LAMP-2")
	o := a.order("ada@example.com", p.Variants[0].ID, 1)
	cust := a.customerID("ada@example.com")
	tok := a.token(a.ids[superEmail], "ci")
	hook, err := a.hooks.CreateEndpoint(context.Background(), audit.System, webhooks.EndpointInput{
		URL: "https://198.51.100.7/hooks", EventTypes: []string{"order.placed"}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.hooks.SendTest(context.Background(), hook.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.Pool().Exec(context.Background(), `INSERT INTO webhook_attempts
		(delivery_id, endpoint_id, status_code, latency_ms, error, response_excerpt)
		SELECT id, endpoint_id, 500, 42, '500 Internal Server Error', 'oops' FROM webhook_deliveries`); err != nil {
		t.Fatal(err)
	}
	// An import planned with a change and an error: its preview shows both tables.
	imp, err := a.imp.Create(context.Background(), imports.Upload{FileName: "stock.csv",
		Data: []byte("sku,stock\nLAMP-1,7\nLAMP-2,-1\n"), Actor: audit.System})
	if err != nil {
		t.Fatal(err)
	}
	a.work()
	pages := []string{
		"/admin/", "/admin/products/", "/admin/products/new", fmt.Sprintf("/admin/products/%d/", p.ID),
		fmt.Sprintf("/admin/products/%d/history", p.ID), fmt.Sprintf("/admin/products/%d/delete", p.ID),
		"/admin/categories/", fmt.Sprintf("/admin/categories/%d/", cat),
		"/admin/orders/", "/admin/orders/new", fmt.Sprintf("/admin/orders/%d/", o.ID),
		"/admin/customers/", fmt.Sprintf("/admin/customers/%d/", cust),
		"/admin/users/", fmt.Sprintf("/admin/users/%d/", a.ids[viewEmail]), "/admin/groups/", "/admin/groups/new",
		"/admin/tokens/", "/admin/tokens/new", fmt.Sprintf("/admin/tokens/%d/revoke", tok),
		"/admin/audit/", "/admin/password",
		"/admin/webhooks/", "/admin/webhooks/new", fmt.Sprintf("/admin/webhooks/%d/", hook.ID),
		fmt.Sprintf("/admin/webhooks/%d/rotate", hook.ID), fmt.Sprintf("/admin/webhooks/%d/delete", hook.ID),
		"/admin/jobs/?state=available",
		"/admin/products/import", "/admin/imports/", fmt.Sprintf("/admin/imports/%d/", imp.ID),
		"/admin/account/security", "/admin/account/sessions",
	}
	// Each page is loaded and checked twice (light, dark), and axe takes seconds a
	// page on a busy machine: 90 s for the whole walk ran out on a loaded 2-core box.
	ctx := newTabFor(t, time.Duration(2*len(pages)+2)*10*time.Second)
	signIn := func() {
		t.Helper()
		if err := browserSignIn(ctx, a.srv.URL, superEmail, "/admin/"); err != nil {
			t.Fatalf("sign in: %v", err)
		}
		// browserSignIn waits for a main, which the sign-in page has too: wait
		// for the dashboard, so no navigation is still under way.
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("dashboard"))); err != nil {
			t.Fatalf("sign in: %v", err)
		}
	}
	signIn()
	for _, scheme := range []string{"light", "dark"} {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range append(pages, "/admin/login") {
			if path == "/admin/login" { // last: it is seen signed out
				if err := chromedp.Do(ctx, chromedp.Navigate(a.srv.URL+"/admin/"), chromedp.Click(chromedp.ID("logout")),
					chromedp.WaitVisible(chromedp.ID("login"))); err != nil {
					t.Fatalf("sign out: %v", err)
				}
			}
			err := chromedp.Do(ctx, chromedp.Navigate(a.srv.URL+path), chromedp.WaitVisible(chromedp.CSS("main")),
				chromedp.Evaluate[chromedp.Void](string(axe)))
			if err != nil {
				t.Fatalf("%s (%s): %v", path, scheme, err)
			}
			dark, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`matchMedia("(prefers-color-scheme: dark)").matches`))
			if err != nil || dark != (scheme == "dark") {
				t.Fatalf("%s: dark scheme %t (%v), want %s", path, dark, err, scheme)
			}
			found, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("axe on %s (%s): %v", path, scheme, err)
			}
			for _, v := range found {
				t.Errorf("%s (%s scheme): %s %s: %s\n\t%s", path, scheme, v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n\t"))
			}
		}
		signIn()
	}
}
