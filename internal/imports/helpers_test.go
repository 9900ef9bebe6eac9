package imports_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/imports"
	"github.com/stockroom-dev/stockroom/internal/store"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// editor is the actor of the tests' changes.
var editor = audit.Actor{UserID: 7, Label: "editor@example.com"}

// exportHeader is the product export's header (admin's csvHeader) in EUR.
const exportHeader = "id,name,slug,status,category,sku,variants,price_min (EUR),price_max (EUR),stock,updated_at"

type env struct {
	st  *store.Store
	cat *catalog.Catalog
	imp *imports.Service
}

func newEnv(t testing.TB) *env {
	t.Helper()
	st := store.New(dbtest.New(t))
	return &env{st: st, cat: catalog.New(st, catalog.Config{MediaDir: t.TempDir(), LowStock: 5}),
		imp: imports.New(st, imports.Config{Currency: "EUR"}, nil)}
}

// fixture is the catalog the tests import into: a one-variant chair, a two-variant
// table, a category.
type fixture struct {
	furniture     int64
	chair, table  *catalog.Product
	chairVariant  db.ProductVariant
	tableVariants []db.ProductVariant
}

func (e *env) fixture(t testing.TB) fixture {
	t.Helper()
	ctx := context.Background()
	cat, err := e.cat.CreateCategory(ctx, editor, catalog.CategoryInput{Name: "Furniture"})
	if err != nil {
		t.Fatal(err)
	}
	chair, err := e.cat.CreateProduct(ctx, editor, catalog.ProductInput{Name: "Oak chair", Slug: "oak-chair",
		Status: "active", CategoryID: &cat.ID, Variants: []catalog.VariantInput{{SKU: "CH-1", PriceCents: 1250, Stock: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	table, err := e.cat.CreateProduct(ctx, editor, catalog.ProductInput{Name: "Pine table", Slug: "pine-table",
		Status: "draft", Variants: []catalog.VariantInput{{SKU: "TB-1", PriceCents: 9900, Stock: 2}, {SKU: "TB-2", PriceCents: 10900, Stock: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{furniture: cat.ID, chair: chair, table: table, chairVariant: chair.Variants[0], tableVariants: table.Variants}
}

// exportRows are the fixture's rows as the export writes them.
func (f fixture) exportRows() []string {
	return []string{
		fmt.Sprintf("%d,Oak chair,oak-chair,active,Furniture,CH-1,1,12.50,12.50,5,2026-12-01T10:00:00Z", f.chair.ID),
		fmt.Sprintf("%d,Pine table,pine-table,draft,,TB-1,2,99.00,109.00,5,2026-12-01T10:00:00Z", f.table.ID),
	}
}

// plan uploads file and plans it.
func (e *env) plan(t testing.TB, file string) db.Import {
	t.Helper()
	ctx := context.Background()
	imp, err := e.imp.Create(ctx, imports.Upload{FileName: "test.csv", Data: []byte(file), Actor: editor, CanCreate: true})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	imp, err = e.imp.Plan(ctx, imp.ID)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	return imp
}

func (e *env) errors(t testing.TB, id int64) []db.ImportError {
	t.Helper()
	errs, err := e.imp.Errors(context.Background(), id, 0, 5000)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

func (e *env) changes(t testing.TB, id int64) []db.ImportChange {
	t.Helper()
	ch, err := e.imp.Changes(context.Background(), id, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// snapshot is the catalog's state as text: products, variants and the audit
// count, to show that something wrote nothing.
func (e *env) snapshot(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	ctx := context.Background()
	rows, err := e.st.Pool().Query(ctx, `SELECT p.id, p.name, p.slug, p.status, coalesce(p.category_id, 0), p.version,
		v.sku, v.price_cents, v.stock, v.version
		FROM products p JOIN product_variants v ON v.product_id = p.id ORDER BY v.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, cat, price int64
		var name, slug, status, sku string
		var pv, stock, vv int32
		if err := rows.Scan(&id, &name, &slug, &status, &cat, &pv, &sku, &price, &stock, &vv); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%d %q %s %s %d v%d | %s %d %d v%d\n", id, name, slug, status, cat, pv, sku, price, stock, vv)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var audits int
	if err := e.st.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE resource <> 'imports'`).Scan(&audits); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "audit rows: %d\n", audits)
	return b.String()
}

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }
