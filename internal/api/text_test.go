package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/webhooks"
)

// textField is one string a request can carry, found in openapi.json.
type textField struct {
	method, path string // the operation, as documented
	param        string // a query parameter's name; "" for a body member
	member       []any  // a body member's path: names and array indexes
}

func (f textField) name() string {
	if f.param != "" {
		return f.param
	}
	var b strings.Builder
	for _, m := range f.member {
		switch m := m.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", m)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(m)
		}
	}
	return b.String()
}

// body is the smallest JSON body that puts v at the member's path.
func (f textField) body(v string) string {
	var val any = v
	for i := len(f.member) - 1; i >= 0; i-- {
		switch m := f.member[i].(type) {
		case int:
			val = []any{val}
		case string:
			val = map[string]any{m: val}
		}
	}
	b, _ := json.Marshal(val)
	return string(b)
}

// textFields lists every query parameter of every operation and every string
// member (nested ones included, at any depth) of every request body in doc.
func textFields(doc *openapi3.T) []textField {
	var out []textField
	for path, item := range doc.Paths.Map() {
		if strings.Contains(path, "widgets") {
			continue // the test-only routes
		}
		for method, op := range item.Operations() {
			for _, p := range append(item.Parameters, op.Parameters...) {
				if p.Value.In == openapi3.ParameterInQuery {
					out = append(out, textField{method: method, path: path, param: p.Value.Name})
				}
			}
			if op.RequestBody == nil {
				continue
			}
			if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil {
				for _, m := range stringMembers(mt.Schema, nil, 0) {
					out = append(out, textField{method: method, path: path, member: m})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b textField) int {
		return strings.Compare(a.method+a.path+a.param+a.name(), b.method+b.path+b.param+b.name())
	})
	return out
}

// stringMembers returns the paths of the string members of schema.
func stringMembers(ref *openapi3.SchemaRef, prefix []any, depth int) [][]any {
	if ref == nil || ref.Value == nil || depth > 8 {
		return nil
	}
	s := ref.Value
	var out [][]any
	for _, sub := range slices.Concat(s.OneOf, s.AnyOf, s.AllOf) {
		out = append(out, stringMembers(sub, prefix, depth+1)...)
	}
	switch {
	case s.Type.Is("string") || s.Type.Includes("string"):
		out = append(out, prefix)
	case s.Type.Includes("array"):
		out = append(out, stringMembers(s.Items, append(slices.Clip(prefix), 0), depth+1)...)
	case s.Type.Includes("object") || len(s.Properties) > 0:
		for name, p := range s.Properties {
			out = append(out, stringMembers(p, append(slices.Clip(prefix), name), depth+1)...)
		}
		if ap := s.AdditionalProperties.Schema; ap != nil {
			out = append(out, stringMembers(ap, append(slices.Clip(prefix), "key"), depth+1)...)
		}
	}
	// dedupe: a oneOf's branches may share members
	slices.SortFunc(out, func(a, b []any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return slices.CompactFunc(out, func(a, b []any) bool { return fmt.Sprint(a) == fmt.Sprint(b) })
}

// writes sums what any write leaves behind: audit rows (every write has one), rows
// and versions of the tables the API changes.
func (h *harness) writes(t *testing.T) string {
	t.Helper()
	var s string
	err := h.st.Pool().QueryRow(context.Background(), `SELECT concat_ws(' ',
		(SELECT count(*) FROM audit_log), (SELECT count(*) FROM events),
		(SELECT count(*) || '/' || coalesce(sum(version), 0) FROM products),
		(SELECT count(*) || '/' || coalesce(sum(version), 0) FROM product_variants),
		(SELECT count(*) || '/' || coalesce(sum(version), 0) FROM categories),
		(SELECT count(*) || '/' || coalesce(sum(version), 0) FROM customers),
		(SELECT count(*) || '/' || coalesce(sum(version), 0) FROM orders))`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Every string a client can send (each query parameter of every operation, each
// string member of every request body, found in openapi.json rather than listed
// here) is refused with a clear 400 (parameter) or 422 (member) naming it when it
// holds a NUL or bytes that are not UTF-8, PostgreSQL's two refusals, and nothing
// is written: never a 500.
func TestTextPostgreSQLRefuses(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	tok := h.clerk(t, append(append(slices.Clone(orderPerms), catalogPerms...),
		"webhooks.view", "webhooks.add", "webhooks.change", "webhooks.delete")...)
	cat, err := h.catalog.CreateCategory(ctx, audit.System, catalog.CategoryInput{Name: "Lamps"})
	if err != nil {
		t.Fatal(err)
	}
	v := h.variant(t, "LAMP-1", 2500, 10)
	cust, err := h.orders.CreateCustomer(ctx, audit.System, orders.CustomerInput{Email: "ada@example.com", Name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	o := h.place(t, tok, fmt.Sprintf(`{"customer_id":%d,"lines":[{"variant_id":%d,"quantity":1}]}`, cust.ID, v.ID))
	hook, err := h.api.webhooks.CreateEndpoint(ctx, audit.System, webhooks.EndpointInput{
		URL: "https://198.51.100.7/hooks", EventTypes: []string{"*"}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	ids := strings.NewReplacer("{vid}", fmt.Sprint(v.ID))
	idOf := map[string]int64{"products": v.ProductID, "categories": cat.ID, "customers": cust.ID, "orders": o.ID,
		"webhooks": hook.ID}

	doc, err := contractDoc()
	if err != nil {
		t.Fatal(err)
	}
	fields := textFields(doc)
	var listed []string
	for _, f := range fields {
		listed = append(listed, f.method+" "+f.path+" "+f.name())
	}
	// The walk must reach nested members and every list's search: a walk that
	// finds nothing proves nothing.
	for _, want := range []string{
		"GET /api/v1/products q", "GET /api/v1/products sku", "GET /api/v1/categories q",
		"GET /api/v1/orders q", "GET /api/v1/customers q",
		"POST /api/v1/products name", "POST /api/v1/products description", "POST /api/v1/products variants[0].title",
		"POST /api/v1/products variants[0].options.key", "PATCH /api/v1/categories/{id} name",
		"POST /api/v1/orders customer.name", "POST /api/v1/orders shipping_address.line1", "POST /api/v1/orders note",
		"PATCH /api/v1/customers/{id} notes",
		"POST /api/v1/webhooks url", "PATCH /api/v1/webhooks/{id} event_types[0]",
	} {
		if !slices.Contains(listed, want) {
			t.Errorf("openapi.json walk misses %q; found:\n%s", want, strings.Join(listed, "\n"))
		}
	}
	before := h.writes(t)
	for _, f := range fields {
		path := ids.Replace(f.path)
		for res, id := range idOf {
			path = strings.Replace(path, "/"+res+"/{id}", fmt.Sprintf("/%s/%d", res, id), 1)
		}
		for _, bad := range []struct{ name, text, want string }{
			{"NUL", "a\x00b", "NUL"},
			{"not UTF-8", "a\xffb", "UTF-8"},
		} {
			if f.param == "" && bad.name == "not UTF-8" {
				continue // JSON decodes such bytes as U+FFFD, which is storable
			}
			t.Run(f.method+" "+f.path+" "+f.name()+" "+bad.name, func(t *testing.T) {
				var r response
				wantStatus := 422
				if f.param != "" {
					wantStatus = 400
					r = h.call(t, f.method, path+"?"+url.Values{f.param: {bad.text}}.Encode(), tok, "")
				} else {
					r = h.call(t, f.method, path, tok, f.body(bad.text))
				}
				if r.status != wantStatus {
					t.Fatalf("status %d, want %d; body %s", r.status, wantStatus, r.body)
				}
				if msg := r.problem(t).fields()[f.name()]; !strings.Contains(msg, bad.want) {
					t.Errorf("errors[%s] = %q, want a message about %s; body %s", f.name(), msg, bad.want, r.body)
				}
			})
		}
	}
	if after := h.writes(t); after != before {
		t.Errorf("writes before %s, after %s: a refused request wrote", before, after)
	}
}

// A 100 KB query string and a 100 KB header on /api/v1/products are answered with
// problem+json, as openapi.json documents (the contract client checks it).
func TestOversizeRequestsOnTheAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok, _ := h.editor(t)
	long := strings.Repeat("a", 100_000)
	for _, tt := range []struct {
		name   string
		r      response
		status int
	}{
		{"query", h.call(t, "GET", "/api/v1/products?q="+long, tok, ""), 414},
		{"header", h.call(t, "GET", "/api/v1/products", tok, "", "X-Filler", long), 431},
	} {
		if tt.r.status != tt.status || tt.r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: status %d %q, want %d problem+json", tt.name, tt.r.status, tt.r.header.Get("Content-Type"), tt.status)
		}
		if p := tt.r.problem(t); p.Status != tt.status || !strings.Contains(p.Detail, "at most") {
			t.Errorf("%s: problem %+v", tt.name, p)
		}
	}
}
