package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Audit resource names.
const (
	ResourceProducts   = "products"
	ResourceCategories = "categories"
)

// MaxBulk is the most products one bulk action takes.
const MaxBulk = 1000

// errStale ends a transaction that found a newer version than the caller read; the
// caller of InTx turns it into a ConflictError with what it loaded.
var errStale = errors.New("stale")

// Product returns product id with its category's name, variants and images, in one
// statement whatever their number.
func (c *Catalog) Product(ctx context.Context, id int64) (*Product, error) {
	var p *Product
	err := c.st.Replica(ctx, func(q *db.Queries) (err error) {
		p, err = loadProduct(ctx, q, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("product %d: %w", id, err)
	}
	return p, nil
}

// loadProduct reads a product with its variants and images (GetProductDetail: one
// statement, the rows as JSON).
func loadProduct(ctx context.Context, q *db.Queries, id int64) (*Product, error) {
	row, err := q.GetProductDetail(ctx, id)
	if err != nil {
		return nil, err
	}
	p := &Product{ProductListing: row.ProductListing}
	if err := json.Unmarshal(row.Variants, &p.Variants); err != nil {
		return nil, fmt.Errorf("variants of product %d: %w", id, err)
	}
	if err := json.Unmarshal(row.Images, &p.Images); err != nil {
		return nil, fmt.Errorf("images of product %d: %w", id, err)
	}
	return p, nil
}

// CreateProduct validates in and stores it as a new product with its variants. A
// taken slug or SKU, or a category that does not exist, comes back as
// validator.Errors on the field.
func (c *Catalog) CreateProduct(ctx context.Context, actor audit.Actor, in ProductInput) (*Product, error) {
	in = in.normalize()
	if errs := in.Validate(); errs != nil {
		return nil, errs
	}
	var p *Product
	at := -1 // the variant being written, for the field an error names
	err := c.st.InTx(ctx, func(q *db.Queries) error {
		slug, err := productSlug(ctx, q, in, 0)
		if err != nil {
			return err
		}
		row, err := q.CreateProduct(ctx, db.CreateProductParams{
			Name: in.Name, Slug: slug, Description: in.Description, Status: in.Status, CategoryID: in.CategoryID,
		})
		if err != nil {
			return err
		}
		for i, v := range in.Variants {
			at = i
			if _, err := q.CreateVariant(ctx, createVariantParams(row.ID, v, i)); err != nil {
				return err
			}
		}
		at = -1
		if p, err = refreshAndLoad(ctx, q, row.ID); err != nil {
			return err
		}
		return audit.Record(ctx, q, actor, audit.ActionCreate, ResourceProducts, p.ID, p.Name,
			audit.Diff(nil, productSnapshot(InputOf(p), p)))
	})
	if err != nil {
		return nil, fieldError(fmt.Errorf("create product: %w", err), variantPrefix(at))
	}
	return p, nil
}

// UpdateProduct stores in over product id if the product is still at version (and
// each listed variant at its Version, when given). Variants with an id are changed,
// those without are added, stored ones missing from in are deleted. A save that
// changes nothing writes nothing. A newer version stored meanwhile returns a
// *ConflictError carrying the product as it is now.
func (c *Catalog) UpdateProduct(ctx context.Context, actor audit.Actor, id int64, version int32, in ProductInput) (*Product, error) {
	in = in.normalize()
	if errs := in.Validate(); errs != nil {
		return nil, errs
	}
	var p *Product
	at := -1
	err := c.st.InTx(ctx, func(q *db.Queries) error {
		// The lock first, as every writer of a product takes it: see LockProduct.
		if _, err := q.LockProduct(ctx, id); err != nil {
			return err
		}
		before, err := loadProduct(ctx, q, id)
		if err != nil {
			return err
		}
		p = before
		if err := checkVersions(before, version, in.Variants); err != nil {
			return err
		}
		if in.Slug, err = productSlug(ctx, q, in, id); err != nil {
			return err
		}
		changes := audit.Diff(productSnapshot(InputOf(before), before), productSnapshot(in, before))
		if len(changes) == 0 {
			return nil
		}
		_, err = q.UpdateProduct(ctx, db.UpdateProductParams{
			ID: id, Version: version, Name: in.Name, Slug: in.Slug, Description: in.Description,
			Status: in.Status, CategoryID: in.CategoryID,
		})
		if err != nil {
			return err
		}
		if at, err = writeVariants(ctx, q, before, in.Variants); err != nil {
			return err
		}
		if p, err = refreshAndLoad(ctx, q, id); err != nil {
			return err
		}
		return audit.Record(ctx, q, actor, audit.ActionUpdate, ResourceProducts, id, p.Name, changes)
	})
	if errors.Is(err, errStale) {
		return nil, &ConflictError{Current: p}
	}
	if err != nil {
		return nil, fieldError(fmt.Errorf("update product %d: %w", id, err), variantPrefix(at))
	}
	return p, nil
}

// checkVersions returns errStale unless stored is at version and every listed
// variant that names a version is at it; a listed id that is not one of stored's
// variants is a field error.
func checkVersions(stored *Product, version int32, variants []VariantInput) error {
	if stored.Version != version {
		return errStale
	}
	seen := map[int64]bool{}
	for i, v := range variants {
		if v.ID == 0 {
			continue
		}
		sv := stored.Variant(v.ID)
		switch {
		case sv == nil:
			return validator.Errors{fmt.Sprintf("variants[%d].id", i): "is not a variant of this product"}
		case seen[v.ID]:
			return validator.Errors{fmt.Sprintf("variants[%d].id", i): "is listed twice"}
		}
		seen[v.ID] = true
		if v.Version != 0 && v.Version != sv.Version {
			return errStale
		}
	}
	return nil
}

// writeVariants makes before's variants what want says: deletes first (freeing their
// SKUs), then changes, then additions, each in want's order. It returns the index of
// the variant it was writing when it failed, for the error's field.
func writeVariants(ctx context.Context, q *db.Queries, before *Product, want []VariantInput) (int, error) {
	kept := map[int64]bool{}
	for _, v := range want {
		kept[v.ID] = true
	}
	for _, sv := range before.Variants {
		if !kept[sv.ID] {
			if _, err := q.DeleteVariant(ctx, db.DeleteVariantParams{ID: sv.ID, ProductID: before.ID}); err != nil {
				return -1, err
			}
		}
	}
	if err := parkMovedSKUs(ctx, q, before, want); err != nil {
		return -1, err
	}
	for i, v := range want {
		if v.ID == 0 {
			continue
		}
		sv := before.Variant(v.ID)
		if len(audit.Diff(variantSnapshot(VariantInputOf(*sv), int(sv.Position)), variantSnapshot(v, i))) == 0 {
			continue
		}
		if _, err := q.UpdateVariant(ctx, updateVariantParams(before.ID, sv.ID, &sv.Version, v, i)); err != nil {
			if store.IsNotFound(err) {
				return i, errStale
			}
			return i, err
		}
	}
	for i, v := range want {
		if v.ID != 0 {
			continue
		}
		if _, err := q.CreateVariant(ctx, createVariantParams(before.ID, v, i)); err != nil {
			return i, err
		}
	}
	return -1, nil
}

// parkMovedSKUs lets SKUs move between before's variants in one save (a swap, a
// rotation): when a variant is to take a SKU another of them holds now, the SKUs
// of every variant whose SKU changes are parked first (ParkVariantSKUs), in one
// statement. Saves that move no SKU between variants send nothing more.
func parkMovedSKUs(ctx context.Context, q *db.Queries, before *Product, want []VariantInput) error {
	holder := map[string]int64{} // a SKU, lower-cased, → the variant holding it now
	for _, sv := range before.Variants {
		holder[strings.ToLower(sv.Sku)] = sv.ID
	}
	var changing []int64
	moves := false
	for _, v := range want {
		sv := before.Variant(v.ID)
		if sv == nil || sv.Sku == v.SKU {
			continue
		}
		changing = append(changing, v.ID)
		if h, ok := holder[strings.ToLower(v.SKU)]; ok && h != v.ID {
			moves = true
		}
	}
	if !moves {
		return nil
	}
	return q.ParkVariantSKUs(ctx, db.ParkVariantSKUsParams{ProductID: before.ID, Ids: changing})
}

// refreshAndLoad brings product id's summary up to date with its variants and
// returns the product. Every variant write ends with it, in the same transaction.
func refreshAndLoad(ctx context.Context, q *db.Queries, id int64) (*Product, error) {
	if _, err := q.RefreshProductSummary(ctx, id); err != nil {
		return nil, err
	}
	return loadProduct(ctx, q, id)
}

// productSlug is in's slug, or when it has none a free one made from its name.
func productSlug(ctx context.Context, q *db.Queries, in ProductInput, self int64) (string, error) {
	return freeSlug(in.Slug, in.Name, "product", func(base string) (string, error) {
		return q.FreeProductSlug(ctx, db.FreeProductSlugParams{Base: base, SelfID: self})
	})
}

// freeSlug is given when it is set, else the first free slug free finds for the
// slug of name (or of fallback, for a name with nothing to spell).
func freeSlug(given, name, fallback string, free func(base string) (string, error)) (string, error) {
	if given != "" {
		return given, nil
	}
	base := Slugify(name)
	if base == "" {
		base = fallback
	}
	return free(base)
}

func createVariantParams(productID int64, v VariantInput, position int) db.CreateVariantParams {
	return db.CreateVariantParams{
		ProductID: productID, Sku: v.SKU, Title: v.Title, OptionValues: encodeOptions(v.Options),
		PriceCents: v.PriceCents, CompareAtPriceCents: v.CompareAtPriceCents, CostCents: v.CostCents,
		Stock: int32(v.Stock), Position: int32(position),
	}
}

func updateVariantParams(productID, id int64, version *int32, v VariantInput, position int) db.UpdateVariantParams {
	return db.UpdateVariantParams{
		ID: id, ProductID: productID, Version: version, Sku: v.SKU, Title: v.Title,
		OptionValues: encodeOptions(v.Options), PriceCents: v.PriceCents,
		CompareAtPriceCents: v.CompareAtPriceCents, CostCents: v.CostCents,
		Stock: int32(v.Stock), Position: int32(position),
	}
}

// Deleted says what a delete removed.
type Deleted struct {
	Products, Variants, Images int
}

// DeleteProduct deletes product id with its variants and images, if it is at
// version (0: whatever its version, for the API's DELETE without If-Match). Image
// files go once no other product uses them.
func (c *Catalog) DeleteProduct(ctx context.Context, actor audit.Actor, id int64, version int32) (Deleted, error) {
	var d Deleted
	var hashes []string
	err := c.st.InTx(ctx, func(q *db.Queries) error {
		row, err := q.LockProduct(ctx, id)
		if err != nil {
			return err
		}
		if version != 0 && row.Version != version {
			return fmt.Errorf("product %d: %w", id, store.ErrStale)
		}
		if hashes, err = q.ListImageHashesOfProducts(ctx, []int64{id}); err != nil {
			return err
		}
		if _, err := q.DeleteProduct(ctx, db.DeleteProductParams{ID: id}); err != nil {
			return err
		}
		d = Deleted{Products: 1, Variants: int(row.VariantCount), Images: len(hashes)}
		return audit.Record(ctx, q, actor, audit.ActionDelete, ResourceProducts, id, row.Name,
			audit.Diff(productRowSnapshot(row), nil))
	})
	if err != nil {
		return Deleted{}, fmt.Errorf("delete product %d: %w", id, err)
	}
	c.removeUnusedFiles(ctx, hashes)
	return d, nil
}

// productRowSnapshot is what the audit log keeps of a deleted product: its own
// fields and what it held.
func productRowSnapshot(p db.Product) map[string]any {
	return map[string]any{
		"name": p.Name, "slug": p.Slug, "description": p.Description, "status": p.Status,
		"category_id": p.CategoryID, "variant_count": p.VariantCount, "stock_total": p.StockTotal,
	}
}

// ProductsByID returns the listed products in name order: what a bulk action's
// confirmation page shows. Unknown ids are left out.
func (c *Catalog) ProductsByID(ctx context.Context, ids []int64) ([]db.ProductListing, error) {
	if err := checkBulk(ids); err != nil {
		return nil, err
	}
	var rows []db.ProductListing
	err := c.st.Replica(ctx, func(q *db.Queries) (err error) {
		rows, err = q.ListProductListingsByID(ctx, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("products by id: %w", err)
	}
	return rows, nil
}

// SetStatus gives the listed products status in one transaction, with an audit row
// per product it changed, and returns how many it changed (those already at status
// are left alone). This is the bulk "activate" and "archive".
func (c *Catalog) SetStatus(ctx context.Context, actor audit.Actor, ids []int64, status string) (int, error) {
	if !validStatus(status) {
		return 0, validator.Errors{"status": "must be one of draft, active, archived"}
	}
	n, err := c.bulk(ctx, actor, ids, audit.ActionUpdate, "bulk action: set status", func(q *db.Queries) ([]audit.Object, error) {
		rows, err := q.SetProductsStatus(ctx, db.SetProductsStatusParams{Ids: ids, Status: status})
		objs := make([]audit.Object, len(rows))
		for i, r := range rows {
			objs[i] = audit.Object{ID: r.ID, Repr: r.Name, Changes: audit.Changes{"status": {r.OldStatus, status}}}
		}
		return objs, err
	})
	if err != nil {
		return 0, fmt.Errorf("set status of %d products: %w", len(ids), err)
	}
	return n, nil
}

// MoveToCategory puts the listed products into category (nil: none) in one
// transaction, audited per product, and returns how many moved.
func (c *Catalog) MoveToCategory(ctx context.Context, actor audit.Actor, ids []int64, category *int64) (int, error) {
	n, err := c.bulk(ctx, actor, ids, audit.ActionUpdate, "bulk action: move to category", func(q *db.Queries) ([]audit.Object, error) {
		rows, err := q.MoveProductsToCategory(ctx, db.MoveProductsToCategoryParams{Ids: ids, CategoryID: category})
		objs := make([]audit.Object, len(rows))
		for i, r := range rows {
			objs[i] = audit.Object{ID: r.ID, Repr: r.Name, Changes: audit.Changes{"category_id": {r.OldCategoryID, category}}}
		}
		return objs, err
	})
	if err != nil {
		return 0, fieldError(fmt.Errorf("move %d products: %w", len(ids), err), "")
	}
	return n, nil
}

// DeleteProducts deletes the listed products with their variants and images in one
// transaction, audited per product, and says what went.
func (c *Catalog) DeleteProducts(ctx context.Context, actor audit.Actor, ids []int64) (Deleted, error) {
	var d Deleted
	var hashes []string
	_, err := c.bulk(ctx, actor, ids, audit.ActionDelete, "bulk action: delete", func(q *db.Queries) ([]audit.Object, error) {
		var err error
		if hashes, err = q.ListImageHashesOfProducts(ctx, ids); err != nil {
			return nil, err
		}
		rows, err := q.DeleteProducts(ctx, ids)
		d = Deleted{Products: len(rows), Images: len(hashes)}
		objs := make([]audit.Object, len(rows))
		for i, r := range rows {
			d.Variants += int(r.VariantCount)
			objs[i] = audit.Object{ID: r.ID, Repr: r.Name, Changes: audit.Diff(productRowSnapshot(r), nil)}
		}
		return objs, err
	})
	if err != nil {
		return Deleted{}, fmt.Errorf("delete %d products: %w", len(ids), err)
	}
	c.removeUnusedFiles(ctx, hashes)
	return d, nil
}

// bulk runs a bulk action on the listed products in one transaction: change makes
// the change and says which products it changed and how, and each gets its audit
// row. It returns how many changed.
func (c *Catalog) bulk(ctx context.Context, actor audit.Actor, ids []int64, action, note string, change func(q *db.Queries) ([]audit.Object, error)) (int, error) {
	if err := checkBulk(ids); err != nil {
		return 0, err
	}
	var n int
	err := c.st.InTx(ctx, func(q *db.Queries) error {
		objs, err := change(q)
		if err != nil {
			return err
		}
		n = len(objs)
		return audit.RecordMany(ctx, q, actor, action, ResourceProducts, objs, note)
	})
	return n, err
}

func checkBulk(ids []int64) error {
	switch {
	case len(ids) == 0:
		return validator.Errors{"ids": "select at least one product"}
	case len(ids) > MaxBulk:
		return validator.Errors{"ids": fmt.Sprintf("at most %d products at a time", MaxBulk)}
	}
	return nil
}

func validStatus(s string) bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// constraintFields says which field a violated constraint is about and what to tell
// the user. %s is the variant's prefix ("variants[2].") where there is one.
var constraintFields = map[string][2]string{
	"products_slug_key":                             {"slug", "is already used"},
	"categories_slug_key":                           {"slug", "is already used"},
	"products_category_id_fkey":                     {"category_id", "does not exist"},
	"product_variants_sku_key":                      {"%ssku", "is already used"},
	"product_variants_stock_check":                  {"%sstock", "must be zero or more"},
	"product_variants_price_cents_check":            {"%sprice_cents", "must be zero or more"},
	"product_variants_compare_at_price_cents_check": {"%scompare_at_price_cents", "must be zero or more"},
	"product_variants_cost_cents_check":             {"%scost_cents", "must be zero or more"},
}

// fieldError turns a violated unique, check or foreign key constraint that a user
// can fix into validator.Errors on its field; other errors pass unchanged.
func fieldError(err error, prefix string) error {
	if !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrCheck) && !errors.Is(err, store.ErrReferenced) {
		return err
	}
	f, ok := constraintFields[store.Constraint(err)]
	if !ok {
		return err
	}
	field := f[0]
	if len(field) > 2 && field[:2] == "%s" {
		field = prefix + field[2:]
	}
	return validator.Errors{field: f[1]}
}

// variantPrefix is the field prefix of variant i of a product's input, or "" for -1.
func variantPrefix(i int) string {
	if i < 0 {
		return ""
	}
	return fmt.Sprintf("variants[%d].", i)
}
