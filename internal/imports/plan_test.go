package imports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/imports"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// TestBadFile: a file that is not usable as a whole is refused at upload with a
// message on "file" that names the problem (and the column, for the header), and
// nothing is stored.
func TestBadFile(t *testing.T) {
	e := newEnv(t)
	e.fixture(t)
	before := e.snapshot(t)
	big := bytes.Repeat([]byte("CH-1,5\n"), 60<<20/7+1)
	tests := []struct {
		name, file, want string
	}{
		{"empty", "", "is empty"},
		{"zip (an xlsx)", "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "is a zip archive"},
		{"binary", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00\x90\x91h6", "is binary data"},
		{"60 MiB", "sku,stock\n" + string(big), "is 60.0 MiB; the limit is 50 MiB"},
		{"no sku column", "name,stock\nOak,4\n", `the required column "sku" is missing`},
		{"unknown column", "sku,stock,colour\nCH-1,4,red\n", `column 3 "colour" is not a column of the product export`},
		{"column twice", "sku,stock,Stock\nCH-1,4,4\n", `column 3 "Stock" repeats column 2`},
		{"prices in another currency", "sku,price_min (USD)\nCH-1,4\n", `column 2 "price_min (USD)" is in USD, but this shop's prices are in EUR`},
		{"header not UTF-8", "sku,st\xf6ck\nCH-1,4\n", "row 1 (the header), column 2: is not UTF-8"},
		{"header only quote", "sku,\"stock\n", "row 1 (the header)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.imp.Create(context.Background(), imports.Upload{FileName: "f.csv", Data: []byte(tt.file), Actor: editor})
			var ve validator.Errors
			if !errors.As(err, &ve) {
				t.Fatalf("Create = %v, want validator.Errors", err)
			}
			if !strings.Contains(ve["file"], tt.want) {
				t.Errorf("file error = %q, want it to contain %q", ve["file"], tt.want)
			}
		})
	}
	var n int
	if err := e.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM imports`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d imports stored, want none", n)
	}
	if after := e.snapshot(t); after != before {
		t.Errorf("catalog changed:\n%s\nwant\n%s", after, before)
	}
}

// TestBadRows: every kind of bad row is reported with its row and column, the cell
// as typed and a message that says what to do; the import cannot be confirmed and
// nothing is written.
func TestBadRows(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	before := e.snapshot(t)
	tests := []struct {
		name     string
		file     string
		row      int32
		col      string
		cell     string
		contains string
	}{
		{"Latin-1 bytes", lines("sku,name", "CH-1,Caf\xe9 chair"), 2, "name", `Caf\xE9 chair`, "is not UTF-8 text"},
		{"duplicate SKU, other case", lines("sku,stock", "CH-1,4", "ch-1,5"), 3, "sku", "ch-1", "is also on row 2"},
		{"quote left open", lines("sku,name", "CH-1,\"Oak chair", "TB-1,Table"), 2, "name", "", "a quoted cell is not closed"},
		{"bare quote", lines("sku,name", `CH-1,Oak "chair"`), 2, "name", "", "a cell has a quote but is not in quotes"},
		{"too many fields", lines("sku,stock", "CH-1,4,9"), 2, "", "", "has 3 cells, but the header has 2 columns"},
		{"too few fields", lines("sku,stock,name", "CH-1,4"), 2, "", "", "has 2 cells, but the header has 3 columns"},
		{"negative stock", lines("sku,stock", "CH-1,-3"), 2, "stock", "-3", "must be zero or more"},
		{"stock not a number", lines("sku,stock", "CH-1,4 pcs"), 2, "stock", "4 pcs", "must be a whole number"},
		{"price with a thousands comma", lines("sku,price_min (EUR)", "CH-1,\"1,250.00\""), 2, "price_min (EUR)", "1,250.00", "is not an amount"},
		{"price with a decimal comma", lines("sku;price_min (EUR)", "CH-1;12,50"), 2, "price_min (EUR)", "12,50", "is not an amount"},
		{"price with a currency sign", lines("sku,price_max (EUR)", "CH-1,€12.50"), 2, "price_max (EUR)", "€12.50", "without thousands separators, spaces or a currency sign"},
		{"negative price", lines("sku,price_min (EUR)", "CH-1,-1.00"), 2, "price_min (EUR)", "-1.00", "must be zero or more"},
		{"NUL byte", lines("sku,name", "CH-1,Oak\x00chair"), 2, "name", `Oak\x00chair`, "contains a NUL byte"},
		{"empty name", lines("sku,name", "CH-1,  "), 2, "name", "  ", "is required"},
		{"bad status", lines("sku,status", "CH-1,published"), 2, "status", "published", "must be one of draft, active, archived"},
		{"bad slug", lines("sku,slug", "CH-1,Oak Chair"), 2, "slug", "Oak Chair", "must be lowercase letters"},
		{"unknown category", lines("sku,category", "CH-1,Garden"), 2, "category", "Garden", "no category has this name"},
		{"empty SKU", lines("sku,stock", ",4"), 2, "sku", "", "is required"},
		{"SKU with a space", lines("sku,name,price_min (EUR)", "NEW 1,New,1.00"), 2, "sku", "NEW 1", "must not contain spaces"},
		{"id of another product", lines("id,sku,stock", fmt.Sprintf("%d,CH-1,4", f.table.ID)), 2, "id", fmt.Sprint(f.table.ID), "is not the product with SKU CH-1"},
		{"id with an unknown SKU", lines("id,sku,stock", fmt.Sprintf("%d,CH-9,4", f.chair.ID)), 2, "id", fmt.Sprint(f.chair.ID), "no product has SKU CH-9"},
		{"summary of several variants changed", lines(exportHeader, f.exportRows()[1][:strings.LastIndex(f.exportRows()[1][:len(f.exportRows()[1])-21], ",")]+",9,2026-12-01T10:00:00Z"),
			2, "stock", "9", "this product has 2 variants"},
		{"two prices for one variant", lines("sku,price_min (EUR),price_max (EUR)", "CH-1,13.00,14.00"), 2, "price_max (EUR)", "14.00", "differs from price_min (EUR)"},
		{"new product without a price", lines("sku,name", "NEW-1,New chair"), 2, "price_min", "", "is required to create a product"},
		{"new product without a name", lines("sku,price_min (EUR)", "NEW-1,3.00"), 2, "", "", `the file has no "name" column`},
		{"new product on a taken slug", lines("sku,name,slug,price_min (EUR)", "NEW-1,Chair,oak-chair,3.00"), 2, "slug", "oak-chair", "is already used by product"},
		{"name too long", lines("sku,name", "CH-1,"+strings.Repeat("x", 201)), 2, "name", strings.Repeat("x", 200) + "…", "must be at most 200 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			imp := e.plan(t, tt.file)
			if imp.Status != imports.StatusPlanned || imp.ErrorRows == 0 {
				t.Fatalf("status %s with %d error rows, want planned with errors", imp.Status, imp.ErrorRows)
			}
			errs := e.errors(t, imp.ID)
			found := false
			for _, re := range errs {
				if re.RowNumber == tt.row && re.Col == tt.col && strings.Contains(re.Message, tt.contains) {
					found = true
					if re.Cell != tt.cell {
						t.Errorf("cell = %q, want %q", re.Cell, tt.cell)
					}
				}
			}
			if !found {
				t.Errorf("errors = %+v, want one on row %d column %q containing %q", errs, tt.row, tt.col, tt.contains)
			}
			if _, err := e.imp.Confirm(context.Background(), imp.ID); !errors.Is(err, imports.ErrNotConfirmable) {
				t.Errorf("Confirm = %v, want ErrNotConfirmable", err)
			}
		})
	}
	if after := e.snapshot(t); after != before {
		t.Errorf("catalog changed:\n%s\nwant\n%s", after, before)
	}
}

// TestErrorsCapped: a file of nothing but bad rows keeps the first MaxKeptErrors
// and says how many there were.
func TestErrorsCapped(t *testing.T) {
	e := newEnv(t)
	var b strings.Builder
	b.WriteString("sku,stock\n")
	const n = imports.MaxKeptErrors + 1500
	for i := range n {
		fmt.Fprintf(&b, "S-%d,-1\n", i)
	}
	imp := e.plan(t, b.String())
	if imp.ErrorRows != n || imp.ErrorsTotal < n || !imp.ErrorsCapped {
		t.Errorf("error rows %d, errors %d, capped %v; want %d rows, at least %d errors, capped", imp.ErrorRows, imp.ErrorsTotal, imp.ErrorsCapped, n, n)
	}
	if got := len(e.errors(t, imp.ID)); got != imports.MaxKeptErrors {
		t.Errorf("%d errors kept, want %d", got, imports.MaxKeptErrors)
	}
}

// TestPlan: an edited export plans exactly its edits, with old and new values, the
// unchanged rows counted; a BOM, semicolons and a defused formula are read back.
func TestPlan(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	before := e.snapshot(t)
	rows := f.exportRows()
	file := "\ufeff" + strings.ReplaceAll(lines(exportHeader, strings.Replace(rows[0], ",12.50,12.50,5,", ",13.00,12.50,7,", 1), rows[1],
		"-,New lamp,new-lamp,active,Furniture,LA-1,1,20.00,20.00,3,",
		"-,New lamp,new-lamp,active,Furniture,LA-2,1,25.00,25.00,1,"), ",", ";")
	file = strings.ReplaceAll(file, "-;New lamp", ";New lamp")
	imp := e.plan(t, file)
	if errs := e.errors(t, imp.ID); len(errs) > 0 {
		t.Fatalf("errors: %+v", errs)
	}
	if imp.ToCreate != 2 || imp.ToUpdate != 1 || imp.Unchanged != 1 || imp.ErrorRows != 0 {
		t.Errorf("counts create %d update %d unchanged %d errors %d, want 2 1 1 0", imp.ToCreate, imp.ToUpdate, imp.Unchanged, imp.ErrorRows)
	}
	ch := e.changes(t, imp.ID)
	if len(ch) != 3 {
		t.Fatalf("%d changes, want 3: %+v", len(ch), ch)
	}
	if got, want := compact(t, ch[0].Changes), `{"price_cents":[1250,1300],"stock":[5,7]}`; got != want {
		t.Errorf("chair changes = %s, want %s", got, want)
	}
	if ch[1].GroupKey != ch[2].GroupKey || ch[1].Kind != imports.KindCreate {
		t.Errorf("the lamp's rows are not one new product: %+v", ch[1:])
	}
	var fields map[string]any
	if err := json.Unmarshal(ch[2].Fields, &fields); err != nil {
		t.Fatal(err)
	}
	if fields["position"] != float64(1) || fields["category_id"] != float64(f.furniture) {
		t.Errorf("second lamp variant fields = %v, want position 1 in Furniture", fields)
	}
	if after := e.snapshot(t); after != before {
		t.Errorf("the plan wrote to the catalog:\n%s\nwant\n%s", after, before)
	}

	// A formula is text: read back without the export's apostrophe, never evaluated.
	imp = e.plan(t, lines("sku,name", `CH-1,"'=HYPERLINK(""http://x"")"`, `TB-1,=1+1`))
	ch = e.changes(t, imp.ID)
	if len(ch) != 2 || !strings.Contains(string(ch[0].Changes), `"=HYPERLINK(\"http://x\")"`) || !strings.Contains(string(ch[1].Changes), `"=1+1"`) {
		t.Errorf("formula changes = %+v", ch)
	}

	// The warehouse's file: two columns, any variant.
	imp = e.plan(t, lines("SKU,Stock", "tb-2,0", "ch-1,5"))
	ch = e.changes(t, imp.ID)
	if imp.ToUpdate != 1 || imp.Unchanged != 1 || len(ch) != 1 || ch[0].Sku != "TB-2" || compact(t, ch[0].Changes) != `{"stock":[3,0]}` {
		t.Errorf("stock file: update %d unchanged %d changes %+v", imp.ToUpdate, imp.Unchanged, ch)
	}
}

// compact is JSON without spaces, keys sorted (as encoding/json writes a map).
func compact(t testing.TB, raw []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
