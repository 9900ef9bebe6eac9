package keyset

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stockroom-dev/stockroom/internal/validator"
)

// The page sizes and the count limit every list shares: the admin's lists, the
// JSON API's and the domain packages' all read them from here.
const (
	// DefaultLimit is a page's size when none is asked for.
	DefaultLimit = 50
	// MaxLimit is the largest page any list returns.
	MaxLimit = 200
	// ExactCountLimit is the largest count a list gives exactly; above it, the count
	// is the planner's estimate ("about N"). See CountOf.
	ExactCountLimit = 10_000
)

// PageSizes are the page sizes the admin's lists offer, the default first.
func PageSizes() []int { return []int{DefaultLimit, 25, 100, MaxLimit} }

// Sort is a list ordering: a key of the list's sort-key table and a direction.
// Ties are broken by id in the same direction.
type Sort[K ~string] struct {
	Key  K
	Desc bool
}

// String is the ordering as URLs and the API write it: "name", "-updated_at".
func (s Sort[K]) String() string {
	if s.Desc {
		return "-" + string(s.Key)
	}
	return string(s.Key)
}

// Params asks for one page of a list: its filter F, an ordering by one of the keys
// K, the page size and where to start.
type Params[F any, K ~string] struct {
	Filter F
	Sort   Sort[K] // the zero Sort is the table's Default
	Limit  int     // rows per page, 1 to MaxLimit; 0 is DefaultLimit
	Cursor string  // "" for the first page, else a Page's Next or Prev
	Last   bool    // the last page (Cursor is then ignored)
}

// Page is one page of a list. Next and Prev are cursors for the pages after and
// before it, "" when there is none: opaque, URL-safe, and valid only with the same
// ordering.
type Page[R any] struct {
	Items []R
	Next  string
	Prev  string
}

// Key is one row of a sort-key table: a column a list sorts by, how a row's value
// in it is written into a cursor (text the query casts back), and which texts the
// column's type takes (nil: any), so that a forged cursor is a field error rather
// than a database error.
type Key[K ~string, R any] struct {
	Name  K
	Value func(R) string
	Valid func(string) bool
}

// Table is a list's sort-key table: the keys it sorts by and its default ordering.
// It is all a list declares about sorting; parsing orderings, the API's allowed
// values and the cursors of its pages come from it.
type Table[K ~string, R any] struct {
	Keys    []Key[K, R]
	Default Sort[K]
}

func (t Table[K, R]) key(k K) (Key[K, R], bool) {
	i := slices.IndexFunc(t.Keys, func(key Key[K, R]) bool { return key.Name == k })
	if i < 0 {
		return Key[K, R]{}, false
	}
	return t.Keys[i], true
}

// sortErr names the keys in a field error on "ordering".
func (t Table[K, R]) sortErr() validator.Errors {
	names := make([]string, len(t.Keys))
	for i, k := range t.Keys {
		names[i] = string(k.Name)
	}
	return validator.Errors{"ordering": "must be one of " + strings.Join(names, ", ") + ", each optionally with a leading -"}
}

// Parse reads an ordering as URLs and the API write it: "name", "-updated_at" ("-"
// for descending). "" is the Default; a key not in the table a field error.
func (t Table[K, R]) Parse(s string) (Sort[K], error) {
	if s == "" {
		return t.Default, nil
	}
	return t.Check(Sort[K]{Key: K(strings.TrimPrefix(s, "-")), Desc: strings.HasPrefix(s, "-")})
}

// Check is s, or the Default for the zero Sort; a key not in the table is a field
// error on "ordering".
func (t Table[K, R]) Check(s Sort[K]) (Sort[K], error) {
	if s == (Sort[K]{}) {
		return t.Default, nil
	}
	if _, ok := t.key(s.Key); !ok || s.Key == "" {
		return Sort[K]{}, t.sortErr()
	}
	return s, nil
}

// Orderings are the orderings Parse takes, as the API lists them: the Default
// first, then every key in the table's order, each in the Default's direction
// first.
func (t Table[K, R]) Orderings() []string {
	names := []K{t.Default.Key}
	for _, k := range t.Keys {
		if k.Name != t.Default.Key {
			names = append(names, k.Name)
		}
	}
	var out []string
	for _, k := range names {
		out = append(out, Sort[K]{Key: k, Desc: t.Default.Desc}.String(), Sort[K]{Key: k, Desc: !t.Default.Desc}.String())
	}
	return out
}

// Value is row's value of key k as a cursor holds it.
func (t Table[K, R]) Value(k K, row R) string {
	key, _ := t.key(k)
	return key.Value(row)
}

// Start checks p (its page size and ordering) and reads its cursor: what every list
// does before its query. cur is nil on the first (or the last) page; Backwards
// says whether the query runs against the ordering.
func Start[F any, K ~string, R any](t Table[K, R], p *Params[F, K]) (limit int, cur *Cursor, err error) {
	if limit, err = Limit(p.Limit, DefaultLimit, MaxLimit); err != nil {
		return 0, nil, err
	}
	if p.Sort, err = t.Check(p.Sort); err != nil {
		return 0, nil, err
	}
	if p.Last {
		p.Cursor = "" // the last page is the last page, wherever the caller was
	}
	key, _ := t.key(p.Sort.Key)
	valid := key.Valid
	if valid == nil {
		valid = func(string) bool { return true }
	}
	cur, err = Read(p.Cursor, p.Sort.String(), valid)
	return limit, cur, err
}

// Finish turns the rows a list read for p from cur (at most limit+1, in reading
// order) into the page, with the cursors around it.
func Finish[F any, K ~string, R any](t Table[K, R], p Params[F, K], rows []R, limit int, cur *Cursor, id func(R) int64) Page[R] {
	var page Page[R]
	page.Items, page.Prev, page.Next = Paginate(rows, limit, p.Sort.String(), cur, p.Last,
		func(r R) (string, int64) { return t.Value(p.Sort.Key, r), id(r) })
	return page
}

// Int reports whether v is a whole number (a bigint column).
func Int(v string) bool {
	_, err := strconv.ParseInt(v, 10, 64)
	return err == nil
}

// Time reports whether v is a timestamp as TimeValue writes it.
func Time(v string) bool {
	_, err := time.Parse(time.RFC3339Nano, v)
	return err == nil
}

// TimeValue writes t as a cursor holds a timestamp.
func TimeValue(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Count is a row count: exact, or the planner's estimate.
type Count struct {
	N     int64
	Exact bool // false: "about N"
}

// CountOf is the one count policy of every list: a large set is never counted. When
// the planner's estimate is above twice ExactCountLimit (estimates can be off
// several times either way), the count is that estimate; otherwise count runs,
// asked to stop past max = ExactCountLimit+1 rows (a query that cannot stop early
// may ignore max), and its result is exact if it stays within ExactCountLimit.
func CountOf(estimate int64, count func(max int32) (int64, error)) (Count, error) {
	if estimate > 2*ExactCountLimit {
		return Count{N: estimate}, nil
	}
	n, err := count(ExactCountLimit + 1)
	if err != nil {
		return Count{}, err
	}
	if n <= ExactCountLimit {
		return Count{N: n, Exact: true}, nil
	}
	return Count{N: max(estimate, n)}, nil
}

// ExportBatch is how many rows an export reads per statement.
const ExportBatch = 1000

// Export reads a whole list in key's order, ExportBatch rows at a time, and hands
// each batch to fn: memory stays flat whatever the count. read gets the position
// after the previous batch's last row (nil for the first batch) and returns up to
// ExportBatch rows from there; id gives a row's id. Run it inside one snapshot
// (store.Snapshot), so that no row is skipped or repeated whatever changes meanwhile.
func Export[K ~string, R any](t Table[K, R], key K, id func(R) int64, read func(after *Cursor) ([]R, error), fn func([]R) error) error {
	var after *Cursor
	for {
		rows, err := read(after)
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
		after = &Cursor{Value: t.Value(key, last), ID: id(last)}
	}
}
