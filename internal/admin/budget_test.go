package admin

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/seed"
)

// Acceptance 3: the product list runs the same few statements for 25 rows and for
// 200 (no statement per row), with or without a search and a category filter;
// the product form the same for one variant as for thirty with images; and the
// dashboard a fixed few.
func TestProductQueryBudget(t *testing.T) {
	t.Parallel()
	var count dbtest.Tally
	a := newTestAppWith(t, auth.Options{}, &count)
	if _, err := seed.Run(context.Background(), a.st, seed.Options{Products: 600, Categories: 3}); err != nil {
		t.Fatal(err)
	}
	c := a.signedIn(superEmail)
	measure := func(path string, rows int) int64 {
		t.Helper()
		var r response
		n := count.During(func() { r = c.get(path) })
		must(t, r, http.StatusOK)
		if rows >= 0 {
			if got := len(rowsOf(t, r.body)); got != rows {
				t.Fatalf("GET %s shows %d rows, want %d", path, got, rows)
			}
		}
		return n
	}
	tree, err := a.cat.CategoryTree(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	top := tree[0].ID                // a top category and its subcategories: over 200 products
	c.get("/admin/products/?q=warm") // the first search reads the catalog's size, kept a minute
	for _, q := range []string{"", "q=a", fmt.Sprintf("category=%d", top), "sort=-price&stock=in", "status=active&sort=updated_at"} {
		small := measure("/admin/products/?size=25&"+q, 25)
		big := measure("/admin/products/?size=200&"+q, 200)
		t.Logf("list %q: %d statements", q, small)
		// The 200 rows come second: a filter's estimate, read for the 25, is kept
		// a minute (catalog's estimate), so they may run fewer, never more.
		if big > small || small > 10 {
			t.Errorf("list %q: %d statements for 25 rows, %d for 200; want no more for 200, at most 10", q, small, big)
		}
	}

	one := a.product("One variant", 0, "ONE-1")
	var skus []string
	for i := range 30 {
		skus = append(skus, fmt.Sprintf("MANY-%02d", i))
	}
	many := a.product("Thirty variants", top, skus...)
	for _, col := range []struct{ r, g, b uint8 }{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}} {
		a.image(many.ID, rgb(col.r, col.g, col.b))
	}
	small := measure(fmt.Sprintf("/admin/products/%d/", one.ID), -1)
	big := measure(fmt.Sprintf("/admin/products/%d/", many.ID), -1)
	t.Logf("form: %d statements", small)
	if small != big || small > 8 {
		t.Errorf("product form: %d statements for 1 variant, %d for 30 with images; want the same, at most 8", small, big)
	}
	if n := measure("/admin/", -1); n > 12 { // the order figures are two of them
		t.Errorf("dashboard: %d statements, want at most 12", n)
	} else {
		t.Logf("dashboard: %d statements", n)
	}
}
