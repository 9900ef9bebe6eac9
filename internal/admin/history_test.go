package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The history tab lists each change of one object: who, when, and each field
// before → after, in words (money, category names); its pages keep the way back.
func TestProductHistory(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	garden := a.category("Garden", 0)
	c := a.signedIn(superEmail)
	must(t, c.post("/admin/products/new", productValues("Vase", "sku=VASE-1,price_cents=5.00,stock=3")), http.StatusSeeOther)
	p := a.loadProduct(a.productID(t, "Vase"))
	edit := editValues(p, "Tall vase", "sku=VASE-1,price_cents=6.50,stock=3")
	edit.Set("category_id", fmt.Sprint(garden))
	must(t, c.post(fmt.Sprintf("/admin/products/%d/", p.ID), edit), http.StatusSeeOther)
	back := "/admin/products/?q=vase"
	r := c.get(fmt.Sprintf("/admin/products/%d/history?back=%s", p.ID, url.QueryEscape(back)))
	must(t, r, http.StatusOK, "<h1>Tall vase</h1>", `aria-current="page">History`,
		"<span class=\"field-name\">Name</span>: <del>Vase</del> → <ins>Tall vase</ins>",
		"<span class=\"field-name\">Category</span>: <del>(none)</del> → <ins>Garden</ins>",
		"<span class=\"field-name\">Variant VASE-1: price</span>: <del>5.00</del> → <ins>6.50</ins>",
		"<span class=\"action\">create</span> product", superEmail,
		fmt.Sprintf(`href="/admin/products/%d/?back=%s"`, p.ID, url.QueryEscape(back)))
	if strings.Index(r.body, "Tall vase</ins>") > strings.Index(r.body, "<span class=\"action\">create</span>") {
		t.Error("history is not newest first")
	}
	must(t, c.get("/admin/products/999999/history"), http.StatusNotFound)
	// Categories, users and groups have the tab too.
	must(t, c.get(fmt.Sprintf("/admin/categories/%d/history", garden)), http.StatusOK, "<span class=\"action\">create</span> category")
	must(t, c.get(fmt.Sprintf("/admin/users/%d/history", a.ids[staffEmail])), http.StatusOK, "<span class=\"action\">create</span> user")
}

// The audit log: everything newest first, filtered by who, what and when, in pages.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.user("editor@example.com", false, "products.view", "products.add", "products.change")
	ed := a.signedIn("editor@example.com")
	for i := range 55 {
		must(t, ed.post("/admin/products/new", productValues(fmt.Sprintf("Pot %02d", i), fmt.Sprintf("sku=POT-%02d,price_cents=1.00", i))), http.StatusSeeOther)
	}
	c := a.signedIn(viewEmail)
	r := c.get(fmt.Sprintf("/admin/audit/?user=%d&resource=products", a.ids["editor@example.com"]))
	must(t, r, http.StatusOK, "Pot 54", `rel="next"`)
	if strings.Contains(r.body, "Pot 04<") || strings.Contains(r.body, "sign in") {
		t.Error("the first page shows more than the 50 newest product changes")
	}
	r = c.get(extractHref(t, r.body, `rel="next"`))
	must(t, r, http.StatusOK, "Pot 04", "Pot 00", "« Newest")
	// Sign-ins are there too, by resource; a day range with no changes shows none.
	must(t, c.get("/admin/audit/?resource=sessions"), http.StatusOK, "sign in")
	must(t, c.get("/admin/audit/?since=2001-01-01&until=2001-01-31"), http.StatusOK, "No changes recorded.")
	today := time.Now().UTC().Format(time.DateOnly)
	must(t, c.get("/admin/audit/?since="+today+"&until="+today+"&resource=products"), http.StatusOK, "Pot 54")
	must(t, c.get("/admin/audit/?since=yesterday"), http.StatusOK, "is not a date like 2026-01-31")
}

// The dashboard: the product count, what is out of stock and low, recent changes;
// each part only for those who may see it.
func TestDashboard(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	p := a.product("Empty shelf", 0, "EMPTY-1")
	in := productValues("Empty shelf", "sku=EMPTY-1,price_cents=10.00,stock=0")
	c := a.signedIn(superEmail)
	must(t, c.post(fmt.Sprintf("/admin/products/%d/", p.ID), func() url.Values {
		in.Set("version", "1")
		in.Set("slug", p.Slug)
		in.Set("variants[0].id", fmt.Sprint(p.Variants[0].ID))
		return in
	}()), http.StatusSeeOther)
	a.product("Nearly gone", 0, "LOW-1")
	must(t, c.get("/admin/"), http.StatusOK, `id="dashboard"`, "2 products", `id="out-of-stock"`, "Empty shelf", "Recent changes",
		"Variant EMPTY-1: stock</span>: <del>10</del> → <ins>0</ins>")
	r := a.signedIn(staffEmail).get("/admin/")
	must(t, r, http.StatusOK, `id="dashboard"`)
	if strings.Contains(r.body, "Out of stock") || strings.Contains(r.body, "Recent changes") {
		t.Error("staff without permissions see catalog figures or the audit log")
	}
}
