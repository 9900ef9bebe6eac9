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

// Limits of the lists. Page sizes and the exact-count limit are keyset's.
const (
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

// Sort is an order list ordering.
type Sort = keyset.Sort[SortKey]

// Sorts is the order list's sort-key table: what it sorts by, newest first by default.
var Sorts = keyset.Table[SortKey, db.OrderListing]{
	Keys: []keyset.Key[SortKey, db.OrderListing]{
		{Name: SortPlaced, Value: func(r db.OrderListing) string { return keyset.TimeValue(r.PlacedAt) }, Valid: keyset.Time},
		{Name: SortTotal, Value: func(r db.OrderListing) string { return strconv.FormatInt(r.TotalCents, 10) }, Valid: keyset.Int},
	},
	Default: Sort{Key: SortPlaced, Desc: true},
}

// DefaultSort is newest first.
var DefaultSort = Sorts.Default

// ParseSort reads an ordering as URLs and the API write it: "placed_at", "-total"
// ("-" for descending). "" is DefaultSort.
func ParseSort(s string) (Sort, error) { return Sorts.Parse(s) }

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
type ListParams = keyset.Params[Filter, SortKey]

// Page is one page of the order list.
type Page = keyset.Page[db.OrderListing]

// ListOrders returns one page of the orders p selects, in p.Sort's order, in one
// statement that reads an index from the cursor on: page one and page 20,000 cost
// the same. A search (Filter.Q) adds one statement before it (see searchArgs).
func (o *Orders) ListOrders(ctx context.Context, p ListParams) (Page, error) {
	limit, cur, err := keyset.Start(Sorts, &p)
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
	return keyset.Finish(Sorts, p, rows, limit, cur, func(r db.OrderListing) int64 { return r.ID }), nil
}

// Count is a row count: exact, or the planner's estimate.
type Count = keyset.Count

// CountOrders counts the orders f selects without counting a large set (the policy
// is keyset.CountOf). It runs two or three statements (one more for a
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
	n, err := keyset.CountOf(estimate, func(max int32) (n int64, err error) {
		err = o.st.Replica(ctx, func(q *db.Queries) (err error) {
			n, err = q.CountOrders(ctx, db.CountOrdersParams{
				Status: args.Status, CustomerID: args.CustomerID, PlacedFrom: args.PlacedFrom, PlacedTo: args.PlacedTo,
				TotalMin: args.TotalMin, TotalMax: args.TotalMax, Ids: args.Ids, Pattern: args.Pattern, MaxCount: max,
			})
			return err
		})
		return n, err
	})
	if err != nil {
		return Count{}, fmt.Errorf("count orders: %w", err)
	}
	return n, nil
}

// ExportOrders calls fn with every order p selects, in p's order,
// keyset.ExportBatch rows at a time (p.Limit, p.Cursor and p.Last are ignored): the CSV export. Memory stays
// flat whatever the count; each batch is one keyset statement from where the last
// ended, all in one snapshot (store.Snapshot): an order changed during the export
// shows as it was when the export began.
func (o *Orders) ExportOrders(ctx context.Context, p ListParams, fn func([]db.OrderListing) error) error {
	var err error
	if p.Sort, err = Sorts.Check(p.Sort); err != nil {
		return err
	}
	args, err := listArgs(p.Filter)
	if err != nil {
		return fmt.Errorf("export orders: %w", err)
	}
	args.RowLimit = keyset.ExportBatch
	list := listQuery(p.Sort)
	err = o.st.Snapshot(ctx, func(q *db.Queries) error {
		if err := o.searchArgs(ctx, q, &args); err != nil {
			return err
		}
		return keyset.Export(Sorts, p.Sort.Key, func(r db.OrderListing) int64 { return r.ID },
			func(after *keyset.Cursor) ([]db.OrderListing, error) {
				if after != nil {
					args.AfterValue, args.AfterID = &after.Value, &after.ID
				}
				return list(ctx, q, args)
			}, fn)
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
