package api

import (
	"fmt"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/auth"
)

// TestWritePreconditionsAcrossResources: every resource with a version follows the
// one rule of etag.go (loadForWrite, conditionalVersion, retryStale). With If-Match,
// a tag that is not the current one is a 412 and changes nothing, the current one
// writes; without If-Match, the last write wins. Each row runs the same steps.
func TestWritePreconditionsAcrossResources(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	uid := h.user(t, "super@example.com")
	h.exec(t, `UPDATE users SET is_superuser = true WHERE id = $1`, uid)
	tok := h.token(t, uid, auth.ScopeWrite)
	created := func(path, body string) (string, string) { // the item's path and ETag
		t.Helper()
		var v struct{ ID int64 }
		r := h.call(t, "POST", path, tok, body).want(t, 201)
		r.decode(t, &v)
		return fmt.Sprintf("%s/%d", path, v.ID), r.header.Get("ETag")
	}
	tests := []struct {
		name string
		// make creates the resource and returns its path and ETag.
		make func(i int) (string, string)
		// write is one change of the resource, as method, path suffix and body; each
		// call changes something, so that the tag moves.
		method, suffix string
		body           func(i int) string
		deletes        bool // DELETE is a write of it too
	}{
		{"category", func(i int) (string, string) {
			return created("/api/v1/categories", fmt.Sprintf(`{"name":"Cat %d"}`, i))
		}, "PATCH", "", func(i int) string { return fmt.Sprintf(`{"description":"d%d"}`, i) }, true},
		{"product", func(i int) (string, string) {
			return created("/api/v1/products", fmt.Sprintf(`{"name":"Prod %d","variants":[{"sku":"PRE-%d","price_cents":100}]}`, i, i))
		}, "PATCH", "", func(i int) string { return fmt.Sprintf(`{"description":"d%d"}`, i) }, true},
		{"variant", func(i int) (string, string) {
			v := h.variant(t, fmt.Sprintf("KEEP-%d", i), 100, 1)
			return created(fmt.Sprintf("/api/v1/products/%d/variants", v.ProductID), fmt.Sprintf(`{"sku":"VAR-%d","price_cents":100}`, i))
		}, "PATCH", "", func(i int) string { return fmt.Sprintf(`{"title":"t%d"}`, i) }, true},
		{"customer", func(i int) (string, string) {
			return created("/api/v1/customers", fmt.Sprintf(`{"email":"pre%d@example.com"}`, i))
		}, "PATCH", "", func(i int) string { return fmt.Sprintf(`{"notes":"n%d"}`, i) }, true},
		{"webhook", func(i int) (string, string) {
			return created("/api/v1/webhooks", `{"url":"https://198.51.100.7/hooks","event_types":["*"]}`)
		}, "PATCH", "", func(i int) string { return fmt.Sprintf(`{"description":"d%d"}`, i) }, true},
		{"order transition", func(i int) (string, string) {
			v := h.variant(t, fmt.Sprintf("ORD-%d", i), 100, 10)
			return created("/api/v1/orders", fmt.Sprintf(`{"customer":{"email":"o%d@example.com"},"lines":[{"variant_id":%d,"quantity":1}]}`, i, v.ID))
		}, "POST", "/transitions", func(i int) string {
			return []string{`{"to":"paid"}`, `{"to":"fulfilled"}`, `{"to":"delivered"}`, `{"to":"refunded"}`}[i%4]
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, tag := tt.make(0)
			write := func(i int, ifMatch string, want int) {
				t.Helper()
				var headers []string
				if ifMatch != "" {
					headers = []string{"If-Match", ifMatch}
				}
				r := h.call(t, tt.method, path+tt.suffix, tok, tt.body(i), headers...)
				if r.status != want {
					t.Fatalf("write %d with If-Match %q: %d, want %d: %s", i, ifMatch, r.status, want, r.body)
				}
			}
			current := func() string { return h.call(t, "GET", path, tok, "").want(t, 200).header.Get("ETag") }
			write(0, fmt.Sprintf(`"%s-other"`, tag[1:len(tag)-1]), 412) // not its tag
			if now := current(); now != tag {
				t.Fatalf("a refused write moved the ETag from %s to %s", tag, now)
			}
			write(0, tag, 200) // the current tag writes
			write(1, tag, 412) // ... and is stale now
			write(1, "", 200)  // without If-Match the last write wins
			write(2, current(), 200)
			if !tt.deletes {
				return
			}
			h.call(t, "DELETE", path, tok, "", "If-Match", tag).want(t, 412)
			h.call(t, "GET", path, tok, "").want(t, 200)
			h.call(t, "DELETE", path, tok, "").want(t, 204) // no If-Match: whatever the version
			h.call(t, "GET", path, tok, "").want(t, 404)

			path, _ = tt.make(1)
			write(3, "", 200)
			h.call(t, "DELETE", path, tok, "", "If-Match", current()).want(t, 204)
		})
	}
}
