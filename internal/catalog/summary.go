package catalog

import (
	"context"
	"slices"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// RefreshSummaries recomputes the summary columns (prices, stock total, variant
// count, first SKU) of the given products from their variants, through q: call it in
// the transaction that changed their variants, as every catalog write does, so that
// lists never disagree with the variants. Other packages that change variants (an
// order taking or returning stock) call it too. Products are refreshed in id order,
// the order their locks are taken in; a product that no longer exists is skipped.
func RefreshSummaries(ctx context.Context, q *db.Queries, productIDs []int64) error {
	ids := slices.Clone(productIDs)
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		if _, err := q.RefreshProductSummary(ctx, id); err != nil && !store.IsNotFound(err) {
			return err
		}
	}
	return nil
}
