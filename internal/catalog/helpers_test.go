package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// editor is the actor of the tests' changes.
var editor = audit.Actor{UserID: 7, Label: "editor@example.com"}

// env is a catalog on a database of its own, with a statement counter.
type env struct {
	cat        *catalog.Catalog
	st         *store.Store
	media      string
	statements *dbtest.Tally
}

func newEnv(t testing.TB) *env {
	t.Helper()
	n := &dbtest.Tally{}
	pool := dbtest.NewWithConfig(t, func(cfg *pgxpool.Config) {
		store.Tune(cfg)
		n.Install(cfg)
	})
	st := store.New(pool)
	media := t.TempDir()
	return &env{cat: catalog.New(st, catalog.Config{MediaDir: media, LowStock: 5}), st: st, media: media, statements: n}
}

// count runs fn and returns how many statements it sent.
func (e *env) count(fn func()) int64 { return e.statements.During(fn) }

// scalar runs a test-only query that returns one number.
func (e *env) scalar(t testing.TB, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.st.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// rows counts products, variants and audit rows: what a failed write must not add.
func (e *env) rows(t testing.TB) [3]int64 {
	t.Helper()
	return [3]int64{
		e.scalar(t, "SELECT count(*) FROM products"),
		e.scalar(t, "SELECT count(*) FROM product_variants"),
		e.scalar(t, "SELECT count(*) FROM audit_log"),
	}
}

// product is a valid input: one variant per SKU, priced 10.00 with 10 in stock.
func product(name string, skus ...string) catalog.ProductInput {
	in := catalog.ProductInput{Name: name, Status: catalog.StatusActive}
	for _, sku := range skus {
		in.Variants = append(in.Variants, catalog.VariantInput{SKU: sku, PriceCents: 1000, Stock: 10})
	}
	return in
}

func (e *env) create(t testing.TB, in catalog.ProductInput) *catalog.Product {
	t.Helper()
	p, err := e.cat.CreateProduct(context.Background(), editor, in)
	if err != nil {
		t.Fatalf("CreateProduct(%q): %v", in.Name, err)
	}
	return p
}

func (e *env) category(t testing.TB, name string, parent *int64) int64 {
	t.Helper()
	c, err := e.cat.CreateCategory(context.Background(), editor, catalog.CategoryInput{Name: name, ParentID: parent})
	if err != nil {
		t.Fatalf("CreateCategory(%q): %v", name, err)
	}
	return c.ID
}

// fieldErrors returns err's field messages, failing the test unless it is
// validator.Errors.
func fieldErrors(t testing.TB, err error) validator.Errors {
	t.Helper()
	var fe validator.Errors
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want validator.Errors", err)
	}
	return fe
}

func wantFields(t testing.TB, err error, want validator.Errors) {
	t.Helper()
	if got := fieldErrors(t, err); !maps.Equal(got, want) {
		t.Errorf("field errors = %v, want %v", got, want)
	}
}

func ptr[T any](v T) *T { return &v }

func skus(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("SKU-%03d", i)
	}
	return s
}
