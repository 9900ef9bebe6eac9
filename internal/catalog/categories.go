package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/store/listen"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// errCycle is the parent_id message for a move that would put a category inside
// itself.
const errCycle = "cannot be inside itself or one of its subcategories"

// Category returns category id.
func (c *Catalog) Category(ctx context.Context, id int64) (db.Category, error) {
	var cat db.Category
	err := c.st.Replica(ctx, func(q *db.Queries) (err error) {
		cat, err = q.GetCategory(ctx, id)
		return err
	})
	if err != nil {
		return db.Category{}, fmt.Errorf("category %d: %w", id, err)
	}
	return cat, nil
}

// CategoryNode is a category in the tree: its depth (0 at the top) and its path of
// names from the top ("Home › Lighting › Lamps"), for pickers and lists.
type CategoryNode struct {
	db.Category
	Depth int
	Path  string
}

// CategoryTree returns every category depth-first, siblings by position then name:
// the order a parent picker or a category filter shows them in, indented by Depth.
//
// The tree is kept in memory and built again only when the categories changed
// (CategoryVersion, bumped by a trigger in the changing transaction, also by another
// process): the check is a one-row read instead of a recursive query over every
// category. The version is read before the tree, so a kept tree is never older than
// its version. Callers get their own slice.
//
// With the process's listener connected (CategoryTreeHandler), not even the check
// runs: the trigger also notifies CategoriesChannel when the change commits, and a
// tree read since the last notification is current until the next one. A change
// reaches another instance when its notification does, milliseconds after the
// commit; this instance's own changes (CreateCategory, ...) count at once.
func (c *Catalog) CategoryTree(ctx context.Context) ([]CategoryNode, error) {
	if nodes := c.trees.current(); nodes != nil {
		return slices.Clone(nodes), nil
	}
	gen := c.trees.generation()
	var nodes []CategoryNode
	err := c.st.Read(ctx, func(q *db.Queries) error {
		version, err := q.CategoryVersion(ctx)
		if err != nil {
			return err
		}
		if nodes = c.trees.get(version); nodes != nil {
			c.trees.confirm(gen, version)
			return nil
		}
		rows, err := q.CategoryTree(ctx)
		if err != nil {
			return err
		}
		nodes = make([]CategoryNode, len(rows))
		for i, r := range rows {
			nodes[i] = CategoryNode{Category: r.Category, Depth: int(r.Depth), Path: r.Path}
		}
		c.trees.put(version, nodes)
		c.trees.confirm(gen, version)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("category tree: %w", err)
	}
	return slices.Clone(nodes), nil
}

// CategoriesChannel is the channel migration 0084's trigger notifies when a
// statement changed categories and its transaction commits.
const CategoriesChannel = "stockroom_categories"

// CategoryTreeHandler is the listen.Handler of CategoriesChannel: a notification,
// and every (re)connection of the listener (notifications sent while it was down
// are lost), make the kept tree one to check again. Until the listener has
// connected, every CategoryTree checks the version, as without one.
func (c *Catalog) CategoryTreeHandler() listen.Handler {
	return listen.Handler{
		Notify:    func(context.Context, string) { c.trees.changed(false) },
		Connected: func(context.Context) { c.trees.changed(true) },
	}
}

// CategoryTreeGeneration counts the category changes this process has heard of
// (notifications, reconnections of the listener, its own changes): a test waits for
// it to move to know that a change has reached this instance.
func (c *Catalog) CategoryTreeGeneration() uint64 { return c.trees.generation() }

// treeCache is the last category tree built, with the version it was built at.
type treeCache struct {
	mu      sync.Mutex
	version int64
	nodes   []CategoryNode // nil: none yet; never changed once kept
	// With the listener connected, until freshUntil no change was notified since the
	// kept tree's version was read: it is current without reading the version.
	listening  bool
	freshUntil time.Time // zero: not fresh
	gen        uint64    // changes heard so far; a read confirms only if none came meanwhile
}

// treeFresh is how long a confirmed tree is trusted without reading the version: the
// backstop should the listener's connection fail without a word, until it
// reconnects (which clears it too). One one-row read per instance per treeFresh.
const treeFresh = 5 * time.Second

// get returns the kept tree when it was built at version, else nil.
func (t *treeCache) get(version int64) []CategoryNode {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.nodes == nil || t.version != version {
		return nil
	}
	return t.nodes
}

// put keeps nodes as the tree at version, unless a newer one is kept already.
func (t *treeCache) put(version int64, nodes []CategoryNode) {
	if nodes == nil {
		nodes = []CategoryNode{} // no categories is a tree too
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.nodes == nil || version >= t.version {
		t.version, t.nodes = version, nodes
	}
}

// current is the kept tree when the listener vouches that it is current, else nil.
func (t *treeCache) current() []CategoryNode {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !time.Now().Before(t.freshUntil) {
		return nil
	}
	return t.nodes
}

// generation is the count of changes heard before a read of the version.
func (t *treeCache) generation() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.gen
}

// confirm marks the kept tree current after a read found it at version, if the
// listener is connected and heard no change since gen, when the read began: a change
// that committed after the read is notified after it, and makes it stale again.
func (t *treeCache) confirm(gen uint64, version int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.listening && gen == t.gen && t.nodes != nil && t.version == version {
		t.freshUntil = time.Now().Add(treeFresh)
	}
}

// changed says that categories changed (or may have: connected after a
// reconnection): the next CategoryTree reads the version again.
func (t *treeCache) changed(connected bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gen++
	t.freshUntil = time.Time{}
	if connected {
		t.listening = true
	}
}

// CategoryPage is one page of categories in name order; Next is the cursor of the
// next page or "".
type CategoryPage = keyset.Page[db.Category]

// ListCategories returns categories whose name contains q (any case; "" for all) in
// name order, limit at a time (0: keyset.DefaultLimit), from cursor ("" for the
// first page).
func (c *Catalog) ListCategories(ctx context.Context, q string, cursor string, limit int) (CategoryPage, error) {
	limit, err := keyset.Limit(limit, keyset.DefaultLimit, keyset.MaxLimit)
	if err != nil {
		return CategoryPage{}, err
	}
	p := db.SearchCategoriesParams{RowLimit: int32(limit + 1)}
	if p.Q, err = categoryPattern(q); err != nil {
		return CategoryPage{}, err
	}
	cur, err := keyset.ReadNext(cursor, "name", func(string) bool { return true })
	if err != nil {
		return CategoryPage{}, err
	}
	if cur != nil {
		p.AfterName, p.AfterID = &cur.Value, &cur.ID
	}
	var rows []db.Category
	err = c.st.Replica(ctx, func(q *db.Queries) (err error) {
		rows, err = q.SearchCategories(ctx, p)
		return err
	})
	if err != nil {
		return CategoryPage{}, fmt.Errorf("list categories: %w", err)
	}
	var page CategoryPage
	page.Items, page.Next = keyset.Next(rows, limit, "name", func(c db.Category) (string, int64) { return c.Name, c.ID })
	return page, nil
}

// CountCategories counts the categories ListCategories lists for q (the policy is
// keyset.CountOf).
func (c *Catalog) CountCategories(ctx context.Context, q string) (Count, error) {
	pattern, err := categoryPattern(q)
	if err != nil {
		return Count{}, err
	}
	n, err := c.st.Count(ctx, func(q *db.Queries, _ int32) (int64, error) {
		return q.CountCategoriesMatching(ctx, pattern)
	})
	if err != nil {
		return Count{}, fmt.Errorf("count categories: %w", err)
	}
	return n, nil
}

// categoryPattern is the search text q as the category queries take it: nil for
// none, else the text with LIKE's wildcards escaped (the queries add the %s).
func categoryPattern(q string) (*string, error) {
	if q = strings.TrimSpace(q); q == "" {
		return nil, nil
	}
	if len(q) > MaxQuery {
		return nil, validator.Errors{"q": fmt.Sprintf("must be at most %d characters", MaxQuery)}
	}
	pattern := escapeLike(q)
	return &pattern, nil
}

// CreateCategory validates in and stores it as a new category. A taken slug or a
// parent that does not exist comes back as validator.Errors on the field.
func (c *Catalog) CreateCategory(ctx context.Context, actor audit.Actor, in CategoryInput) (db.Category, error) {
	in = in.normalize()
	if errs := in.Validate(); errs != nil {
		return db.Category{}, errs
	}
	var cat db.Category
	defer c.trees.changed(false) // before the caller's next CategoryTree, even if the notification is slower
	err := c.st.InTx(ctx, func(q *db.Queries) error {
		slug, err := categorySlug(ctx, q, in, 0)
		if err != nil {
			return err
		}
		cat, err = q.CreateCategory(ctx, db.CreateCategoryParams{
			ParentID: in.ParentID, Name: in.Name, Slug: slug, Description: in.Description, Position: in.Position,
		})
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, actor, audit.ActionCreate, ResourceCategories, cat.ID, cat.Name,
			audit.Diff(nil, categorySnapshot(cat)))
	})
	if err != nil {
		return db.Category{}, categoryFieldError(fmt.Errorf("create category: %w", err))
	}
	return cat, nil
}

// UpdateCategory stores in over category id if it is still at version. A parent
// that is the category itself or lies below it is refused with a field error on
// "parent_id"; a newer version stored meanwhile is a *CategoryConflictError.
func (c *Catalog) UpdateCategory(ctx context.Context, actor audit.Actor, id int64, version int32, in CategoryInput) (db.Category, error) {
	in = in.normalize()
	if errs := in.Validate(); errs != nil {
		return db.Category{}, errs
	}
	var cat db.Category
	defer c.trees.changed(false) // before the caller's next CategoryTree, even if the notification is slower
	err := c.st.InTx(ctx, func(q *db.Queries) error {
		// Moves take turns, so that two moves cannot each pass the check below and
		// together close a cycle.
		if err := q.LockCategoryTree(ctx); err != nil {
			return err
		}
		before, err := q.LockCategory(ctx, id)
		if err != nil {
			return err
		}
		cat = before
		if before.Version != version {
			return errStale
		}
		if in.ParentID != nil {
			cycle, err := q.IsCategoryDescendant(ctx, db.IsCategoryDescendantParams{ID: id, Candidate: *in.ParentID})
			if err != nil {
				return err
			}
			if cycle {
				return validator.Errors{"parent_id": errCycle}
			}
		}
		slug, err := categorySlug(ctx, q, in, id)
		if err != nil {
			return err
		}
		after := before
		after.ParentID, after.Name, after.Slug, after.Description, after.Position = in.ParentID, in.Name, slug, in.Description, in.Position
		changes := audit.Diff(categorySnapshot(before), categorySnapshot(after))
		if len(changes) == 0 {
			return nil
		}
		cat, err = q.UpdateCategory(ctx, db.UpdateCategoryParams{
			ID: id, Version: version, ParentID: in.ParentID, Name: in.Name, Slug: slug,
			Description: in.Description, Position: in.Position,
		})
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, actor, audit.ActionUpdate, ResourceCategories, id, cat.Name, changes)
	})
	if errors.Is(err, errStale) {
		return db.Category{}, &CategoryConflictError{Current: cat}
	}
	if err != nil {
		return db.Category{}, categoryFieldError(fmt.Errorf("update category %d: %w", id, err))
	}
	return cat, nil
}

// CategoryUsage counts what stops category id from being deleted: the products
// directly in it and its direct subcategories. The delete page shows it.
func (c *Catalog) CategoryUsage(ctx context.Context, id int64) (products, subcategories int64, err error) {
	var u db.CategoryUsageRow
	err = c.st.Read(ctx, func(q *db.Queries) (err error) {
		u, err = q.CategoryUsage(ctx, id)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("usage of category %d: %w", id, err)
	}
	return u.Products, u.Subcategories, nil
}

// DeleteCategory deletes category id if it is at version (0: whatever its
// version). While products or subcategories are in it, it refuses with an
// *InUseError naming their counts.
func (c *Catalog) DeleteCategory(ctx context.Context, actor audit.Actor, id int64, version int32) error {
	defer c.trees.changed(false) // before the caller's next CategoryTree, even if the notification is slower
	err := c.st.InTx(ctx, func(q *db.Queries) error {
		// The row lock holds off new products and subcategories (their foreign key
		// checks wait for it), so the counts below stay true until the delete commits.
		cat, err := q.LockCategory(ctx, id)
		if err != nil {
			return err
		}
		if version != 0 && cat.Version != version {
			return fmt.Errorf("category %d: %w", id, store.ErrStale)
		}
		u, err := q.CategoryUsage(ctx, id)
		if err != nil {
			return err
		}
		if u.Products > 0 || u.Subcategories > 0 {
			return &InUseError{Products: u.Products, Subcategories: u.Subcategories}
		}
		if _, err := q.DeleteCategory(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, q, actor, audit.ActionDelete, ResourceCategories, id, cat.Name,
			audit.Diff(categorySnapshot(cat), nil))
	})
	if err != nil {
		return fmt.Errorf("delete category %d: %w", id, err)
	}
	return nil
}

// categorySlug is in's slug, or when it has none a free one made from its name.
func categorySlug(ctx context.Context, q *db.Queries, in CategoryInput, self int64) (string, error) {
	return freeSlug(in.Slug, in.Name, "category", func(base string) (string, error) {
		return q.FreeCategorySlug(ctx, db.FreeCategorySlugParams{Base: base, SelfID: self})
	})
}

// categoryFieldError is fieldError for category writes, where a missing parent is
// the parent_id field's fault.
func categoryFieldError(err error) error {
	if errors.Is(err, store.ErrReferenced) && store.Constraint(err) == "categories_parent_id_fkey" {
		return validator.Errors{"parent_id": "does not exist"}
	}
	return fieldError(err, "")
}
