package api

import (
	"fmt"
	"strings"
	"testing"
)

func TestCategories(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok, _ := h.editor(t)
	create := func(body string) categoryBody {
		t.Helper()
		var c categoryBody
		r := h.call(t, "POST", "/api/v1/categories", tok, body).want(t, 201)
		r.decode(t, &c)
		if r.header.Get("Location") != fmt.Sprintf("/api/v1/categories/%d", c.ID) || r.header.Get("ETag") == "" {
			t.Errorf("created %+v: Location %q, ETag %q", c, r.header.Get("Location"), r.header.Get("ETag"))
		}
		return c
	}
	home := create(`{"name":"Home"}`)
	lamps := create(fmt.Sprintf(`{"name":"Lamps","parent_id":%d,"position":2}`, home.ID))
	create(`{"name":"Garden"}`)
	if home.Slug != "home" || lamps.ParentID == nil || *lamps.ParentID != home.ID || lamps.Position != 2 {
		t.Errorf("created %+v and %+v", home, lamps)
	}

	var byName []string
	for _, c := range walk[categoryBody](t, h, tok, "/api/v1/categories?limit=2") {
		byName = append(byName, c.Name)
	}
	if strings.Join(byName, ",") != "Garden,Home,Lamps" {
		t.Errorf("categories by name: %v", byName)
	}
	var found list[categoryBody]
	h.call(t, "GET", "/api/v1/categories?q=LAMP", tok, "").want(t, 200).decode(t, &found)
	if len(found.Data) != 1 || found.Data[0].ID != lamps.ID {
		t.Errorf("q=LAMP found %+v", found.Data)
	}

	homePath := fmt.Sprintf("/api/v1/categories/%d", home.ID)
	lampsPath := fmt.Sprintf("/api/v1/categories/%d", lamps.ID)
	tag := h.call(t, "GET", homePath, tok, "").want(t, 200).header.Get("ETag")
	h.call(t, "GET", homePath, tok, "", "If-None-Match", tag).want(t, 304)
	var p product
	h.call(t, "POST", "/api/v1/products", tok, fmt.Sprintf(`{"name":"Lamp","category_id":%d,"variants":[{"sku":"L","price_cents":1}]}`, lamps.ID)).
		want(t, 201).decode(t, &p)
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		field                    string // the problem's one field error, if any
		detail                   string
	}{
		{"into itself", "PATCH", homePath, fmt.Sprintf(`{"parent_id":%d}`, home.ID), nil, 422, "parent_id", ""},
		{"below itself", "PATCH", homePath, fmt.Sprintf(`{"parent_id":%d}`, lamps.ID), nil, 422, "parent_id", ""},
		{"unknown parent", "PATCH", homePath, `{"parent_id":999}`, nil, 422, "parent_id", ""},
		{"taken slug", "PATCH", homePath, `{"slug":"lamps"}`, nil, 422, "slug", ""},
		{"null name", "PATCH", homePath, `{"name":null}`, nil, 422, "name", ""},
		{"read-only", "PATCH", homePath, `{"version":7}`, nil, 422, "version", ""},
		{"renamed", "PATCH", homePath, `{"name":"House","description":"All rooms"}`, []string{"If-Match", tag}, 200, "", ""},
		{"stale", "PATCH", homePath, `{"name":"Flat"}`, []string{"If-Match", tag}, 412, "", ""},
		{"holding a product", "DELETE", lampsPath, "", nil, 409, "", "1 product"},
		{"holding a subcategory", "DELETE", homePath, "", nil, 409, "", "1 subcategory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.call(t, tt.method, tt.path, tok, tt.body, tt.headers...).want(t, tt.status)
			if tt.status < 300 {
				return
			}
			pr := r.problem(t)
			if tt.field != "" && (len(pr.Errors) != 1 || pr.Errors[0].Field != tt.field) {
				t.Errorf("errors %+v, want one on %s", pr.Errors, tt.field)
			}
			if !strings.Contains(pr.Detail, tt.detail) {
				t.Errorf("detail %q, want it to mention %q", pr.Detail, tt.detail)
			}
		})
	}
	// The product's list item shows the category's new name; its ETag moved with it.
	var item product
	h.call(t, "PATCH", lampsPath, tok, `{"name":"Lights"}`).want(t, 200)
	h.call(t, "GET", fmt.Sprintf("/api/v1/products/%d", p.ID), tok, "").want(t, 200).decode(t, &item)
	if item.Category == nil || item.Category.Name != "Lights" {
		t.Errorf("product's category %+v, want Lights", item.Category)
	}
	h.call(t, "DELETE", fmt.Sprintf("/api/v1/products/%d", p.ID), tok, "").want(t, 204)
	h.call(t, "DELETE", lampsPath, tok, "").want(t, 204)
	h.call(t, "DELETE", homePath, tok, "").want(t, 204)
	h.call(t, "GET", homePath, tok, "").want(t, 404)
}
