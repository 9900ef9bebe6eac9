package catalog_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// A category cannot move inside itself or below one of its own subcategories.
func TestCategoryCyclesRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	home := e.category(t, "Home", nil)
	lighting := e.category(t, "Lighting", &home)
	lamps := e.category(t, "Lamps", &lighting)
	cat, err := e.cat.Category(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		parent int64
	}{
		{"its own parent", home},
		{"its child's child", lighting},
		{"its grandchild's child", lamps},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.cat.UpdateCategory(ctx, editor, home, cat.Version, catalog.CategoryInput{Name: "Home", ParentID: &tt.parent})
			wantFields(t, err, validator.Errors{"parent_id": "cannot be inside itself or one of its subcategories"})
		})
	}
	// Moving a category up the tree, or under a sibling branch, is fine.
	garden := e.category(t, "Garden", nil)
	lampsNow, err := e.cat.Category(ctx, lamps)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.UpdateCategory(ctx, editor, lamps, lampsNow.Version, catalog.CategoryInput{Name: "Lamps", ParentID: &garden}); err != nil {
		t.Errorf("move under another branch: %v", err)
	}
	paths := e.treePaths(t)
	want := []string{"Garden", "Garden › Lamps", "Home", "Home › Lighting"}
	if len(paths) != len(want) {
		t.Fatalf("tree = %q, want %q", paths, want)
	}
	for i := range want {
		if paths[i] != want[i] {
			t.Errorf("tree[%d] = %q, want %q", i, paths[i], want[i])
		}
	}
}

func TestCategoryValidationAndConflicts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.category(t, "Kitchen", nil)
	e.category(t, "Kitchen", nil) // the same name gets its own slug
	tests := []struct {
		name string
		in   catalog.CategoryInput
		want validator.Errors
	}{
		{"empty name", catalog.CategoryInput{}, validator.Errors{"name": "is required"}},
		{"slug taken", catalog.CategoryInput{Name: "Cooking", Slug: "kitchen"}, validator.Errors{"slug": "is already used"}},
		{"unknown parent", catalog.CategoryInput{Name: "Pans", ParentID: ptr(int64(999))}, validator.Errors{"parent_id": "does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.cat.CreateCategory(ctx, editor, tt.in)
			wantFields(t, err, tt.want)
		})
	}
	page, err := e.cat.ListCategories(ctx, "kitch", "", 1)
	if err != nil || len(page.Items) != 1 || page.Next == "" {
		t.Fatalf("ListCategories = %+v, %v; want one of two and a next page", page, err)
	}
	next, err := e.cat.ListCategories(ctx, "kitch", page.Next, 1)
	if err != nil || len(next.Items) != 1 || next.Items[0].Slug != "kitchen-2" || next.Next != "" {
		t.Errorf("second page = %+v, %v; want kitchen-2 and no more", next, err)
	}

	c, err := e.cat.Category(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.UpdateCategory(ctx, editor, id, c.Version, catalog.CategoryInput{Name: "Kitchen & Dining", Slug: "kitchen"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.cat.UpdateCategory(ctx, editor, id, c.Version, catalog.CategoryInput{Name: "Cooking"})
	var conflict *catalog.CategoryConflictError
	if !errors.As(err, &conflict) || !errors.Is(err, store.ErrStale) || conflict.Current.Name != "Kitchen & Dining" {
		t.Errorf("stale update: err = %v, want a CategoryConflictError with the stored name", err)
	}
}

// A category that still holds products or subcategories is not deleted, and the
// refusal says what is in it.
func TestDeleteCategoryRefusedWhileInUse(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	lighting := e.category(t, "Lighting", nil)
	lamps := e.category(t, "Lamps", &lighting)
	var ids []int64
	for _, sku := range []string{"L-1", "L-2"} {
		in := product("Lamp "+sku, sku)
		in.CategoryID = &lighting
		ids = append(ids, e.create(t, in).ID)
	}
	err := e.cat.DeleteCategory(ctx, editor, lighting, 0)
	var inUse *catalog.InUseError
	if !errors.As(err, &inUse) || !errors.Is(err, store.ErrReferenced) {
		t.Fatalf("err = %v, want an InUseError wrapping ErrReferenced", err)
	}
	if want := "this category still has 2 products and 1 subcategory: move them to another category first"; inUse.Error() != want {
		t.Errorf("message = %q, want %q", inUse.Error(), want)
	}
	if n, sub, err := e.cat.CategoryUsage(ctx, lighting); n != 2 || sub != 1 || err != nil {
		t.Errorf("CategoryUsage = %d, %d, %v; want 2, 1", n, sub, err)
	}
	// Moved out and emptied, it goes.
	if _, err := e.cat.MoveToCategory(ctx, editor, ids, &lamps); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.MoveToCategory(ctx, editor, ids, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.cat.DeleteCategory(ctx, editor, lamps, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.cat.DeleteCategory(ctx, editor, lighting, 0); err != nil {
		t.Errorf("delete the empty category: %v", err)
	}
	if _, err := e.cat.Category(ctx, lighting); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after delete: err = %v, want ErrNotFound", err)
	}
}

// CountCategories counts what ListCategories lists for the same search, wildcards
// taken literally.
func TestCountCategories(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.category(t, "Kitchen", nil)
	e.category(t, "Kitchen", nil)
	e.category(t, "Garden", nil)
	e.category(t, "50% off", nil)
	tests := []struct {
		q    string
		want int64
	}{
		{"", 4},
		{"KITCH", 2},
		{"%", 1},
		{"_", 0},
		{"nothing", 0},
	}
	for _, tt := range tests {
		n, err := e.cat.CountCategories(ctx, tt.q)
		if err != nil || n.N != tt.want || !n.Exact {
			t.Errorf("CountCategories(%q) = %d, %t, %v; want %d, exact", tt.q, n.N, n.Exact, err, tt.want)
		}
		page, err := e.cat.ListCategories(ctx, tt.q, "", 0)
		if err != nil || int64(len(page.Items)) != tt.want {
			t.Errorf("ListCategories(%q) has %d items (%v); want %d", tt.q, len(page.Items), err, tt.want)
		}
	}
}

// The category tree is kept between calls and built again when any process changed
// a category: here a second Catalog on the same database stands for another
// stockroom process. A kept tree costs one statement (the version check), and a
// change that rolled back leaves the kept tree current.
func TestCategoryTreeKeptUntilCategoriesChange(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other := catalog.New(e.st, catalog.Config{MediaDir: e.media, LowStock: 5})
	home := e.category(t, "Home", nil)
	paths := func() []string { return e.treePaths(t) }
	want := func(got []string, want ...string) {
		t.Helper()
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("tree = %q, want %q", got, want)
		}
	}
	want(paths(), "Home")

	var tree []string
	if n := e.count(func() { tree = paths() }); n != 1 {
		t.Errorf("a kept tree took %d statements, want 1", n)
	}
	want(tree, "Home")

	if _, err := other.CreateCategory(ctx, editor, catalog.CategoryInput{Name: "Lamps", ParentID: &home}); err != nil {
		t.Fatal(err)
	}
	want(paths(), "Home", "Home › Lamps")

	cat, err := other.Category(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.UpdateCategory(ctx, editor, home, cat.Version, catalog.CategoryInput{Name: "House"}); err != nil {
		t.Fatal(err)
	}
	want(paths(), "House", "House › Lamps")

	// A change that rolls back bumps nothing: the kept tree stays, and stays right.
	errRollback := errors.New("roll back")
	err = e.st.InTx(ctx, func(q *db.Queries) error {
		if _, err := q.CreateCategory(ctx, db.CreateCategoryParams{Name: "Ghost", Slug: "ghost"}); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v", err)
	}
	want(paths(), "House", "House › Lamps")

	// Callers get their own slice: changing it changes nothing kept.
	got, err := e.cat.CategoryTree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got[0].Name = "Scribbled"
	want(paths(), "House", "House › Lamps")
	if got, _ := e.cat.CategoryTree(ctx); got[0].Name != "House" {
		t.Errorf("kept tree changed by a caller: %q", got[0].Name)
	}
}

// treePaths is the category tree's paths, in its order.
func (e *env) treePaths(t *testing.T) []string {
	t.Helper()
	tree, err := e.cat.CategoryTree(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range tree {
		out = append(out, n.Path)
	}
	return out
}
