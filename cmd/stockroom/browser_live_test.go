package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stockroom-dev/stockroom/internal/dbtest"
)

// Issue #14, acceptance 1: two serve instances on one database, a browser signed in
// on each as a different user. What goes through instance B (an API order, an API
// stock PATCH, a save in the second browser) shows on instance A's open pages
// without a reload, and presence shows both editors on one product page. This is
// the cross-instance path end to end: NOTIFY between the two processes' LISTEN
// connections, each hub, the admin stream and htmx in the page.
func TestBrowserLiveAcrossTwoInstances(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const pw = "a long enough password 1"
	db := dbtest.NewURL(t)
	env := map[string]string{"STOCKROOM_DATABASE_URL": db}
	for _, email := range []string{"ada@example.com", "bob@example.com"} {
		if code, _, stderr := stockroomIn(ctx, env, pw+"\n", "createsuperuser", "--email", email, "--password-stdin"); code != 0 {
			t.Fatalf("createsuperuser %s: %s", email, stderr)
		}
	}
	code, out, stderr := stockroom(ctx, env, "token", "create", "--email", "ada@example.com", "--name", "api", "--scope", "write")
	if code != 0 {
		t.Fatalf("token create: %s", stderr)
	}
	token := strings.TrimSpace(out)

	serve := func() string {
		addr := freeAddr(t)
		env := map[string]string{"STOCKROOM_DATABASE_URL": db, "STOCKROOM_ADDR": addr, "STOCKROOM_REQUIRE_2FA": "off",
			"STOCKROOM_DATABASE_MAX_CONNS": "4", "STOCKROOM_SHUTDOWN_GRACE": "2s", "STOCKROOM_MEDIA_DIR": t.TempDir()}
		sctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if code, _, stderr := stockroom(sctx, env, "serve"); code != 0 {
				t.Errorf("serve on %s: exit %d: %s", addr, code, stderr)
			}
		}()
		t.Cleanup(func() { stop(); <-done })
		waitFor(t, "http://"+addr+"/healthz")
		return "http://" + addr
	}
	baseA, baseB := serve(), serve()

	api := func(method, u, body string) string {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, u, resp.StatusCode, b)
		}
		return string(b)
	}
	var product struct {
		ID       int64
		Variants []struct{ ID int64 }
	}
	if err := json.Unmarshal([]byte(api("POST", baseA+"/api/v1/products",
		`{"name":"Oak chair","status":"active","variants":[{"sku":"OAK-1","price_cents":4900,"stock":7}]}`)), &product); err != nil || len(product.Variants) != 1 {
		t.Fatalf("the product: %v %+v", err, product)
	}
	pid, vid := product.ID, product.Variants[0].ID

	// One headless Chromium per user: each tab is its browser's only (foreground)
	// tab, so neither is throttled as a background tab, and cookies are separate.
	path, err := exec.LookPath("chromium")
	if err != nil {
		if path, err = exec.LookPath("chromium-browser"); err != nil {
			t.Fatalf("this test needs Debian's chromium (apt-get install chromium): %v", err)
		}
	}
	browser := func(base, email, next string) context.Context {
		actx, cancelA := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(path),
			chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true), chromedp.Flag("disable-background-timer-throttling", true),
			chromedp.Flag("disable-renderer-backgrounding", true))
		tab, cancelB := chromedp.NewContext(actx)
		t.Cleanup(func() { cancelB(); cancelA() })
		if err := chromedp.Do(tab,
			chromedp.Navigate(base+"/admin/login?next="+next),
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("password"), pw),
			chromedp.Click(chromedp.CSS("#login button[type=submit]")),
			chromedp.WaitVisible(chromedp.ID("dashboard")),
		); err != nil {
			t.Fatalf("sign in as %s on %s: %v", email, base, err)
		}
		return tab
	}
	tabA, tabB := browser(baseA, "ada@example.com", "%2Fadmin%2F"), browser(baseB, "bob@example.com", "%2Fadmin%2F")

	// streams waits until instance base has n event streams open (the pages'
	// EventSources are connected and hear what is written from now on).
	streams := func(base string, n int) {
		t.Helper()
		want := fmt.Sprintf("\nstockroom_event_streams %d\n", n)
		deadline := time.Now().Add(20 * time.Second)
		for {
			if _, m := get(t, base+"/metrics"); strings.Contains(m, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never had %d event streams open", base, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// within waits up to d in tab for the JavaScript expression to be true.
	within := func(tab context.Context, d time.Duration, what, expr string) {
		t.Helper()
		start := time.Now()
		wctx, cancel := context.WithTimeout(tab, d)
		defer cancel()
		if _, err := chromedp.Run(wctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			text, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
			t.Fatalf("%s: not within %s (%v)\npage:\n%s", what, d, err, text)
		}
		t.Logf("%s: after %s", what, time.Since(start).Round(time.Millisecond))
	}
	nav := func(tab context.Context, u, id string) {
		t.Helper()
		if err := chromedp.Do(tab, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.ID(id))); err != nil {
			t.Fatalf("open %s: %v", u, err)
		}
	}

	// 1. An order placed through the API on B appears at the top of A's order list
	// (newest first), highlighted, and the box checked on A's other row stays checked.
	var before, placed struct{ ID int64 }
	if err := json.Unmarshal([]byte(api("POST", baseA+"/api/v1/orders", fmt.Sprintf(`{"customer":{"email":"dee@example.com"},"lines":[{"variant_id":%d,"quantity":1}]}`, vid))), &before); err != nil {
		t.Fatal(err)
	}
	nav(tabA, baseA+"/admin/orders/", "order-list")
	if err := chromedp.Do(tabA, chromedp.Click(chromedp.ID(fmt.Sprintf("select-order-%d", before.ID)))); err != nil {
		t.Fatal(err)
	}
	streams(baseA, 1)
	if err := json.Unmarshal([]byte(api("POST", baseB+"/api/v1/orders", fmt.Sprintf(`{"customer":{"email":"cy@example.com","name":"Cy"},"lines":[{"variant_id":%d,"quantity":1}]}`, vid))), &placed); err != nil {
		t.Fatal(err)
	}
	within(tabA, 2*time.Second, "the order placed on B at the top of A's order list",
		fmt.Sprintf(`(r => r.length === 2 && r[0].id === "order-%d" && r[0].classList.contains("live-new") && r[1].id === "order-%d")(document.querySelectorAll("#order-rows > tr"))`, placed.ID, before.ID))
	if checked, err := chromedp.Run(tabA, chromedp.Evaluate[bool](fmt.Sprintf(`document.getElementById("select-order-%d").checked`, before.ID))); err != nil || !checked {
		t.Errorf("A's checked box after the new row: checked %v (%v), want still checked", checked, err)
	}

	// 2. A stock PATCH through the API on B shows in A's product list.
	nav(tabA, baseA+"/admin/products/", "product-list")
	streams(baseA, 1)
	api("PATCH", fmt.Sprintf("%s/api/v1/products/%d/variants/%d", baseB, pid, vid), `{"stock":42}`)
	within(tabA, 3*time.Second, "the stock PATCHed on B in A's product list",
		fmt.Sprintf(`document.getElementById("product-%d").innerText.includes("42")`, pid))

	// 3. Both editors on one product page: each sees the other.
	page := fmt.Sprintf("/admin/products/%d/", pid)
	nav(tabA, baseA+page, "product-form")
	nav(tabB, baseB+page, "product-form")
	within(tabA, 5*time.Second, "presence of bob (on B) on A's page", `document.getElementById("presence").innerText.includes("bob@example.com")`)
	within(tabB, 5*time.Second, "presence of ada (on A) on B's page", `document.getElementById("presence").innerText.includes("ada@example.com")`)

	// 4. The second editor saves: the first sees "changed by someone else".
	sctx, scancel := context.WithTimeout(tabB, 10*time.Second)
	defer scancel()
	if err := chromedp.Do(sctx,
		chromedp.SetValue(chromedp.ID("name"), "Oak chair, oiled"),
		chromedp.Click(chromedp.CSS("#product-form .buttons button.primary")),
		chromedp.WaitNotPresent(chromedp.ID("product-form")),
	); err != nil {
		t.Fatalf("save on B: %v", err)
	}
	within(tabA, 3*time.Second, "the changed-by-someone-else banner on A",
		`document.querySelector("#live-banner .live-notice")?.innerText.includes("bob@example.com")`)
}
