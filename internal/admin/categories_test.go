package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func categoryValues(version int32, name, parent string) url.Values {
	v := url.Values{"name": {name}, "parent_id": {parent}, "position": {"0"}}
	if version > 0 {
		v.Set("version", fmt.Sprint(version))
	}
	return v
}

// The category list shows where each category sits, and searches names.
func TestCategoryList(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	home := a.category("Home", 0)
	lighting := a.category("Lighting", home)
	a.category("Lamps", lighting)
	a.category("Garden", 0)
	c := a.signedIn(viewEmail)
	r := c.get("/admin/categories/")
	must(t, r, http.StatusOK, "4 categories", "<td>Home › Lighting</td>", "(top level)")
	r = c.get("/admin/categories/?q=LAMP")
	must(t, r, http.StatusOK, "1 category", ">Lamps</a>")
	if strings.Contains(r.body, ">Garden</a>") {
		t.Error("the search shows a category that does not match")
	}
	if strings.Contains(r.body, `href="/admin/categories/new"`) {
		t.Error("a viewer is offered Add category")
	}
}

// Acceptance 2's cycle row, and the rest of the category form's refusals: 422,
// the message on its field, nothing written. The parent picker does not even
// offer the category itself or anything below it.
func TestCategoryFormRefusesBadInput(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	home := a.category("Home", 0)
	lighting := a.category("Lighting", home)
	lamps := a.category("Lamps", lighting)
	garden := a.category("Garden", 0)
	c := a.signedIn(superEmail)
	r := c.get(fmt.Sprintf("/admin/categories/%d/", home))
	must(t, r, http.StatusOK, fmt.Sprintf(`<option value="%d">`, garden))
	for _, id := range []int64{home, lighting, lamps} {
		if strings.Contains(r.body, fmt.Sprintf(`<option value="%d"`, id)) {
			t.Errorf("the parent picker of Home offers category %d, which is Home or below it", id)
		}
	}
	before := a.counts()
	path := fmt.Sprintf("/admin/categories/%d/", home)
	tests := []struct {
		name, path string
		form       url.Values
		field      string
		want       string
	}{
		{"its own grandparent", path, categoryValues(1, "Home", fmt.Sprint(lamps)), "parent_id", "cannot be inside itself or one of its subcategories"},
		{"its own parent", path, categoryValues(1, "Home", fmt.Sprint(home)), "parent_id", "cannot be inside itself"},
		{"empty name", path, categoryValues(1, " ", ""), "name", "is required"},
		{"unknown parent", "/admin/categories/new", categoryValues(0, "Pots", "999999"), "parent_id", "does not exist"},
		{"slug taken", "/admin/categories/new", func() url.Values {
			v := categoryValues(0, "Pots", "")
			v.Set("slug", "garden")
			return v
		}(), "slug", "is already used"},
		{"position not a number", "/admin/categories/new", func() url.Values {
			v := categoryValues(0, "Pots", "")
			v.Set("position", "first")
			return v
		}(), "position", "is not a whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.post(tt.path, tt.form)
			must(t, r, http.StatusUnprocessableEntity, tt.want, fmt.Sprintf(`id="%s-error"`, tt.field))
			if got := a.counts(); got != before {
				t.Errorf("rows after a refused save: %s, want %s", got, before)
			}
		})
	}
	// Moving under another branch is fine.
	must(t, c.post(fmt.Sprintf("/admin/categories/%d/", lamps), categoryValues(1, "Lamps", fmt.Sprint(garden))), http.StatusSeeOther)
	must(t, c.get("/admin/categories/"), http.StatusOK, "Category “Lamps” was saved.", "<td>Garden</td>")
}

// A stale save shows both values and keeps what was typed; a category in use is
// not deleted, and the page says why.
func TestCategoryConflictAndDelete(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	home := a.category("Home", 0)
	lighting := a.category("Lighting", home)
	a.product("Lamp", lighting, "LAMP-1")
	c := a.signedIn(superEmail)
	path := fmt.Sprintf("/admin/categories/%d/", home)
	must(t, c.post(path, categoryValues(1, "Home & Living", "")), http.StatusSeeOther)
	r := c.post(path, categoryValues(1, "House", ""))
	must(t, r, http.StatusConflict, "Someone else saved this category", "<th scope=\"row\">Name</th><td>Home &amp; Living</td><td>House</td>",
		`value="House"`, `name="version" value="2"`)

	del := fmt.Sprintf("/admin/categories/%d/delete", lighting)
	r = c.get(del)
	must(t, r, http.StatusOK, "This category still has 1 product: move them to another category first.")
	if strings.Contains(r.body, "Yes, delete") {
		t.Error("the delete page offers to delete a category in use")
	}
	before := a.counts()
	must(t, c.post(del, url.Values{"version": {"1"}}), http.StatusConflict, "This category still has 1 product")
	must(t, c.post(fmt.Sprintf("/admin/categories/%d/delete", home), url.Values{"version": {"2"}}), http.StatusConflict, "1 subcategory")
	if a.counts() != before {
		t.Error("a refused delete wrote something")
	}
	empty := a.category("Empty", 0)
	must(t, c.post(fmt.Sprintf("/admin/categories/%d/delete", empty), url.Values{"version": {"1"}}), http.StatusSeeOther)
	must(t, c.get("/admin/categories/"), http.StatusOK, "Category “Empty” was deleted.")
}
