package api

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/events"
	"github.com/stockroom-dev/stockroom/internal/orders"
)

// Every operation of openapi.json, sent as a client generated from the document
// would send it (every body property filled, oneOf honoured, values from the
// document's examples, formats and bounds), succeeds. The path ids name the test's
// fixture rows (1, and 2 for a DELETE, so what it deletes can go). A rule the
// server enforces that the document does not state fails here.
func TestRequestsFromTheDocument(t *testing.T) {
	doc, err := contractDoc()
	if err != nil {
		t.Fatal(err)
	}
	type op struct {
		method, path string
		o            *openapi3.Operation
	}
	var ops []op
	for _, path := range slices.Sorted(maps.Keys(doc.Paths.Map())) {
		if strings.Contains(path, "widget") {
			continue
		}
		for method, o := range doc.Paths.Value(path).Operations() {
			ops = append(ops, op{method, path, o})
		}
	}
	if len(ops) < 40 {
		t.Fatalf("%d operations in openapi.json: the walk lost some", len(ops))
	}
	for _, op := range ops {
		t.Run(op.method+" "+op.path, func(t *testing.T) {
			if op.path == "/api/v1/events" {
				streamFromTheDocument(t)
				return
			}
			h := newHarness(t)
			tok := h.clerk(t, slices.Concat(orderPerms, catalogPerms, webhookPerms)...)
			h.fixtures(t, tok)
			// Rows 1 are read and referred to; rows 2 are changed and deleted, so a
			// change can point at row 1 (a category's parent). Product n has
			// variants 2n-1 and 2n; a DELETE takes the second, so one stays.
			id, vid := 1, 1
			if op.method == "PATCH" || op.method == "DELETE" {
				id, vid = 2, 3
			}
			if op.method == "DELETE" {
				vid = 4
			}
			path := strings.NewReplacer("{id}", fmt.Sprint(id), "{vid}", fmt.Sprint(vid), "{did}", "1").Replace(op.path)
			var body string
			var headers []string
			if op.o.RequestBody != nil {
				g := &generator{t: t}
				if mt := op.o.RequestBody.Value.Content.Get("application/json"); mt != nil {
					b, err := json.Marshal(g.value(mt.Schema, "body"))
					if err != nil {
						t.Fatal(err)
					}
					body = string(b)
				} else if mt := op.o.RequestBody.Value.Content.Get("text/csv"); mt != nil {
					body, _ = g.value(mt.Schema, "body").(string)
					headers = []string{"Content-Type", "text/csv"}
				} else {
					t.Fatalf("no application/json or text/csv body")
				}
			}
			r := h.call(t, op.method, path, tok, body, headers...)
			if r.status < 200 || r.status > 299 {
				t.Errorf("%s %s %s: status %d, want 2xx; body %s", op.method, path, body, r.status, r.body)
			}
		})
	}
}

// fixtures makes rows 1 and 2 of every resource the operations name: categories,
// products (active, two variants each: 1-2 and 3-4), customers, order 1 of
// customer 1, pending, webhook endpoints 1 and 2 with delivery 1 (endpoint 1's
// test event), and import 1, a planned dry run. Customer 2, category 2, product 2
// and endpoint 2 have nothing that keeps them from being deleted.
func (h *harness) fixtures(t *testing.T, tok string) {
	t.Helper()
	ctx := context.Background()
	for i := 1; i <= 2; i++ {
		c, err := h.catalog.CreateCategory(ctx, audit.System, catalog.CategoryInput{Name: fmt.Sprintf("Fixture %d", i)})
		if err != nil || c.ID != int64(i) {
			t.Fatalf("category %d: id %d, %v", i, c.ID, err)
		}
		p, err := h.catalog.CreateProduct(ctx, audit.System, catalog.ProductInput{
			Name: fmt.Sprintf("Fixture %d", i), Status: catalog.StatusActive, Variants: []catalog.VariantInput{
				{SKU: fmt.Sprintf("FIX-%d-A", i), PriceCents: 1000, Stock: 100},
				{SKU: fmt.Sprintf("FIX-%d-B", i), PriceCents: 2000, Stock: 100},
			}})
		if err != nil || p.ID != int64(i) {
			t.Fatalf("product %d: %v", i, err)
		}
		cu, err := h.orders.CreateCustomer(ctx, audit.System, orders.CustomerInput{Email: fmt.Sprintf("fixture%d@example.test", i)})
		if err != nil || cu.ID != int64(i) {
			t.Fatalf("customer %d: id %d, %v", i, cu.ID, err)
		}
	}
	if o := h.place(t, tok, `{"customer_id":1,"lines":[{"variant_id":1,"quantity":1}]}`); o.ID != 1 {
		t.Fatalf("order id %d, want 1", o.ID)
	}
	for i := 1; i <= 2; i++ {
		var w webhookBody
		h.call(t, "POST", "/api/v1/webhooks", tok, `{"url":"https://198.51.100.7/hooks","event_types":["*"]}`).want(t, 201).decode(t, &w)
		if w.ID != int64(i) {
			t.Fatalf("webhook id %d, want %d", w.ID, i)
		}
	}
	h.call(t, "POST", "/api/v1/webhooks/1/test", tok, "").want(t, 202)
	var imp importJSON
	h.call(t, "POST", "/api/v1/imports", tok, "sku,stock\nFIX-1-A,9\n", "Content-Type", "text/csv").want(t, 202).decode(t, &imp)
	if imp.ID != 1 {
		t.Fatalf("import id %d, want 1", imp.ID)
	}
	h.run(t, imp.ID)
}

// streamFromTheDocument opens the event stream as the document describes it
// (no parameter is required) and expects 200 text/event-stream; a short deadline
// ends it.
func streamFromTheDocument(t *testing.T) {
	l := newLive(t, events.Options{})
	tok := l.clerk(t, orderPerms...)
	resp, cancel := l.request(t, tok, "")
	defer cancel()
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Errorf("GET /api/v1/events: status %d, content type %q, want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// generator makes a value a schema allows, as a client generator would: examples
// first, then enums, formats and bounds; objects with every property, except one
// that only a oneOf branch not taken requires.
type generator struct{ t *testing.T }

func (g *generator) value(ref *openapi3.SchemaRef, at string) any {
	s := ref.Value
	switch {
	case s.Example != nil:
		return s.Example
	case len(s.Examples) > 0:
		return s.Examples[0]
	case len(s.Enum) > 0:
		for _, e := range s.Enum {
			if e != "" && e != nil {
				return e
			}
		}
	case s.Type == nil && len(s.OneOf) > 0:
		return g.value(s.OneOf[0], at)
	case s.Type == nil && len(s.AnyOf) > 0:
		for _, b := range s.AnyOf {
			if b.Value.Type == nil || !b.Value.Type.Is("null") {
				return g.value(b, at)
			}
		}
	}
	typ := ""
	if s.Type != nil {
		for _, ty := range s.Type.Slice() {
			if ty != "null" {
				typ = ty
				break
			}
		}
	}
	switch typ {
	case "object":
		others := map[string]bool{} // required only by a oneOf branch not taken
		for i, b := range s.OneOf {
			if i > 0 {
				for _, r := range b.Value.Required {
					others[r] = true
				}
			}
		}
		if len(s.OneOf) > 0 {
			for _, r := range s.OneOf[0].Value.Required {
				delete(others, r)
			}
		}
		m := map[string]any{}
		for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
			p := s.Properties[name]
			if others[name] || p.Value.ReadOnly {
				continue
			}
			m[name] = g.value(p, at+"."+name)
		}
		if ap := s.AdditionalProperties.Schema; ap != nil && len(s.Properties) == 0 {
			m["size"] = g.value(ap, at+".size")
		}
		return m
	case "array":
		return []any{g.value(s.Items, at+"[0]")}
	case "integer", "number":
		n := 1.0
		if s.Min != nil {
			n = max(n, *s.Min)
		}
		return n
	case "boolean":
		return true
	case "string":
		switch s.Format {
		case "email":
			return "client@example.com"
		case "date-time":
			return "2026-01-31T00:00:00Z"
		}
		if s.Pattern != "" {
			g.t.Errorf("%s: a pattern without an example: a generator cannot make a value", at)
		}
		return strings.Repeat("x", max(int(s.MinLength), 4))
	}
	g.t.Errorf("%s: no type, example or enum to make a value from", at)
	return nil
}
