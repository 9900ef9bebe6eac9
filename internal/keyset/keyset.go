// Package keyset is the one list contract of stockroom. A list takes Params (its
// filter, an ordering by a key of its sort-key Table, a page size and a cursor) and
// returns a Page (the rows and the cursors of the pages before and after); Start
// and Finish do the checking and the cursors around a list's one query. Cursors
// are opaque tokens of one Codec (signed where the JSON API hands them out), Table
// parses orderings and lists the API's allowed ones, CountOf is the one
// exact-versus-estimated count policy, and the page sizes and the count limit are
// constants here. A list that reads its index from a position costs the same on
// page one as on page 20,000.
package keyset

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
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

// Codec is the one cursor codec: it makes a cursor (a Cursor, or any struct of
// strings, numbers and bools a list keeps its position in) an opaque, URL-safe
// token, base64url of its JSON, and reads it back. A Codec made by Signed appends
// an HMAC of the JSON and reads only tokens that carry a valid one: the JSON API's
// cursors, which bind a page to its list, ordering and filters, travel signed. The
// zero Codec (Encode, Decode) does not sign: a domain package's cursors, and the
// admin's, only position a read the caller may make from the start anyway, and a
// cursor whose value the sort key's column cannot take is refused (Read).
type Codec struct {
	key []byte
}

// macLen is how many bytes of HMAC-SHA256 a signed cursor keeps: forging one is
// still 2^-128.
const macLen = 16

// Signed returns a Codec that signs with key (a secret every instance shares).
func Signed(key []byte) Codec { return Codec{key: key} }

// Encode makes the token of cursor.
func (c Codec) Encode(cursor any) string {
	b, err := json.Marshal(cursor)
	if err != nil { // structs of strings, numbers and bools always encode
		panic(err)
	}
	if c.key != nil {
		b = append(b, c.mac(b)...)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a token Encode made into cursor, and reports whether it was one. A
// signed token must carry the signature and name only cursor's fields.
func (c Codec) Decode(token string, cursor any) bool {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return false
	}
	if c.key == nil {
		return json.Unmarshal(b, cursor) == nil
	}
	if len(b) <= macLen {
		return false
	}
	payload, sum := b[:len(b)-macLen], b[len(b)-macLen:]
	if !hmac.Equal(sum, c.mac(payload)) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	return dec.Decode(cursor) == nil
}

func (c Codec) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("stockroom cursor v1\x00"))
	m.Write(payload)
	return m.Sum(nil)[:macLen]
}

// Encode makes an unsigned token of cursor (the zero Codec's Encode).
func Encode(cursor any) string { return Codec{}.Encode(cursor) }

// Decode reads an unsigned token into cursor (the zero Codec's Decode).
func Decode(token string, cursor any) bool { return Codec{}.Decode(token, cursor) }

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

// ReadNext is Read for a list read only forwards (no previous or last page: the
// audit log, a customer's or a category's list): a cursor that goes back is refused.
func ReadNext(token, sort string, valid func(value string) bool) (*Cursor, error) {
	c, err := Read(token, sort, valid)
	if err == nil && c != nil && c.Back {
		return nil, Err()
	}
	return c, err
}

// Next cuts rows a forwards-only list read (at most limit+1) to the page, and makes
// the cursor of the page after it ("" when there is none).
func Next[R any](rows []R, limit int, sort string, at func(R) (string, int64)) (page []R, next string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	value, id := at(rows[limit-1])
	return rows, Encode(Cursor{Sort: sort, Value: value, ID: id})
}
