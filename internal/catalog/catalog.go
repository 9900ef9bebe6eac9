// Package catalog holds the catalog's rules: categories, products with their
// variants and images, stock. The admin pages and the JSON API both call it, so
// every rule (validation, slugs, version checks, stock never below zero, audit
// rows) lives here once and both transports behave alike.
//
// Reads: Product (the detail: variants and images, 3 statements), ListProducts (a
// keyset page of a filtered, sorted list; cursors are opaque), CountProducts (exact
// when small, else the planner's estimate), ExportProducts (the whole filtered list
// in batches, for CSV), ProductsByID (a bulk action's confirmation page),
// StockAlerts (the dashboard), Variant, Category, CategoryTree, ListCategories,
// CategoryUsage (a delete page). The audit history is audit.Log's.
//
// Writes, each one transaction with its audit rows, by the audit.Actor the caller
// passes: CreateProduct, UpdateProduct (the whole product from a form: fields and
// variants, version-checked), DeleteProduct, AddVariant, UpdateVariant,
// DeleteVariant, AdjustStock (a relative change that never oversells), the bulk
// SetStatus, MoveToCategory and DeleteProducts, CreateCategory, UpdateCategory,
// DeleteCategory, and AddImage and EditImages. Forms
// start from InputOf(product) and the API's PATCH applies its fields to the same.
//
// Errors are the project's own: validator.Errors for bad input (field names as in
// the JSON API: "name", "variants[1].sku"; web.Status makes them 422),
// *ConflictError and *CategoryConflictError for a stale version (both wrap
// store.ErrStale: 412 in the API, the conflict page in the admin, with Compare),
// *InUseError for a category still in use (wraps store.ErrReferenced: 409), and
// store.ErrNotFound for a missing row.
package catalog

import (
	"fmt"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// Config is what the catalog takes from the configuration.
type Config struct {
	MediaDir string // STOCKROOM_MEDIA_DIR: where image files go
	LowStock int    // STOCKROOM_LOW_STOCK: a product with this many or fewer in stock is low
}

// Catalog is the catalog's operations on one database and media directory.
type Catalog struct {
	st    *store.Store
	cfg   Config
	trees treeCache
	size  sizeCache

	matches   memo[Filter, int64]      // the planner's estimate of what a filter selects (estimate)
	clustered memo[listCall, struct{}] // searches whose walk came back short (list)
	// commonWords are the patterns of searches in MaxWords words or more (searchWords)
	commonWords memo[string, struct{}]
}

// New returns the catalog on st.
func New(st *store.Store, cfg Config) *Catalog {
	return &Catalog{st: st, cfg: cfg}
}

// LowStock is the threshold at or below which stock counts as low.
func (c *Catalog) LowStock() int { return c.cfg.LowStock }

// Product is a product with its category's name, its variants (by position) and its
// images (by position): what a product page and the API's detail show.
type Product struct {
	db.ProductListing
	Variants []db.ProductVariant
	Images   []db.ProductImage
}

// Variant returns the product's variant with id, or nil.
func (p *Product) Variant(id int64) *db.ProductVariant {
	for i := range p.Variants {
		if p.Variants[i].ID == id {
			return &p.Variants[i]
		}
	}
	return nil
}

// ConflictError says a product changed since the version the caller read: another
// save came first. Current is the product as stored now, so the admin can show the
// stored value and the user's per field and let them re-apply theirs (Compare), and
// the API can return it. It wraps store.ErrStale.
type ConflictError struct {
	Current *Product
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("product %d changed since it was read (now at version %d)", e.Current.ID, e.Current.Version)
}

// Unwrap makes errors.Is(err, store.ErrStale) hold.
func (e *ConflictError) Unwrap() error { return store.ErrStale }

// CategoryConflictError is ConflictError for a category.
type CategoryConflictError struct {
	Current db.Category
}

func (e *CategoryConflictError) Error() string {
	return fmt.Sprintf("category %d changed since it was read (now at version %d)", e.Current.ID, e.Current.Version)
}

// Unwrap makes errors.Is(err, store.ErrStale) hold.
func (e *CategoryConflictError) Unwrap() error { return store.ErrStale }

// InUseError refuses to delete a category that still holds products or
// subcategories. Its message names the counts and says what to do; it wraps
// store.ErrReferenced.
type InUseError struct {
	Products, Subcategories int64
}

func (e *InUseError) Error() string {
	var what string
	switch {
	case e.Products > 0 && e.Subcategories > 0:
		what = count(e.Products, "product") + " and " + count(e.Subcategories, "subcategory")
	case e.Products > 0:
		what = count(e.Products, "product")
	default:
		what = count(e.Subcategories, "subcategory")
	}
	return "this category still has " + what + ": move them to another category first"
}

// Unwrap makes errors.Is(err, store.ErrReferenced) hold.
func (e *InUseError) Unwrap() error { return store.ErrReferenced }

func count(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if noun == "subcategory" {
		return fmt.Sprintf("%d subcategories", n)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
