package catalog_test

import (
	"bytes"
	"context"
	"errors"
	"image/color"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Every way a product can be refused gets a clear message on its field, and writes
// nothing: no product, no variant, no audit row.
func TestCreateProductRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	e.create(t, product("Taken", "TAKEN-1"))
	e.create(t, catalog.ProductInput{Name: "Slug owner", Slug: "taken-slug", Variants: product("", "OWNER-1").Variants})
	before := e.rows(t)
	with := func(edit func(*catalog.ProductInput)) catalog.ProductInput {
		in := product("Oak chair", "OAK-1", "OAK-2")
		edit(&in)
		return in
	}
	tests := []struct {
		name string
		in   catalog.ProductInput
		want validator.Errors
	}{
		{"empty name", with(func(in *catalog.ProductInput) { in.Name = "  " }), validator.Errors{"name": "is required"}},
		{"long name", with(func(in *catalog.ProductInput) { in.Name = strings.Repeat("x", 201) }),
			validator.Errors{"name": "must be at most 200 characters"}},
		{"bad slug", with(func(in *catalog.ProductInput) { in.Slug = "Not A Slug" }),
			validator.Errors{"slug": "must be lowercase letters, digits and single hyphens, at most 200 characters"}},
		{"slug taken", with(func(in *catalog.ProductInput) { in.Slug = "taken-slug" }), validator.Errors{"slug": "is already used"}},
		{"bad status", with(func(in *catalog.ProductInput) { in.Status = "sold" }),
			validator.Errors{"status": "must be one of draft, active, archived"}},
		{"unknown category", with(func(in *catalog.ProductInput) { in.CategoryID = ptr(int64(999)) }),
			validator.Errors{"category_id": "does not exist"}},
		{"no variants", with(func(in *catalog.ProductInput) { in.Variants = nil }),
			validator.Errors{"variants": "a product needs at least one variant"}},
		{"too many variants", product("Big", skus(101)...), validator.Errors{"variants": "at most 100 variants"}},
		{"negative price", with(func(in *catalog.ProductInput) { in.Variants[0].PriceCents = -1 }),
			validator.Errors{"variants[0].price_cents": "must be zero or more"}},
		{"negative compare-at price", with(func(in *catalog.ProductInput) { in.Variants[1].CompareAtPriceCents = ptr(int64(-5)) }),
			validator.Errors{"variants[1].compare_at_price_cents": "must be zero or more"}},
		{"negative cost", with(func(in *catalog.ProductInput) { in.Variants[0].CostCents = ptr(int64(-5)) }),
			validator.Errors{"variants[0].cost_cents": "must be zero or more"}},
		{"price too high", with(func(in *catalog.ProductInput) { in.Variants[0].PriceCents = catalog.MaxPriceCents + 1 }),
			validator.Errors{"variants[0].price_cents": "must be at most 100000000000"}},
		{"stock -1", with(func(in *catalog.ProductInput) { in.Variants[1].Stock = -1 }),
			validator.Errors{"variants[1].stock": "must be zero or more"}},
		{"stock beyond int32", with(func(in *catalog.ProductInput) { in.Variants[0].Stock = catalog.MaxStock + 1 }),
			validator.Errors{"variants[0].stock": "must be at most 2147483647"}},
		{"empty sku", with(func(in *catalog.ProductInput) { in.Variants[0].SKU = " " }),
			validator.Errors{"variants[0].sku": "is required"}},
		{"sku with a space", with(func(in *catalog.ProductInput) { in.Variants[0].SKU = "OAK 1" }),
			validator.Errors{"variants[0].sku": "must not contain spaces"}},
		{"duplicate sku in the input", with(func(in *catalog.ProductInput) { in.Variants[1].SKU = "oak-1" }),
			validator.Errors{"variants[1].sku": "is used twice in this product (also variant 1)"}},
		{"sku taken in the database, other case", with(func(in *catalog.ProductInput) { in.Variants[1].SKU = "taken-1" }),
			validator.Errors{"variants[1].sku": "is already used"}},
		{"too many options", with(func(in *catalog.ProductInput) {
			in.Variants[0].Options = map[string]string{"a": "", "b": "", "c": "", "d": "", "e": "", "f": "", "g": "", "h": "", "i": "", "j": "", "k": ""}
		}), validator.Errors{"variants[0].options": "at most 10 options"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.cat.CreateProduct(context.Background(), editor, tt.in)
			wantFields(t, err, tt.want)
			if after := e.rows(t); after != before {
				t.Errorf("rows (products, variants, audit) = %v after the refusal, want %v as before", after, before)
			}
		})
	}
}

// Text is stored exactly as typed: escaping is the renderer's job.
func TestCreateProductStoresMarkupAsTyped(t *testing.T) {
	e := newEnv(t)
	name := `<script>alert("x")</script>`
	p := e.create(t, product(name, "XSS-1"))
	got, err := e.cat.Product(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != name || got.Slug != "script-alert-x-script" {
		t.Errorf("stored name %q slug %q, want %q and script-alert-x-script", got.Name, got.Slug, name)
	}
}

func TestSlugify(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Oak Chair", "oak-chair"},
		{"  Crème brûlée -- deluxe!! ", "creme-brulee-deluxe"},
		{"Größe & Maß", "groesse-mass"},
		{"Łódź / Ærø", "lodz-aero"},
		{"2 × 4", "2-4"},
		{"★★★", ""},
		{strings.Repeat("ab ", 100), strings.TrimSuffix(strings.Repeat("ab-", 65), "-")}, // 194 characters: room for "-10000",
	}
	for _, tt := range tests {
		if got := catalog.Slugify(tt.in); got != tt.want {
			t.Errorf("Slugify(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A generated slug takes the first free suffix; a product keeps its own slug when
// it is saved again; a name with nothing to spell falls back to "product".
func TestGeneratedSlugsAreUnique(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var slugs []string
	for i, sku := range []string{"A", "B", "C"} {
		p := e.create(t, product("Oak Chair", sku))
		slugs = append(slugs, p.Slug)
		if i == 2 {
			in := catalog.InputOf(p)
			in.Slug = ""
			in.Description = "resaved"
			again, err := e.cat.UpdateProduct(ctx, editor, p.ID, p.Version, in)
			if err != nil {
				t.Fatal(err)
			}
			slugs = append(slugs, again.Slug)
		}
	}
	slugs = append(slugs, e.create(t, product("★", "D")).Slug)
	want := []string{"oak-chair", "oak-chair-2", "oak-chair-3", "oak-chair-3", "product"}
	if strings.Join(slugs, " ") != strings.Join(want, " ") {
		t.Errorf("slugs = %v, want %v", slugs, want)
	}
}

// Two saves from the same version: the first wins, the second gets a ConflictError
// carrying the stored product, and nothing of it is written.
func TestUpdateProductVersionConflict(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.create(t, product("Lamp", "LAMP-1"))
	mine, theirs := catalog.InputOf(p), catalog.InputOf(p)
	theirs.Name, theirs.Variants[0].PriceCents = "Brass lamp", 2500
	if _, err := e.cat.UpdateProduct(ctx, editor, p.ID, p.Version, theirs); err != nil {
		t.Fatalf("first save: %v", err)
	}
	mine.Description = "my text"
	audits := e.rows(t)[2]
	_, err := e.cat.UpdateProduct(ctx, editor, p.ID, p.Version, mine)
	var conflict *catalog.ConflictError
	if !errors.As(err, &conflict) || !errors.Is(err, store.ErrStale) {
		t.Fatalf("second save: err = %v, want a ConflictError wrapping ErrStale", err)
	}
	if conflict.Current.Name != "Brass lamp" || conflict.Current.Version != p.Version+1 || conflict.Current.Variants[0].PriceCents != 2500 {
		t.Errorf("conflict carries %q v%d price %d, want the first save's", conflict.Current.Name, conflict.Current.Version, conflict.Current.Variants[0].PriceCents)
	}
	diffs := catalog.Compare(conflict.Current, mine)
	want := []catalog.FieldDiff{
		{Field: "description", Stored: "", Yours: "my text"},
		{Field: "name", Stored: "Brass lamp", Yours: "Lamp"},
		{Field: "variants[LAMP-1].price_cents", Stored: "2500", Yours: "1000"},
	}
	if len(diffs) != len(want) {
		t.Fatalf("Compare = %v, want %v", diffs, want)
	}
	for i := range want {
		if diffs[i] != want[i] {
			t.Errorf("Compare[%d] = %v, want %v", i, diffs[i], want[i])
		}
	}
	if got := e.rows(t)[2]; got != audits {
		t.Errorf("audit rows = %d after the refused save, want %d", got, audits)
	}
	// Re-applied on the current version, the user's save goes through.
	mine.Variants[0].Version = conflict.Current.Variants[0].Version
	if _, err := e.cat.UpdateProduct(ctx, editor, p.ID, conflict.Current.Version, mine); err != nil {
		t.Errorf("re-applied save: %v", err)
	}
}

// A variant changed through the API since the form was read is a conflict too.
func TestUpdateProductStaleVariant(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.create(t, product("Mug", "MUG-1"))
	if _, err := e.cat.AdjustStock(ctx, editor, p.Variants[0].ID, -3, "sold"); err != nil {
		t.Fatal(err)
	}
	in := catalog.InputOf(p) // the variant's version as read before the sale
	in.Variants[0].Stock = 50
	_, err := e.cat.UpdateProduct(ctx, editor, p.ID, p.Version, in)
	var conflict *catalog.ConflictError
	if !errors.As(err, &conflict) || conflict.Current.Variants[0].Stock != 7 {
		t.Fatalf("err = %v, want a conflict showing stock 7", err)
	}
}

func TestUpdateProductRefusesForeignVariants(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.create(t, product("Stool", "STOOL-1"))
	other := e.create(t, product("Bench", "BENCH-1"))
	in := catalog.InputOf(p)
	in.Variants = append(in.Variants, catalog.InputOf(other).Variants[0])
	_, err := e.cat.UpdateProduct(ctx, editor, p.ID, p.Version, in)
	wantFields(t, err, validator.Errors{"variants[1].id": "is not a variant of this product"})
	in = catalog.InputOf(p)
	in.Variants = append(in.Variants, in.Variants[0])
	in.Variants[1].SKU = "STOOL-2"
	_, err = e.cat.UpdateProduct(ctx, editor, p.ID, p.Version, in)
	wantFields(t, err, validator.Errors{"variants[1].id": "is listed twice"})
	_, err = e.cat.AdjustStock(ctx, editor, p.Variants[0].ID, 0, "")
	wantFields(t, err, validator.Errors{"delta": "must not be zero"})
}

func TestUpdateProductMissing(t *testing.T) {
	e := newEnv(t)
	_, err := e.cat.UpdateProduct(context.Background(), editor, 404, 1, product("Ghost", "G-1"))
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

// Summaries follow every variant write: added, removed, changed, adjusted.
func TestSummariesFollowVariants(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := product("Vase", "VASE-S", "VASE-L")
	in.Variants[0].PriceCents, in.Variants[0].Stock = 500, 3
	in.Variants[1].PriceCents, in.Variants[1].Stock = 900, 4
	p := e.create(t, in)
	check := func(step string, min, max, stock int64, count int32, skus string) {
		t.Helper()
		got, err := e.cat.Product(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.PriceMinCents != min || got.PriceMaxCents != max || got.StockTotal != stock || got.VariantCount != count || got.Skus != skus {
			t.Errorf("%s: summary %d..%d stock %d count %d skus %q, want %d..%d stock %d count %d skus %q", step,
				got.PriceMinCents, got.PriceMaxCents, got.StockTotal, got.VariantCount, got.Skus, min, max, stock, count, skus)
		}
		p = got
	}
	check("create", 500, 900, 7, 2, "VASE-S VASE-L")

	edit := catalog.InputOf(p)
	edit.Variants = edit.Variants[1:] // remove VASE-S
	edit.Variants[0].PriceCents = 1200
	edit.Variants = append(edit.Variants, catalog.VariantInput{SKU: "VASE-XL", PriceCents: 300, Stock: 1})
	if _, err := e.cat.UpdateProduct(ctx, editor, p.ID, p.Version, edit); err != nil {
		t.Fatal(err)
	}
	check("update", 300, 1200, 5, 2, "VASE-L VASE-XL")

	added, err := e.cat.AddVariant(ctx, editor, p.ID, catalog.VariantInput{SKU: "VASE-XXL", PriceCents: 2000, Stock: 10})
	if err != nil {
		t.Fatal(err)
	}
	check("add variant", 300, 2000, 15, 3, "VASE-L VASE-XL VASE-XXL")

	v := catalog.VariantInputOf(added)
	v.PriceCents = 100
	if _, err := e.cat.UpdateVariant(ctx, editor, added, v); err != nil {
		t.Fatal(err)
	}
	check("update variant", 100, 1200, 15, 3, "VASE-L VASE-XL VASE-XXL")

	if _, err := e.cat.AdjustStock(ctx, editor, added.ID, -4, "inventory count"); err != nil {
		t.Fatal(err)
	}
	check("adjust stock", 100, 1200, 11, 3, "VASE-L VASE-XL VASE-XXL")

	if err := e.cat.DeleteVariant(ctx, editor, p.ID, added.ID, 0); err != nil {
		t.Fatal(err)
	}
	check("delete variant", 300, 1200, 5, 2, "VASE-L VASE-XL")
}

// UpdateVariant writes over the variant as it was read only if it is still at that
// version, refuses stock below zero as a field error, and tells a deleted variant
// from a changed one.
func TestUpdateVariant(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.create(t, product("Tray", "TRAY-1", "TRAY-2"))
	e.create(t, product("Other", "OTHER-1"))
	v := p.Variants[0]
	in := catalog.VariantInputOf(v)

	in.Stock = -1
	_, err := e.cat.UpdateVariant(ctx, editor, v, in)
	wantFields(t, err, validator.Errors{"stock": "must be zero or more"})

	in.Stock = 4
	updated, err := e.cat.UpdateVariant(ctx, editor, v, in)
	if err != nil || updated.Stock != 4 || updated.Version != v.Version+1 {
		t.Fatalf("UpdateVariant = %+v, %v; want stock 4 at version %d", updated, err, v.Version+1)
	}
	in.Stock = 5
	if _, err := e.cat.UpdateVariant(ctx, editor, v, in); !errors.Is(err, store.ErrStale) {
		t.Errorf("from the old version: err = %v, want ErrStale", err)
	}
	if got, err := e.cat.Variant(ctx, p.ID, v.ID); err != nil || got.Stock != 4 {
		t.Errorf("after the stale write: stock %d (%v), want 4", got.Stock, err)
	}
	if same, err := e.cat.UpdateVariant(ctx, editor, updated, catalog.VariantInputOf(updated)); err != nil || same.Version != updated.Version {
		t.Errorf("no change: version %d (%v), want %d unchanged", same.Version, err, updated.Version)
	}
	in = catalog.VariantInputOf(updated)
	in.SKU = "other-1"
	_, err = e.cat.UpdateVariant(ctx, editor, updated, in)
	wantFields(t, err, validator.Errors{"sku": "is already used"})

	second := p.Variants[1]
	if err := e.cat.DeleteVariant(ctx, editor, p.ID, second.ID, 0); err != nil {
		t.Fatal(err)
	}
	in = catalog.VariantInputOf(second)
	in.Stock++
	if _, err := e.cat.UpdateVariant(ctx, editor, second, in); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a deleted variant: err = %v, want ErrNotFound", err)
	}

	err = e.cat.DeleteVariant(ctx, editor, p.ID, v.ID, 0)
	wantFields(t, err, validator.Errors{"variants": "a product needs at least one variant: delete the product instead"})
}

// Every write path leaves its audit rows: who, what, and the fields before and after.
func TestWritesAreAudited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	log := audit.New(e.st)
	cat := e.category(t, "Lighting", nil)
	p := e.create(t, product("Lamp", "LAMP-1"))
	in := catalog.InputOf(p)
	in.Name = "Desk lamp"
	in.Variants[0].PriceCents = 1500
	p, err := e.cat.UpdateProduct(ctx, editor, p.ID, p.Version, in)
	if err != nil {
		t.Fatal(err)
	}
	// Saving the same again changes nothing, so it records nothing.
	if _, err := e.cat.UpdateProduct(ctx, editor, p.ID, p.Version, catalog.InputOf(p)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.AdjustStock(ctx, editor, p.Variants[0].ID, -2, "broken in transit"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.MoveToCategory(ctx, editor, []int64{p.ID}, &cat); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.SetStatus(ctx, editor, []int64{p.ID}, catalog.StatusArchived); err != nil {
		t.Fatal(err)
	}
	page, err := log.History(ctx, catalog.ResourceProducts, p.ID, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ action, fields, note string }
	var got []row
	for _, entry := range page.Entries {
		if entry.ActorLabel != editor.Label || *entry.ActorUserID != editor.UserID || entry.ObjectRepr == "" {
			t.Errorf("entry %d: actor %q/%v repr %q", entry.ID, entry.ActorLabel, entry.ActorUserID, entry.ObjectRepr)
		}
		var fields []string
		for _, c := range entry.Fields {
			fields = append(fields, c.Field)
		}
		got = append(got, row{entry.Action, strings.Join(fields, ","), entry.Note})
	}
	want := []row{
		{"update", "status", "bulk action: set status"},
		{"update", "category_id", "bulk action: move to category"},
		{"update", "variants[LAMP-1].stock", "broken in transit"},
		{"update", "name,variants[LAMP-1].price_cents", ""},
		// A create lists every field that has a value.
		{"create", "description,name,slug,status,variants[LAMP-1].options,variants[LAMP-1].position," +
			"variants[LAMP-1].price_cents,variants[LAMP-1].sku,variants[LAMP-1].stock,variants[LAMP-1].title", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("history = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("history[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	rename := page.Entries[3].Fields[0]
	if rename.Before != "Lamp" || rename.After != "Desk lamp" {
		t.Errorf("rename recorded %v → %v, want Lamp → Desk lamp", rename.Before, rename.After)
	}

	d, err := e.cat.DeleteProduct(ctx, editor, p.ID, 0)
	if err != nil || d != (catalog.Deleted{Products: 1, Variants: 1}) {
		t.Fatalf("DeleteProduct = %+v, %v", d, err)
	}
	page, err = log.History(ctx, catalog.ResourceProducts, p.ID, "", 1)
	if err != nil || page.Entries[0].Action != audit.ActionDelete || page.Next == "" {
		t.Errorf("after delete: newest entry %+v, next %q, err %v; want a delete and more pages", page.Entries, page.Next, err)
	}
	list, err := log.List(ctx, audit.Filter{UserID: editor.UserID, Resource: catalog.ResourceCategories}, "", 10)
	if err != nil || len(list.Entries) != 1 || list.Entries[0].Action != audit.ActionCreate {
		t.Errorf("category audit = %+v, %v; want its create", list.Entries, err)
	}
}

// A transaction that fails after its audit row leaves neither the change nor the row.
func TestAbortedWriteLeavesNoAudit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.create(t, product("Taken", "TAKEN-1"))
	before := e.rows(t)
	// A failure after the product and a variant are written: the second SKU is taken.
	_, err := e.cat.CreateProduct(ctx, editor, product("New", "NEW-1", "TAKEN-1"))
	wantFields(t, err, validator.Errors{"variants[1].sku": "is already used"})
	// A failure after the audit row itself.
	boom := errors.New("boom")
	err = e.st.InTx(ctx, func(q *db.Queries) error {
		if err := audit.Record(ctx, q, editor, audit.ActionUpdate, "products", 1, "Taken", audit.Changes{"name": {"a", "b"}}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	if after := e.rows(t); after != before {
		t.Errorf("rows (products, variants, audit) = %v, want %v", after, before)
	}
}

// Bulk actions take one transaction and audit each product they change.
func TestBulkActions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var ids []int64
	for _, name := range []string{"A", "B", "C"} {
		ids = append(ids, e.create(t, product(name, name+"-1", name+"-2")).ID)
	}
	audits := e.rows(t)[2]
	n, err := e.cat.SetStatus(ctx, editor, ids, catalog.StatusArchived)
	if err != nil || n != 3 {
		t.Fatalf("SetStatus = %d, %v; want 3", n, err)
	}
	if n, _ := e.cat.SetStatus(ctx, editor, ids, catalog.StatusArchived); n != 0 {
		t.Errorf("SetStatus again = %d, want 0 (already archived)", n)
	}
	if got := e.rows(t)[2]; got != audits+3 {
		t.Errorf("audit rows = %d, want %d", got, audits+3)
	}
	_, err = e.cat.MoveToCategory(ctx, editor, ids, ptr(int64(999)))
	wantFields(t, err, validator.Errors{"category_id": "does not exist"})
	_, err = e.cat.SetStatus(ctx, editor, nil, catalog.StatusActive)
	wantFields(t, err, validator.Errors{"ids": "select at least one product"})

	listed, err := e.cat.ProductsByID(ctx, ids)
	if err != nil || len(listed) != 3 || listed[0].Status != catalog.StatusArchived {
		t.Fatalf("ProductsByID = %v, %v", listed, err)
	}
	d, err := e.cat.DeleteProducts(ctx, editor, ids)
	if err != nil || d != (catalog.Deleted{Products: 3, Variants: 6}) {
		t.Fatalf("DeleteProducts = %+v, %v", d, err)
	}
	if got := e.rows(t); got != [3]int64{0, 0, audits + 6} {
		t.Errorf("rows after delete = %v, want no products or variants and 3 more audit rows", got)
	}
}

// Deleting with a version refuses a product changed since.
func TestDeleteProductVersion(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.create(t, product("Rug", "RUG-1"))
	if _, err := e.cat.DeleteProduct(ctx, editor, p.ID, p.Version+1); !errors.Is(err, store.ErrStale) {
		t.Errorf("stale delete: err = %v, want ErrStale", err)
	}
	if _, err := e.cat.DeleteProduct(ctx, editor, p.ID, p.Version); err != nil {
		t.Errorf("delete: %v", err)
	}
	if _, err := e.cat.DeleteProduct(ctx, editor, p.ID, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete again: err = %v, want ErrNotFound", err)
	}
}

// Each write path appends exactly its audit rows, on the object it changed.
func TestEveryWritePathIsAudited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var (
		p   *catalog.Product
		cat int64
		img int64
	)
	latest := func() *catalog.Product {
		t.Helper()
		got, err := e.cat.Product(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	steps := []struct {
		name     string
		resource string
		rows     int64
		write    func() error
	}{
		{"create category", catalog.ResourceCategories, 1, func() (err error) {
			c, err := e.cat.CreateCategory(ctx, editor, catalog.CategoryInput{Name: "Decor"})
			cat = c.ID
			return err
		}},
		{"update category", catalog.ResourceCategories, 1, func() error {
			_, err := e.cat.UpdateCategory(ctx, editor, cat, 1, catalog.CategoryInput{Name: "Home decor"})
			return err
		}},
		{"create product", catalog.ResourceProducts, 1, func() (err error) {
			p, err = e.cat.CreateProduct(ctx, editor, product("Bowl", "BOWL-1"))
			return err
		}},
		{"update product", catalog.ResourceProducts, 1, func() error {
			in := catalog.InputOf(p)
			in.CategoryID = &cat
			_, err := e.cat.UpdateProduct(ctx, editor, p.ID, p.Version, in)
			return err
		}},
		{"add variant", catalog.ResourceProducts, 1, func() error {
			_, err := e.cat.AddVariant(ctx, editor, p.ID, catalog.VariantInput{SKU: "BOWL-2", PriceCents: 100})
			return err
		}},
		{"update variant", catalog.ResourceProducts, 1, func() error {
			v := latest().Variants[1]
			in := catalog.VariantInputOf(v)
			in.Title = "Large"
			_, err := e.cat.UpdateVariant(ctx, editor, v, in)
			return err
		}},
		{"adjust stock", catalog.ResourceProducts, 1, func() error {
			_, err := e.cat.AdjustStock(ctx, editor, latest().Variants[1].ID, 3, "found in the back")
			return err
		}},
		{"delete variant", catalog.ResourceProducts, 1, func() error {
			return e.cat.DeleteVariant(ctx, editor, p.ID, latest().Variants[1].ID, 0)
		}},
		{"add image", catalog.ResourceProducts, 1, func() error {
			i, err := e.cat.AddImage(ctx, editor, p.ID, bytes.NewReader(pngBytes(t, 3, 3, color.White)), "")
			img = i.ID
			return err
		}},
		{"edit images (alt text)", catalog.ResourceProducts, 1, func() error {
			_, err := e.cat.EditImages(ctx, editor, p.ID, []catalog.ImageEdit{{ID: img, Alt: "a white bowl, lit"}})
			return err
		}},
		{"edit images (nothing; one image: no order to change)", catalog.ResourceProducts, 0, func() error {
			_, err := e.cat.EditImages(ctx, editor, p.ID, []catalog.ImageEdit{{ID: img, Alt: "a white bowl, lit"}})
			return err
		}},
		{"edit images (delete)", catalog.ResourceProducts, 1, func() error {
			_, err := e.cat.EditImages(ctx, editor, p.ID, []catalog.ImageEdit{{ID: img, Delete: true}})
			return err
		}},
		{"set status", catalog.ResourceProducts, 1, func() error {
			_, err := e.cat.SetStatus(ctx, editor, []int64{p.ID}, catalog.StatusDraft)
			return err
		}},
		{"move", catalog.ResourceProducts, 1, func() error {
			_, err := e.cat.MoveToCategory(ctx, editor, []int64{p.ID}, nil)
			return err
		}},
		{"delete product", catalog.ResourceProducts, 1, func() error {
			_, err := e.cat.DeleteProduct(ctx, editor, p.ID, 0)
			return err
		}},
		{"delete category", catalog.ResourceCategories, 1, func() error { return e.cat.DeleteCategory(ctx, editor, cat, 0) }},
	}
	for _, s := range steps {
		before := e.scalar(t, "SELECT count(*) FROM audit_log WHERE resource = $1", s.resource)
		if err := s.write(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := e.scalar(t, "SELECT count(*) FROM audit_log WHERE resource = $1", s.resource) - before; got != s.rows {
			t.Errorf("%s: %d audit rows on %s, want %d", s.name, got, s.resource, s.rows)
		}
	}
}
