// Package audit records who changed what: one append-only row per changed object,
// written inside the transaction of the change itself, so a change and its record
// commit or vanish together. The audit_log table refuses UPDATE and DELETE.
//
// Every audit row comes with its event (table events, the outbox that live pages,
// the event stream and webhooks read), written by the same SQL statement: no write
// path records one without the other, and an aborted transaction leaves neither.
//
// Writers call Record (or Append, RecordMany) with the *db.Queries their store.InTx
// hands them; readers call History and List.
package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/db"
)

// Actor is who made a change: a staff user through the admin, or an API token (with
// the user it belongs to). Label is what the history shows (an email, "email (token
// name)") and is kept as it was at the time, after the user or token is gone.
// The zero UserID and TokenID mean none: a system change such as the seed.
type Actor struct {
	UserID  int64
	TokenID int64
	Label   string
}

// System is the actor of changes no person made (demo data, maintenance commands).
var System = Actor{Label: "system"}

// The actions the catalog records. Other packages may add their own (a lowercase
// word: orders record "fulfil", say).
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// Changes maps a field to its value before and after: {"price_cents": [1000, 1200]}.
// A created object has nil befores, a deleted one nil afters.
type Changes map[string][2]any

// Diff returns the fields whose values differ between before and after, as
// [before, after] pairs. A field missing from one side counts as nil there. Values
// are compared by their JSON encoding, which is how they are stored: int32(5) and
// int64(5) are the same value.
func Diff(before, after map[string]any) Changes {
	c := Changes{}
	for k, b := range before {
		a := after[k]
		if !sameJSON(b, a) {
			c[k] = [2]any{b, a}
		}
	}
	for k, a := range after {
		if _, seen := before[k]; !seen && !sameJSON(nil, a) {
			c[k] = [2]any{nil, a}
		}
	}
	return c
}

// Merge copies the fields of other into c under prefix ("variants[SKU-1]." say), so
// the changes of an object's parts go into the object's one audit row.
func (c Changes) Merge(prefix string, other Changes) {
	for k, v := range other {
		c[prefix+k] = v
	}
}

func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// Event is one change to one object.
type Event struct {
	Action   string  // ActionCreate, ActionUpdate, ActionDelete or a package's own
	Resource string  // the table or resource name: "products", "categories"
	ObjectID int64   // the changed object's id
	Repr     string  // how the object read at the time ("Oak chair"), for the history
	Changes  Changes // the changed fields; nil for none
	Note     string  // optional: the reason for a stock adjustment, the bulk action
	// Type is the event's type in the events table ("order.placed"); empty means
	// TypeOf(Resource, Action): "product.updated" and the like.
	Type string
}

// Event types that are not TypeOf's default for their resource and action.
const (
	TypeStockChanged  = "variant.stock_changed"
	TypeOrderPlaced   = "order.placed"
	TypeStatusChanged = "order.status_changed"
	// TypeImportProgressed is an import's batch or phase change (resource "imports",
	// action ActionProgress): its counts and status, for the import's page to
	// follow over the event stream.
	TypeImportProgressed = "import.progressed"
)

// ActionProgress is an import's progress (TypeImportProgressed).
const ActionProgress = "progress"

// nouns are the singular of each resource, for event types.
var nouns = map[string]string{
	"products": "product", "categories": "category", "orders": "order", "customers": "customer",
	"users": "user", "groups": "group", "tokens": "token", "sessions": "session",
}

// pastTense is the event verb of the common actions.
var pastTense = map[string]string{
	ActionCreate: "created", ActionUpdate: "updated", ActionDelete: "deleted",
}

// TypeOf is the default event type of an action on a resource: "product.updated"
// for ("products", "update"), "order.note" for ("orders", "note").
func TypeOf(resource, action string) string {
	noun, ok := nouns[resource]
	if !ok {
		noun = strings.TrimSuffix(resource, "s")
	}
	verb, ok := pastTense[action]
	if !ok {
		verb = action
	}
	return noun + "." + verb
}

// Record appends one change to the audit log, through q: call it inside the
// caller's store.InTx, so the record commits with the change or not at all.
func Record(ctx context.Context, q *db.Queries, actor Actor, action, resource string, id int64, repr string, changes Changes) error {
	return Append(ctx, q, actor, Event{Action: action, Resource: resource, ObjectID: id, Repr: repr, Changes: changes})
}

// Append is Record for an Event, which may carry a note.
func Append(ctx context.Context, q *db.Queries, actor Actor, e Event) error {
	changes, err := encode(e.Changes)
	if err != nil {
		return err
	}
	typ := e.Type
	if typ == "" {
		typ = TypeOf(e.Resource, e.Action)
	}
	err = q.CreateAuditEntry(ctx, db.CreateAuditEntryParams{
		Type:         typ,
		ActorUserID:  idOrNil(actor.UserID),
		ActorTokenID: idOrNil(actor.TokenID),
		ActorLabel:   actor.Label,
		Action:       e.Action,
		Resource:     e.Resource,
		ObjectID:     e.ObjectID,
		ObjectRepr:   e.Repr,
		Changes:      changes,
		Note:         e.Note,
	})
	if err != nil {
		return fmt.Errorf("audit %s %s %d: %w", e.Action, e.Resource, e.ObjectID, err)
	}
	return nil
}

// Object is one object of a bulk change.
type Object struct {
	ID      int64
	Repr    string
	Changes Changes
}

// RecordMany appends one row per object, all with one action and note, in one
// statement: the audit of a bulk action, each row with its event of type
// TypeOf(resource, action). Like Record, it runs in the caller's transaction.
func RecordMany(ctx context.Context, q *db.Queries, actor Actor, action, resource string, objs []Object, note string) error {
	if len(objs) == 0 {
		return nil
	}
	p := db.CreateAuditEntriesParams{
		Type:         TypeOf(resource, action),
		ActorUserID:  idOrNil(actor.UserID),
		ActorTokenID: idOrNil(actor.TokenID),
		ActorLabel:   actor.Label,
		Action:       action,
		Resource:     resource,
		Note:         note,
		ObjectIds:    make([]int64, len(objs)),
		ObjectReprs:  make([]string, len(objs)),
		Changes:      make([]json.RawMessage, len(objs)),
	}
	for i, o := range objs {
		changes, err := encode(o.Changes)
		if err != nil {
			return err
		}
		p.ObjectIds[i], p.ObjectReprs[i], p.Changes[i] = o.ID, o.Repr, changes
	}
	if err := q.CreateAuditEntries(ctx, p); err != nil {
		return fmt.Errorf("audit %s %d %s: %w", action, len(objs), resource, err)
	}
	return nil
}

func encode(c Changes) (json.RawMessage, error) {
	if c == nil {
		c = Changes{}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("audit: encode changes: %w", err)
	}
	return b, nil
}

func idOrNil(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// Change is one field of an Entry: its name and its values before and after, as
// decoded from JSON (strings, json.Number, bools, nil, maps and slices). Numbers stay
// json.Number so that large amounts in cents keep every digit.
type Change struct {
	Field         string
	Before, After any
}

// Entry is an audit row with its changes decoded and sorted by field name, ready
// for a history page or an API response.
type Entry struct {
	db.AuditLog
	Fields []Change
}

func entryOf(row db.AuditLog) (Entry, error) {
	e := Entry{AuditLog: row}
	var m map[string][2]any
	dec := json.NewDecoder(bytes.NewReader(row.Changes))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return Entry{}, fmt.Errorf("audit row %d: decode changes: %w", row.ID, err)
	}
	for f, v := range m {
		e.Fields = append(e.Fields, Change{Field: f, Before: v[0], After: v[1]})
	}
	sort.Slice(e.Fields, func(i, j int) bool { return e.Fields[i].Field < e.Fields[j].Field })
	return e, nil
}
