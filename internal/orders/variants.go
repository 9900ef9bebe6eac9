package orders

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Variant is a variant as an order form offers it: what it is, its price and stock.
type Variant struct {
	ID            int64
	SKU           string
	Title         string
	ProductName   string
	ProductStatus string
	PriceCents    int64
	Stock         int32
}

// MaxVariantResults is the most variants FindVariants returns.
const MaxVariantResults = 50

// FindVariants returns up to limit (at most MaxVariantResults) variants whose SKU
// or product name contains q, any case, in one statement: the picker of a form that
// places an order by hand. An empty q finds nothing.
func (o *Orders) FindVariants(ctx context.Context, q string, limit int) ([]Variant, error) {
	pattern, err := searchPattern(q)
	if err != nil || pattern == nil {
		return nil, err
	}
	limit = min(max(limit, 1), MaxVariantResults)
	var rows []db.SearchVariantsForOrderRow
	err = o.st.Read(ctx, func(qs *db.Queries) (err error) {
		rows, err = qs.SearchVariantsForOrder(ctx, db.SearchVariantsForOrderParams{Pattern: *pattern, RowLimit: int32(limit)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("find variants: %w", err)
	}
	out := make([]Variant, len(rows))
	for i, r := range rows {
		out[i] = variantOf(db.FindVariantsForOrderRow(r))
	}
	return out, nil
}

// VariantsByRef resolves what people type to name a variant on an order form: a
// SKU in any case, or a variant id. It returns the variants found, keyed by the
// reference as given (trimmed); a reference that names nothing is absent. A SKU wins
// over an id when a reference is both (a SKU may be all digits). One statement.
func (o *Orders) VariantsByRef(ctx context.Context, refs []string) (map[string]Variant, error) {
	if len(refs) > MaxLines {
		return nil, validator.Errors{"lines": fmt.Sprintf("at most %d lines", MaxLines)}
	}
	var skus []string
	var ids []int64
	for _, ref := range refs {
		ref = strings.TrimSpace(ref)
		if ref == "" {
			continue
		}
		skus = append(skus, strings.ToLower(ref))
		if id, err := strconv.ParseInt(ref, 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	out := map[string]Variant{}
	if len(skus) == 0 {
		return out, nil
	}
	var rows []db.FindVariantsForOrderRow
	err := o.st.Read(ctx, func(q *db.Queries) (err error) {
		rows, err = q.FindVariantsForOrder(ctx, db.FindVariantsForOrderParams{Skus: skus, Ids: ids})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("variants by reference: %w", err)
	}
	bySKU := map[string]Variant{}
	byID := map[int64]Variant{}
	for _, r := range rows {
		bySKU[strings.ToLower(r.Sku)] = variantOf(r)
		byID[r.ID] = variantOf(r)
	}
	for _, ref := range refs {
		ref = strings.TrimSpace(ref)
		if v, ok := bySKU[strings.ToLower(ref)]; ok {
			out[ref] = v
		} else if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
			if v, ok := byID[id]; ok {
				out[ref] = v
			}
		}
	}
	return out, nil
}

// OrdersByID returns the orders among ids that exist, newest first, in one
// statement: what a bulk action's confirmation lists. At most keyset.MaxLimit ids.
func (o *Orders) OrdersByID(ctx context.Context, ids []int64) ([]db.OrderListing, error) {
	if len(ids) > keyset.MaxLimit {
		return nil, validator.Errors{"ids": fmt.Sprintf("at most %d orders at once", keyset.MaxLimit)}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []db.OrderListing
	err := o.st.Replica(ctx, func(q *db.Queries) (err error) {
		rows, err = q.ListOrdersByPlacedDesc(ctx, db.ListOrdersByPlacedDescParams{Ids: ids, RowLimit: int32(len(ids))})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("orders by id: %w", err)
	}
	return rows, nil
}

// variantOf is a variant row of either variant query (they select the same columns).
func variantOf(r db.FindVariantsForOrderRow) Variant {
	return Variant{ID: r.ID, SKU: r.Sku, Title: r.Title, ProductName: r.ProductName, ProductStatus: r.ProductStatus,
		PriceCents: r.PriceCents, Stock: r.Stock}
}
