package catalog

import (
	"context"
	"fmt"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Variant returns variant id of product productID; a variant of another product is
// store.ErrNotFound, like a missing one.
func (c *Catalog) Variant(ctx context.Context, productID, id int64) (db.ProductVariant, error) {
	var v db.ProductVariant
	err := c.st.Read(ctx, func(q *db.Queries) (err error) {
		v, err = q.GetVariant(ctx, id)
		return err
	})
	if err == nil && v.ProductID != productID {
		err = store.ErrNotFound
	}
	if err != nil {
		return db.ProductVariant{}, fmt.Errorf("variant %d of product %d: %w", id, productID, err)
	}
	return v, nil
}

// AddVariant adds a variant after product productID's last one. Field errors name
// the variant's fields without a prefix ("sku").
func (c *Catalog) AddVariant(ctx context.Context, actor audit.Actor, productID int64, in VariantInput) (db.ProductVariant, error) {
	in = in.normalize()
	if errs := in.Validate(); errs != nil {
		return db.ProductVariant{}, errs
	}
	var v db.ProductVariant
	err := c.st.InTx(ctx, func(q *db.Queries) error {
		p, err := q.LockProduct(ctx, productID)
		if err != nil {
			return err
		}
		if p.VariantCount >= MaxVariants {
			return validator.Errors{"variants": fmt.Sprintf("at most %d variants", MaxVariants)}
		}
		if v, err = q.CreateVariant(ctx, createVariantParams(productID, in, int(p.VariantCount))); err != nil {
			return err
		}
		return variantWritten(ctx, q, actor, p.ID, v.Sku, audit.Diff(nil, variantSnapshot(VariantInputOf(v), int(v.Position))), "")
	})
	if err != nil {
		return db.ProductVariant{}, fieldError(fmt.Errorf("add variant to product %d: %w", productID, err), "")
	}
	return v, nil
}

// UpdateVariant stores in over variant before, the variant as the caller read it
// (the API's variant PATCH applies its fields to VariantInputOf(before)), if it is
// still at before's version: a newer one is store.ErrStale, a deleted one
// store.ErrNotFound. The version check is the update's own condition, so the write
// reads nothing again: what changed is before against in. Stock or a price below
// zero is a field error ("stock").
func (c *Catalog) UpdateVariant(ctx context.Context, actor audit.Actor, before db.ProductVariant, in VariantInput) (db.ProductVariant, error) {
	in = in.normalize()
	if errs := in.Validate(); errs != nil {
		return db.ProductVariant{}, errs
	}
	changes := audit.Diff(variantSnapshot(VariantInputOf(before), int(before.Position)), variantSnapshot(in, int(before.Position)))
	if len(changes) == 0 {
		return before, nil
	}
	var v db.ProductVariant
	err := c.st.InTx(ctx, func(q *db.Queries) error {
		var err error
		// The product's lock and the write in one statement (see the query).
		v, err = q.UpdateVariant(ctx, updateVariantParams(before.ProductID, before.ID, &before.Version, in, int(before.Position)))
		if store.IsNotFound(err) {
			// Gone, or changed since it was read: only the rare failure pays to tell.
			if _, err := q.GetVariant(ctx, before.ID); err != nil {
				return err
			}
			return fmt.Errorf("variant %d: %w", before.ID, store.ErrStale)
		}
		if err != nil {
			return err
		}
		return variantWritten(ctx, q, actor, before.ProductID, before.Sku, changes, "")
	})
	if err != nil {
		return db.ProductVariant{}, fieldError(fmt.Errorf("update variant %d: %w", before.ID, err), "")
	}
	return v, nil
}

// DeleteVariant deletes variant id of product productID if it is at version (0:
// whatever its version). A product keeps at least one variant: deleting the last is
// a field error on "variants".
func (c *Catalog) DeleteVariant(ctx context.Context, actor audit.Actor, productID, id int64, version int32) error {
	err := c.st.InTx(ctx, func(q *db.Queries) error {
		p, err := q.LockProduct(ctx, productID)
		if err != nil {
			return err
		}
		before, err := q.GetVariant(ctx, id)
		if err != nil {
			return err
		}
		switch {
		case before.ProductID != productID:
			return store.ErrNotFound
		case version != 0 && before.Version != version:
			return fmt.Errorf("variant %d: %w", id, store.ErrStale)
		case p.VariantCount <= 1:
			return validator.Errors{"variants": "a product needs at least one variant: delete the product instead"}
		}
		if _, err := q.DeleteVariant(ctx, db.DeleteVariantParams{ID: id, ProductID: productID}); err != nil {
			return err
		}
		return variantWritten(ctx, q, actor, p.ID, before.Sku, audit.Diff(variantSnapshot(VariantInputOf(before), int(before.Position)), nil), "")
	})
	if err != nil {
		return fmt.Errorf("delete variant %d: %w", id, err)
	}
	return nil
}

// AdjustStock adds delta (negative to take away) to variant id's stock, as one
// conditional update: concurrent adjustments queue on the row and each sees the
// stock the one before left, so stock never goes below zero and exactly the
// available units can be taken. Going below zero is a field error on "stock" that
// says how many there are. reason goes into the audit row's note.
func (c *Catalog) AdjustStock(ctx context.Context, actor audit.Actor, id int64, delta int64, reason string) (db.ProductVariant, error) {
	switch {
	case delta == 0:
		return db.ProductVariant{}, validator.Errors{"delta": "must not be zero"}
	case delta < -MaxStock || delta > MaxStock:
		return db.ProductVariant{}, validator.Errors{"delta": fmt.Sprintf("must be from %d to %d", -MaxStock, MaxStock)}
	}
	var v db.ProductVariant
	err := c.st.InTx(ctx, func(q *db.Queries) error {
		p, err := q.LockProductOfVariant(ctx, id)
		if err != nil {
			return err
		}
		v, err = q.AdjustVariantStock(ctx, db.AdjustVariantStockParams{ID: id, Delta: int32(delta)})
		if store.IsNotFound(err) {
			// The variant exists (its product was found): the stock is short.
			current, err := q.GetVariant(ctx, id)
			if err != nil {
				return err
			}
			return validator.Errors{"stock": fmt.Sprintf("cannot go below zero: %d in stock", current.Stock)}
		}
		if err != nil {
			return err
		}
		before := int64(v.Stock) - delta
		return variantWritten(ctx, q, actor, p.ID, v.Sku,
			audit.Changes{"stock": {before, int64(v.Stock)}}, reason)
	})
	if err != nil {
		return db.ProductVariant{}, fmt.Errorf("adjust stock of variant %d: %w", id, err)
	}
	return v, nil
}

// variantWritten finishes every single-variant write of product productID, whose
// lock the transaction holds: the product's summary again, and an audit row on the
// product (named as the refresh returns it) naming the variant by its SKU.
func variantWritten(ctx context.Context, q *db.Queries, actor audit.Actor, productID int64, sku string, changes audit.Changes, note string) error {
	p, err := q.RefreshProductSummary(ctx, productID)
	if err != nil {
		return err
	}
	all := audit.Changes{}
	all.Merge("variants["+sku+"].", changes)
	typ := "" // product.updated
	if _, ok := changes["stock"]; ok && len(changes) == 1 {
		typ = audit.TypeStockChanged
	}
	return audit.Append(ctx, q, actor, audit.Event{
		Action: audit.ActionUpdate, Resource: ResourceProducts, ObjectID: p.ID, Repr: p.Name, Changes: all, Note: note,
		Type: typ,
	})
}
