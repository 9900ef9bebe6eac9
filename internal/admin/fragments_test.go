package admin

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/catalog"
)

// The product list's kept rows and frame are never stale: after each change to
// what a row shows (its name and status, a variant's stock, its price, its
// category's name, a deletion), the page shows the change, and every page, whoever
// views it (each with their own top bar), is byte for byte the page rendered with
// nothing kept.
func TestProductRowsNeverStale(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	ctx := context.Background()
	home := a.category("Home", 0)
	lamp := a.product("Brass desk lamp", home, "LAMP-1")
	a.product("Oak chair", home, "CHAIR-1", "CHAIR-2")
	super, viewer := a.signedIn(superEmail), a.signedIn(viewEmail) // viewer may only look

	// page is the list as c sees it (rows kept by earlier pages), checked against
	// the same list rendered with no row kept.
	page := func(c *client, path string) string {
		t.Helper()
		r := c.get(path)
		must(t, r, http.StatusOK)
		a.admin.productRows.reset()
		a.admin.kept.reset()
		fresh := c.get(path)
		if r.body != fresh.body {
			t.Fatalf("%s: the page with kept rows differs from the page rendered afresh:\n%s\n----\n%s", path, r.body, fresh.body)
		}
		return r.body
	}
	row := func(body string, id int64) string {
		t.Helper()
		i := strings.Index(body, fmt.Sprintf(`<tr id="product-%d"`, id))
		if i < 0 {
			return ""
		}
		return body[i : i+strings.Index(body[i:], "</tr>")]
	}
	expect := func(step string, id int64, want ...string) {
		t.Helper()
		for _, c := range []*client{super, viewer} {
			for _, path := range []string{"/admin/products/", "/admin/products/?sort=-name"} {
				r := row(page(c, path), id)
				for _, w := range want {
					if !strings.Contains(r, w) {
						t.Errorf("%s: %s: row %d lacks %q:\n%s", step, path, id, w, r)
					}
				}
			}
		}
	}
	expect("created", lamp.ID, ">Brass desk lamp</a>", ">Home</td>", `<td class="num">10</td>`, ">active</span>", "10.00")
	if a.admin.productRows.len() == 0 {
		t.Fatal("no row kept: the test tests nothing")
	}

	// A variant's stock, alone, through the stock adjustment.
	if _, err := a.cat.AdjustStock(ctx, fixture, lamp.Variants[0].ID, -7, "test"); err != nil {
		t.Fatal(err)
	}
	expect("stock adjusted", lamp.ID, `<td class="num stock-low">3</td>`)
	if _, err := a.cat.AdjustStock(ctx, fixture, lamp.Variants[0].ID, -3, "test"); err != nil {
		t.Fatal(err)
	}
	expect("sold out", lamp.ID, `<td class="num stock-out">0</td>`)

	// The product's name, status and price through its form.
	p, err := a.cat.Product(ctx, lamp.ID)
	if err != nil {
		t.Fatal(err)
	}
	v := editValues(p, `Brass lamp <b>`, "sku=LAMP-1,price_cents=12.50,stock=4")
	v.Set("status", catalog.StatusDraft)
	v.Set("category_id", fmt.Sprint(home))
	must(t, super.post(fmt.Sprintf("/admin/products/%d/", lamp.ID), v), http.StatusSeeOther)
	must(t, super.get("/admin/products/"), http.StatusOK, "was saved") // the flash, once
	expect("edited", lamp.ID, ">Brass lamp &lt;b&gt;</a>", ">draft</span>", "12.50", `<td class="num stock-low">4</td>`)

	// The category's name, which changes no product row in the database.
	cat, err := a.cat.Category(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.cat.UpdateCategory(ctx, fixture, home, cat.Version, catalog.CategoryInput{Name: "House & garden"}); err != nil {
		t.Fatal(err)
	}
	expect("category renamed", lamp.ID, ">House &amp; garden</td>")

	// Deleted: gone from the list.
	if _, err := a.cat.DeleteProducts(ctx, fixture, []int64{lamp.ID}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{super, viewer} {
		if r := row(page(c, "/admin/products/"), lamp.ID); r != "" {
			t.Errorf("deleted product still listed: %s", r)
		}
	}
}

// Kept rows are bounded (two generations of size), and a row that aged out is
// rendered again, the same.
func TestFragmentsBounded(t *testing.T) {
	tmpl := template.Must(template.New("t").Parse(`{{define "row"}}<td title="{{.}}">{{.}}</td>{{end}}`))
	f := newFragments[string](tmpl, "row", 3)
	keys := []string{"a", `<b>`, "c", `"d"`, "e", "f", "g"}
	first, err := f.render(keys)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.len(); n > 6 {
		t.Errorf("%d rows kept, want at most 6", n)
	}
	if want := template.HTML(`<td title="&lt;b&gt;">&lt;b&gt;</td>`); first[1] != want {
		t.Errorf("row = %s, want %s", first[1], want)
	}
	again, err := f.render(keys)
	if err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		if first[i] != again[i] {
			t.Errorf("%q: %s, then %s", keys[i], first[i], again[i])
		}
	}
	if n := f.len(); n > 6 {
		t.Errorf("%d rows kept, want at most 6", n)
	}
}

// A list joined again with equal keys is the kept one, rendered not even piece by
// piece; one changed key makes it the list rendered afresh; the kept lists are
// bounded.
func TestFragmentsJoin(t *testing.T) {
	renders := 0
	tmpl := template.Must(template.New("t").Funcs(template.FuncMap{"count": func() string { renders++; return "" }}).
		Parse(`{{define "row"}}{{count}}<tr><td>{{.}}</td></tr>{{end}}`))
	f := newFragments[string](tmpl, "row", 100)
	fresh := func(keys []string) template.HTML {
		t.Helper()
		var b strings.Builder
		for _, k := range keys {
			if err := tmpl.ExecuteTemplate(&b, "row", k); err != nil {
				t.Fatal(err)
			}
		}
		return template.HTML(b.String())
	}
	join := func(keys ...string) (template.HTML, int) {
		t.Helper()
		before := renders
		h, err := f.join(keys)
		if err != nil {
			t.Fatal(err)
		}
		if want := fresh(keys); h != want {
			t.Errorf("join(%q) = %s, want %s", keys, h, want)
		}
		return h, renders - before - len(keys) // less fresh's own renders
	}
	if h, n := join(); h != "" || n != 0 {
		t.Errorf("no keys: %q, %d renders", h, n)
	}
	if _, n := join("a", "<b>", "c"); n != 3 {
		t.Errorf("first join: %d renders, want 3", n)
	}
	if _, n := join("a", "<b>", "c"); n != 0 {
		t.Errorf("the same list again: %d renders, want 0", n)
	}
	if _, n := join("a", "<b>", "d"); n != 1 {
		t.Errorf("one key changed: %d renders, want 1 (the others are kept pieces)", n)
	}
	if _, n := join("a", "<b>"); n != 0 {
		t.Errorf("a shorter list of kept pieces: %d renders, want 0", n)
	}
	for i := range 3 * pagesKept {
		join(fmt.Sprint(i), "x")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := f.pages.Len(); n > 2*pagesKept {
		t.Errorf("%d lists kept, want at most %d", n, 2*pagesKept)
	}
}
