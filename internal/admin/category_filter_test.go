package admin

import (
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
)

// The product list's category filter drills down: the top categories, or the path
// to the chosen one, it and its subcategories.
func TestCategoryFilterDrillsDown(t *testing.T) {
	node := func(id, parent int64, depth int, name string) catalog.CategoryNode {
		n := catalog.CategoryNode{Category: db.Category{ID: id, Name: name}, Depth: depth}
		if parent != 0 {
			n.ParentID = &parent
		}
		return n
	}
	// in tree order, as CategoryTree gives it
	tree := []catalog.CategoryNode{
		node(1, 0, 0, "Home"), node(3, 1, 1, "Lighting"), node(5, 3, 2, "Lamps"), node(4, 1, 1, "Textiles"),
		node(2, 0, 0, "Garden"), node(6, 2, 1, "Tools"),
	}
	tests := []struct {
		name     string
		selected int64
		want     string // option values and labels
	}{
		{"none chosen", 0, "1 Home|2 Garden"},
		{"a top category", 1, "1 Home|3 ␣␣Lighting|4 ␣␣Textiles"},
		{"a middle one", 3, "1 Home|3 ␣␣Lighting|5 ␣␣␣␣Lamps"},
		{"a leaf", 5, "1 Home|3 ␣␣Lighting|5 ␣␣␣␣Lamps"},
		{"another branch", 6, "2 Garden|6 ␣␣Tools"},
		{"one that does not exist", 99, "1 Home|2 Garden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, o := range categoryFilter(tree, tt.selected).Options {
				got = append(got, o.Value+" "+strings.ReplaceAll(o.Label, "\u00a0", "␣"))
			}
			if strings.Join(got, "|") != tt.want {
				t.Errorf("options = %q, want %q", strings.Join(got, "|"), tt.want)
			}
		})
	}
}
