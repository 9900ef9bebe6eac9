package orders

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/store"
)

// The order statuses. An order is placed pending, is paid, fulfilled (shipped) and
// delivered; it can be cancelled before it ships and refunded once it was paid.
const (
	StatusPending   = "pending"
	StatusPaid      = "paid"
	StatusFulfilled = "fulfilled"
	StatusDelivered = "delivered"
	StatusCancelled = "cancelled"
	StatusRefunded  = "refunded"
)

// Statuses lists the order statuses in the order of an order's life, as filters
// offer them.
var Statuses = []string{StatusPending, StatusPaid, StatusFulfilled, StatusDelivered, StatusCancelled, StatusRefunded}

// next is the state machine: the statuses each status may move to, in the order
// buttons show them. Cancelled and refunded are final.
var next = map[string][]string{
	StatusPending:   {StatusPaid, StatusCancelled},
	StatusPaid:      {StatusFulfilled, StatusCancelled, StatusRefunded},
	StatusFulfilled: {StatusDelivered, StatusRefunded},
	StatusDelivered: {StatusRefunded},
	StatusCancelled: nil,
	StatusRefunded:  nil,
}

// Allowed returns the statuses an order in status from may move to, in display
// order: none for a final status (or an unknown one).
func Allowed(from string) []string {
	return slices.Clone(next[from])
}

// CanTransition reports whether an order in status from may move to status to.
func CanTransition(from, to string) bool {
	return slices.Contains(next[from], to)
}

// sources returns the statuses that may move to to: the from-list of the
// conditional UPDATE that guards a transition.
func sources(to string) []string {
	var from []string
	for _, s := range Statuses {
		if CanTransition(s, to) {
			from = append(from, s)
		}
	}
	return from
}

// Permission is the permission a transition to status to needs, which Transition
// enforces and pages use to offer only the moves a user may make: paid is an ordinary change; fulfilled
// and delivered need orders.fulfil, cancelled orders.cancel, refunded orders.refund.
// Any other target (pending, or an unknown word) is orders.change, so that the
// caller gets Transition's own answer (409 with the allowed list, or 422) rather than
// a 403 that would hide it.
func Permission(to string) string {
	switch to {
	case StatusFulfilled, StatusDelivered:
		return "orders.fulfil"
	case StatusCancelled:
		return "orders.cancel"
	case StatusRefunded:
		return "orders.refund"
	}
	return "orders.change"
}

// AllowedFor returns the statuses an order in status from may move to that a user
// with permissions can is allowed to make: the transition buttons a page shows.
// can is typically (*auth.Principal).Can.
func AllowedFor(from string, can func(perm string) bool) []string {
	var out []string
	for _, to := range next[from] {
		if can(Permission(to)) {
			out = append(out, to)
		}
	}
	return out
}

// TransitionError refuses a move the state machine does not allow. Its message
// names the allowed moves from the order's current status; it wraps
// store.ErrConflict (409: the order is not in a state for this).
type TransitionError struct {
	OrderID int64
	From    string   // the order's status
	To      string   // the status asked for
	Allowed []string // Allowed(From)
}

// Error names the move refused and the moves allowed from the current status.
func (e *TransitionError) Error() string {
	allowed := "none (" + e.From + " is final)"
	if len(e.Allowed) > 0 {
		allowed = strings.Join(e.Allowed, ", ")
	}
	return fmt.Sprintf("cannot go from %s to %s; allowed: %s", e.From, e.To, allowed)
}

// Unwrap makes errors.Is(err, store.ErrConflict) hold.
func (e *TransitionError) Unwrap() error { return store.ErrConflict }

// validStatus reports whether s is one of Statuses.
func validStatus(s string) bool { return slices.Contains(Statuses, s) }
