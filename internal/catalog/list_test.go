package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/seed"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// seeded is an env with n seeded products.
func seeded(t testing.TB, n int) *env {
	t.Helper()
	e := newEnv(t)
	if _, err := seed.Run(context.Background(), e.st, seed.Options{Products: n}); err != nil {
		t.Fatal(err)
	}
	return e
}

// oracle returns the ids SQL written out by hand gives for a filter and ordering.
func (e *env) oracle(t *testing.T, where, order string) []int64 {
	t.Helper()
	rows, err := e.st.Pool().Query(context.Background(), "SELECT id FROM products WHERE "+where+" ORDER BY "+order)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func ids(rows []db.ProductListing) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

// Every ordering, with every kind of filter, walked forwards from the first page
// and backwards from the last, gives exactly the rows SQL gives, each once.
func TestListProductsPagesMatchSQL(t *testing.T) {
	testListProductsPagesMatchSQL(t, false)
}

// Searches give the same rows whichever way they run: walking the ordering's index
// (here every search walks, whatever WalkCap would say), and walking too few rows
// to fill a page, so that every page matches first after the walk came back short.
func TestListProductsSearchesWalkedMatchSQL(t *testing.T) {
	for _, tt := range []struct {
		name string
		scan int64
	}{{"walked", 1_000_000}, {"walk cut short", 5}} {
		t.Run(tt.name, func(t *testing.T) {
			catalog.SetWalkCap(t, tt.scan)
			testListProductsPagesMatchSQL(t, true)
		})
	}
}

func testListProductsPagesMatchSQL(t *testing.T, searchesOnly bool) {
	e := seeded(t, 600)
	ctx := context.Background()
	top := e.scalar(t, "SELECT id FROM categories WHERE parent_id IS NULL ORDER BY id LIMIT 1")
	filters := []struct {
		name  string
		f     catalog.Filter
		where string
	}{
		{"all", catalog.Filter{}, "true"},
		{"active", catalog.Filter{Status: catalog.StatusActive}, "status = 'active'"},
		{"category and below", catalog.Filter{CategoryID: top},
			fmt.Sprintf("category_id IN (WITH RECURSIVE s AS (SELECT %d::bigint AS id UNION SELECT c.id FROM categories c JOIN s ON c.parent_id = s.id) SELECT id FROM s)", top)},
		{"out of stock", catalog.Filter{Stock: catalog.StockOut}, "stock_total = 0"},
		{"low stock", catalog.Filter{Stock: catalog.StockLow}, "stock_total BETWEEN 1 AND 5"},
		{"in stock", catalog.Filter{Stock: catalog.StockIn}, "stock_total > 5"},
		{"search a word", catalog.Filter{Q: "OAK"}, "(name ILIKE '%oak%' OR skus ILIKE '%oak%')"},
		{"search a sku", catalog.Filter{Q: "sr-00001"}, "(name ILIKE '%sr-00001%' OR skus ILIKE '%sr-00001%')"},
		{"search with a wildcard", catalog.Filter{Q: "a%b"}, "false"},
		{"search and status", catalog.Filter{Q: "lamp", Status: catalog.StatusDraft}, "(name ILIKE '%lamp%' OR skus ILIKE '%lamp%') AND status = 'draft'"},
		{"search a letter, low stock", catalog.Filter{Q: "e", Stock: catalog.StockLow}, "(name ILIKE '%e%' OR skus ILIKE '%e%') AND stock_total BETWEEN 1 AND 5"},
		{"search a letter, in a category", catalog.Filter{Q: "R", CategoryID: top},
			fmt.Sprintf("(name ILIKE '%%r%%' OR skus ILIKE '%%r%%') AND category_id IN (WITH RECURSIVE s AS (SELECT %d::bigint AS id UNION SELECT c.id FROM categories c JOIN s ON c.parent_id = s.id) SELECT id FROM s)", top)},
	}
	orders := map[catalog.SortKey]string{
		catalog.SortName: "name", catalog.SortUpdatedAt: "updated_at", catalog.SortPrice: "price_min_cents", catalog.SortStock: "stock_total",
	}
	for _, f := range filters {
		if searchesOnly && f.f.Q == "" {
			continue
		}
		for key, col := range orders {
			for _, desc := range []bool{false, true} {
				sort := catalog.Sort{Key: key, Desc: desc}
				t.Run(f.name+"/"+sort.String(), func(t *testing.T) {
					dir := ""
					if desc {
						dir = " DESC"
					}
					want := e.oracle(t, f.where, col+dir+", id"+dir)
					var forward []int64
					p := catalog.ListParams{Filter: f.f, Sort: sort, Limit: 37}
					for page := 0; ; page++ {
						got, err := e.cat.ListProducts(ctx, p)
						if err != nil {
							t.Fatal(err)
						}
						if (page == 0) != (got.Prev == "") {
							t.Fatalf("page %d: prev %q", page, got.Prev)
						}
						forward = append(forward, ids(got.Items)...)
						if got.Next == "" {
							break
						}
						p.Cursor = got.Next
					}
					if !slices.Equal(forward, want) {
						t.Fatalf("forwards: %d rows %v..., want %d rows %v...", len(forward), head(forward), len(want), head(want))
					}
					var backward []int64
					p = catalog.ListParams{Filter: f.f, Sort: sort, Limit: 37, Last: true}
					for {
						got, err := e.cat.ListProducts(ctx, p)
						if err != nil {
							t.Fatal(err)
						}
						backward = append(ids(got.Items), backward...)
						if got.Prev == "" {
							break
						}
						p = catalog.ListParams{Filter: f.f, Sort: sort, Limit: 37, Cursor: got.Prev}
					}
					if !slices.Equal(backward, want) {
						t.Errorf("backwards: %d rows %v..., want %d rows %v...", len(backward), head(backward), len(want), head(want))
					}
				})
			}
		}
	}
}

func head(ids []int64) []int64 { return ids[:min(len(ids), 5)] }

// The whole catalog's first and last pages come from ListAllProducts*, whose inner
// LIMIT is a constant (so PostgreSQL keeps one plan: see db/queries/products.sql).
// The largest page there is still has its one row more, which tells that more follow.
func TestListAllLimitCoversTheLargestPage(t *testing.T) {
	e := seeded(t, keyset.MaxLimit+2)
	ctx := context.Background()
	for _, key := range []catalog.SortKey{catalog.SortName, catalog.SortUpdatedAt, catalog.SortPrice, catalog.SortStock} {
		for _, desc := range []bool{false, true} {
			for _, last := range []bool{false, true} {
				p := catalog.ListParams{Sort: catalog.Sort{Key: key, Desc: desc}, Limit: keyset.MaxLimit, Last: last}
				got, err := e.cat.ListProducts(ctx, p)
				if err != nil {
					t.Fatal(err)
				}
				more := got.Next
				if last {
					more = got.Prev
				}
				if len(got.Items) != keyset.MaxLimit || more == "" {
					t.Errorf("%v (last %v): %d rows, link to the rest %q; want %d rows and a link",
						p.Sort, last, len(got.Items), more, keyset.MaxLimit)
				}
			}
		}
	}
}

// A next page followed by its previous page is the page we started from.
func TestListProductsPrevOfNext(t *testing.T) {
	e := seeded(t, 100)
	ctx := context.Background()
	p := catalog.ListParams{Sort: catalog.Sort{Key: catalog.SortPrice, Desc: true}, Limit: 10}
	first, err := e.cat.ListProducts(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	p.Cursor = first.Next
	second, err := e.cat.ListProducts(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	p.Cursor = second.Prev
	back, err := e.cat.ListProducts(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(back.Items), ids(first.Items)) || back.Prev != "" || back.Next == "" {
		t.Errorf("back = %v (prev %q), want %v with no previous page", ids(back.Items), back.Prev, ids(first.Items))
	}
}

func TestListProductsRefusesBadParams(t *testing.T) {
	e := seeded(t, 20)
	ctx := context.Background()
	page, err := e.cat.ListProducts(ctx, catalog.ListParams{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    catalog.ListParams
		want validator.Errors
	}{
		{"limit", catalog.ListParams{Limit: 201}, validator.Errors{"limit": "must be from 1 to 200"}},
		{"status", catalog.ListParams{Filter: catalog.Filter{Status: "gone"}}, validator.Errors{"status": "must be one of draft, active, archived"}},
		{"stock", catalog.ListParams{Filter: catalog.Filter{Stock: "some"}}, validator.Errors{"stock": "must be one of out, low, in"}},
		{"garbage cursor", catalog.ListParams{Cursor: "!!"}, validator.Errors{"cursor": "is not valid for this list: start from the first page"}},
		{"cursor of another ordering", catalog.ListParams{Cursor: page.Next, Sort: catalog.Sort{Key: catalog.SortStock}},
			validator.Errors{"cursor": "is not valid for this list: start from the first page"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.cat.ListProducts(ctx, tt.p)
			wantFields(t, err, tt.want)
		})
	}
	// The zero Sort is the default ordering, by name.
	byName, err := e.cat.ListProducts(ctx, catalog.ListParams{Limit: 5, Cursor: page.Next})
	if want := e.oracle(t, "true", "name, id")[5:10]; err != nil || !slices.Equal(ids(byName.Items), want) {
		t.Errorf("second page in the zero ordering = %v (%v), want %v", ids(byName.Items), err, want)
	}
	_, err = e.cat.ListProducts(ctx, catalog.ListParams{Sort: catalog.Sort{Key: "colour"}})
	wantFields(t, err, validator.Errors{"ordering": "must be one of name, updated_at, price, stock, each optionally with a leading -"})
	if _, err := catalog.ParseSort("-colour"); !errors.As(err, new(validator.Errors)) {
		t.Errorf("ParseSort(-colour): err = %v, want a field error", err)
	}
	if s, err := catalog.ParseSort("-updated_at"); err != nil || s != (catalog.Sort{Key: catalog.SortUpdatedAt, Desc: true}) || s.String() != "-updated_at" {
		t.Errorf("ParseSort(-updated_at) = %v, %v", s, err)
	}
}

// The count is exact when small and the planner's estimate when large.
func TestCountProducts(t *testing.T) {
	e := seeded(t, 30000)
	ctx := context.Background()
	all, err := e.cat.CountProducts(ctx, catalog.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if all.Exact || all.N < 20000 || all.N > 45000 {
		t.Errorf("all: %+v, want an estimate near 30000", all)
	}
	// The whole catalog's estimate is kept a minute: counting it again runs nothing.
	again := all
	n := e.count(func() { again, err = e.cat.CountProducts(ctx, catalog.Filter{}) })
	if err != nil || n != 0 || again != all {
		t.Errorf("all again: %+v (%v) in %d statements, want %+v in none", again, err, n, all)
	}
	want := e.scalar(t, "SELECT count(*) FROM products WHERE stock_total = 0")
	out, err := e.cat.CountProducts(ctx, catalog.Filter{Stock: catalog.StockOut})
	if err != nil || !out.Exact || out.N != want {
		t.Errorf("out of stock: %+v (%v), want exactly %d", out, err, want)
	}
	none, err := e.cat.CountProducts(ctx, catalog.Filter{Q: "no such thing"})
	if err != nil || none != (catalog.Count{N: 0, Exact: true}) {
		t.Errorf("no match: %+v (%v), want exactly 0", none, err)
	}
}

// Export streams every selected row in order, a batch at a time.
func TestExportProducts(t *testing.T) {
	e := seeded(t, 2500)
	ctx := context.Background()
	want := e.oracle(t, "status = 'active'", "price_min_cents DESC, id DESC")
	var got []int64
	batches := 0
	err := e.cat.ExportProducts(ctx, catalog.ListParams{Filter: catalog.Filter{Status: catalog.StatusActive}, Sort: catalog.Sort{Key: catalog.SortPrice, Desc: true}},
		func(rows []db.ProductListing) error {
			batches++
			if len(rows) > keyset.ExportBatch {
				t.Errorf("batch of %d rows, want at most %d", len(rows), keyset.ExportBatch)
			}
			got = append(got, ids(rows)...)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) || batches != (len(want)+keyset.ExportBatch-1)/keyset.ExportBatch {
		t.Errorf("export: %d rows in %d batches, want the %d rows SQL gives", len(got), batches, len(want))
	}
	stop := errors.New("client gone")
	if err := e.cat.ExportProducts(ctx, catalog.ListParams{}, func([]db.ProductListing) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("export with a failing writer: err = %v, want it passed on", err)
	}
}

// The product page and the list run a fixed number of statements, however many rows
// they show: no statement per row.
func TestQueryBudget(t *testing.T) {
	e := seeded(t, 400)
	ctx := context.Background()
	small := e.create(t, product("Small", "SMALL-1"))
	large := e.create(t, product("Large", skus(60)...))
	for _, id := range []int64{small.ID, large.ID} {
		if n := e.count(func() {
			if _, err := e.cat.Product(ctx, id); err != nil {
				t.Fatal(err)
			}
		}); n != 1 {
			t.Errorf("Product(%d): %d statements, want 1", id, n)
		}
	}
	top := e.scalar(t, "SELECT id FROM categories WHERE parent_id IS NULL ORDER BY id LIMIT 1")
	// want is the first page's budget, again the budget of a page of the same
	// filter within a minute: a search's estimate of its matches is kept.
	cases := []struct {
		name        string
		f           catalog.Filter
		want, again int64
	}{
		{"unfiltered", catalog.Filter{}, 1, 1},
		{"status and stock", catalog.Filter{Status: catalog.StatusActive, Stock: catalog.StockIn}, 1, 1},
		{"category", catalog.Filter{CategoryID: top}, 2, 2},
		{"search", catalog.Filter{Q: "oak"}, 1, 1}, // one word: its postings (searchWords)
		{"search of two words", catalog.Filter{Q: "oak c"}, 2, 1},
		{"search in a category", catalog.Filter{Q: "oak", CategoryID: top}, 3, 2},
	}
	// A search that does not read the words' postings (two words here) reads the
	// catalog's size once a minute (MatchFirst): the first one here pays that
	// statement, the budget is what every other search costs.
	if _, err := e.cat.ListProducts(ctx, catalog.ListParams{Filter: catalog.Filter{Q: "warm up"}}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range cases {
		for i, limit := range []int{25, 200} {
			p := catalog.ListParams{Filter: tt.f, Limit: limit}
			want := tt.want
			if i > 0 {
				want = tt.again
			}
			if n := e.count(func() {
				if _, err := e.cat.ListProducts(ctx, p); err != nil {
					t.Fatal(err)
				}
			}); n != want {
				t.Errorf("%s, %d rows: %d statements, want %d", tt.name, limit, n, want)
			}
		}
	}
}

// A search whose walk came back short matches first, in one more statement, and is
// remembered: the same page again matches first straight away, its estimate kept
// too, in one statement.
func TestSearchWalkCutShortIsRemembered(t *testing.T) {
	e := seeded(t, 400)
	ctx := context.Background()
	p := catalog.ListParams{Filter: catalog.Filter{Q: "e"}, Limit: 25}
	if _, err := e.cat.ListProducts(ctx, p); err != nil { // pays the catalog's size
		t.Fatal(err)
	}
	catalog.SetWalkCap(t, 10)              // fewer rows than a page: always short
	p.Filter.Status = catalog.StatusActive // a search not run before
	var first, again catalog.Page
	for _, run := range []struct {
		page *catalog.Page
		want int64
	}{{&first, 3}, {&again, 1}} {
		if n := e.count(func() {
			var err error
			if *run.page, err = e.cat.ListProducts(ctx, p); err != nil {
				t.Fatal(err)
			}
		}); n != run.want {
			t.Errorf("%d statements, want %d", n, run.want)
		}
	}
	want := e.oracle(t, "(name ILIKE '%e%' OR skus ILIKE '%e%') AND status = 'active'", "name, id")[:25]
	if !slices.Equal(ids(first.Items), want) || !slices.Equal(ids(again.Items), want) {
		t.Errorf("pages %v and %v, want %v", head(ids(first.Items)), head(ids(again.Items)), head(want))
	}
	// A walk that finds nothing at all is as short, and remembered as well.
	catalog.SetWalkCap(t, 1)
	firstID := e.scalar(t, "SELECT id FROM products ORDER BY name, id LIMIT 1")
	var letter string
	for _, l := range "abcdefghijklmnopqrstuvwxyz" {
		if e.scalar(t, "SELECT count(*) FROM products WHERE id = $1 AND (name ILIKE $2 OR skus ILIKE $2)", firstID, "%"+string(l)+"%") == 0 &&
			e.scalar(t, "SELECT count(*) FROM products WHERE name ILIKE $1", "%"+string(l)+"%") > 25 {
			letter = string(l)
			break
		}
	}
	p = catalog.ListParams{Filter: catalog.Filter{Q: letter}, Limit: 25}
	for _, want := range []int64{3, 1} {
		if n := e.count(func() {
			if _, err := e.cat.ListProducts(ctx, p); err != nil {
				t.Fatal(err)
			}
		}); n != want {
			t.Errorf("a walk that found nothing, searching %q: %d statements, want %d", letter, n, want)
		}
	}
	// A walk that fills its page is the whole search: two statements.
	catalog.SetWalkCap(t, 1_000_000)
	p.Filter.Status = catalog.StatusDraft
	if n := e.count(func() {
		if _, err := e.cat.ListProducts(ctx, p); err != nil {
			t.Fatal(err)
		}
	}); n != 2 {
		t.Errorf("walked: %d statements, want 2", n)
	}
}

// A search walks the ordering's index when its matches are common enough that a page
// lies near the start, reading at most as many rows as it expects to match.
func TestWalkCap(t *testing.T) {
	tests := []struct {
		name     string
		n, total int64
		rows     int
		want     int64
	}{
		{"few matches", 40, 100_000, 51, 0},
		{"a thing word in 100,000", 5_000, 100_000, 51, 5_000},
		{"just below the line", 2_258, 100_000, 51, 0}, // 2,258² < 5,100,000
		{"at the line", 2_259, 100_000, 51, 2_259},
		{"a thing word in a million", 49_630, 1_000_000, 51, 49_630},
		{"everything", 1_000_000, 1_000_000, 51, 1_000_000},
		{"no estimate", 0, 1_000_000, 51, 0},
		{"catalog never analyzed", 30, 0, 51, 30},
		{"more than a statement's limit", 5_000_000_000, 5_000_000_000, 51, math.MaxInt32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := catalog.WalkCap(tt.n, tt.total, tt.rows); got != tt.want {
				t.Errorf("WalkCap(%d, %d, %d) = %d, want %d", tt.n, tt.total, tt.rows, got, tt.want)
			}
		})
	}
}

// A search runs matches first unless it matches a quarter of the catalog or more,
// and more than MatchFirstLimit.
func TestMatchFirst(t *testing.T) {
	tests := []struct {
		name     string
		n, total int64
		want     bool
	}{
		{"few matches", 40, 100_000, true},
		{"at the limit in a small catalog", catalog.MatchFirstLimit, 100_000, true},
		{"over the limit, half a small catalog", catalog.MatchFirstLimit + 1, 100_000, false},
		// "Rustic" at a million: 42,000 matches that all sort at one end of the names
		{"a word that starts names, in a million", 42_000, 1_000_000, true},
		{"a common word in a million", 74_000, 1_000_000, true},
		{"a quarter of a million", 250_000, 1_000_000, true},
		{"more than a quarter", 250_001, 1_000_000, false},
		{"everything", 1_000_000, 1_000_000, false},
		{"catalog never analyzed", 30_000, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := catalog.MatchFirst(tt.n, tt.total); got != tt.want {
				t.Errorf("MatchFirst(%d, %d) = %v, want %v", tt.n, tt.total, got, tt.want)
			}
		})
	}
}

// SearchProductsByName{Asc,Desc}, which a search and nothing else runs when it
// matches first, give exactly the rows ListProductsByName{Asc,Desc} give matching
// first, from the start and from a cursor, also after the writes that change what
// product_search holds: a new product, a rename, a new SKU, a deletion.
func TestSearchByNameIsListMatchingFirst(t *testing.T) {
	e := seeded(t, 300)
	ctx := context.Background()
	q := db.New(e.st.Pool())
	mismatched := func() int64 {
		return e.scalar(t, `SELECT count(*) FROM products p FULL JOIN product_search s USING (id)
			WHERE (p.name, p.skus) IS DISTINCT FROM (s.name, s.skus)`)
	}
	// Postings that no name has, or names' words without their posting or missing
	// from the vocabulary.
	unposted := func() int64 {
		return e.scalar(t, `SELECT count(*) FROM (SELECT w, p.name, p.id FROM products p, product_name_words(p.name) w) a
			FULL JOIN product_words x ON (x.word, x.name, x.id) = (a.w, a.name, a.id)
			WHERE a.id IS NULL OR x.id IS NULL OR NOT EXISTS (SELECT 1 FROM search_words v WHERE v.word = a.w)`)
	}
	compare := func(t *testing.T) {
		t.Helper()
		if n := mismatched(); n != 0 {
			t.Fatalf("%d products whose product_search row differs", n)
		}
		if n := unposted(); n != 0 {
			t.Fatalf("%d postings in product_words differ from the names' words", n)
		}
		for _, pattern := range []string{"%oak%", "%OAK%", "%e%", "%sr-00001%", "%rustic%", `%a\%b%`, "%zzz%", "%émile%", "%ÉMILE%", "%mile%", `%s\_b%`, "%0001%"} {
			for _, desc := range []bool{false, true} {
				for _, after := range []string{"", "M", "rustic"} {
					args := db.ListProductsByNameAscParams{Pattern: &pattern, MatchFirst: true, RowLimit: 26}
					if after != "" {
						id := int64(150)
						args.AfterValue, args.AfterID = &after, &id
					}
					var want, got []db.ProductListing
					var err error
					if desc {
						want, err = q.ListProductsByNameDesc(ctx, db.ListProductsByNameDescParams(args))
					} else {
						want, err = q.ListProductsByNameAsc(ctx, args)
					}
					if err != nil {
						t.Fatal(err)
					}
					s := db.SearchProductsByNameAscParams{Pattern: pattern, AfterID: args.AfterID, AfterValue: args.AfterValue, RowLimit: args.RowLimit}
					if desc {
						got, err = q.SearchProductsByNameDesc(ctx, db.SearchProductsByNameDescParams(s))
					} else {
						got, err = q.SearchProductsByNameAsc(ctx, s)
					}
					if err != nil {
						t.Fatal(err)
					}
					same := func(a, b db.ProductListing) bool {
						return a.ID == b.ID && a.Name == b.Name && a.Skus == b.Skus && a.Version == b.Version
					}
					if !slices.EqualFunc(got, want, same) {
						t.Errorf("%q desc %v after %q: %d rows %v, want %d rows %v", pattern, desc, after, len(got), head(ids(got)), len(want), head(ids(want)))
					}
					if strings.ContainsAny(pattern, " -") { // not one word: catalog.list never reads postings for it
						continue
					}
					w := db.SearchProductWordsByNameAscParams{MaxWords: 1000, Pattern: pattern, AfterID: args.AfterID, AfterValue: args.AfterValue, RowLimit: args.RowLimit}
					var found []db.SearchProductWordsByNameAscRow
					if desc {
						back, err := q.SearchProductWordsByNameDesc(ctx, db.SearchProductWordsByNameDescParams(w))
						if err != nil {
							t.Fatal(err)
						}
						for _, r := range back {
							found = append(found, db.SearchProductWordsByNameAscRow(r))
						}
					} else if found, err = q.SearchProductWordsByNameAsc(ctx, w); err != nil {
						t.Fatal(err)
					}
					got = got[:0]
					for _, r := range found {
						if r.Overflow {
							t.Fatalf("%q: overflow in 1,000 words", pattern)
						}
						got = append(got, r.ProductListing)
					}
					if !slices.EqualFunc(got, want, same) {
						t.Errorf("%q through the words, desc %v after %q: %d rows %v, want %d rows %v", pattern, desc, after, len(got), head(ids(got)), len(want), head(ids(want)))
					}
				}
			}
		}
	}
	e.create(t, product("Émile Straße-Lamp", "ZZ-EM-1"))
	e.create(t, product("Sofa_Bed  Smile", "ZZ-SB-1"))
	t.Run("seeded", compare)
	created := e.create(t, product("Aardvark Oak Stool", "ZZ-OAK-1"))
	renamed := e.scalar(t, "SELECT id FROM products WHERE name NOT ILIKE '%oak%' ORDER BY id LIMIT 1")
	if _, err := e.st.Pool().Exec(ctx, "UPDATE products SET name = 'Abbey Oak Bench' WHERE id = $1", renamed); err != nil {
		t.Fatal(err)
	}
	resku := e.scalar(t, "SELECT id FROM products WHERE name NOT ILIKE '%oak%' AND id <> $1 ORDER BY id LIMIT 1", renamed)
	if _, err := e.st.Pool().Exec(ctx, "UPDATE products SET skus = skus || ' OAK-9' WHERE id = $1", resku); err != nil {
		t.Fatal(err)
	}
	gone := e.scalar(t, "SELECT id FROM products WHERE name ILIKE '%oak%' AND id NOT IN ($1, $2) ORDER BY name, id LIMIT 1", created.ID, renamed)
	if _, err := e.st.Pool().Exec(ctx, "DELETE FROM products WHERE id = $1", gone); err != nil {
		t.Fatal(err)
	}
	t.Run("after writes", compare)
	page, err := e.cat.ListProducts(ctx, catalog.ListParams{Filter: catalog.Filter{Q: "oak"}, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(page.Items); !slices.Equal(got, []int64{created.ID, renamed}) {
		t.Errorf("first page of oak: %v, want the new product %d and the renamed one %d", got, created.ID, renamed)
	}
	if _, err := e.st.Pool().Exec(ctx, "UPDATE products SET name = 'Oak Émile' WHERE id = $1", created.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Pool().Exec(ctx, "DELETE FROM products WHERE id IN (SELECT id FROM products WHERE name ILIKE '%rustic%' ORDER BY id LIMIT 5)"); err != nil {
		t.Fatal(err)
	}
	t.Run("after a rename and a delete of five", compare)
}

// A search of one word that is in MaxWords words of the names or more does not read
// their postings: the statement says so (overflow) and the search walks or matches
// first as before, and is remembered, so its next page goes there straight away.
// Either way the page is the same.
func TestSearchInManyWordsRunsAsBefore(t *testing.T) {
	e := seeded(t, 200)
	ctx := context.Background()
	for i := range 70 {
		e.create(t, product(fmt.Sprintf("Qzx%02d Lamp", i), fmt.Sprintf("QZ-%d", i)))
	}
	e.create(t, product("Lamp of Qzx", "QZ-X"))
	q := db.New(e.st.Pool())
	for _, tt := range []struct {
		pattern  string
		overflow bool
	}{{"%qzx%", true}, {"%qzx0%", false}, {"%QZX1%", false}} {
		found, err := q.SearchProductWordsByNameAsc(ctx, db.SearchProductWordsByNameAscParams{MaxWords: 64, Pattern: tt.pattern, RowLimit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(found) > 0 && found[0].Overflow; got != tt.overflow || tt.overflow && len(found) != 1 {
			t.Errorf("%q: %d rows, overflow %v, want overflow %v in one row", tt.pattern, len(found), got, tt.overflow)
		}
	}
	if _, err := e.cat.ListProducts(ctx, catalog.ListParams{Filter: catalog.Filter{Q: "warm up"}}); err != nil { // pays the catalog's size
		t.Fatal(err)
	}
	want := e.oracle(t, "name ILIKE '%qzx%' OR skus ILIKE '%qzx%'", "name, id")
	for _, run := range []struct {
		name       string
		statements int64
	}{{"first", 3}, {"again", 1}} {
		var page catalog.Page
		n := e.count(func() {
			var err error
			if page, err = e.cat.ListProducts(ctx, catalog.ListParams{Filter: catalog.Filter{Q: "qzx"}, Limit: 25}); err != nil {
				t.Fatal(err)
			}
		})
		if got := ids(page.Items); !slices.Equal(got, want[:25]) {
			t.Errorf("%s: %v, want %v", run.name, head(got), head(want[:25]))
		}
		if n != run.statements {
			t.Errorf("%s: %d statements, want %d", run.name, n, run.statements)
		}
	}
}

// A search and nothing else, by name, matches first on product_search, which costs a
// match less than a walked row costs: its walk stops at half of WalkCap's rows. Here
// WalkCap's rows are exactly enough to fill the page: any other filter (one every
// product passes) walks them all and is done in two statements, the estimate and the
// walk; the search alone comes back short after half and matches first, a third.
func TestSearchOnlyWalksHalfTheCap(t *testing.T) {
	e := seeded(t, 400)
	ctx := context.Background()
	if _, err := e.cat.ListProducts(ctx, catalog.ListParams{Filter: catalog.Filter{Q: "zz"}}); err != nil { // pays the catalog's size
		t.Fatal(err)
	}
	const limit = 25
	where := "(name ILIKE '%e%' OR skus ILIKE '%e%')"
	rank := e.scalar(t, `SELECT r FROM (SELECT row_number() OVER (ORDER BY name, id) AS r, `+where+` AS m FROM products) x
		WHERE m ORDER BY r OFFSET $1 LIMIT 1`, limit) // where the page's one row more lies
	catalog.SetWalkCap(t, rank)
	want := e.oracle(t, where, "name, id")[:limit]
	for _, tt := range []struct {
		name string
		f    catalog.Filter
		want int64
	}{
		{"with another filter", catalog.Filter{Q: "e", UpdatedSince: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}, 2},
		{"search alone", catalog.Filter{Q: "e"}, 3},
	} {
		var page catalog.Page
		if n := e.count(func() {
			var err error
			if page, err = e.cat.ListProducts(ctx, catalog.ListParams{Filter: tt.f, Limit: limit}); err != nil {
				t.Fatal(err)
			}
		}); n != tt.want {
			t.Errorf("%s: %d statements, want %d", tt.name, n, tt.want)
		}
		if got := ids(page.Items); !slices.Equal(got, want) {
			t.Errorf("%s: %v..., want %v...", tt.name, head(got), head(want))
		}
	}
}
