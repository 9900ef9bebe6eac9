package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Log reads the audit log.
type Log struct {
	st *store.Store
}

// New returns the audit log of st's database.
func New(st *store.Store) *Log { return &Log{st: st} }

// Page is one page of entries, newest first. Next is the cursor of the page after
// (older entries), or "" when this is the last.
type Page struct {
	Entries []Entry
	Next    string
}

// Filter narrows the global list. Zero fields do not filter.
type Filter struct {
	UserID   int64     // entries by this staff user (through the admin or a token)
	Resource string    // "products", "categories", ...
	Since    time.Time // at or after
	Until    time.Time // before
}

// History returns the entries of one object, newest first, limit at a time (1 to
// keyset.MaxLimit), from cursor ("" for the newest; a Page's Next for the following page).
func (l *Log) History(ctx context.Context, resource string, id int64, cursor string, limit int) (Page, error) {
	at, before, err := readCursor(cursor, limit)
	if err != nil {
		return Page{}, err
	}
	var rows []db.AuditLog
	err = l.st.Replica(ctx, func(q *db.Queries) error {
		rows, err = q.ListObjectHistory(ctx, db.ListObjectHistoryParams{
			Resource: resource, ObjectID: id, BeforeAt: at, BeforeID: before, RowLimit: int32(limit + 1),
		})
		return err
	})
	if err != nil {
		return Page{}, fmt.Errorf("history of %s %d: %w", resource, id, err)
	}
	return pageOf(rows, limit)
}

// List returns the entries f selects, newest first, limit at a time, from cursor.
func (l *Log) List(ctx context.Context, f Filter, cursor string, limit int) (Page, error) {
	at, before, err := readCursor(cursor, limit)
	if err != nil {
		return Page{}, err
	}
	p := db.ListAuditLogParams{BeforeAt: at, BeforeID: before, RowLimit: int32(limit + 1)}
	if f.UserID != 0 {
		p.ActorUserID = &f.UserID
	}
	if f.Resource != "" {
		p.Resource = &f.Resource
	}
	if !f.Since.IsZero() {
		p.Since = &f.Since
	}
	if !f.Until.IsZero() {
		p.Until = &f.Until
	}
	var rows []db.AuditLog
	err = l.st.Replica(ctx, func(q *db.Queries) error {
		rows, err = q.ListAuditLog(ctx, p)
		return err
	})
	if err != nil {
		return Page{}, fmt.Errorf("audit log: %w", err)
	}
	return pageOf(rows, limit)
}

// pageOf turns limit+1 rows into a page of limit and the cursor after it.
func pageOf(rows []db.AuditLog, limit int) (Page, error) {
	var p Page
	rows, p.Next = keyset.Next(rows, limit, logSort, func(r db.AuditLog) (string, int64) { return keyset.TimeValue(r.At), r.ID })
	p.Entries = make([]Entry, len(rows))
	for i, r := range rows {
		e, err := entryOf(r)
		if err != nil {
			return Page{}, err
		}
		p.Entries[i] = e
	}
	return p, nil
}

// logSort names the log's one ordering in its cursors: entries come newest first,
// ordered by (at, id), and the next page starts below the last entry shown.
const logSort = "-at"

// readCursor decodes a cursor ("" is the first page) and checks limit.
func readCursor(s string, limit int) (*time.Time, *int64, error) {
	if limit < 1 || limit > keyset.MaxLimit {
		return nil, nil, validator.Errors{"limit": fmt.Sprintf("must be from 1 to %d", keyset.MaxLimit)}
	}
	c, err := keyset.ReadNext(s, logSort, keyset.Time)
	if err != nil || c == nil {
		return nil, nil, err
	}
	at, _ := time.Parse(time.RFC3339Nano, c.Value) // ReadNext checked it
	return &at, &c.ID, nil
}
