package admin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stockroom-dev/stockroom/internal/catalog"
)

// separateTab opens a tab in a browser context of its own (its own cookies: its
// own session), in the shared browser. Call it after newTab, which holds the
// browser for this test.
func separateTab(t *testing.T, parent context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	deadline, _ := parent.Deadline()
	ctx, stop := context.WithDeadline(tab, deadline)
	t.Cleanup(stop)
	return ctx
}

// browserSignIn signs a tab in and goes on to next.
func browserSignIn(ctx context.Context, srv, email, next string) error {
	return chromedp.Do(ctx,
		chromedp.Navigate(srv+"/admin/login?next="+next),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("#login button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("main")),
	)
}

// screenshot saves the tab as name.png under $STOCKROOM_SCREENSHOTS, when set: how
// the pages were looked at while building them.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("STOCKROOM_SCREENSHOTS")
	if dir == "" {
		return
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitText polls until the element matching the CSS selector contains text. It
// goes on polling through a navigation (which ends the page it was polling).
func waitText(ctx context.Context, selector, text string) error {
	expr := fmt.Sprintf(`(document.querySelector(%q)?.textContent ?? "").includes(%q)`, selector, text)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %q in %s: %w (last error %v)", text, selector, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Acceptance 1 in a real browser: add a product with two variants and an image;
// find it by search and by category; edit it; two editors in separate sessions
// save over each other and the second sees the conflict page with nothing lost;
// the history tab shows each change; bulk-archive three products through the
// confirmation page; delete one with confirmation.
func TestBrowserCatalog(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	home := a.category("Home", 0)
	lighting := a.category("Lighting", home)
	a.category("Garden", 0)
	for i := range 3 {
		a.product(fmt.Sprintf("Bulk pot %d", i), 0, fmt.Sprintf("BULK-%d", i))
	}
	a.product("Unrelated chair", 0, "CHAIR-1")
	img := filepath.Join(t.TempDir(), "lamp photo.png")
	if err := os.WriteFile(img, pngBytes(t, 40, 30, colorRed), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := newTab(t)
	step := func(name string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}

	// Add: two variants (the second row through "Add variant"), a category, an image.
	step("sign in", browserSignIn(ctx, a.srv.URL, superEmail, "/admin/products/"))
	step("add product", chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("product-list")),
		chromedp.Click(chromedp.CSS(`a.button.primary[href^="/admin/products/new"]`)),
		chromedp.WaitVisible(chromedp.ID("product-form")),
		chromedp.SetValue(chromedp.ID("name"), "Brass desk lamp"),
		chromedp.SetValue(chromedp.ID("category_id"), fmt.Sprint(lighting)),
		chromedp.SetValue(chromedp.ID("v0-sku"), "BDL-S"),
		chromedp.SetValue(chromedp.ID("v0-title"), "Small"),
		chromedp.SetValue(chromedp.ID("v0-price_cents"), "19.90"),
		chromedp.SetValue(chromedp.ID("v0-stock"), "4"),
		chromedp.Click(chromedp.CSS(`button[name="add_variant"]`)),
		chromedp.WaitVisible(chromedp.ID("v1-sku")),
		chromedp.SetValue(chromedp.ID("v1-sku"), "BDL-L"),
		chromedp.SetValue(chromedp.ID("v1-title"), "Large"),
		chromedp.SetValue(chromedp.ID("v1-price_cents"), "24.50"),
		chromedp.SetValue(chromedp.ID("v1-stock"), "2"),
	))
	screenshot(t, ctx, "product-form-new")
	step("save and continue", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`button[name="_continue"]`)),
		chromedp.WaitVisible(chromedp.ID("upload-form")),
	))
	step("upload image", chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("alt"), "The lamp, lit"),
		chromedp.SetUploadFiles(chromedp.ID("image"), []string{img}),
		chromedp.Click(chromedp.CSS("#upload-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("img.thumb")),
	))
	id := a.productID(t, "Brass desk lamp")
	p := a.loadProduct(id)
	if len(p.Variants) != 2 || len(p.Images) != 1 || p.Images[0].Alt != "The lamp, lit" || p.CategoryID == nil || *p.CategoryID != lighting {
		t.Fatalf("stored after the form: %d variants, images %+v, category %v", len(p.Variants), p.Images, p.CategoryID)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelector("img.thumb").naturalWidth`)); err != nil || n != 40 {
		t.Errorf("the image does not load in the page: width %d (%v)", n, err)
	}
	screenshot(t, ctx, "product-form")

	// Find it: by live search, then by the category filter (Home holds Lighting).
	step("search", chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/admin/products/"),
		chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), "desk"),
	))
	step("search result", waitText(ctx, "#list-count", "1 product"))
	step("search row", waitText(ctx, "#product-list tbody", "Brass desk lamp"))
	step("category filter", chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/admin/products/"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`.filters a[href$="category=%d"]`, home))),
	))
	step("category result", waitText(ctx, "#list-count", "1 product"))
	step("category row", waitText(ctx, "#product-list tbody", "Brass desk lamp"))
	screenshot(t, ctx, "product-list")

	// Edit from the filtered list: Save returns to it as it was.
	listURL, err := chromedp.Run(ctx, chromedp.Location())
	step("location", err)
	step("edit", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#product-list td.name a")),
		chromedp.WaitVisible(chromedp.ID("product-form")),
		chromedp.SetValue(chromedp.ID("name"), "Brass reading lamp"),
		chromedp.SetValue(chromedp.ID("v1-price_cents"), "26.00"),
		chromedp.Click(chromedp.CSS(`button.primary[name="_save"]`)),
		chromedp.WaitVisible(chromedp.ID("product-list")),
	))
	back, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || back != listURL {
		t.Errorf("after Save at %q (%v), want the list as left: %q", back, err, listURL)
	}
	step("flash", waitText(ctx, ".flash", "Product “Brass reading lamp” was saved."))

	// Two editors, two sessions, the same product.
	ann, bob := separateTab(t, ctx), separateTab(t, ctx)
	a.user("bob@example.com", false, "products.view", "products.change")
	edit := fmt.Sprintf("%s/admin/products/%d/", a.srv.URL, id)
	step("ann signs in", browserSignIn(ann, a.srv.URL, superEmail, "/admin/products/"))
	step("bob signs in", browserSignIn(bob, a.srv.URL, "bob@example.com", "/admin/products/"))
	step("both open the form", chromedp.Do(ann, chromedp.Navigate(edit), chromedp.WaitVisible(chromedp.ID("product-form"))))
	step("bob opens the form", chromedp.Do(bob, chromedp.Navigate(edit), chromedp.WaitVisible(chromedp.ID("product-form"))))
	step("ann saves", chromedp.Do(ann,
		chromedp.SetValue(chromedp.ID("v0-price_cents"), "21.00"),
		chromedp.Click(chromedp.CSS(`button.primary[name="_save"]`)),
		chromedp.WaitVisible(chromedp.ID("product-list")),
	))
	step("bob saves", chromedp.Do(bob,
		chromedp.SetValue(chromedp.ID("name"), "Bob's brass lamp"),
		chromedp.Click(chromedp.CSS(`button.primary[name="_save"]`)),
		chromedp.WaitVisible(chromedp.ID("conflict")),
	))
	screenshot(t, bob, "product-conflict")
	conflict, err := chromedp.Run(bob, chromedp.Text(chromedp.ID("conflict")))
	step("conflict text", err)
	for _, want := range []string{"Bob's brass lamp", "Brass reading lamp", "21.00", "19.90"} {
		if !strings.Contains(conflict, want) {
			t.Errorf("the conflict page lacks %q:\n%s", want, conflict)
		}
	}
	if got := a.loadProduct(id); got.Name != "Brass reading lamp" || got.PriceMinCents != 2100 {
		t.Fatalf("the stale save changed the product: %q, %d", got.Name, got.PriceMinCents)
	}
	if name, err := chromedp.Run(bob, chromedp.Value(chromedp.ID("name"))); err != nil || name != "Bob's brass lamp" {
		t.Errorf("Bob's typing was lost: name %q (%v)", name, err)
	}
	step("bob re-applies", chromedp.Do(bob,
		chromedp.Click(chromedp.CSS(`button.primary[name="_save"]`)),
		chromedp.WaitVisible(chromedp.ID("product-list")),
	))
	if got := a.loadProduct(id); got.Name != "Bob's brass lamp" {
		t.Errorf("after re-applying: %q", got.Name)
	}

	// History: each change, before → after.
	step("history", chromedp.Do(ctx,
		chromedp.Navigate(edit),
		chromedp.Click(chromedp.CSS(`nav.tabs a[href*="history"]`)),
		chromedp.WaitVisible(chromedp.ID("entries")),
	))
	history, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("entries")))
	step("history text", err)
	for _, want := range []string{
		"Name: Brass reading lamp → Bob's brass lamp", "Name: Brass desk lamp → Brass reading lamp",
		"Variant BDL-L: price: 24.50 → 26.00", "Variant BDL-S: price: 21.00 → 19.90", "Variant BDL-S: price: 19.90 → 21.00",
		"bob@example.com", superEmail, "create product",
	} {
		if !strings.Contains(history, want) {
			t.Errorf("history lacks %q:\n%s", want, history)
		}
	}

	// Bulk-archive three products through the confirmation page.
	step("bulk select", chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/admin/products/?q=bulk+pot"),
		chromedp.WaitVisible(chromedp.ID("product-list")),
		chromedp.Click(chromedp.CSS(`#product-list tbody tr:nth-child(1) input[name="ids"]`)),
		chromedp.Click(chromedp.CSS(`#product-list tbody tr:nth-child(2) input[name="ids"]`)),
		chromedp.Click(chromedp.CSS(`#product-list tbody tr:nth-child(3) input[name="ids"]`)),
		chromedp.SetValue(chromedp.ID("bulk-action"), "archive"),
		chromedp.Click(chromedp.CSS("#bulk .bulkbar button")),
		chromedp.WaitVisible(chromedp.ID("bulk-confirm")),
	))
	confirm, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("bulk-list")))
	step("confirmation text", err)
	if strings.Count(confirm, "active → archived") != 3 {
		t.Errorf("the confirmation does not list three changes:\n%s", confirm)
	}
	step("bulk confirm", chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("bulk-confirm-button")),
		chromedp.WaitVisible(chromedp.ID("product-list")),
	))
	step("bulk flash", waitText(ctx, ".flash", "3 products set to archived."))
	for i := range 3 {
		if st := a.loadProduct(a.productID(t, fmt.Sprintf("Bulk pot %d", i))).Status; st != catalog.StatusArchived {
			t.Errorf("Bulk pot %d is %s", i, st)
		}
	}

	// Delete, with the confirmation naming what goes with it.
	step("delete", chromedp.Do(ctx,
		chromedp.Navigate(edit),
		chromedp.Click(chromedp.CSS("a.button.danger")),
		chromedp.WaitVisible(chromedp.CSS("section.confirm")),
	))
	effects, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("section.confirm")))
	step("delete page", err)
	if !strings.Contains(effects, "2 variants: BDL-S, BDL-L") || !strings.Contains(effects, "1 image") {
		t.Errorf("the delete page does not say what goes: %s", effects)
	}
	step("confirm delete", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`section.confirm button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("product-list")),
	))
	step("delete flash", waitText(ctx, ".flash", "was deleted, with 2 variants and 1 image."))
	if _, err := a.cat.Product(context.Background(), id); err == nil {
		t.Error("the product is still there")
	}
}
