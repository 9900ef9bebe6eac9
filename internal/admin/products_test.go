package admin

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/catalog"
)

// productValues is a posted product form: the product's fields, then one row per
// variant given as "sku=..,price_cents=..,stock=.." (any row field by name).
func productValues(name string, rows ...string) url.Values {
	v := url.Values{"name": {name}, "status": {"active"}, "rows": {fmt.Sprint(len(rows))}}
	for i, row := range rows {
		for kv := range strings.SplitSeq(row, ",") {
			k, val, _ := strings.Cut(kv, "=")
			v.Set(fmt.Sprintf("variants[%d].%s", i, k), val)
		}
	}
	return v
}

// editValues is productValues for an edit of p: its version, and its variants'
// ids and versions on the rows, in order.
func editValues(p *catalog.Product, name string, rows ...string) url.Values {
	v := productValues(name, rows...)
	v.Set("version", fmt.Sprint(p.Version))
	v.Set("slug", p.Slug)
	for i, pv := range p.Variants {
		if i < len(rows) {
			v.Set(fmt.Sprintf("variants[%d].id", i), fmt.Sprint(pv.ID))
			v.Set(fmt.Sprintf("variants[%d].version", i), fmt.Sprint(pv.Version))
		}
	}
	return v
}

// rowsOf is the product list's rows as "name" in order, read from the page.
func rowsOf(t *testing.T, body string) []string {
	t.Helper()
	i := strings.Index(body, `id="product-list"`)
	if i < 0 {
		t.Fatalf("no product list in:\n%.2000s", body)
	}
	table := body[i : strings.Index(body[i:], "</table>")+i]
	var names []string
	for _, part := range strings.Split(table, `<td class="name"><a href="`)[1:] {
		start := strings.Index(part, ">") + 1
		names = append(names, html.UnescapeString(part[start:strings.Index(part, "</a>")]))
	}
	return names
}

// The list: search by name and by SKU, the category filter with its
// subcategories, status and stock filters, sorting, and keyset pages forwards,
// backwards and to the last one, each link keeping the rest of the query.
func TestProductList(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	home := a.category("Home", 0)
	lighting := a.category("Lighting", home)
	lamps := a.category("Lamps", lighting)
	garden := a.category("Garden", 0)
	a.product("Brass desk lamp", lamps, "LAMP-1")
	a.product("Floor uplighter", lighting, "LIGHT-1", "LIGHT-2")
	a.product("Garden hose", garden, "HOSE-1")
	for i := range 28 {
		a.product(fmt.Sprintf("Tea towel %02d", i), home, fmt.Sprintf("TOWEL-%02d", i))
	}
	ctx := context.Background()
	hose := a.product("Hose reel", garden, "REEL-1")
	if _, err := a.cat.SetStatus(ctx, fixture, []int64{hose.ID}, catalog.StatusArchived); err != nil {
		t.Fatal(err)
	}
	c := a.signedIn(viewEmail)

	tests := []struct {
		name, query string
		want        []string
		count       string
	}{
		{"search a name, any case", "q=LAMP", []string{"Brass desk lamp"}, "1 product"},
		{"search a SKU", "q=light-2", []string{"Floor uplighter"}, "1 product"},
		{"category with its subcategories", fmt.Sprintf("category=%d", lighting), []string{"Brass desk lamp", "Floor uplighter"}, "2 products"},
		{"category and search", fmt.Sprintf("category=%d&q=floor", lighting), []string{"Floor uplighter"}, "1 product"},
		{"status", "status=archived", []string{"Hose reel"}, "1 product"},
		{"sort by name descending", fmt.Sprintf("category=%d&sort=-name", garden), []string{"Hose reel", "Garden hose"}, "2 products"},
		{"nothing matches", "q=%25", nil, "0 products"},
		{"unknown filter value ignored", "status=deleted&q=hose", []string{"Garden hose", "Hose reel"}, "2 products"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.get("/admin/products/?" + tt.query)
			must(t, r, http.StatusOK, tt.count)
			if got := rowsOf(t, r.body); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("rows %q, want %q", got, tt.want)
			}
		})
	}

	// Stock: out, low and in, against the low-stock threshold of 5.
	towel := a.loadProduct(a.product("Stock probe", 0, "PROBE-1").ID)
	for _, stock := range []struct {
		stock int
		query string
	}{{0, "out"}, {3, "low"}} {
		in := catalog.InputOf(towel)
		in.Variants[0].Stock = int64(stock.stock)
		p, err := a.cat.UpdateProduct(ctx, fixture, towel.ID, towel.Version, in)
		if err != nil {
			t.Fatal(err)
		}
		towel = p
		r := c.get("/admin/products/?stock=" + stock.query)
		if got := rowsOf(t, r.body); len(got) != 1 || got[0] != "Stock probe" {
			t.Errorf("stock=%s with stock %d: rows %q", stock.query, stock.stock, got)
		}
	}

	// Pages of 25 by price (all 10.00, so ids break the ties), forwards and back.
	r := c.get("/admin/products/?size=25&sort=-price")
	must(t, r, http.StatusOK, "33 products", `rel="next"`, "Last »")
	first := rowsOf(t, r.body)
	next := extractHref(t, r.body, `rel="next"`)
	for _, keep := range []string{"size=25", "sort=-price", "cursor="} {
		if !strings.Contains(next, keep) {
			t.Errorf("next link %q lost %s", next, keep)
		}
	}
	r = c.get(next)
	second := rowsOf(t, r.body)
	if len(first) != 25 || len(second) != 8 {
		t.Fatalf("pages of %d and %d rows, want 25 and 8", len(first), len(second))
	}
	r = c.get(extractHref(t, r.body, `rel="prev"`))
	if back := rowsOf(t, r.body); strings.Join(back, "|") != strings.Join(first, "|") {
		t.Errorf("back to the first page: %q, want %q", back, first)
	}
	// The last page is the last 25 rows: it ends where the second page ends.
	last := c.get("/admin/products/?size=25&sort=-price&last=1")
	got := rowsOf(t, last.body)
	if len(got) != 25 || got[24] != second[7] || got[0] != first[8] || strings.Contains(last.body, `rel="next"`) {
		t.Errorf("last page %q; want the 25 rows ending with %q and no next page", got, second[7])
	}
	// An old or forged cursor is the first page, not an error.
	must(t, c.get("/admin/products/?cursor=bm9wZQ"), http.StatusOK, "33 products")
}

// Acceptance 2's `<script>` row: stored as typed, shown escaped in the list and
// the form, never run.
func TestProductNameEscaped(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.signedIn(superEmail)
	const name = `<script>alert("x")</script>`
	r := c.post("/admin/products/new", productValues(name, "sku=XSS-1,price_cents=1.00,stock=1"))
	must(t, r, http.StatusSeeOther)
	for _, path := range []string{"/admin/products/", "/admin/products/?q=script"} {
		r := c.get(path)
		must(t, r, http.StatusOK, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;")
		if strings.Contains(r.body, "<script>alert") {
			t.Errorf("%s shows the name unescaped", path)
		}
	}
	r = c.get(fmt.Sprintf("/admin/products/%d/", a.productID(t, name)))
	must(t, r, http.StatusOK, `value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"`)
	if strings.Contains(r.body, "<script>alert") {
		t.Error("the form shows the name unescaped")
	}
}

// Acceptance 2: bad input is refused with a message on its field, the form again
// (422) with what was typed, and nothing written.
func TestProductFormRefusesBadInput(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.product("Taken", 0, "TAKEN-1")
	c := a.signedIn(superEmail)
	before := a.counts()
	tests := []struct {
		name  string
		form  url.Values
		field string // the id the message belongs to
		want  string
		kept  string
	}{
		{"empty name", productValues("", "sku=A-1,price_cents=1.00,stock=1"), "name", "is required", `value="A-1"`},
		{"negative price", productValues("Lamp", "sku=A-1,price_cents=-1.00,stock=1"), "v0-price_cents", "must be zero or more", `value="-1.00"`},
		{"price not an amount", productValues("Lamp", "sku=A-1,price_cents=ten,stock=1"), "v0-price_cents", "is not an amount like 12.50", `value="ten"`},
		{"duplicate SKU", productValues("Lamp", "sku=taken-1,price_cents=1.00,stock=1"), "v0-sku", "is already used", `value="taken-1"`},
		{"duplicate SKU in the form", productValues("Lamp", "sku=B-1,price_cents=1.00", "sku=b-1,price_cents=2.00"), "v1-sku", "is used twice in this product", `value="b-1"`},
		{"stock -1", productValues("Lamp", "sku=A-1,price_cents=1.00,stock=-1"), "v0-stock", "must be zero or more", `value="-1"`},
		{"stock not a number", productValues("Lamp", "sku=A-1,price_cents=1.00,stock=lots"), "v0-stock", "is not a whole number", `value="lots"`},
		{"no variant", productValues("Lamp"), "variants", "a product needs at least one variant", `value="Lamp"`},
		{"options not name: value", productValues("Lamp", "sku=A-1,price_cents=1.00,options=red"), "v0-options", "write options as name: value", `value="red"`},
		{"bad slug", func() url.Values {
			v := productValues("Lamp", "sku=A-1,price_cents=1.00")
			v.Set("slug", "Not A Slug")
			return v
		}(), "slug", "must be lowercase letters", `value="Not A Slug"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.post("/admin/products/new", tt.form)
			must(t, r, http.StatusUnprocessableEntity, "Not saved: please correct the fields marked below.", tt.want,
				fmt.Sprintf(`id="%s-error"`, tt.field), tt.kept)
			if got := a.counts(); got != before {
				t.Errorf("rows after a refused save: %s, want %s", got, before)
			}
		})
	}
}

// The same checks on an edit: field errors on the right row, nothing written.
func TestProductEditRefusesBadInput(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.product("Taken", 0, "TAKEN-1")
	p := a.product("Lamp", 0, "LAMP-1", "LAMP-2")
	c := a.signedIn(superEmail)
	before := a.counts()
	path := fmt.Sprintf("/admin/products/%d/", p.ID)
	r := c.post(path, editValues(p, "Lamp", "sku=LAMP-1,price_cents=1.00,stock=1", "sku=LAMP-2,price_cents=1.00,stock=-1"))
	must(t, r, http.StatusUnprocessableEntity, `id="v1-stock-error"`, "must be zero or more")
	r = c.post(path, editValues(p, "Lamp", "sku=LAMP-1,price_cents=1.00,stock=1", "sku=taken-1,price_cents=1.00,stock=1"))
	must(t, r, http.StatusUnprocessableEntity, `id="v1-sku-error"`, "is already used", `value="taken-1"`)
	if strings.Contains(r.body, `id="v0-sku-error"`) {
		t.Error("the first row got the second row's error")
	}
	// With the first row removed, the catalog's error on its input 0 is the form's row 1.
	r = c.post(path, editValues(p, "Lamp", "sku=LAMP-1,price_cents=1.00,stock=1,remove=on", "sku=taken-1,price_cents=1.00,stock=1"))
	must(t, r, http.StatusUnprocessableEntity, `id="v1-sku-error"`, "is already used")
	if got := a.counts(); got != before {
		t.Errorf("rows after a refused edit: %s, want %s", got, before)
	}
}

// Add a product with two variants through the form, edit it, add a row with the
// "Add variant" button (nothing saved), remove a row: each save returns where the
// buttons say, and the list is restored as it was left.
func TestProductFormFlow(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cat := a.category("Lighting", 0)
	c := a.signedIn(superEmail)
	list := fmt.Sprintf("/admin/products/?category=%d&q=lamp&size=25&sort=-price", cat)
	add := extractHref(t, c.get(list).body, "Add product")
	must(t, c.get(add), http.StatusOK, `name="back" value="`+html.EscapeString(list)+`"`)

	form := productValues("Desk lamp", "sku=DL-S,title=Small,options=size: S,price_cents=19.90,stock=4",
		"sku=DL-L,title=Large,options=size: L,price_cents=24.50,compare_at_price_cents=29.00,cost_cents=9.99,stock=2")
	form.Set("category_id", fmt.Sprint(cat))
	form.Set("back", list)
	form.Set("_continue", "1")
	r := c.post("/admin/products/new", form)
	must(t, r, http.StatusSeeOther)
	edit := r.header.Get("Location")
	if !strings.Contains(edit, "?back="+url.QueryEscape(list)) {
		t.Errorf("save and continue went to %q, want the form with the way back", edit)
	}
	r = c.get(edit)
	must(t, r, http.StatusOK, "Product “Desk lamp” was added.", `value="DL-S"`, `value="24.50"`, `value="29.00"`,
		`value="size: L"`, `value="9.99"`, fmt.Sprintf(`<option value="%d" selected>`, cat), `href="`+html.EscapeString(list)+`">Cancel`)
	p := a.loadProduct(a.productID(t, "Desk lamp"))
	if len(p.Variants) != 2 || p.Variants[1].PriceCents != 2450 || *p.Variants[1].CompareAtPriceCents != 2900 || p.StockTotal != 6 {
		t.Fatalf("stored: %+v", p.Variants)
	}

	// Add variant: the form again with a third, empty row; nothing saved.
	more := editValues(p, "Desk lamp", "sku=DL-S,price_cents=19.90,stock=4", "sku=DL-L,price_cents=24.50,stock=2")
	more.Set("add_variant", "1")
	r = c.post(fmt.Sprintf("/admin/products/%d/", p.ID), more)
	must(t, r, http.StatusOK, `name="rows" value="3"`, `id="v2-sku"`)
	if a.loadProduct(p.ID).Version != p.Version {
		t.Error("Add variant saved the product")
	}

	// Save: a new third variant, the first removed, back to the list as left.
	save := editValues(p, "Desk lamp", "sku=DL-S,price_cents=19.90,stock=4,remove=on", "sku=DL-L,price_cents=24.50,stock=2",
		"sku=DL-XL,price_cents=30.00,stock=1", "")
	save.Set("category_id", fmt.Sprint(cat))
	save.Set("back", list)
	r = c.post(fmt.Sprintf("/admin/products/%d/", p.ID), save)
	must(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != list {
		t.Errorf("save went to %q, want the list as left: %q", loc, list)
	}
	got := a.loadProduct(p.ID)
	var skus []string
	for _, v := range got.Variants {
		skus = append(skus, v.Sku)
	}
	if strings.Join(skus, ",") != "DL-L,DL-XL" {
		t.Errorf("variants after save: %v, want DL-L,DL-XL", skus)
	}

	// Save and add another: a new form, the way back kept. A back that is not the
	// product list is ignored.
	save = editValues(got, "Desk lamp", "sku=DL-L,price_cents=24.50,stock=2", "sku=DL-XL,price_cents=30.00,stock=1")
	save.Set("back", "https://evil.example/admin/products/")
	save.Set("_addanother", "1")
	r = c.post(fmt.Sprintf("/admin/products/%d/", p.ID), save)
	must(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/admin/products/new" {
		t.Errorf("save and add another went to %q", loc)
	}
}

// productID finds a product by its exact name.
func (a *testApp) productID(t *testing.T, name string) int64 {
	t.Helper()
	var id int64
	if err := a.st.Pool().QueryRow(context.Background(), "SELECT id FROM products WHERE name = $1", name).Scan(&id); err != nil {
		t.Fatalf("product %q: %v", name, err)
	}
	return id
}

// Two editors open the same product; the second save shows what the first
// stored beside what the second typed, keeps the typed values with the new
// version, and saving that applies them. Nothing is lost either way.
func TestProductConflict(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	p := a.product("Lamp", 0, "LAMP-1")
	a.user("editor@example.com", false, "products.view", "products.change")
	ann, bob := a.signedIn(superEmail), a.signedIn("editor@example.com")
	path := fmt.Sprintf("/admin/products/%d/", p.ID)
	must(t, ann.post(path, editValues(p, "Lamp by Ann", "sku=LAMP-1,price_cents=12.00,stock=10")), http.StatusSeeOther)
	r := bob.post(path, editValues(p, "Lamp by Bob", "sku=LAMP-1,price_cents=10.00,stock=7"))
	must(t, r, http.StatusConflict, "Someone else saved this product while you were editing",
		"<th scope=\"row\">Name</th><td>Lamp by Ann</td><td>Lamp by Bob</td>",
		"<th scope=\"row\">Variant LAMP-1: price</th><td>12.00</td><td>10.00</td>",
		"<th scope=\"row\">Variant LAMP-1: stock</th><td>10</td><td>7</td>",
		`value="Lamp by Bob"`, `name="version" value="2"`)
	if got := a.loadProduct(p.ID); got.Name != "Lamp by Ann" || got.PriceMinCents != 1200 {
		t.Fatalf("the stale save changed the product: %q %d", got.Name, got.PriceMinCents)
	}
	// Re-apply: the form as the conflict page drew it.
	cur := a.loadProduct(p.ID)
	r = bob.post(path, editValues(cur, "Lamp by Bob", "sku=LAMP-1,price_cents=10.00,stock=7"))
	must(t, r, http.StatusSeeOther)
	if got := a.loadProduct(p.ID); got.Name != "Lamp by Bob" || got.PriceMinCents != 1000 || got.StockTotal != 7 {
		t.Errorf("after re-applying: %q %d %d", got.Name, got.PriceMinCents, got.StockTotal)
	}
}

// Bulk actions: the confirmation page lists each product and its change and writes
// nothing; confirmed, one transaction changes them all, with an audit row each,
// and the list comes back as it was.
func TestBulkActions(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	garden := a.category("Garden", 0)
	var ids []string
	for i := range 3 {
		ids = append(ids, fmt.Sprint(a.product(fmt.Sprintf("Pot %d", i), 0, fmt.Sprintf("POT-%d", i)).ID))
	}
	keep := a.product("Other", 0, "OTHER-1")
	c := a.signedIn(superEmail)
	back := "/admin/products/?q=pot&sort=-name"
	form := url.Values{"action": {"archive"}, "ids": ids, "back": {back}}
	before := a.counts()
	r := c.post("/admin/products/actions", form)
	must(t, r, http.StatusOK, "Archive 3 products?", "Pot 0", "Pot 2", "active → archived", "Yes, archive 3 products")
	if a.counts() != before {
		t.Fatal("the confirmation page wrote something")
	}
	form.Set("confirm", "1")
	r = c.post("/admin/products/actions", form)
	must(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != back {
		t.Errorf("went to %q, want %q", loc, back)
	}
	must(t, c.get(back), http.StatusOK, "3 products set to archived.")
	rows := a.auditRows()
	n := 0
	for _, row := range rows {
		if strings.HasPrefix(row, "products update") && strings.Contains(row, "status active→archived") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d audit rows for the archive, want 3:\n%s", n, strings.Join(rows, "\n"))
	}
	if a.loadProduct(keep.ID).Status != catalog.StatusActive {
		t.Error("an unselected product changed")
	}

	// Move: the category is chosen on the confirmation page.
	move := url.Values{"action": {"move"}, "ids": ids[:2], "back": {back}}
	must(t, c.post("/admin/products/actions", move), http.StatusOK, "Move 2 products?", `<select id="category" name="category">`)
	move.Set("category", fmt.Sprint(garden))
	move.Set("confirm", "1")
	must(t, c.post("/admin/products/actions", move), http.StatusSeeOther)
	must(t, c.get(fmt.Sprintf("/admin/products/?category=%d", garden)), http.StatusOK, "2 products")
	move.Set("category", "999999")
	must(t, c.post("/admin/products/actions", move), http.StatusUnprocessableEntity, "The category does not exist.")

	// Delete, with what went.
	del := url.Values{"action": {"delete"}, "ids": ids, "back": {back}}
	must(t, c.post("/admin/products/actions", del), http.StatusOK, "Delete 3 products?", "deleted, with 1 variant")
	del.Set("confirm", "1")
	must(t, c.post("/admin/products/actions", del), http.StatusSeeOther)
	must(t, c.get(back), http.StatusOK, "3 products deleted, with 3 variants and 0 images.", "0 products")

	// Nothing selected, or no action: back to the list with a word.
	must(t, c.post("/admin/products/actions", url.Values{"action": {"archive"}, "back": {back}}), http.StatusSeeOther)
	must(t, c.get(back), http.StatusOK, "Select one or more products first.")
}

// Bulk delete needs products.delete, not just the route's products.change.
func TestBulkDeleteNeedsDeletePermission(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	p := a.product("Pot", 0, "POT-1")
	a.user("changer@example.com", false, "products.view", "products.change")
	c := a.signedIn("changer@example.com")
	r := c.post("/admin/products/actions", url.Values{"action": {"delete"}, "ids": {fmt.Sprint(p.ID)}, "confirm": {"1"}})
	must(t, r, http.StatusForbidden)
	if strings.Contains(c.get("/admin/products/").body, `value="delete"`) {
		t.Error("the list offers bulk delete to someone who may not delete")
	}
	a.loadProduct(p.ID)
}

// Acceptance 6 at the admin's level: a form save, a bulk action and a delete each
// leave their audit rows, by the signed-in user.
func TestProductWritesAudited(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.signedIn(superEmail)
	before := len(a.auditRows())
	must(t, c.post("/admin/products/new", productValues("Vase", "sku=VASE-1,price_cents=5.00,stock=3")), http.StatusSeeOther)
	p := a.loadProduct(a.productID(t, "Vase"))
	must(t, c.post(fmt.Sprintf("/admin/products/%d/", p.ID), editValues(p, "Tall vase", "sku=VASE-1,price_cents=6.50,stock=3")), http.StatusSeeOther)
	must(t, c.post("/admin/products/actions", url.Values{"action": {"archive"}, "ids": {fmt.Sprint(p.ID)}, "confirm": {"1"}}), http.StatusSeeOther)
	p = a.loadProduct(p.ID)
	must(t, c.post(fmt.Sprintf("/admin/products/%d/delete", p.ID), url.Values{"version": {fmt.Sprint(p.Version)}}), http.StatusSeeOther)
	rows := a.auditRows()[before:]
	wants := []string{
		fmt.Sprintf("products create %d %s: ", p.ID, superEmail),
		fmt.Sprintf("products update %d %s: name Vase→Tall vase; variants[VASE-1].price_cents 500→650", p.ID, superEmail),
		fmt.Sprintf("products update %d %s: status active→archived", p.ID, superEmail),
		fmt.Sprintf("products delete %d %s: ", p.ID, superEmail),
	}
	if len(rows) != len(wants) {
		t.Fatalf("audit rows:\n%s\nwant %d", strings.Join(rows, "\n"), len(wants))
	}
	for i, w := range wants {
		if !strings.HasPrefix(rows[i], w) {
			t.Errorf("audit row %d = %q, want it to start %q", i, rows[i], w)
		}
	}
}

// Deleting one product: the confirmation names its variants and images, and the
// delete is version-checked.
func TestDeleteProduct(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	p := a.product("Lamp", 0, "LAMP-1", "LAMP-2")
	a.image(p.ID, colorRed)
	c := a.signedIn(superEmail)
	path := fmt.Sprintf("/admin/products/%d/delete", p.ID)
	back := "/admin/products/?q=lamp"
	must(t, c.get(path+"?back="+url.QueryEscape(back)), http.StatusOK, "Delete product “Lamp”?", "2 variants: LAMP-1, LAMP-2",
		"1 image", `name="version" value="1"`)
	stale := c.post(path, url.Values{"version": {"7"}, "back": {back}})
	must(t, stale, http.StatusConflict, "This product changed after you opened this page")
	r := c.post(path, url.Values{"version": {"1"}, "back": {back}})
	must(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != back {
		t.Errorf("after delete at %q, want %q", loc, back)
	}
	must(t, c.get(back), http.StatusOK, "Product “Lamp” was deleted, with 2 variants and 1 image.")
	must(t, c.get(fmt.Sprintf("/admin/products/%d/", p.ID)), http.StatusNotFound)
}
