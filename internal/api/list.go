package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// listSpec is what a list endpoint accepts besides limit and cursor.
type listSpec struct {
	orderings []string // the accepted ordering values, the default first: a domain Table's Orderings
	filters   []string // the accepted filter parameters (q, status, ...)
}

// pageRequest is a list request's paging, as page read it.
type pageRequest struct {
	Limit    int
	Ordering string
	After    *cursor // nil on the first page
	filter   string  // fingerprint of the path and filters, which a cursor must match
}

// Fetch is how many rows to ask the database for: one more than the page shows, to
// learn whether there is a next page without counting.
func (p pageRequest) Fetch() int32 { return int32(p.Limit) + 1 }

// cursor is where a page ends: the last row's sort value and id (the tie-breaker),
// with the ordering and filters it belongs to. It travels signed and opaque
// (keyset.Signed).
type cursor struct {
	Ordering string `json:"o"`
	Filter   string `json:"f"`
	Key      string `json:"k,omitempty"` // the sort column's value in the last row, as text
	ID       int64  `json:"i"`
}

// list is the envelope of every list response.
type list[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
	HasMore    bool    `json:"has_more"`
}

// page reads limit, ordering and cursor, and refuses (400) any parameter spec does
// not name, a repeated one, a limit out of 1..200, an unknown ordering, and a cursor
// that is not one this server signed for this path, ordering and filters.
func (s *Server) page(r *http.Request, spec listSpec) (pageRequest, error) {
	q := r.URL.Query()
	for name, vals := range q {
		if name != "limit" && name != "cursor" && name != "ordering" && !slices.Contains(spec.filters, name) {
			return pageRequest{}, badParam(name, "is not a parameter of this list")
		}
		if len(vals) > 1 {
			return pageRequest{}, badParam(name, "is given more than once")
		}
	}
	p := pageRequest{Ordering: spec.orderings[0]}
	var err error
	if p.Limit, err = limitParam(q); err != nil {
		return pageRequest{}, err
	}
	if v := q.Get("ordering"); v != "" {
		if !slices.Contains(spec.orderings, v) {
			return pageRequest{}, badParam("ordering", "must be one of "+strings.Join(spec.orderings, ", "))
		}
		p.Ordering = v
	}
	p.filter = fingerprint(r.URL.Path, q)
	if v := q.Get("cursor"); v != "" {
		var c cursor
		if !s.cursors.Decode(v, &c) {
			return pageRequest{}, badParam("cursor", "is not a cursor this list issued")
		}
		if c.Ordering != p.Ordering {
			return pageRequest{}, badParam("cursor", fmt.Sprintf("was issued for ordering=%s, not %s", c.Ordering, p.Ordering))
		}
		if c.Filter != p.filter {
			return pageRequest{}, badParam("cursor", "was issued for other filters: keep them while paging")
		}
		p.After = &c
	}
	return p, nil
}

// queryError makes a domain's field errors about a list's parameters (status, q,
// ...) what they are on the wire: a 400 naming each parameter.
func queryError(err error) error {
	if fields, ok := errors.AsType[validator.Errors](err); ok {
		return &clientError{kind: web.ErrBadRequest, detail: "Invalid query parameters: see errors.", fields: fields}
	}
	return err
}

// fingerprint identifies a list's path and filters (not its limit, ordering or
// cursor), so a cursor is refused on another list or with other filters.
func fingerprint(path string, q url.Values) string {
	f := url.Values{}
	for k, v := range q {
		if k != "limit" && k != "cursor" && k != "ordering" {
			f[k] = v
		}
	}
	sum := sha256.Sum256([]byte(path + "?" + f.Encode()))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

// pageOf cuts rows, fetched with p.Fetch(), to the page, and signs the cursor of the
// next page from the last row shown. key returns a row's sort value and id.
func pageOf[T any](s *Server, p pageRequest, rows []T, key func(T) (string, int64)) list[T] {
	out := list[T]{Data: rows}
	if out.Data == nil {
		out.Data = []T{}
	}
	if len(rows) > p.Limit {
		out.Data = rows[:p.Limit]
		k, id := key(out.Data[p.Limit-1])
		out.NextCursor, out.HasMore = s.next(p, k, id), true
	}
	return out
}

// next signs the cursor of the page after one that ended at key and id. A domain
// package's own opaque cursor travels as key (with id 0): the signature then binds
// it to this list's ordering and filters, which the domain cannot check.
func (s *Server) next(p pageRequest, key string, id int64) *string {
	c := s.cursors.Encode(cursor{Ordering: p.Ordering, Filter: p.filter, Key: key, ID: id})
	return &c
}

// limitParam reads ?limit: keyset.DefaultLimit when absent, else a whole number
// from 1 to keyset.MaxLimit.
func limitParam(q url.Values) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return keyset.DefaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > keyset.MaxLimit {
		return 0, badParam("limit", fmt.Sprintf("must be a whole number from 1 to %d", keyset.MaxLimit))
	}
	return n, nil
}

// sharedSecret returns the secret called name that every instance shares, creating
// it on first use: whichever instance inserts first wins, the others read its value.
func sharedSecret(ctx context.Context, st *store.Store, name string) ([]byte, error) {
	fresh := make([]byte, 32)
	rand.Read(fresh) // never fails (crypto/rand since Go 1.24)
	var value []byte
	err := st.InTx(ctx, func(q *db.Queries) error {
		if err := q.CreateAppSecret(ctx, db.CreateAppSecretParams{Name: name, Value: fresh}); err != nil {
			return err
		}
		var err error
		value, err = q.GetAppSecret(ctx, name) // a new snapshot: sees the winner's row
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load secret %s: %w", name, err)
	}
	return value, nil
}
