package orders

import (
	"context"
	"fmt"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// The timeline's entry kinds besides the statuses (a move to a status writes an
// entry of that status's name).
const (
	EventCreated = "created"
	EventNote    = "note"
)

// auditActions are the audit log's action words for moves to each status.
var auditActions = map[string]string{
	StatusPaid:      "pay",
	StatusFulfilled: "fulfil",
	StatusDelivered: "deliver",
	StatusCancelled: "cancel",
	StatusRefunded:  "refund",
}

// ActionNote is the audit action of a note added to an order's timeline.
const ActionNote = "note"

// restocks reports whether a move to status to puts the order's units back.
func restocks(to string) bool { return to == StatusCancelled || to == StatusRefunded }

// Transition moves order id to status to, in one transaction that also writes the
// timeline entry and the audit row, and returns the order as it is now. version is
// the order's version as the caller read it (0: whatever it is now); a newer one is
// store.ErrStale. A move the state machine does not allow from the order's current
// status is a *TransitionError that lists the allowed ones; an unknown status is a
// field error on "to". The move needs p's permission Permission(to) (a
// *auth.PermissionError otherwise); p is also who the timeline and the audit log
// name. A nil p is the system, which may make any move.
//
// The order row is locked first, so of two concurrent transitions the second waits
// and then judges the status the first left: two cancels of one order make one
// cancellation and one *TransitionError. The UPDATE repeats the condition
// (status = ANY(the statuses that may move to to)) as the guard.
//
// Cancelling or refunding puts the order's units back into stock, once: the same
// UPDATE marks restocked_at, only where it was never marked, and the units go back
// only in the transaction whose UPDATE did that.
func (o *Orders) Transition(ctx context.Context, p *auth.Principal, id int64, to string, version int32) (db.Order, error) {
	if !validStatus(to) {
		return db.Order{}, validator.Errors{"to": "must be one of " + strings.Join(Statuses, ", ")}
	}
	if err := auth.Allow(p, Permission(to)); err != nil {
		return db.Order{}, fmt.Errorf("move order %d to %s: %w", id, to, err)
	}
	actor := p.Actor()
	var out db.Order
	err := o.st.InTx(ctx, func(q *db.Queries) error {
		cur, err := q.LockOrder(ctx, id)
		if err != nil {
			return err
		}
		if version != 0 && cur.Version != version {
			return fmt.Errorf("order %s is at version %d, not %d: %w", cur.Number, cur.Version, version, store.ErrStale)
		}
		refused := &TransitionError{OrderID: id, From: cur.Status, To: to, Allowed: Allowed(cur.Status)}
		if !CanTransition(cur.Status, to) {
			return refused
		}
		restock := restocks(to) && cur.RestockedAt == nil
		out, err = q.TransitionOrder(ctx, db.TransitionOrderParams{
			ID: id, ToStatus: to, FromStatuses: sources(to), Version: versionOrNil(version), Restock: restock,
		})
		if store.IsNotFound(err) {
			return refused // the guard: cannot happen under the lock, but it decides
		}
		if err != nil {
			return err
		}
		var note string
		if restock {
			units, err := restockOrder(ctx, q, id)
			if err != nil {
				return err
			}
			note = fmt.Sprintf("%d units back in stock", units)
		}
		if _, err := q.CreateOrderEvent(ctx, eventParams(id, actor, to, note)); err != nil {
			return err
		}
		return audit.Append(ctx, q, actor, audit.Event{
			Action: auditActions[to], Resource: ResourceOrders, ObjectID: id, Repr: cur.Number,
			Changes: audit.Changes{"status": {cur.Status, to}}, Note: note,
			Type: audit.TypeStatusChanged,
		})
	})
	if err != nil {
		return db.Order{}, fmt.Errorf("order %d to %s: %w", id, to, err)
	}
	return out, nil
}

// restockOrder puts an order's units back, under the same product locks, taken in
// the same order, as placing one, and returns how many units went back.
func restockOrder(ctx context.Context, q *db.Queries, orderID int64) (int64, error) {
	productIDs, err := q.LockProductsOfOrder(ctx, orderID)
	if err != nil {
		return 0, err
	}
	rows, err := q.RestockOrder(ctx, orderID)
	if err != nil {
		return 0, err
	}
	var units int64
	for _, r := range rows {
		units += int64(r.Quantity)
	}
	return units, catalog.RefreshSummaries(ctx, q, productIDs)
}

// TransitionResult is what a bulk transition did to one order.
type TransitionResult struct {
	ID    int64
	Order db.Order // the order after the move, when Err is nil
	Err   error
}

// TransitionMany moves each of ids to status to, each in a transaction of its own
// (as Transition, whatever the versions): one order that cannot move does not hold
// back the others. It is the bulk action "mark fulfilled"; the results come in the
// order of ids.
func (o *Orders) TransitionMany(ctx context.Context, p *auth.Principal, ids []int64, to string) []TransitionResult {
	out := make([]TransitionResult, len(ids))
	for i, id := range ids {
		ord, err := o.Transition(ctx, p, id, to, 0)
		out[i] = TransitionResult{ID: id, Order: ord, Err: err}
	}
	return out
}

// AddNote adds a note to order id's timeline (and the audit log).
func (o *Orders) AddNote(ctx context.Context, actor audit.Actor, id int64, note string) (db.OrderEvent, error) {
	note = strings.TrimSpace(note)
	errs := validator.Errors{}
	errs.Check(note != "", "note", "is required")
	errs.Check(validator.MaxLen(note, MaxNote), "note", fmt.Sprintf("must be at most %d characters", MaxNote))
	if len(errs) > 0 {
		return db.OrderEvent{}, errs
	}
	var ev db.OrderEvent
	err := o.st.InTx(ctx, func(q *db.Queries) error {
		// The lock orders notes and transitions of one order on its timeline.
		cur, err := q.LockOrder(ctx, id)
		if err != nil {
			return err
		}
		if ev, err = q.CreateOrderEvent(ctx, eventParams(id, actor, EventNote, note)); err != nil {
			return err
		}
		return audit.Append(ctx, q, actor, audit.Event{
			Action: ActionNote, Resource: ResourceOrders, ObjectID: id, Repr: cur.Number, Note: note,
		})
	})
	if err != nil {
		return db.OrderEvent{}, fmt.Errorf("note on order %d: %w", id, err)
	}
	return ev, nil
}

// eventParams is a timeline entry by actor.
func eventParams(orderID int64, actor audit.Actor, kind, note string) db.CreateOrderEventParams {
	return db.CreateOrderEventParams{
		OrderID: orderID, ActorUserID: idOrNil(actor.UserID), ActorTokenID: idOrNil(actor.TokenID),
		ActorLabel: actor.Label, Kind: kind, Note: note,
	}
}

func idOrNil(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func versionOrNil(v int32) *int32 {
	if v == 0 {
		return nil
	}
	return &v
}
