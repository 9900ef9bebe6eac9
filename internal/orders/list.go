package orders

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Page sizes and limits of the lists.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
	// ExactCountLimit is the largest count given exactly; above it, the count is the
	// planner's estimate ("about N").
	ExactCountLimit = 10000
	// ExportBatch is how many rows ExportOrders reads per statement.
	ExportBatch = 1000
	// MaxQuery is the longest search text.
	MaxQuery = 200
	// SelectiveSearch is the most orders a search may match to be listed by their ids
	// (see ListOrdersByPlacedDesc); a broader one is matched row by row.
	SelectiveSearch = 1000
)

// SortKey is a column the order list sorts by.
type SortKey string

// The sortable columns; each has an index ending in id.
const (
	SortPlaced SortKey = "placed_at"
	SortTotal  SortKey = "total"
)

// Sort is a list ordering: a key and a direction; ties are broken by id in the same
// direction.
type Sort struct {
	Key  SortKey
	Desc bool
}

// DefaultSort is newest first.
var DefaultSort = Sort{Key: SortPlaced, Desc: true}

// ParseSort reads an ordering as URLs and the API write it: "placed_at", "-total"
// ("-" for descending). "" is DefaultSort.
func ParseSort(s string) (Sort, error) {
	if s == "" {
		return DefaultSort, nil
	}
	o := Sort{Key: SortKey(strings.TrimPrefix(s, "-")), Desc: strings.HasPrefix(s, "-")}
	if o.Key != SortPlaced && o.Key != SortTotal {
		return Sort{}, validator.Errors{"ordering": "must be one of placed_at, total, each optionally with a leading -"}
	}
	return o, nil
}

// String is the ordering as ParseSort reads it.
func (s Sort) String() string {
	if s.Desc {
		return "-" + string(s.Key)
	}
	return string(s.Key)
}

// Filter selects orders. The zero value selects all.
type Filter struct {
	Q          string    // a substring of the number, or of the customer's email or name
	Status     string    // one of Statuses
	CustomerID int64     // this customer's orders
	PlacedFrom time.Time // placed at or after (see PlacedRange)
	PlacedTo   time.Time // placed before
	TotalMin   *int64    // total in cents at least
	TotalMax   *int64    // total in cents at most
}

// ListParams asks for one page of the order list.
type ListParams struct {
	Filter
	Sort   Sort   // the zero Sort is DefaultSort
	Limit  int    // rows per page, 1 to MaxPageSize; 0 is DefaultPageSize
	Cursor string // "" for the first page, else a Page's Next or Prev
	Last   bool   // the last page (Cursor is then ignored)
}

// Page is one page of the order list. Next and Prev are cursors for the pages after
// and before it, "" when there is none: opaque, URL-safe, and valid only with the
// same ordering.
type Page struct {
	Items []db.OrderListing
	Next  string
	Prev  string
}

// ListOrders returns one page of the orders p selects, in p.Sort's order, in one
// statement that reads an index from the cursor on: page one and page 20,000 cost
// the same. A search (Filter.Q) adds one statement before it (see searchArgs).
func (o *Orders) ListOrders(ctx context.Context, p ListParams) (Page, error) {
	if p.Sort == (Sort{}) {
		p.Sort = DefaultSort
	}
	limit, err := keyset.Limit(p.Limit, DefaultPageSize, MaxPageSize)
	if err != nil {
		return Page{}, err
	}
	if p.Last {
		p.Cursor = "" // the last page is the last page, wherever the caller was
	}
	cur, err := keyset.Read(p.Cursor, p.Sort.String(), func(v string) bool { return validKey(p.Sort.Key, v) })
	if err != nil {
		return Page{}, err
	}
	args, err := listArgs(p.Filter)
	if err != nil {
		return Page{}, err
	}
	if cur != nil {
		args.AfterValue, args.AfterID = &cur.Value, &cur.ID
	}
	args.RowLimit = int32(limit + 1)
	order := p.Sort
	order.Desc = order.Desc != keyset.Backwards(cur, p.Last) // backwards: the opposite order, turned round after
	var rows []db.OrderListing
	err = o.st.Replica(ctx, func(q *db.Queries) error {
		if err := o.searchArgs(ctx, q, &args); err != nil {
			return err
		}
		rows, err = listQuery(order)(ctx, q, args)
		return err
	})
	if err != nil {
		return Page{}, fmt.Errorf("list orders: %w", err)
	}
	var page Page
	page.Items, page.Prev, page.Next = keyset.Paginate(rows, limit, p.Sort.String(), cur, p.Last,
		func(r db.OrderListing) (string, int64) { return keyValue(p.Sort.Key, r), r.ID })
	return page, nil
}

// Count is a row count: exact, or the planner's estimate.
type Count struct {
	N     int64
	Exact bool // false: "about N"
}

// CountOrders counts the orders f selects without counting a large set: when the
// planner expects more than ExactCountLimit it returns that estimate; otherwise it
// counts, up to ExactCountLimit+1. It runs two or three statements (one more for a
// search).
func (o *Orders) CountOrders(ctx context.Context, f Filter) (Count, error) {
	args, err := listArgs(f)
	if err != nil {
		return Count{}, err
	}
	err = o.st.Replica(ctx, func(q *db.Queries) error { return o.searchArgs(ctx, q, &args) })
	if err != nil {
		return Count{}, fmt.Errorf("count orders: %w", err)
	}
	args.RowLimit = 1
	estimate, err := o.st.Estimate(ctx, func(q *db.Queries) error {
		_, err := q.ListOrdersByPlacedDesc(ctx, args)
		return err
	})
	if err != nil {
		return Count{}, fmt.Errorf("count orders: %w", err)
	}
	// Estimates can be off several times either way; count when it may be small.
	if estimate > 2*ExactCountLimit {
		return Count{N: estimate}, nil
	}
	var exact int64
	err = o.st.Replica(ctx, func(q *db.Queries) (err error) {
		exact, err = q.CountOrders(ctx, db.CountOrdersParams{
			Status: args.Status, CustomerID: args.CustomerID, PlacedFrom: args.PlacedFrom, PlacedTo: args.PlacedTo,
			TotalMin: args.TotalMin, TotalMax: args.TotalMax, Ids: args.Ids, Pattern: args.Pattern, MaxCount: ExactCountLimit + 1,
		})
		return err
	})
	if err != nil {
		return Count{}, fmt.Errorf("count orders: %w", err)
	}
	if exact <= ExactCountLimit {
		return Count{N: exact, Exact: true}, nil
	}
	return Count{N: max(estimate, exact)}, nil
}

// ExportOrders calls fn with every order p selects, in p's order, ExportBatch rows
// at a time (p.Limit, p.Cursor and p.Last are ignored): the CSV export. Memory stays
// flat whatever the count; each batch is one keyset statement from where the last
// ended, all in one snapshot (store.Snapshot): an order changed during the export
// shows as it was when the export began.
func (o *Orders) ExportOrders(ctx context.Context, p ListParams, fn func([]db.OrderListing) error) error {
	if p.Sort == (Sort{}) {
		p.Sort = DefaultSort
	}
	args, err := listArgs(p.Filter)
	if err != nil {
		return fmt.Errorf("export orders: %w", err)
	}
	args.RowLimit = ExportBatch
	list := listQuery(p.Sort)
	err = o.st.Snapshot(ctx, func(q *db.Queries) error {
		if err := o.searchArgs(ctx, q, &args); err != nil {
			return err
		}
		for {
			rows, err := list(ctx, q, args)
			if err != nil {
				return err
			}
			if len(rows) == 0 {
				return nil
			}
			if err := fn(rows); err != nil {
				return err
			}
			if len(rows) < ExportBatch {
				return nil
			}
			last := rows[len(rows)-1]
			value := keyValue(p.Sort.Key, last)
			args.AfterValue, args.AfterID = &value, &last.ID
		}
	})
	if err != nil {
		return fmt.Errorf("export orders: %w", err)
	}
	return nil
}

// The placed-date presets of the order list's filter.
const (
	PlacedToday  = "today"
	Placed7Days  = "7d"
	Placed30Days = "30d"
	PlacedCustom = "custom"
)

// dateLayout is how a custom range's dates are written.
const dateLayout = "2006-01-02"

// PlacedRange turns the date filter as a form or a URL gives it into the
// [from, to) of Filter, in the shop's time zone: "today" since midnight, "7d" and
// "30d" the last 7 or 30 days including today, "custom" from date from (inclusive)
// to date to (inclusive, so to midnight after it), each a date like 2026-01-31 or
// empty for no bound. "" is no filter. Both transports call this, so "today" means
// one thing.
func (o *Orders) PlacedRange(preset, from, to string) (time.Time, time.Time, error) {
	today := startOfDay(o.cfg.Now(), o.cfg.Location)
	switch preset {
	case "":
		return time.Time{}, time.Time{}, nil
	case PlacedToday:
		return today, time.Time{}, nil
	case Placed7Days:
		return today.AddDate(0, 0, -6), time.Time{}, nil
	case Placed30Days:
		return today.AddDate(0, 0, -29), time.Time{}, nil
	case PlacedCustom:
	default:
		return time.Time{}, time.Time{}, validator.Errors{"placed": "must be one of today, 7d, 30d, custom"}
	}
	errs := validator.Errors{}
	var start, end time.Time
	if from = strings.TrimSpace(from); from != "" {
		d, err := time.ParseInLocation(dateLayout, from, o.cfg.Location)
		errs.Check(err == nil, "placed_from", "must be a date like 2026-01-31")
		start = d
	}
	if to = strings.TrimSpace(to); to != "" {
		d, err := time.ParseInLocation(dateLayout, to, o.cfg.Location)
		errs.Check(err == nil, "placed_to", "must be a date like 2026-01-31")
		if err == nil {
			end = d.AddDate(0, 0, 1)
		}
	}
	if len(errs) == 0 && !start.IsZero() && !end.IsZero() && !start.Before(end) {
		errs.Add("placed_to", "must not be before the start date")
	}
	if len(errs) > 0 {
		return time.Time{}, time.Time{}, errs
	}
	return start, end, nil
}

// startOfDay is midnight of t's day in loc.
func startOfDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// listArgs turns a filter into the list queries' parameters.
func listArgs(f Filter) (db.ListOrdersByPlacedDescParams, error) {
	var args db.ListOrdersByPlacedDescParams
	errs := validator.Errors{}
	if f.Status != "" {
		errs.Check(validStatus(f.Status), "status", "must be one of "+strings.Join(Statuses, ", "))
		args.Status = &f.Status
	}
	if f.CustomerID != 0 {
		args.CustomerID = &f.CustomerID
	}
	if !f.PlacedFrom.IsZero() {
		args.PlacedFrom = &f.PlacedFrom
	}
	if !f.PlacedTo.IsZero() {
		args.PlacedTo = &f.PlacedTo
	}
	errs.Check(f.TotalMin == nil || *f.TotalMin >= 0, "total_min", "must not be negative")
	errs.Check(f.TotalMax == nil || *f.TotalMax >= 0, "total_max", "must not be negative")
	if f.TotalMin != nil && f.TotalMax != nil && *f.TotalMax < *f.TotalMin {
		errs.Add("total_max", "must not be below the minimum")
	}
	args.TotalMin, args.TotalMax = f.TotalMin, f.TotalMax
	if q := strings.TrimSpace(f.Q); q != "" {
		errs.Check(validator.MaxLen(q, MaxQuery), "q", fmt.Sprintf("must be at most %d characters", MaxQuery))
		pattern := "%" + escapeLike(q) + "%"
		args.Pattern = &pattern
	}
	if len(errs) > 0 {
		return args, errs
	}
	return args, nil
}

// searchArgs settles how args' search is matched. A search that matches at most
// SelectiveSearch orders becomes the list of their ids (read through the primary
// key, then sorted); a broader one stays a pattern, matched row by row as the list
// reads its index, where matches are dense enough to fill a page soon. It runs one
// statement when there is a search, none otherwise.
func (o *Orders) searchArgs(ctx context.Context, q *db.Queries, args *db.ListOrdersByPlacedDescParams) error {
	if args.Pattern == nil {
		return nil
	}
	ids, err := q.SearchOrderIDs(ctx, db.SearchOrderIDsParams{Pattern: *args.Pattern, RowLimit: int32(o.selective) + 1})
	if err != nil {
		return err
	}
	if len(ids) <= o.selective {
		args.Ids, args.Pattern = ids, nil // ids is never nil: no match lists nothing
	}
	return nil
}

// escapeLike makes s match itself in a LIKE pattern: its %, _ and \ are escaped.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// listFunc runs one of the list queries. They all take the same parameters (see
// ListOrdersByPlacedDesc), so each is one conversion away from the others.
type listFunc func(ctx context.Context, q *db.Queries, p db.ListOrdersByPlacedDescParams) ([]db.OrderListing, error)

// listQuery picks the query for an ordering.
func listQuery(s Sort) listFunc {
	switch {
	case s.Key == SortTotal && s.Desc:
		return func(ctx context.Context, q *db.Queries, p db.ListOrdersByPlacedDescParams) ([]db.OrderListing, error) {
			return q.ListOrdersByTotalDesc(ctx, db.ListOrdersByTotalDescParams(p))
		}
	case s.Key == SortTotal:
		return func(ctx context.Context, q *db.Queries, p db.ListOrdersByPlacedDescParams) ([]db.OrderListing, error) {
			return q.ListOrdersByTotalAsc(ctx, db.ListOrdersByTotalAscParams(p))
		}
	case s.Desc:
		return func(ctx context.Context, q *db.Queries, p db.ListOrdersByPlacedDescParams) ([]db.OrderListing, error) {
			return q.ListOrdersByPlacedDesc(ctx, p)
		}
	default:
		return func(ctx context.Context, q *db.Queries, p db.ListOrdersByPlacedDescParams) ([]db.OrderListing, error) {
			return q.ListOrdersByPlacedAsc(ctx, db.ListOrdersByPlacedAscParams(p))
		}
	}
}

// keyValue is row's sort key as the list queries take it: text, cast back in SQL.
func keyValue(k SortKey, row db.OrderListing) string {
	if k == SortTotal {
		return strconv.FormatInt(row.TotalCents, 10)
	}
	return row.PlacedAt.UTC().Format(time.RFC3339Nano)
}

// validKey reports whether v can be cast to k's column type, so that a tampered
// cursor is a field error rather than a database error.
func validKey(k SortKey, v string) bool {
	if k == SortTotal {
		_, err := strconv.ParseInt(v, 10, 64)
		return err == nil
	}
	_, err := time.Parse(time.RFC3339Nano, v)
	return err == nil
}
