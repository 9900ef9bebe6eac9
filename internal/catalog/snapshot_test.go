package catalog_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
)

// An export is one snapshot: products deleted, added and renamed while it streams
// (after its first batch) are in the file as they were when it began, none missed,
// none twice.
func TestExportProductsIsOneSnapshot(t *testing.T) {
	e := seeded(t, 2*keyset.ExportBatch+100)
	ctx := context.Background()
	want := e.oracle(t, "true", "lower(name), id")
	late := want[len(want)-1] // in the last batch
	var lateName string
	if err := e.st.Pool().QueryRow(ctx, "SELECT name FROM products WHERE id = $1", late).Scan(&lateName); err != nil {
		t.Fatal(err)
	}
	var got []int64
	names := map[int64]string{}
	err := e.cat.ExportProducts(ctx, catalog.ListParams{Sort: catalog.Sort{Key: catalog.SortName}}, func(rows []db.ProductListing) error {
		if len(got) == 0 { // while the export streams, others write
			for _, sql := range []string{
				fmt.Sprintf("UPDATE products SET name = 'zz renamed' WHERE id = %d", late),
				fmt.Sprintf("DELETE FROM products WHERE id = %d", want[len(want)-2]),
				"INSERT INTO products (name, slug, status) VALUES ('zzz added', 'zzz-added', 'draft')",
			} {
				if _, err := e.st.Pool().Exec(ctx, sql); err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
			}
		}
		for _, r := range rows {
			got = append(got, r.ID)
			names[r.ID] = r.Name
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("export has %d rows, want the %d there were when it began (first differences: %v)",
			len(got), len(want), firstDiff(got, want))
	}
	if names[late] != lateName {
		t.Errorf("product %d exported as %q, want %q, its name when the export began", late, names[late], lateName)
	}
}

func firstDiff(got, want []int64) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("at %d: %d, want %d", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(got), len(want))
}
