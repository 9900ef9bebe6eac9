package api

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestOrderingsMatchTheDocument: each list's allowed orderings (the products' and
// the orders' come from the domain's sort-key tables) are the ones openapi.json
// lists for its ordering parameter, in the same order, the default first.
func TestOrderingsMatchTheDocument(t *testing.T) {
	var doc struct {
		Paths map[string]struct {
			Get struct {
				Parameters []struct {
					Name   string `json:"name"`
					Schema struct {
						Enum []string `json:"enum"`
					} `json:"schema"`
				} `json:"parameters"`
			} `json:"get"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	for path, spec := range map[string]listSpec{
		"/api/v1/products": productList, "/api/v1/orders": orderList, "/api/v1/categories": categoryList,
		"/api/v1/customers": customerList, "/api/v1/products/{id}/variants": variantList, "/api/v1/webhooks": webhookList,
	} {
		var documented []string
		for _, p := range doc.Paths[path].Get.Parameters {
			if p.Name == "ordering" {
				documented = p.Schema.Enum
			}
		}
		if !slices.Equal(spec.orderings, documented) {
			t.Errorf("GET %s: orderings %v, the document lists %v", path, spec.orderings, documented)
		}
	}
}
