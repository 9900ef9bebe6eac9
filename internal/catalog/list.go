package catalog

import (
	"context"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Limits of the product list. Page sizes and the exact-count limit are keyset's.
const (
	// MaxQuery is the longest search text.
	MaxQuery = 200
	// MatchFirstLimit is, with a quarter of the catalog when that is more, the most
	// matches the planner may expect for a search to run matches first (see
	// MatchFirst and ListProductsByNameAsc's match_first).
	MatchFirstLimit = 50_000
)

// SortKey is a column the product list sorts by.
type SortKey string

// The sortable columns. Each has an index ending in id; see ListProductsByNameAsc.
const (
	SortName      SortKey = "name"
	SortUpdatedAt SortKey = "updated_at"
	SortPrice     SortKey = "price" // the lowest variant price
	SortStock     SortKey = "stock" // the total over the variants
)

// Sort is a product list ordering.
type Sort = keyset.Sort[SortKey]

// Sorts is the product list's sort-key table: what it sorts by, by default by name.
var Sorts = keyset.Table[SortKey, db.ProductListing]{
	Keys: []keyset.Key[SortKey, db.ProductListing]{
		{Name: SortName, Value: func(r db.ProductListing) string { return r.Name }},
		{Name: SortUpdatedAt, Value: func(r db.ProductListing) string { return keyset.TimeValue(r.UpdatedAt) }, Valid: keyset.Time},
		{Name: SortPrice, Value: func(r db.ProductListing) string { return strconv.FormatInt(r.PriceMinCents, 10) }, Valid: keyset.Int},
		{Name: SortStock, Value: func(r db.ProductListing) string { return strconv.FormatInt(r.StockTotal, 10) }, Valid: keyset.Int},
	},
	Default: Sort{Key: SortName},
}

// DefaultSort is the ordering when none is asked for.
var DefaultSort = Sorts.Default

// ParseSort reads an ordering as URLs and the API write it: "name", "-updated_at"
// ("-" for descending). "" is DefaultSort.
func ParseSort(s string) (Sort, error) { return Sorts.Parse(s) }

// The stock filter's values.
const (
	StockOut = "out" // nothing in stock
	StockLow = "low" // 1 to the low-stock threshold
	StockIn  = "in"  // more than the threshold
)

// Filter selects products. The zero value selects all.
type Filter struct {
	Q            string    // a substring of the name or of any variant's SKU, any case
	Status       string    // one of Statuses
	CategoryID   int64     // this category and every category below it
	Stock        string    // StockOut, StockLow or StockIn
	UpdatedSince time.Time // updated at or after
}

// ListParams asks for one page of the product list.
type ListParams = keyset.Params[Filter, SortKey]

// Page is one page of the product list.
type Page = keyset.Page[db.ProductListing]

// ListProducts returns one page of the products p selects, in p.Sort's order,
// reading from an index from the cursor on: the first page, the next one and the
// last one all cost the same. It runs one statement, plus one with a category
// filter (the category's subcategories are read first) and, with a search, one for
// the planner's estimate of the matches, which decides how the search runs (kept a
// minute per filter: see estimate), and one more when the search walked the
// ordering's index and found its matches further on than it looked (see list).
func (c *Catalog) ListProducts(ctx context.Context, p ListParams) (Page, error) {
	limit, cur, err := keyset.Start(Sorts, &p)
	if err != nil {
		return Page{}, err
	}
	var rows []db.ProductListing
	back := keyset.Backwards(cur, p.Last)
	err = c.st.Replica(ctx, func(q *db.Queries) error {
		args, err := c.listArgs(ctx, q, p.Filter)
		if err != nil {
			return err
		}
		if cur != nil {
			args.AfterValue, args.AfterID = &cur.Value, &cur.ID
		}
		args.RowLimit = int32(limit + 1)
		order := p.Sort
		order.Desc = order.Desc != back // backwards: the opposite order, read back to front
		if unfiltered(args) {
			// No filter, no keyset: the whole catalog's first page (or, backwards,
			// its last), a statement with a plan made once (ListAllProductsByNameAsc).
			rows, err = listAllQuery(order)(q, ctx, args.RowLimit)
			return err
		}
		rows, err = c.list(ctx, q, listCall{filter: p.Filter, order: order, later: cur != nil}, args)
		return err
	})
	if err != nil {
		return Page{}, fmt.Errorf("list products: %w", err)
	}
	return keyset.Finish(Sorts, p, rows, limit, cur, func(r db.ProductListing) int64 { return r.ID }), nil
}

// Count is a product count: exact, or the planner's estimate.
type Count = keyset.Count

// CountProducts counts the products f selects without counting a large set (the
// policy is keyset.CountOf). It runs one or two statements (one more with a
// category filter); the estimate is the planner's, kept a minute (the whole
// catalog's size, or the filter's: see estimate), so a large catalog's count
// usually runs none but the category's, and a small one's only the count.
func (c *Catalog) CountProducts(ctx context.Context, f Filter) (Count, error) {
	var n Count
	err := c.st.Replica(ctx, func(q *db.Queries) error {
		args, err := c.listArgs(ctx, q, f)
		if err != nil {
			return err
		}
		args.RowLimit = 1
		var estimate int64
		if f == (Filter{}) {
			// The whole catalog: the planner's count of it, kept a minute.
			estimate, err = c.size.products(ctx, c.st)
		} else {
			estimate, err = c.estimate(ctx, f, args)
		}
		if err != nil {
			return err
		}
		n, err = keyset.CountOf(estimate, func(max int32) (int64, error) {
			return q.CountProducts(ctx, db.CountProductsParams{
				Status: args.Status, CategoryIds: args.CategoryIds, StockMin: args.StockMin, StockMax: args.StockMax,
				UpdatedSince: args.UpdatedSince, Pattern: args.Pattern, MaxCount: max,
			})
		})
		return err
	})
	if err != nil {
		return Count{}, fmt.Errorf("count products: %w", err)
	}
	return n, nil
}

// ExportProducts calls fn with every product p selects, in p's order,
// keyset.ExportBatch rows at a time (p.Limit, p.Cursor and p.Last are ignored). Memory stays flat
// whatever the count: each batch is one keyset statement from where the last ended,
// so fn can write a batch out before the next is read. All batches read one
// snapshot (store.Snapshot): a product changed during the export shows as it was
// when the export began, and none is skipped or repeated, whatever changes.
func (c *Catalog) ExportProducts(ctx context.Context, p ListParams, fn func([]db.ProductListing) error) error {
	var err error
	if p.Sort, err = Sorts.Check(p.Sort); err != nil {
		return err
	}
	list := listQuery(p.Sort)
	// One snapshot for the whole file: a product saved while a long export streams
	// is in it as it was before the save or after, never half and never twice.
	err = c.st.Snapshot(ctx, func(q *db.Queries) error {
		args, err := c.listArgs(ctx, q, p.Filter)
		if err != nil {
			return err
		}
		args.RowLimit = keyset.ExportBatch
		if args.MatchFirst, err = c.matchFirst(ctx, p.Filter, args); err != nil {
			return err
		}
		return keyset.Export(Sorts, p.Sort.Key, func(r db.ProductListing) int64 { return r.ID },
			func(after *keyset.Cursor) ([]db.ProductListing, error) {
				if after != nil {
					args.AfterValue, args.AfterID = &after.Value, &after.ID
				}
				return list(ctx, q, args)
			}, fn)
	})
	if err != nil {
		return fmt.Errorf("export products: %w", err)
	}
	return nil
}

// MatchFirst reports whether a search the planner expects to match n of about total
// products runs matches first (sorting every match) rather than down the
// ordering's index (filtering until the page is full). Matching first costs about
// 3 µs a match, whatever the order: 130 ms for the 42,000 "Rustic" products of a
// million. Reading the index costs about as much per row read, and a word that
// starts names ("Rustic ...") has every match at one end of the name order: that
// search read 700,000 rows in 2.3 s before its page was full. So a search runs
// matches first unless it matches a quarter of the catalog or more (and more than
// MatchFirstLimit): then the index yields a page within the first few hundred rows
// unless the matches cluster, and sorting them all would cost as much.
func MatchFirst(n, total int64) bool {
	return n <= max(MatchFirstLimit, total/4)
}

// WalkCap returns how many rows of the ordering's index a search reads to fill a page
// of rows (the page and the one more row that tells whether there is a next page),
// when the planner expects it to match n of about total products; 0 means the search
// matches first instead. Walking reads about rows×total/n products for a page when the
// matches are spread evenly along the ordering, and matching first reads and sorts
// all n, so a search walks when rows×total ≤ n², and reads at most n rows: when the
// matches cluster further on, the walk stops having cost no more than matching
// first would have. (At a million products "lamp" matches 49,630: 670 ms matched
// first, 1.9 ms walked; "rustic" starts names, so its matches sit in one block of the
// name order and the walk comes back short.)
func WalkCap(n, total int64, rows int) int64 {
	if n <= 0 || int64(rows)*total > n*n {
		return 0
	}
	return min(n, math.MaxInt32)
}

// walkCap is WalkCap; tests replace it to walk every search, or none.
var walkCap = WalkCap

// listCall is what list needs besides the query's parameters: the page asked for.
// It is also clustered's key: a page of the same search, read in the same direction,
// from the start or from a cursor.
type listCall struct {
	filter Filter
	order  Sort // the direction read in, backwards for a previous page
	later  bool // from a cursor, not the first page
}

// list runs a filtered page of the list in the order call.order. A search walks the
// ordering's index when WalkCap says so; when the walk comes back short, the rest
// of the page may lie beyond the rows it read, so the search matches first after
// all (a third statement), and clustered remembers the search for a minute, so that
// its next pages and its repetitions match first straight away.
//
// A search and nothing else, by name, matches first on product_search
// (searchByName), which costs a match about 1.4 µs where a row walked costs 2 µs at
// 100,000 products and 5 µs at a million (the walk reads products, which outgrows
// shared buffers): so its walk stops at half of WalkCap's rows, having cost about
// what matching first would. At a million, "Velvet" walked 40,000 rows in 208 ms
// of database CPU before its page was full, where matching first costs 50 ms.
//
// Before all that, a search of one word and nothing else, by name, reads its page
// from the words' postings (searchWords) in one statement, unless commonWords
// remembers that it is in too many words for that.
func (c *Catalog) list(ctx context.Context, q *db.Queries, call listCall, args db.ListProductsByNameAscParams) ([]db.ProductListing, error) {
	list := listQuery(call.order)
	if args.Pattern == nil {
		return list(ctx, q, args)
	}
	if call.order.Key == SortName && searchOnly(args) && OneWord(call.filter.Q) {
		if _, many := c.commonWords.get(*args.Pattern); !many {
			rows, overflow, err := searchWords(ctx, q, call.order.Desc, args)
			if err != nil || !overflow {
				return rows, err
			}
			c.commonWords.put(*args.Pattern, struct{}{})
		}
	}
	n, total, err := c.searchSize(ctx, call.filter, args)
	if err != nil {
		return nil, err
	}
	args.MatchFirst = MatchFirst(n, total)
	narrow := args.MatchFirst && call.order.Key == SortName && searchOnly(args)
	walked := -1 // rows the walk found; -1: no walk
	if _, short := c.clustered.get(call); !short {
		scan := walkCap(n, total, int(args.RowLimit))
		if narrow {
			scan = (scan + 1) / 2
		}
		if scan > 0 {
			rows, err := walkQuery(call.order)(ctx, q, db.WalkProductsByNameAscParams{
				Status: args.Status, CategoryIds: args.CategoryIds, StockMin: args.StockMin, StockMax: args.StockMax,
				UpdatedSince: args.UpdatedSince, AfterID: args.AfterID, AfterValue: args.AfterValue,
				ScanLimit: int32(scan), Pattern: *args.Pattern, RowLimit: args.RowLimit,
			})
			if err != nil || len(rows) == int(args.RowLimit) {
				return rows, err
			}
			walked = len(rows)
		}
	}
	if narrow {
		list = searchByName(call.order.Desc)
	}
	rows, err := list(ctx, q, args)
	if err == nil && walked >= 0 && len(rows) > walked {
		c.clustered.put(call, struct{}{}) // the walk stopped short of matches, not at the list's end
	}
	return rows, err
}

// searchSize returns the planner's estimate of the products a search selects, n
// (estimate), and of the whole catalog, total.
func (c *Catalog) searchSize(ctx context.Context, f Filter, args db.ListProductsByNameAscParams) (n, total int64, err error) {
	if total, err = c.size.products(ctx, c.st); err != nil {
		return 0, 0, err
	}
	n, err = c.estimate(ctx, f, args)
	return n, total, err
}

// estimate returns the planner's estimate of the products f selects (args are f's
// query parameters). It is of the whole selection, not of what follows a cursor:
// how densely the products lie along the ordering, which is what a search's plan
// depends on. It is kept a minute per filter (the planner's statistics change only
// when the table is analyzed), so paging through a filtered list, counting it or
// repeating a search runs no statement for it.
func (c *Catalog) estimate(ctx context.Context, f Filter, args db.ListProductsByNameAscParams) (int64, error) {
	if n, ok := c.matches.get(f); ok {
		return n, nil
	}
	args.AfterID, args.AfterValue = nil, nil
	n, err := c.st.Estimate(ctx, func(q *db.Queries) error {
		_, err := q.ListProductsByNameAsc(ctx, args)
		return err
	})
	if err != nil {
		return 0, err
	}
	c.matches.put(f, n)
	return n, nil
}

// memo is a map whose entries last a minute, for what the list learns about a search
// (searchSize, clustered): at most memoSize entries; when it is full, expired
// entries go, and if none has, all do.
type memo[K comparable, V any] struct {
	mu      sync.Mutex
	entries map[K]memoEntry[V]
}

type memoEntry[V any] struct {
	v     V
	until time.Time
}

const memoSize = 1024

func (m *memo[K, V]) get(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[k]
	if !ok || !time.Now().Before(e.until) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (m *memo[K, V]) put(k K, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if len(m.entries) >= memoSize {
		maps.DeleteFunc(m.entries, func(_ K, e memoEntry[V]) bool { return !now.Before(e.until) })
		if len(m.entries) >= memoSize {
			clear(m.entries)
		}
	}
	if m.entries == nil {
		m.entries = make(map[K]memoEntry[V])
	}
	m.entries[k] = memoEntry[V]{v, now.Add(time.Minute)}
}

// matchFirst decides whether a search runs matches first (MatchFirst), from the
// planner's estimate of the matches and of the catalog's size. Without a search it
// is false.
func (c *Catalog) matchFirst(ctx context.Context, f Filter, args db.ListProductsByNameAscParams) (bool, error) {
	if args.Pattern == nil {
		return false, nil
	}
	n, total, err := c.searchSize(ctx, f, args)
	return MatchFirst(n, total), err
}

// sizeCache is the planner's count of products, read at most once a minute: the
// size of the catalog changes slowly, and a search or a count should not pay a
// statement for it. While one caller reads it again, the others keep the last one.
type sizeCache struct {
	mu         sync.Mutex
	rows       int64
	at         time.Time // when rows was read; zero: never
	refreshing bool
}

func (s *sizeCache) products(ctx context.Context, st *store.Store) (int64, error) {
	s.mu.Lock()
	if !s.at.IsZero() && (s.refreshing || time.Since(s.at) < time.Minute) {
		defer s.mu.Unlock()
		return s.rows, nil
	}
	s.refreshing = true
	s.mu.Unlock()
	var rows int64
	err := st.Read(ctx, func(q *db.Queries) (err error) {
		rows, err = q.ProductsRowEstimate(ctx)
		return err
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshing = false
	if err != nil {
		return 0, fmt.Errorf("catalog size: %w", err)
	}
	s.rows, s.at = rows, time.Now()
	return rows, nil
}

// StockAlerts returns up to limit products out of stock and up to limit low on
// stock (lowest first), for the dashboard.
func (c *Catalog) StockAlerts(ctx context.Context, limit int) (out, low []db.ProductListing, err error) {
	outPage, err := c.ListProducts(ctx, ListParams{Filter: Filter{Stock: StockOut}, Sort: Sort{Key: SortStock}, Limit: limit})
	if err != nil {
		return nil, nil, err
	}
	lowPage, err := c.ListProducts(ctx, ListParams{Filter: Filter{Stock: StockLow}, Sort: Sort{Key: SortStock}, Limit: limit})
	if err != nil {
		return nil, nil, err
	}
	return outPage.Items, lowPage.Items, nil
}

// listArgs turns a filter into the list queries' parameters, reading the
// category's subcategories when it filters by category.
func (c *Catalog) listArgs(ctx context.Context, q *db.Queries, f Filter) (db.ListProductsByNameAscParams, error) {
	var args db.ListProductsByNameAscParams
	errs := validator.Errors{}
	if f.Status != "" {
		errs.Check(validStatus(f.Status), "status", "must be one of draft, active, archived")
		args.Status = &f.Status
	}
	var lo, hi int64
	switch f.Stock {
	case "":
	case StockOut:
		args.StockMax = &lo
	case StockLow:
		lo, hi = 1, int64(c.cfg.LowStock)
		args.StockMin, args.StockMax = &lo, &hi
	case StockIn:
		lo = int64(c.cfg.LowStock) + 1
		args.StockMin = &lo
	default:
		errs.Add("stock", "must be one of out, low, in")
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		errs.Check(len(q) <= MaxQuery, "q", fmt.Sprintf("must be at most %d characters", MaxQuery))
		pattern := "%" + escapeLike(q) + "%"
		args.Pattern = &pattern
	}
	if !f.UpdatedSince.IsZero() {
		args.UpdatedSince = &f.UpdatedSince
	}
	if len(errs) > 0 {
		return args, errs
	}
	if f.CategoryID != 0 {
		ids, err := q.CategoryDescendantIDs(ctx, f.CategoryID)
		if err != nil {
			return args, err
		}
		args.CategoryIds = ids // none when the category does not exist: nothing matches
		if args.CategoryIds == nil {
			args.CategoryIds = []int64{}
		}
	}
	return args, nil
}

// escapeLike makes s match itself in a LIKE pattern: its %, _ and \ are escaped.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// listFunc runs one of the list queries. They all take the same parameters (see
// ListProductsByNameAsc), so each is one conversion away from the others.
type listFunc func(ctx context.Context, q *db.Queries, p db.ListProductsByNameAscParams) ([]db.ProductListing, error)

// listQuery picks the query for an ordering.
func listQuery(s Sort) listFunc {
	switch {
	case s.Key == SortName && !s.Desc:
		return func(ctx context.Context, q *db.Queries, p db.ListProductsByNameAscParams) ([]db.ProductListing, error) {
			return q.ListProductsByNameAsc(ctx, p)
		}
	case s.Key == SortName:
		return func(ctx context.Context, q *db.Queries, p db.ListProductsByNameAscParams) ([]db.ProductListing, error) {
			return q.ListProductsByNameDesc(ctx, db.ListProductsByNameDescParams(p))
		}
	case s.Key == SortUpdatedAt && !s.Desc:
		return func(ctx context.Context, q *db.Queries, p db.ListProductsByNameAscParams) ([]db.ProductListing, error) {
			return q.ListProductsByUpdatedAtAsc(ctx, db.ListProductsByUpdatedAtAscParams(p))
		}
	case s.Key == SortUpdatedAt:
		return func(ctx context.Context, q *db.Queries, p db.ListProductsByNameAscParams) ([]db.ProductListing, error) {
			return q.ListProductsByUpdatedAtDesc(ctx, db.ListProductsByUpdatedAtDescParams(p))
		}
	case s.Key == SortPrice && !s.Desc:
		return func(ctx context.Context, q *db.Queries, p db.ListProductsByNameAscParams) ([]db.ProductListing, error) {
			return q.ListProductsByPriceAsc(ctx, db.ListProductsByPriceAscParams(p))
		}
	case s.Key == SortPrice:
		return func(ctx context.Context, q *db.Queries, p db.ListProductsByNameAscParams) ([]db.ProductListing, error) {
			return q.ListProductsByPriceDesc(ctx, db.ListProductsByPriceDescParams(p))
		}
	case s.Key == SortStock && !s.Desc:
		return func(ctx context.Context, q *db.Queries, p db.ListProductsByNameAscParams) ([]db.ProductListing, error) {
			return q.ListProductsByStockAsc(ctx, db.ListProductsByStockAscParams(p))
		}
	default:
		return func(ctx context.Context, q *db.Queries, p db.ListProductsByNameAscParams) ([]db.ProductListing, error) {
			return q.ListProductsByStockDesc(ctx, db.ListProductsByStockDescParams(p))
		}
	}
}

// walkFunc runs one of the walk queries (WalkProductsByNameAsc, ...), which share
// their parameters as the list queries do.
type walkFunc func(ctx context.Context, q *db.Queries, p db.WalkProductsByNameAscParams) ([]db.ProductListing, error)

// walkQuery picks the walk query for an ordering.
func walkQuery(s Sort) walkFunc {
	switch {
	case s.Key == SortName && !s.Desc:
		return func(ctx context.Context, q *db.Queries, p db.WalkProductsByNameAscParams) ([]db.ProductListing, error) {
			return q.WalkProductsByNameAsc(ctx, p)
		}
	case s.Key == SortName:
		return func(ctx context.Context, q *db.Queries, p db.WalkProductsByNameAscParams) ([]db.ProductListing, error) {
			return q.WalkProductsByNameDesc(ctx, db.WalkProductsByNameDescParams(p))
		}
	case s.Key == SortUpdatedAt && !s.Desc:
		return func(ctx context.Context, q *db.Queries, p db.WalkProductsByNameAscParams) ([]db.ProductListing, error) {
			return q.WalkProductsByUpdatedAtAsc(ctx, db.WalkProductsByUpdatedAtAscParams(p))
		}
	case s.Key == SortUpdatedAt:
		return func(ctx context.Context, q *db.Queries, p db.WalkProductsByNameAscParams) ([]db.ProductListing, error) {
			return q.WalkProductsByUpdatedAtDesc(ctx, db.WalkProductsByUpdatedAtDescParams(p))
		}
	case s.Key == SortPrice && !s.Desc:
		return func(ctx context.Context, q *db.Queries, p db.WalkProductsByNameAscParams) ([]db.ProductListing, error) {
			return q.WalkProductsByPriceAsc(ctx, db.WalkProductsByPriceAscParams(p))
		}
	case s.Key == SortPrice:
		return func(ctx context.Context, q *db.Queries, p db.WalkProductsByNameAscParams) ([]db.ProductListing, error) {
			return q.WalkProductsByPriceDesc(ctx, db.WalkProductsByPriceDescParams(p))
		}
	case s.Key == SortStock && !s.Desc:
		return func(ctx context.Context, q *db.Queries, p db.WalkProductsByNameAscParams) ([]db.ProductListing, error) {
			return q.WalkProductsByStockAsc(ctx, db.WalkProductsByStockAscParams(p))
		}
	default:
		return func(ctx context.Context, q *db.Queries, p db.WalkProductsByNameAscParams) ([]db.ProductListing, error) {
			return q.WalkProductsByStockDesc(ctx, db.WalkProductsByStockDescParams(p))
		}
	}
}

// searchOnly reports whether args select by a search and nothing else.
func searchOnly(args db.ListProductsByNameAscParams) bool {
	return args.Pattern != nil && args.Status == nil && args.CategoryIds == nil && args.StockMin == nil &&
		args.StockMax == nil && args.UpdatedSince == nil
}

// searchByName is the name ordering's list query for a search and nothing else that
// matches first: SearchProductsByNameAsc (or Desc), which gives ListProductsByNameAsc's
// rows with match_first set, matching and sorting on the narrow product_search. At
// 100,000 products, database CPU per search: a word that starts 4,189 names
// ("Heritage") 10.4 -> 6.5 ms, one in 2,474 ("Lantern") 7.6 -> 5.5 ms.
func searchByName(desc bool) listFunc {
	if desc {
		return func(ctx context.Context, q *db.Queries, p db.ListProductsByNameAscParams) ([]db.ProductListing, error) {
			return q.SearchProductsByNameDesc(ctx, db.SearchProductsByNameDescParams{
				Pattern: *p.Pattern, AfterID: p.AfterID, AfterValue: p.AfterValue, RowLimit: p.RowLimit,
			})
		}
	}
	return func(ctx context.Context, q *db.Queries, p db.ListProductsByNameAscParams) ([]db.ProductListing, error) {
		return q.SearchProductsByNameAsc(ctx, db.SearchProductsByNameAscParams{
			Pattern: *p.Pattern, AfterID: p.AfterID, AfterValue: p.AfterValue, RowLimit: p.RowLimit,
		})
	}
}

// MaxWords is how many words of the names' vocabulary a search may be in for
// searchWords to read their postings: in that many or more (a search of a few common
// letters) it runs the way it did before, walking or matching first, which costs
// about what reading that many postings lists would. Exported for the bench, whose
// database limit and same-SQL floor run S4 as searchWords does.
const MaxWords = 64

// OneWord reports whether a search for q (untrimmed) can only match inside one word
// of a name (0091_product_words.sql): it holds neither a space nor a hyphen, and
// has three characters or more, so search_words' trigram index finds the words it is
// in rather than reading the whole vocabulary. Such a search, with no other filter,
// by name, runs searchWords.
func OneWord(q string) bool {
	q = strings.TrimSpace(q)
	return utf8.RuneCountInString(q) >= 3 && !strings.ContainsAny(q, " -")
}

// searchWords runs SearchProductWordsByNameAsc (or Desc) for a search of one word
// and nothing else, by name: the page is read from the postings of the words the
// search is in (and from the SKUs that match) in index order, so it costs the same
// whether the search matches 40 products or 40,000. At a million products, database
// time for a first page, warm: a word that starts 42,000 names ("Heritage"), which
// matching first sorts in 45-75 ms, 1.1 ms (0.56 of it planning); the mean over
// seed.SearchWords 1.5 ms, the most 3.1 ms. overflow reports that the search is in
// MaxWords words or more and nothing was read; the words of the vocabulary are
// never removed, so it stays so.
func searchWords(ctx context.Context, q *db.Queries, desc bool, p db.ListProductsByNameAscParams) (rows []db.ProductListing, overflow bool, err error) {
	args := db.SearchProductWordsByNameAscParams{
		MaxWords: MaxWords, Pattern: *p.Pattern, AfterID: p.AfterID, AfterValue: p.AfterValue, RowLimit: p.RowLimit,
	}
	var found []db.SearchProductWordsByNameAscRow
	if desc {
		var back []db.SearchProductWordsByNameDescRow
		back, err = q.SearchProductWordsByNameDesc(ctx, db.SearchProductWordsByNameDescParams(args))
		for _, r := range back {
			found = append(found, db.SearchProductWordsByNameAscRow(r))
		}
	} else {
		found, err = q.SearchProductWordsByNameAsc(ctx, args)
	}
	if err != nil || len(found) > 0 && found[0].Overflow {
		return nil, err == nil, err
	}
	rows = make([]db.ProductListing, len(found))
	for i, r := range found {
		rows[i] = r.ProductListing
	}
	return rows, false, nil
}

// unfiltered reports whether args select every product from the start of the
// ordering: no filter, no keyset.
func unfiltered(args db.ListProductsByNameAscParams) bool {
	return args.Status == nil && args.CategoryIds == nil && args.StockMin == nil && args.StockMax == nil &&
		args.UpdatedSince == nil && args.Pattern == nil && args.AfterID == nil && args.AfterValue == nil
}

// listAllQuery picks the unfiltered first-page query for an ordering.
func listAllQuery(s Sort) func(q *db.Queries, ctx context.Context, limit int32) ([]db.ProductListing, error) {
	switch {
	case s.Key == SortName && !s.Desc:
		return (*db.Queries).ListAllProductsByNameAsc
	case s.Key == SortName:
		return (*db.Queries).ListAllProductsByNameDesc
	case s.Key == SortUpdatedAt && !s.Desc:
		return (*db.Queries).ListAllProductsByUpdatedAtAsc
	case s.Key == SortUpdatedAt:
		return (*db.Queries).ListAllProductsByUpdatedAtDesc
	case s.Key == SortPrice && !s.Desc:
		return (*db.Queries).ListAllProductsByPriceAsc
	case s.Key == SortPrice:
		return (*db.Queries).ListAllProductsByPriceDesc
	case s.Key == SortStock && !s.Desc:
		return (*db.Queries).ListAllProductsByStockAsc
	default:
		return (*db.Queries).ListAllProductsByStockDesc
	}
}
