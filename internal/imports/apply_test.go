package imports_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/imports"
	"github.com/stockroom-dev/stockroom/internal/money"
)

// products adds n one-variant products straight in SQL (SKU-1 .. SKU-n, price
// 10.00 + id cents, stock 10), for tests that need many.
func (e *env) products(t testing.TB, n int) {
	t.Helper()
	ctx := context.Background()
	_, err := e.st.Pool().Exec(ctx, `
		WITH p AS (INSERT INTO products (name, slug, status)
		           SELECT 'Product ' || g, 'product-' || g, 'active' FROM generate_series(1, $1::int) g
		           RETURNING id, slug)
		INSERT INTO product_variants (product_id, sku, price_cents, stock)
		SELECT id, 'SKU-' || substr(slug, 9), 1000 + id, 10 FROM p`, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Pool().Exec(ctx, `UPDATE products p SET price_min_cents = v.price_cents, price_max_cents = v.price_cents,
		stock_total = v.stock, variant_count = 1, first_sku = v.sku, skus = v.sku
		FROM product_variants v WHERE v.product_id = p.id`); err != nil {
		t.Fatal(err)
	}
}

// export writes every product as the admin's export does (same columns, same
// cells), through edit, which may change a row's cells (by column index).
func (e *env) export(t testing.TB, edit func(row []string)) string {
	t.Helper()
	rows, err := e.st.Pool().Query(context.Background(), `SELECT id, name, slug, status, category_name, first_sku,
		variant_count, price_min_cents, price_max_cents, stock_total, updated_at FROM product_listings ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(strings.Split(exportHeader, ","))
	for rows.Next() {
		var id, lo, hi, stock int64
		var count int32
		var name, slug, status, cat, sku string
		var at time.Time
		if err := rows.Scan(&id, &name, &slug, &status, &cat, &sku, &count, &lo, &hi, &stock, &at); err != nil {
			t.Fatal(err)
		}
		row := []string{strconv.FormatInt(id, 10), name, slug, status, cat, sku, strconv.Itoa(int(count)),
			money.Plain(lo, 2), money.Plain(hi, 2), strconv.FormatInt(stock, 10), at.UTC().Format(time.RFC3339)}
		if edit != nil {
			edit(row)
		}
		_ = w.Write(row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	return b.String()
}

// importFile plans file, confirms it and runs it to the end.
func (e *env) importFile(t testing.TB, file string) db.Import {
	t.Helper()
	imp := e.plan(t, file)
	return e.confirmAndRun(t, imp.ID)
}

func (e *env) confirmAndRun(t testing.TB, id int64) db.Import {
	t.Helper()
	ctx := context.Background()
	if _, err := e.imp.Confirm(ctx, id); err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	imp, err := e.imp.Run(ctx, id)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return imp
}

func (e *env) count(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.st.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRoundTrip is the first acceptance check: export 10,000 products,
// change 500 prices and 500 stocks, import: the preview shows exactly those 1,000
// changes; the apply changes exactly those, each with an audit row and an event;
// the same file again changes nothing.
func TestRoundTrip(t *testing.T) {
	e := newEnv(t)
	const n = 10000
	e.products(t, n)
	before := e.snapshot(t)
	file := e.export(t, func(row []string) {
		id, _ := strconv.Atoi(row[0])
		switch {
		case id%20 == 0: // 500 prices
			row[7], row[8] = "99.95", "99.95"
		case id%20 == 1: // 500 stocks
			row[9] = "42"
		}
	})
	imp := e.plan(t, file)
	if imp.ToUpdate != 1000 || imp.Unchanged != n-1000 || imp.ToCreate != 0 || imp.ErrorRows != 0 {
		t.Fatalf("preview: update %d unchanged %d create %d errors %d; want 1000, %d, 0, 0", imp.ToUpdate, imp.Unchanged, imp.ToCreate, imp.ErrorRows, n-1000)
	}
	for _, c := range e.changes(t, imp.ID) {
		id := *c.ProductID
		want := `{"stock":[10,42]}`
		if id%20 == 0 {
			want = fmt.Sprintf(`{"price_cents":[%d,9995]}`, 1000+id)
		}
		if got := compact(t, c.Changes); got != want {
			t.Fatalf("product %d: change %s, want %s", id, got, want)
		}
	}
	if after := e.snapshot(t); after != before {
		t.Fatal("the preview wrote to the catalog")
	}

	imp = e.confirmAndRun(t, imp.ID)
	if imp.Status != imports.StatusApplied || imp.Applied != 1000 || imp.Conflicts != 0 || imp.Failed != 0 || imp.RowsDone != 1000 {
		t.Fatalf("apply: %s applied %d conflicts %d failed %d done %d", imp.Status, imp.Applied, imp.Conflicts, imp.Failed, imp.RowsDone)
	}
	if got := e.count(t, `SELECT count(*) FROM products p JOIN product_variants v ON v.product_id = p.id
		WHERE (v.price_cents <> 1000 + p.id OR v.stock <> 10)`); got != 1000 {
		t.Errorf("%d products changed, want 1000", got)
	}
	if got := e.count(t, `SELECT count(*) FROM products p JOIN product_variants v ON v.product_id = p.id
		WHERE CASE WHEN p.id % 20 = 0 THEN v.price_cents = 9995 AND v.stock = 10 AND p.price_min_cents = 9995
		           WHEN p.id % 20 = 1 THEN v.stock = 42 AND v.price_cents = 1000 + p.id AND p.stock_total = 42
		           ELSE v.price_cents = 1000 + p.id AND v.stock = 10 END`); got != n {
		t.Errorf("%d products as wanted, want all %d", got, n)
	}
	note := fmt.Sprintf("import %d (test.csv)", imp.ID)
	if got := e.count(t, `SELECT count(DISTINCT object_id) FROM audit_log WHERE note = $1 AND action = 'update'`, note); got != 1000 {
		t.Errorf("%d audit rows, want 1000", got)
	}
	if got := e.count(t, `SELECT count(*) FROM events e JOIN audit_log a ON a.id = e.audit_id WHERE a.note = $1`, note); got != 1000 {
		t.Errorf("%d events, want 1000", got)
	}
	if got := e.count(t, `SELECT count(*) FROM audit_log WHERE note = $1 AND changes ? ('variants[SKU-' || object_id || '].price_cents')`, note); got != 500 {
		t.Errorf("%d audit rows name the variant's price, want 500", got)
	}

	applied := e.snapshot(t)
	again := e.importFile(t, file)
	if again.ToUpdate != 0 || again.Unchanged != n || again.Applied != 0 || again.Status != imports.StatusApplied {
		t.Errorf("the same file again: update %d unchanged %d applied %d status %s", again.ToUpdate, again.Unchanged, again.Applied, again.Status)
	}
	if after := e.snapshot(t); after != applied {
		t.Error("the same file again changed the catalog")
	}
	if _, err := e.imp.Confirm(context.Background(), imp.ID); err == nil {
		t.Error("an applied import was confirmed again")
	}
}

// TestConflict is the fourth acceptance check: a product saved in the form between
// the preview and the apply is a conflict and stays as the form saved it; the rest
// of the file is applied.
func TestConflict(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	ctx := context.Background()
	imp := e.plan(t, lines("sku,stock,price_min (EUR)", "CH-1,9,13.00", "TB-1,8,"))
	in := catalog.InputOf(f.chair)
	in.Name = "Oak chair (form)" // the product's own field: its version, not the variant's, moves
	if _, err := e.cat.UpdateProduct(ctx, editor, f.chair.ID, f.chair.Version, in); err != nil {
		t.Fatal(err)
	}
	imp = e.confirmAndRun(t, imp.ID)
	if imp.Applied != 1 || imp.Conflicts != 1 || imp.Status != imports.StatusApplied {
		t.Errorf("applied %d conflicts %d status %s, want 1, 1, applied", imp.Applied, imp.Conflicts, imp.Status)
	}
	chair, err := e.cat.Product(ctx, f.chair.ID)
	if err != nil {
		t.Fatal(err)
	}
	if chair.Name != "Oak chair (form)" || chair.Variants[0].PriceCents != 1250 || chair.Variants[0].Stock != 5 {
		t.Errorf("chair = %q %d %d, want the form's save untouched", chair.Name, chair.Variants[0].PriceCents, chair.Variants[0].Stock)
	}
	ch := e.changes(t, imp.ID)
	if ch[0].Outcome != imports.OutcomeConflict || !strings.Contains(ch[0].Message, "changed since the preview") || ch[1].Outcome != imports.OutcomeApplied {
		t.Errorf("outcomes %+v", ch)
	}
	table, err := e.cat.Product(ctx, f.table.ID)
	if err != nil {
		t.Fatal(err)
	}
	if table.Variants[0].Stock != 8 || table.StockTotal != 11 {
		t.Errorf("table stock %d total %d, want 8 and 11", table.Variants[0].Stock, table.StockTotal)
	}
}

// TestCreate: unknown SKUs create products, rows with one slug become the variants
// of one product; a SKU taken since the preview fails that product alone.
func TestCreate(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	ctx := context.Background()
	imp := e.plan(t, lines("name,slug,status,category,sku,price_min (EUR),stock",
		"Lamp,lamp,active,Furniture,LA-1,20.00,3",
		"Lamp,lamp,active,Furniture,LA-2,25.00,1",
		"Stool,,draft,,ST-1,7.50,",
		"Bench,bench,,,BE-1,30.00,2"))
	if imp.ToCreate != 4 || imp.ErrorRows != 0 {
		t.Fatalf("create %d errors %d: %+v", imp.ToCreate, imp.ErrorRows, e.errors(t, imp.ID))
	}
	// Someone takes BE-1 meanwhile.
	if _, err := e.cat.CreateProduct(ctx, editor, catalog.ProductInput{Name: "Other bench",
		Variants: []catalog.VariantInput{{SKU: "be-1", PriceCents: 1}}}); err != nil {
		t.Fatal(err)
	}
	imp = e.confirmAndRun(t, imp.ID)
	if imp.Applied != 3 || imp.Failed != 1 || imp.Status != imports.StatusApplied {
		t.Errorf("applied %d failed %d status %s, want 3, 1, applied", imp.Applied, imp.Failed, imp.Status)
	}
	var lampID int64
	if err := e.st.Pool().QueryRow(ctx, `SELECT id FROM products WHERE slug = 'lamp'`).Scan(&lampID); err != nil {
		t.Fatal(err)
	}
	lamp, err := e.cat.Product(ctx, lampID)
	if err != nil {
		t.Fatal(err)
	}
	if lamp.Name != "Lamp" || lamp.Status != "active" || *lamp.CategoryID != f.furniture || len(lamp.Variants) != 2 ||
		lamp.PriceMinCents != 2000 || lamp.PriceMaxCents != 2500 || lamp.StockTotal != 4 || lamp.Variants[1].Sku != "LA-2" {
		t.Errorf("lamp = %+v", lamp)
	}
	if got := e.count(t, `SELECT count(*) FROM products WHERE slug = 'stool' AND status = 'draft' AND stock_total = 0 AND price_min_cents = 750`); got != 1 {
		t.Error("the stool was not created with a slug from its name")
	}
	if got := e.count(t, `SELECT count(*) FROM audit_log WHERE action = 'create' AND note LIKE 'import %'`); got != 2 {
		t.Errorf("%d create audit rows, want 2 (lamp, stool)", got)
	}
	ch := e.changes(t, imp.ID)
	if last := ch[len(ch)-1]; last.Outcome != imports.OutcomeFailed || !strings.Contains(last.Message, "SKU was taken") {
		t.Errorf("bench row: %+v", last)
	}
}

// TestResumeAndCancel is the fifth acceptance check at the level of the apply: an
// apply stopped after a batch (as by SIGKILL) resumes where it stopped, and the
// counts say exactly what was written; a cancelled apply keeps its whole batches.
func TestResumeAndCancel(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const n = 2*imports.ApplyBatch + 200
	e.products(t, n)
	stockFile := func(stock int) string {
		var b strings.Builder
		b.WriteString("sku,stock\n")
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "SKU-%d,%d\n", i, stock)
		}
		return b.String()
	}
	imp := e.plan(t, stockFile(7))
	if _, err := e.imp.Confirm(ctx, imp.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.imp.ApplyOneBatch(ctx, imp.ID); err != nil {
		t.Fatal(err)
	}
	// The process dies here.
	imp, err := e.imp.Get(ctx, imp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if imp.Status != imports.StatusApplying || imp.Applied != imports.ApplyBatch || imp.RowsDone != imports.ApplyBatch {
		t.Errorf("after one batch: %s applied %d done %d", imp.Status, imp.Applied, imp.RowsDone)
	}
	if got := e.count(t, `SELECT count(*) FROM products WHERE stock_total = 7`); got != imports.ApplyBatch {
		t.Errorf("%d products at the new stock, want %d", got, imports.ApplyBatch)
	}
	imp, err = e.imp.Run(ctx, imp.ID) // the restarted worker
	if err != nil {
		t.Fatal(err)
	}
	if imp.Status != imports.StatusApplied || imp.Applied != n {
		t.Errorf("resumed: %s applied %d, want applied %d", imp.Status, imp.Applied, n)
	}
	if got := e.count(t, `SELECT count(*) FROM products p JOIN product_variants v ON v.product_id = p.id WHERE v.stock = 7 AND p.stock_total = 7`); got != n {
		t.Errorf("%d products at the new stock, want %d", got, n)
	}
	if got := e.count(t, `SELECT count(*) FROM audit_log WHERE note = $1`, fmt.Sprintf("import %d (test.csv)", imp.ID)); got != n {
		t.Errorf("%d audit rows, want %d (one per product, none twice)", got, n)
	}

	imp = e.plan(t, stockFile(3))
	if _, err := e.imp.Confirm(ctx, imp.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.imp.ApplyOneBatch(ctx, imp.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.imp.Cancel(ctx, imp.ID); err != nil {
		t.Fatal(err)
	}
	imp, err = e.imp.Run(ctx, imp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if imp.Status != imports.StatusCancelled || imp.Applied != imports.ApplyBatch {
		t.Errorf("cancelled: %s applied %d, want cancelled with %d", imp.Status, imp.Applied, imports.ApplyBatch)
	}
	if got := e.count(t, `SELECT count(*) FROM products WHERE stock_total = 3`); got != imports.ApplyBatch {
		t.Errorf("%d products at the new stock, want %d", got, imports.ApplyBatch)
	}
	if _, err := e.imp.Cancel(ctx, imp.ID); err == nil {
		t.Error("a cancelled import was cancelled again")
	}

	// Cancelled before it started: nothing written.
	imp = e.plan(t, stockFile(1))
	if _, err := e.imp.Cancel(ctx, imp.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.imp.Confirm(ctx, imp.ID); err == nil {
		t.Error("a cancelled import was confirmed")
	}
	if got := e.count(t, `SELECT count(*) FROM products WHERE stock_total = 1`); got != 0 {
		t.Errorf("%d products changed by a cancelled import", got)
	}
}

// TestOneWorkerAtATime: while one worker holds an import (as a job River rescued
// while its first run still goes), a second Run leaves it alone.
func TestOneWorkerAtATime(t *testing.T) {
	e := newEnv(t)
	e.fixture(t)
	ctx := context.Background()
	imp := e.plan(t, lines("sku,stock", "CH-1,1"))
	if _, err := e.imp.Confirm(ctx, imp.ID); err != nil {
		t.Fatal(err)
	}
	ran, err := e.st.Exclusive(ctx, 17, int32(imp.ID), func() error {
		got, err := e.imp.Run(ctx, imp.ID)
		if err == nil && got.Status != imports.StatusPlanned {
			t.Errorf("a second worker ran the import: %s", got.Status)
		}
		return err
	})
	if !ran || err != nil {
		t.Fatalf("Exclusive: %v %v", ran, err)
	}
	if got, err := e.imp.Run(ctx, imp.ID); err != nil || got.Status != imports.StatusApplied {
		t.Errorf("after the lock: %s, %v", got.Status, err)
	}
}

// TestCancelWhilePlanning: an import cancelled while it is being planned ends
// cancelled, not planned, and cannot be confirmed.
func TestCancelWhilePlanning(t *testing.T) {
	e := newEnv(t)
	e.fixture(t)
	ctx := context.Background()
	imp, err := e.imp.Create(ctx, imports.Upload{FileName: "f.csv", Data: []byte(lines("sku,stock", "CH-1,2")), Actor: editor})
	if err != nil {
		t.Fatal(err)
	}
	// The planner has started (status planning) when the cancel comes.
	if _, err := e.st.Pool().Exec(ctx, `UPDATE imports SET status = 'planning' WHERE id = $1`, imp.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.imp.Cancel(ctx, imp.ID); err != nil {
		t.Fatal(err)
	}
	got, err := e.imp.Run(ctx, imp.ID)
	if err != nil || got.Status != imports.StatusCancelled {
		t.Errorf("Run = %s, %v; want cancelled", got.Status, err)
	}
	if _, err := e.imp.Confirm(ctx, imp.ID); err == nil {
		t.Error("a cancelled import was confirmed")
	}
}

// Each applied batch records the import's own event (import.progressed) in its
// transaction, with the counts the import's page shows, paired with its audit row.
func TestBatchRecordsProgressEvent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const n = imports.ApplyBatch + 10
	e.products(t, n)
	var b strings.Builder
	b.WriteString("sku,stock\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "SKU-%d,%d\n", i, 9)
	}
	imp := e.plan(t, b.String())
	if got := e.count(t, `SELECT count(*) FROM events WHERE type = 'import.progressed' AND resource = 'imports' AND object_id = $1 AND payload->'changes'->'status'->>1 = 'planned'`, imp.ID); got != 1 {
		t.Errorf("%d planned events, want 1", got)
	}
	if _, err := e.imp.Confirm(ctx, imp.ID); err != nil {
		t.Fatal(err)
	}
	var before int64
	if err := e.st.Pool().QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM events`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if _, err := e.imp.ApplyOneBatch(ctx, imp.ID); err != nil {
		t.Fatal(err)
	}
	var done, total, applied int64
	var status string
	err := e.st.Pool().QueryRow(ctx, `
		SELECT (e.payload->'changes'->'rows_done'->>1)::bigint, (e.payload->'changes'->'rows_total'->>1)::bigint,
		       (e.payload->'changes'->'applied'->>1)::bigint, e.payload->'changes'->'status'->>1
		FROM events e JOIN audit_log a ON a.id = e.audit_id AND a.resource = e.resource AND a.object_id = e.object_id
		WHERE e.id > $1 AND e.type = 'import.progressed' AND e.object_id = $2 ORDER BY e.id DESC LIMIT 1`,
		before, imp.ID).Scan(&done, &total, &applied, &status)
	if err != nil {
		t.Fatalf("no progress event after a batch: %v", err)
	}
	if status != imports.StatusApplying || done != imports.ApplyBatch || total != n || applied != imports.ApplyBatch {
		t.Errorf("progress event: %s %d of %d, %d applied; want applying %d of %d, %d applied", status, done, total, applied,
			imports.ApplyBatch, n, imports.ApplyBatch)
	}
	if got := e.count(t, `SELECT count(*) FROM events WHERE id > $1 AND type = 'import.progressed'`, before); got != 2 {
		t.Errorf("%d progress events (start, batch), want 2", got)
	}
	if imp, err := e.imp.Run(ctx, imp.ID); err != nil || imp.Status != imports.StatusApplied {
		t.Fatalf("Run = %s, %v", imp.Status, err)
	}
	if got := e.count(t, `SELECT count(*) FROM events WHERE type = 'import.progressed' AND object_id = $1 AND payload->'changes'->'status'->>1 = 'applied'`, imp.ID); got != 1 {
		t.Errorf("%d applied events, want 1", got)
	}
}
