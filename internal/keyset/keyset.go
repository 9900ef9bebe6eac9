// Package keyset is what every keyset-paginated list shares: opaque cursors that
// name a position in a list (a row's sort key and id, and which way to read from
// it), and the turning of the rows read from a cursor into a page with the cursors
// before and after it. A list that reads its index from a position costs the same
// on page one as on page 20,000; the catalog's and the orders' lists work this way.
package keyset

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Cursor is a position in a list: the sort key's value (as text the query casts
// back) and id of a row, the ordering it belongs to, and whether the page wanted
// lies before it (Back) or after.
type Cursor struct {
	Sort  string `json:"s"`
	Back  bool   `json:"b,omitempty"`
	Value string `json:"v"`
	ID    int64  `json:"id"`
}

// Encode makes an opaque, URL-safe token of a keyset: a Cursor, or any struct of
// strings, numbers and bools a list keeps its position in.
func Encode(keyset any) string {
	b, _ := json.Marshal(keyset) // structs of strings, numbers and bools always encode
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a token Encode made into keyset, and reports whether it was one.
func Decode(token string, keyset any) bool {
	b, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && json.Unmarshal(b, keyset) == nil
}

// Err refuses a cursor that is malformed or from another list, as a field error on
// "cursor". A new map each time: the caller may add to it.
func Err() validator.Errors {
	return validator.Errors{"cursor": "is not valid for this list: start from the first page"}
}

// Read decodes a Cursor for the ordering named sort; "" is none (the first page).
// valid says whether a value can be cast to the sort key's column, so that a forged
// cursor is a field error (Err) rather than a database error.
func Read(token, sort string, valid func(value string) bool) (*Cursor, error) {
	if token == "" {
		return nil, nil
	}
	var c Cursor
	if !Decode(token, &c) || c.ID <= 0 || c.Sort != sort || !valid(c.Value) {
		return nil, Err()
	}
	return &c, nil
}

// Limit checks a page size: 0 is def, anything outside 1 to max a field error on
// "limit".
func Limit(n, def, max int) (int, error) {
	switch {
	case n == 0:
		return def, nil
	case n < 1 || n > max:
		return 0, validator.Errors{"limit": fmt.Sprintf("must be from 1 to %d", max)}
	}
	return n, nil
}

// Backwards reports whether the page after cur (or the last page) is read against
// the ordering: the list query then runs in the opposite direction and Paginate
// turns the rows round.
func Backwards(cur *Cursor, last bool) bool {
	return last || cur != nil && cur.Back
}

// Paginate turns the rows a list read from cur, at most limit+1 in reading order,
// into the page's rows in display order and the cursors of the pages before and
// after it ("" when there is none). last says the rows are the last page's; sort
// names the ordering; at gives a row's sort-key value and id.
func Paginate[R any](rows []R, limit int, sort string, cur *Cursor, last bool, at func(R) (string, int64)) (page []R, prev, next string) {
	back := Backwards(cur, last)
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	if back {
		slices.Reverse(rows)
	}
	if len(rows) == 0 {
		return rows, "", ""
	}
	cursor := func(row R, back bool) string {
		value, id := at(row)
		return Encode(Cursor{Sort: sort, Back: back, Value: value, ID: id})
	}
	// Forwards, rows before the cursor exist; backwards, rows after it.
	if back && more || !back && cur != nil {
		prev = cursor(rows[0], true)
	}
	if !back && more || back && !last {
		next = cursor(rows[len(rows)-1], false)
	}
	return rows, prev, next
}
