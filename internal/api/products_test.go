package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/seed"
)

// catalogPerms is everything a catalog editor may do.
var catalogPerms = []string{
	"products.view", "products.add", "products.change", "products.delete",
	"categories.view", "categories.add", "categories.change", "categories.delete",
}

// editor returns a write token of a new user who may do everything in the catalog,
// and the user's id.
func (h *harness) editor(t testing.TB) (string, int64) {
	t.Helper()
	id := h.user(t, fmt.Sprintf("editor%d@example.com", h.seq.Add(1)), catalogPerms...)
	return h.token(t, id, auth.ScopeWrite), id
}

// seedProducts loads n generated products (and the default categories) into the
// harness's database.
func seedProducts(t testing.TB, h *harness, n int) {
	t.Helper()
	if _, err := seed.Run(context.Background(), h.st, seed.Options{Products: n, Categories: 10}); err != nil {
		t.Fatal(err)
	}
}

// product is a product as the API returns it.
type product struct {
	productItem
	Description string        `json:"description"`
	Variants    []variantBody `json:"variants"`
	Images      []imageBody   `json:"images"`
}

const lampBody = `{"name":"Desk lamp","description":"Brass.","status":"active","category_id":%d,
	"variants":[{"sku":"LAMP-S","title":"Small","options":{"size":"S"},"price_cents":2500,"stock":3},
	            {"sku":"LAMP-L","title":"Large","options":{"size":"L"},"price_cents":1900,"compare_at_price_cents":2900,"stock":4}]}`

func TestProductLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok, _ := h.editor(t)
	var cat categoryBody
	h.call(t, "POST", "/api/v1/categories", tok, `{"name":"Lighting"}`).want(t, 201).decode(t, &cat)

	r := h.call(t, "POST", "/api/v1/products", tok, fmt.Sprintf(lampBody, cat.ID)).want(t, 201)
	var p product
	r.decode(t, &p)
	if loc := r.header.Get("Location"); loc != fmt.Sprintf("/api/v1/products/%d", p.ID) {
		t.Errorf("Location = %q", loc)
	}
	want := productItem{
		ID: p.ID, Name: "Desk lamp", Slug: "desk-lamp", Status: "active", Category: &categoryRef{ID: cat.ID, Name: "Lighting"},
		PriceCents: 1900, Currency: "EUR", Stock: 7, SKU: "LAMP-S", VariantCount: 2, UpdatedAt: p.UpdatedAt, Version: 1,
	}
	if !sameItem(p.productItem, want) {
		t.Errorf("created %+v (category %+v)\nwant    %+v", p.productItem, p.Category, want)
	}
	if len(p.Variants) != 2 || p.Variants[1].CompareAtPriceCents == nil || *p.Variants[1].CompareAtPriceCents != 2900 ||
		p.Variants[0].Options["size"] != "S" || p.Description != "Brass." || p.Images == nil {
		t.Errorf("detail: %+v", p)
	}

	item := fmt.Sprintf("/api/v1/products/%d", p.ID)
	got := h.call(t, "GET", item, tok, "").want(t, 200)
	if got.header.Get("ETag") != r.header.Get("ETag") || string(got.body) != string(r.body) {
		t.Errorf("GET differs from the POST's answer:\n%s\n%s", got.body, r.body)
	}
	var page list[productItem]
	h.call(t, "GET", "/api/v1/products", tok, "").want(t, 200).decode(t, &page)
	if len(page.Data) != 1 || !sameItem(page.Data[0], want) {
		t.Errorf("list = %+v", page)
	}

	r = h.call(t, "PATCH", item, tok, `{"name":"Desk lamp II","category_id":null}`,
		"If-Match", got.header.Get("ETag"), "Content-Type", "application/merge-patch+json").want(t, 200)
	r.decode(t, &p)
	if p.Name != "Desk lamp II" || p.Category != nil || p.Version != 2 || p.Stock != 7 {
		t.Errorf("after PATCH: %+v", p.productItem)
	}
	h.call(t, "DELETE", item, tok, "", "If-Match", got.header.Get("ETag")).want(t, 412)
	h.call(t, "DELETE", item, tok, "", "If-Match", r.header.Get("ETag")).want(t, 204)
	h.call(t, "GET", item, tok, "").want(t, 404)
	h.call(t, "DELETE", "/api/v1/categories/"+fmt.Sprint(cat.ID), tok, "").want(t, 204)
}

// sameItem compares list items, their categories by value.
func sameItem(a, b productItem) bool {
	if (a.Category == nil) != (b.Category == nil) || a.Category != nil && *a.Category != *b.Category {
		return false
	}
	a.Category, b.Category = nil, nil
	return a == b
}

// A product's ETag moves when its stock does, though its own version does not: a
// cached copy is never called fresh after a variant changed.
func TestProductETagFollowsVariants(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok, _ := h.editor(t)
	r := h.call(t, "POST", "/api/v1/products", tok, fmt.Sprintf(strings.Replace(lampBody, `"category_id":%d,`, "%s", 1), "")).want(t, 201)
	var p product
	r.decode(t, &p)
	item := fmt.Sprintf("/api/v1/products/%d", p.ID)
	h.call(t, "GET", item, tok, "", "If-None-Match", r.header.Get("ETag")).want(t, 304)
	h.call(t, "PATCH", fmt.Sprintf("%s/variants/%d", item, p.Variants[0].ID), tok, `{"stock":9}`).want(t, 200)
	after := h.call(t, "GET", item, tok, "", "If-None-Match", r.header.Get("ETag")).want(t, 200)
	var now product
	after.decode(t, &now)
	if now.Version != p.Version || now.Stock != 13 {
		t.Errorf("after a stock change: version %d (was %d), stock %d; want the same version and 13", now.Version, p.Version, now.Stock)
	}
	// The old tag is stale for writes too.
	h.call(t, "PATCH", item, tok, `{"name":"x"}`, "If-Match", r.header.Get("ETag")).want(t, 412)
}

// Two clients read the same product and both PATCH with their If-Match: one wins,
// the other gets 412, and the row and the audit log hold exactly the winner's change.
func TestConcurrentProductPatches(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok, _ := h.editor(t)
	other, _ := h.editor(t)
	for round := range 5 {
		r := h.call(t, "POST", "/api/v1/products", tok,
			fmt.Sprintf(`{"name":"p%d","variants":[{"sku":"P-%d","price_cents":100}]}`, round, round)).want(t, 201)
		var p product
		r.decode(t, &p)
		item := fmt.Sprintf("/api/v1/products/%d", p.ID)
		tags := []string{
			h.call(t, "GET", item, tok, "").want(t, 200).header.Get("ETag"),
			h.call(t, "GET", item, other, "").want(t, 200).header.Get("ETag"),
		}
		results := make([]response, 2)
		var wg sync.WaitGroup
		for i, client := range []string{tok, other} {
			wg.Go(func() {
				results[i] = h.call(t, "PATCH", item, client, fmt.Sprintf(`{"description":"client %d"}`, i), "If-Match", tags[i])
			})
		}
		wg.Wait()
		winner := -1
		for i, res := range results {
			switch {
			case res.status == 200 && winner == -1:
				winner = i
			case res.status != 412:
				t.Fatalf("round %d client %d: %d %s", round, i, res.status, res.body)
			}
		}
		var now product
		h.call(t, "GET", item, tok, "").want(t, 200).decode(t, &now)
		var updates int
		err := h.st.Pool().QueryRow(context.Background(),
			`SELECT count(*) FROM audit_log WHERE resource = 'products' AND object_id = $1 AND action = 'update'`, p.ID).Scan(&updates)
		if err != nil {
			t.Fatal(err)
		}
		if winner < 0 || now.Description != fmt.Sprintf("client %d", winner) || now.Version != 2 || updates != 1 {
			t.Fatalf("round %d: winner %d, stored %q at version %d, %d audit rows; want one winner, its change, one row",
				round, winner, now.Description, now.Version, updates)
		}
	}
}

// The same POST sent 20 times at once with one Idempotency-Key creates one product;
// every answer is that 201 or a 409 while it was in flight.
func TestProductCreateIdempotentUnderConcurrency(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok, _ := h.editor(t)
	body := `{"name":"Once","variants":[{"sku":"ONCE-1","price_cents":100}]}`
	concurrentCreate(t, 20, func() response {
		return h.call(t, "POST", "/api/v1/products", tok, body, "Idempotency-Key", "create-once")
	})
	var n int
	if err := h.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM products`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d products stored, want exactly one", n)
	}
	h.call(t, "POST", "/api/v1/products", tok, body, "Idempotency-Key", "create-once").want(t, 201)
}

// Walking 1,000 products seven at a time while others are added yields every product
// that was there before the walk exactly once, in every ordering.
func TestWalkProductsWhileInserting(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok, userID := h.editor(t)
	seedProducts(t, h, 1000)
	var before []int64
	rows, err := h.st.Pool().Query(context.Background(), `SELECT id FROM products`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		before = append(before, id)
	}
	if rows.Err() != nil || len(before) != 1000 {
		t.Fatalf("%d products seeded: %v", len(before), rows.Err())
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		actor := audit.Actor{UserID: userID, Label: "walk test"}
		for i := range 400 { // bounded, so an id-ordered walk could catch up
			select {
			case <-stop:
				return
			default:
			}
			// Names and prices that sort all over the list.
			_, err := h.catalog.CreateProduct(context.Background(), actor, catalog.ProductInput{
				Name: fmt.Sprintf("%c inserted %d", 'A'+i%26, i), Status: catalog.StatusActive,
				Variants: []catalog.VariantInput{{SKU: fmt.Sprintf("INS-%d", i), PriceCents: int64(i * 997 % 20000), Stock: int64(i % 50)}},
			})
			if err != nil {
				t.Error(err)
				return
			}
		}
	})
	for _, ordering := range []string{"name", "-updated_at", "price", "-stock"} {
		var seen []int64
		for _, p := range walk[productItem](t, h, tok, "/api/v1/products?limit=7&ordering="+ordering) {
			seen = append(seen, p.ID)
		}
		onceEach(t, ordering, seen, before)
	}
	close(stop)
	wg.Wait()
}

func TestProductListFilters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok, _ := h.editor(t)
	seedProducts(t, h, 300)
	ctx := context.Background()
	// What each filter should find, asked of the database directly.
	count := func(where string, args ...any) int {
		var n int
		if err := h.st.Pool().QueryRow(ctx, `SELECT count(*) FROM products p WHERE `+where, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var catID int64
	var sku, since string
	if err := h.st.Pool().QueryRow(ctx, `SELECT category_id FROM products WHERE category_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`).Scan(&catID); err != nil {
		t.Fatal(err)
	}
	if err := h.st.Pool().QueryRow(ctx, `SELECT sku FROM product_variants ORDER BY id DESC LIMIT 1`).Scan(&sku); err != nil {
		t.Fatal(err)
	}
	if err := h.st.Pool().QueryRow(ctx, `SELECT to_char(percentile_disc(0.5) WITHIN GROUP (ORDER BY updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM products`).Scan(&since); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query string
		want  int
	}{
		{"status=active", count(`status = 'active'`)},
		{"category=" + fmt.Sprint(catID), count(`category_id IN (WITH RECURSIVE d AS (SELECT id FROM categories WHERE id = $1 UNION ALL SELECT c.id FROM categories c JOIN d ON c.parent_id = d.id) SELECT id FROM d)`, catID)},
		{"stock=out", count(`stock_total = 0`)},
		{"updated_since=" + url.QueryEscape(since), count(`updated_at >= $1::timestamptz`, since)},
		{"sku=" + sku, 1},
		{"sku=" + strings.ToLower(sku), 1},
		{"sku=" + sku[:len(sku)-1], 0}, // a prefix of a SKU is not that SKU
		{"status=draft&sku=" + sku, count(`status = 'draft' AND skus ILIKE '%' || $1 || '%'`, sku)},
		{"q=" + url.QueryEscape(sku), count(`skus ILIKE '%' || $1 || '%'`, sku)},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if seen := len(walk[productItem](t, h, tok, "/api/v1/products?limit=200&"+tt.query)); seen != tt.want {
				t.Errorf("%d products, want %d", seen, tt.want)
			}
		})
	}
	bad := []struct{ query, field string }{
		{"category=lamps", "category"},
		{"updated_since=yesterday", "updated_since"},
		{"status=sold", "status"},
		{"stock=some", "stock"},
		{"q=x&sku=y", "sku"},
		{"ordering=colour", "ordering"},
		{"q=" + strings.Repeat("x", 201), "q"},
	}
	for _, tt := range bad {
		p := h.call(t, "GET", "/api/v1/products?"+tt.query, tok, "").want(t, 400).problem(t)
		if len(p.Errors) != 1 || p.Errors[0].Field != tt.field {
			t.Errorf("%s: errors %+v, want one on %s", tt.query, p.Errors, tt.field)
		}
	}
	// A cursor of one ordering or filter set is refused with another.
	var page list[productItem]
	h.call(t, "GET", "/api/v1/products?limit=5&status=active", tok, "").want(t, 200).decode(t, &page)
	h.call(t, "GET", "/api/v1/products?limit=5&status=draft&cursor="+url.QueryEscape(*page.NextCursor), tok, "").want(t, 400)
	h.call(t, "GET", "/api/v1/products?limit=5&status=active&ordering=-name&cursor="+url.QueryEscape(*page.NextCursor), tok, "").want(t, 400)
	h.call(t, "GET", "/api/v1/categories?cursor="+url.QueryEscape(*page.NextCursor), tok, "").want(t, 400)
}

func TestProductBodyErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok, _ := h.editor(t)
	var p product
	h.call(t, "POST", "/api/v1/products", tok, `{"name":"Lamp","variants":[{"sku":"L-1","price_cents":100}]}`).want(t, 201).decode(t, &p)
	item := fmt.Sprintf("/api/v1/products/%d", p.ID)
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		fields                   []string
	}{
		{"2 MiB", "POST", "/api/v1/products", `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, nil, 413, nil},
		{"text/plain", "POST", "/api/v1/products", `{"name":"x"}`, []string{"Content-Type", "text/plain"}, 415, nil},
		{"truncated", "POST", "/api/v1/products", `{"name":`, nil, 400, nil},
		{"no variants", "POST", "/api/v1/products", `{"name":"x"}`, nil, 422, []string{"variants"}},
		{"variant without price", "POST", "/api/v1/products", `{"name":"x","variants":[{"sku":"X"}]}`, nil, 422, []string{"variants[0].price_cents"}},
		{"variant's unknown field", "POST", "/api/v1/products", `{"name":"x","variants":[{"sku":"X","price_cents":1,"colour":"red"}]}`, nil, 422, []string{"colour"}},
		{"taken SKU", "POST", "/api/v1/products", `{"name":"x","variants":[{"sku":"l-1","price_cents":1}]}`, nil, 422, []string{"variants[0].sku"}},
		{"negative stock", "POST", "/api/v1/products", `{"name":"x","variants":[{"sku":"X","price_cents":1,"stock":-1}]}`, nil, 422, []string{"variants[0].stock"}},
		{"unknown category", "POST", "/api/v1/products", `{"name":"x","category_id":999,"variants":[{"sku":"X","price_cents":1}]}`, nil, 422, []string{"category_id"}},
		{"read-only on create", "POST", "/api/v1/products", `{"name":"x","stock":5,"variants":[{"sku":"X","price_cents":1}]}`, nil, 422, []string{"stock"}},
		{"patch id", "PATCH", item, `{"id":5}`, nil, 422, []string{"id"}},
		{"patch read-only fields", "PATCH", item, `{"version":3,"stock_total":9,"price_cents":1,"variants":[]}`, nil, 422, []string{"price_cents", "stock_total", "variants", "version"}},
		{"patch null name", "PATCH", item, `{"name":null}`, nil, 422, []string{"name"}},
		{"patch bad status", "PATCH", item, `{"status":"sold"}`, nil, 422, []string{"status"}},
		{"patch wrong type", "PATCH", item, `{"name":7}`, nil, 422, []string{"name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr := h.call(t, tt.method, tt.path, tok, tt.body, tt.headers...).want(t, tt.status).problem(t)
			var fields []string
			for _, e := range pr.Errors {
				fields = append(fields, e.Field)
			}
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("errors on %v, want %v (%+v)", fields, tt.fields, pr.Errors)
			}
		})
	}
	var now product
	h.call(t, "GET", item, tok, "").want(t, 200).decode(t, &now)
	if now.Version != 1 || now.Name != "Lamp" {
		t.Errorf("after refused writes: %+v", now.productItem)
	}
}

// Every API write lands in the audit log in its transaction, with the token as the
// actor.
func TestWritesAreAuditedWithTheToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	userID := h.user(t, "ada@example.com", catalogPerms...)
	secret, tok, err := auth.NewTokens(h.st).Create(context.Background(), nil, userID, "erp sync", auth.ScopeWrite, nil)
	if err != nil {
		t.Fatal(err)
	}
	var p product
	h.call(t, "POST", "/api/v1/products", secret, `{"name":"Lamp","variants":[{"sku":"L-1","price_cents":100}]}`).want(t, 201).decode(t, &p)
	item := fmt.Sprintf("/api/v1/products/%d", p.ID)
	h.call(t, "PATCH", item, secret, `{"status":"active"}`).want(t, 200)
	h.call(t, "PATCH", fmt.Sprintf("%s/variants/%d", item, p.Variants[0].ID), secret, `{"stock":12}`).want(t, 200)
	h.call(t, "POST", item+"/variants", secret, `{"sku":"L-2","price_cents":150}`).want(t, 201)
	h.call(t, "DELETE", item, secret, "").want(t, 204)
	rows, err := h.st.Pool().Query(context.Background(), `SELECT action, actor_user_id, actor_token_id, actor_label, changes::text
		FROM audit_log WHERE resource = 'products' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var actions []string
	for rows.Next() {
		var action, label, changes string
		var user, token *int64
		if err := rows.Scan(&action, &user, &token, &label, &changes); err != nil {
			t.Fatal(err)
		}
		actions = append(actions, action)
		if user == nil || *user != userID || token == nil || *token != tok.ID || label != "ada@example.com (token erp sync)" {
			t.Errorf("%s row: user %v, token %v, label %q; want %d, %d, the email and token name", action, user, token, label, userID, tok.ID)
		}
		if action == "update" && !strings.Contains(changes, "status") && !strings.Contains(changes, "stock") && !strings.Contains(changes, "L-2") {
			t.Errorf("update row without the changed field: %s", changes)
		}
	}
	if want := []string{"create", "update", "update", "update", "delete"}; !slices.Equal(actions, want) {
		t.Errorf("audit actions %v, want %v", actions, want)
	}
}

// GET /api/v1/products and /api/v1/products/{id} run a fixed number of statements,
// token lookup included, whatever the page size.
func TestProductQueryBudget(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok, _ := h.editor(t)
	seedProducts(t, h, 300)
	h.call(t, "GET", "/api/v1/me", tok, "").want(t, 200) // the first use writes last_used_at
	tests := []struct {
		path string
		want int
	}{
		{"/api/v1/products?limit=1", 2},   // token, page
		{"/api/v1/products?limit=50", 2},  // token, page
		{"/api/v1/products?limit=200", 2}, // token, page
		{"/api/v1/products/7", 2},         // token, product with its variants and images
		{"/api/v1/products/8", 2},
		{"/api/v1/products/7/variants?limit=1", 2},
		{"/api/v1/categories?limit=1", 2},
		{"/api/v1/categories?limit=200", 2},
	}
	for _, tt := range tests {
		h.counter.Reset()
		h.call(t, "GET", tt.path, tok, "").want(t, 200)
		if got := h.counter.Count(); got != tt.want {
			t.Errorf("GET %s: %d statements, want %d:\n%s", tt.path, got, tt.want, h.counter.Statements())
		}
	}
}

// A variant's stock PATCH (the bench's S3) runs a fixed list of statements: the
// token, the variant the patch applies to, and one transaction that locks the
// product and writes the variant at the version read (one statement), refreshes
// the product's summary and records the audit row with its event. The NOTIFY after the commit is
// not counted (see dbtest.Counter): store's announce tests bound it.
func TestVariantPatchQueryBudget(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok, _ := h.editor(t)
	seedProducts(t, h, 10)
	var p product
	h.call(t, "GET", "/api/v1/products/3", tok, "").want(t, 200).decode(t, &p)
	item := fmt.Sprintf("/api/v1/products/%d/variants/%d", p.ID, p.Variants[0].ID)
	h.call(t, "PATCH", item, tok, `{"stock":9}`).want(t, 200) // the first use writes last_used_at
	h.counter.Reset()
	h.call(t, "PATCH", item, tok, `{"stock":10}`).want(t, 200)
	// token, variant, begin, product lock with the variant's write, summary, audit + event, commit
	if got := h.counter.Count(); got != 7 {
		t.Errorf("PATCH %s: %d statements, want 7:\n%s", item, got, h.counter.Statements())
	}
}

// benchmarkRequest measures one request through the whole stack (middleware, token
// lookup, handler, database), without the network, on 1,000 seeded products.
// request returns the i-th request's method, path and JSON body ("" for none); the
// harness's logger writes the access log, as `stockroom serve` at level info does.
func benchmarkRequest(b *testing.B, request func(h *harness, i int) (method, path, body string)) {
	h := newHarness(b)
	tok, _ := h.editor(b)
	seedProducts(b, h, 1000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		method, path, body := request(h, i)
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s %s: status %d: %s", method, path, rec.Code, rec.Body)
		}
		h.logs.Reset() // the access log would grow with b.N
		i++
	}
}

// benchmarkGET is benchmarkRequest for GETs of path(i).
func benchmarkGET(b *testing.B, path func(i int) string) {
	benchmarkRequest(b, func(_ *harness, i int) (string, string, string) { return "GET", path(i), "" })
}

// BenchmarkListProducts is the bench's S1.
func BenchmarkListProducts(b *testing.B) {
	benchmarkGET(b, func(int) string { return "/api/v1/products?limit=50" })
}

// BenchmarkGetProduct is the bench's S2.
func BenchmarkGetProduct(b *testing.B) {
	benchmarkGET(b, func(i int) string { return fmt.Sprintf("/api/v1/products/%d", 1+i*7919%1000) })
}

// BenchmarkUpdateVariantStock is the bench's S3: a product's first variant gets a
// new stock level, with the audit row and the product's summary.
func BenchmarkUpdateVariantStock(b *testing.B) {
	var variants [][2]int64 // product id, its first variant's id
	benchmarkRequest(b, func(h *harness, i int) (string, string, string) {
		if variants == nil {
			rows, err := h.st.Pool().Query(context.Background(),
				"SELECT DISTINCT ON (product_id) product_id, id FROM product_variants ORDER BY product_id, position")
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
				var pv [2]int64
				if err := rows.Scan(&pv[0], &pv[1]); err != nil {
					b.Fatal(err)
				}
				variants = append(variants, pv)
			}
			if err := rows.Err(); err != nil || len(variants) == 0 {
				b.Fatalf("no variants (%v)", err)
			}
		}
		pv := variants[i*7919%len(variants)]
		return "PATCH", fmt.Sprintf("/api/v1/products/%d/variants/%d", pv[0], pv[1]), fmt.Sprintf(`{"stock": %d}`, 1+i%1000)
	})
}

// BenchmarkSearchProducts is the bench's S4: one word of the generated names.
func BenchmarkSearchProducts(b *testing.B) {
	words := seed.SearchWords()
	benchmarkGET(b, func(i int) string { return "/api/v1/products?limit=50&q=" + words[i%len(words)] })
}

// BenchmarkEncodeProductList measures what S1 spends on JSON alone: 50 list rows
// turned into list items and written as the response, no database.
func BenchmarkEncodeProductList(b *testing.B) {
	s := &Server{currency: "EUR"}
	cat := int64(7)
	rows := make([]db.ProductListing, 50)
	for i := range rows {
		rows[i] = db.ProductListing{
			ID: int64(1000 + i), Name: "Rustic Oak Chair", Slug: fmt.Sprintf("rustic-oak-chair-%d", 1000+i), Status: "active",
			CategoryID: &cat, CategoryName: "Furniture Essentials", PriceMinCents: 12900, StockTotal: 42, VariantCount: 2,
			FirstSku: fmt.Sprintf("SR-%07d-1", 1000+i), UpdatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Version: 1,
		}
	}
	next := "eyJvIjoibmFtZSIsImYiOiJhYmMiLCJrIjoieHl6IiwiaSI6MH0"
	b.ReportAllocs()
	for b.Loop() {
		out := list[productItem]{Data: make([]productItem, len(rows)), NextCursor: &next, HasMore: true}
		for i, row := range rows {
			out.Data[i] = s.itemOf(row)
		}
		if err := writeJSON(httptest.NewRecorder(), http.StatusOK, out); err != nil {
			b.Fatal(err)
		}
	}
}
