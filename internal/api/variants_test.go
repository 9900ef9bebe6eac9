package api

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/auth"
)

func TestVariants(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok, editorID := h.editor(t)
	reader := h.token(t, editorID, auth.ScopeRead)
	var p product
	h.call(t, "POST", "/api/v1/products", tok, `{"name":"Shirt","variants":[
		{"sku":"SH-S","price_cents":2000,"stock":1},{"sku":"SH-M","price_cents":2000,"stock":2},{"sku":"SH-L","price_cents":2200,"stock":3}]}`).
		want(t, 201).decode(t, &p)
	var other product
	h.call(t, "POST", "/api/v1/products", tok, `{"name":"Hat","variants":[{"sku":"HAT","price_cents":900}]}`).want(t, 201).decode(t, &other)
	base := fmt.Sprintf("/api/v1/products/%d/variants", p.ID)

	// Paging through the variants one at a time gives them in display order.
	var skus []string
	for _, v := range walk[variantBody](t, h, reader, base+"?limit=1") {
		skus = append(skus, v.SKU)
	}
	if strings.Join(skus, " ") != "SH-S SH-M SH-L" {
		t.Errorf("variants paged as %v", skus)
	}

	var added variantBody
	r := h.call(t, "POST", base, tok, `{"sku":"SH-XL","price_cents":2400,"options":{"size":"XL"}}`).want(t, 201)
	r.decode(t, &added)
	if r.header.Get("Location") != fmt.Sprintf("%s/%d", base, added.ID) || added.Position != 3 || added.Currency != "EUR" {
		t.Errorf("added %+v at %s", added, r.header.Get("Location"))
	}
	item := fmt.Sprintf("%s/%d", base, p.Variants[0].ID)
	tag := h.call(t, "GET", item, reader, "").want(t, 200).header.Get("ETag")
	tests := []struct {
		name, method, path, token, body string
		headers                         []string
		status                          int
		stock                           int32 // of the first variant afterwards
	}{
		{"read token cannot write", "PATCH", item, reader, `{"stock":5}`, nil, 403, 1},
		{"stock set", "PATCH", item, tok, `{"stock":5}`, []string{"If-Match", tag}, 200, 5},
		{"stale If-Match", "PATCH", item, tok, `{"stock":6}`, []string{"If-Match", tag}, 412, 5},
		{"stock below zero", "PATCH", item, tok, `{"stock":-1}`, nil, 422, 5},
		{"stock not a number", "PATCH", item, tok, `{"stock":"many"}`, nil, 422, 5},
		{"stock too large", "PATCH", item, tok, `{"stock":3000000000}`, nil, 422, 5},
		{"read-only product_id", "PATCH", item, tok, `{"product_id":2}`, nil, 422, 5},
		{"taken SKU", "PATCH", item, tok, `{"sku":"hat"}`, nil, 422, 5},
		{"prices cleared", "PATCH", item, tok, `{"compare_at_price_cents":null,"options":null}`, nil, 200, 5},
		{"variant of another product", "GET", fmt.Sprintf("%s/%d", base, other.Variants[0].ID), tok, "", nil, 404, 5},
		{"unknown variant", "PATCH", base + "/999999", tok, `{"stock":1}`, nil, 404, 5},
		{"unknown product", "GET", "/api/v1/products/999999/variants", tok, "", nil, 404, 5},
		{"last variant", "DELETE", fmt.Sprintf("/api/v1/products/%d/variants/%d", other.ID, other.Variants[0].ID), tok, "", nil, 422, 5},
		{"deleted", "DELETE", fmt.Sprintf("%s/%d", base, added.ID), tok, "", nil, 204, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.call(t, tt.method, tt.path, tt.token, tt.body, tt.headers...).want(t, tt.status)
			var v variantBody
			h.call(t, "GET", item, reader, "").want(t, 200).decode(t, &v)
			if v.Stock != tt.stock {
				t.Errorf("stock %d, want %d", v.Stock, tt.stock)
			}
		})
	}
	var now product
	h.call(t, "GET", fmt.Sprintf("/api/v1/products/%d", p.ID), reader, "").want(t, 200).decode(t, &now)
	if now.Stock != 5+2+3 || now.VariantCount != 3 {
		t.Errorf("product after variant writes: stock %d, %d variants; want 10 and 3", now.Stock, now.VariantCount)
	}
}

// Concurrent stock writes through the API never drive stock below zero and never
// lose one: each PATCH carries If-Match, losers get 412 and retry on fresh data.
func TestConcurrentStockWrites(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok, _ := h.editor(t)
	var p product
	h.call(t, "POST", "/api/v1/products", tok, `{"name":"Mug","variants":[{"sku":"MUG","price_cents":800,"stock":10}]}`).
		want(t, 201).decode(t, &p)
	item := fmt.Sprintf("/api/v1/products/%d/variants/%d", p.ID, p.Variants[0].ID)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for { // take one unit: read, write stock-1 with If-Match, again on 412
				var v variantBody
				r := h.call(t, "GET", item, tok, "")
				r.decode(t, &v)
				w := h.call(t, "PATCH", item, tok, fmt.Sprintf(`{"stock":%d}`, v.Stock-1), "If-Match", r.header.Get("ETag"))
				if w.status == 200 {
					return
				}
				if w.status != 412 {
					t.Errorf("PATCH: %d %s", w.status, w.body)
					return
				}
			}
		})
	}
	wg.Wait()
	var v variantBody
	h.call(t, "GET", item, tok, "").want(t, 200).decode(t, &v)
	if v.Stock != 0 || v.Version != 11 {
		t.Errorf("after 10 units taken from 10: stock %d at version %d; want 0 at 11", v.Stock, v.Version)
	}
	h.call(t, "PATCH", item, tok, `{"stock":-1}`).want(t, 422)
}
