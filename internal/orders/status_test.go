package orders_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// TestTransitionTable tries every move between the six statuses on a real order in
// the from status: the state machine's moves succeed and write their timeline entry;
// every other one is a 409 TransitionError that names the allowed moves, and changes
// nothing.
func TestTransitionTable(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.variant(t, "TBL-1", 1000, 1000)
	c := e.customer(t, "table@example.com", "Table")
	allowed := map[string][]string{
		"pending":   {"paid", "cancelled"},
		"paid":      {"fulfilled", "cancelled", "refunded"},
		"fulfilled": {"delivered", "refunded"},
		"delivered": {"refunded"},
		"cancelled": nil,
		"refunded":  nil,
	}
	wantMessage := map[string]string{
		"pending":   "allowed: paid, cancelled",
		"paid":      "allowed: fulfilled, cancelled, refunded",
		"fulfilled": "allowed: delivered, refunded",
		"delivered": "allowed: refunded",
		"cancelled": "allowed: none (cancelled is final)",
		"refunded":  "allowed: none (refunded is final)",
	}
	for _, from := range orders.Statuses {
		for _, to := range orders.Statuses {
			t.Run(from+"→"+to, func(t *testing.T) {
				o := e.place(t, c.ID, line(v, 1))
				e.move(t, o.ID, pathTo[from]...)
				events := e.rows(t, "order_events", "order_id = $1", o.ID)
				got, err := e.orders.Transition(ctx, ops, o.ID, to, 0)
				if slices.Contains(allowed[from], to) {
					if err != nil {
						t.Fatalf("Transition: %v, want success", err)
					}
					if got.Status != to {
						t.Errorf("status = %s, want %s", got.Status, to)
					}
					if n := e.rows(t, "order_events", "order_id = $1 AND kind = $2", o.ID, to); n != 1 {
						t.Errorf("%d %s events, want 1", n, to)
					}
					return
				}
				var te *orders.TransitionError
				if !errors.As(err, &te) || !errors.Is(err, store.ErrConflict) {
					t.Fatalf("Transition: %v, want a TransitionError wrapping ErrConflict", err)
				}
				if !slices.Equal(te.Allowed, allowed[from]) {
					t.Errorf("Allowed = %v, want %v", te.Allowed, allowed[from])
				}
				want := "cannot go from " + from + " to " + to + "; " + wantMessage[from]
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error = %q, want it to say %q", err, want)
				}
				if n := e.rows(t, "order_events", "order_id = $1", o.ID); n != events {
					t.Errorf("%d timeline entries after a refused move, want %d", n, events)
				}
				if n := e.rows(t, "orders", "id = $1 AND status = $2", o.ID, from); n != 1 {
					t.Errorf("order left status %s", from)
				}
			})
		}
	}
}

func TestTransitionInput(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.variant(t, "IN-1", 1000, 10)
	c := e.customer(t, "input@example.com", "")
	o := e.place(t, c.ID, line(v, 1))
	tests := []struct {
		name    string
		id      int64
		to      string
		version int32
		want    error
	}{
		{"unknown status", o.ID, "shipped", 0, validator.Errors{}},
		{"missing order", o.ID + 1000, "paid", 0, store.ErrNotFound},
		{"stale version", o.ID, "paid", o.Version + 1, store.ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.orders.Transition(ctx, ops, tt.id, tt.to, tt.version)
			if errs, ok := tt.want.(validator.Errors); ok {
				if !errors.As(err, &errs) || errs["to"] == "" {
					t.Fatalf("Transition: %v, want a field error on to", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Transition: %v, want %v", err, tt.want)
			}
		})
	}
	// The right version passes.
	if _, err := e.orders.Transition(ctx, ops, o.ID, "paid", o.Version); err != nil {
		t.Fatalf("Transition at the current version: %v", err)
	}
}

func TestPermission(t *testing.T) {
	tests := []struct{ to, want string }{
		{"paid", "orders.change"},
		{"fulfilled", "orders.fulfil"},
		{"delivered", "orders.fulfil"},
		{"cancelled", "orders.cancel"},
		{"refunded", "orders.refund"},
		{"pending", "orders.change"},
		{"shipped", "orders.change"},
	}
	for _, tt := range tests {
		if got := orders.Permission(tt.to); got != tt.want {
			t.Errorf("Permission(%q) = %q, want %q", tt.to, got, tt.want)
		}
	}
}

func TestAllowedFor(t *testing.T) {
	fulfiller := func(perm string) bool { return perm == "orders.fulfil" || perm == "orders.change" }
	tests := []struct {
		from string
		can  func(string) bool
		want []string
	}{
		{"paid", fulfiller, []string{"fulfilled"}},
		{"pending", fulfiller, []string{"paid"}},
		{"fulfilled", fulfiller, []string{"delivered"}},
		{"paid", func(string) bool { return true }, []string{"fulfilled", "cancelled", "refunded"}},
		{"refunded", func(string) bool { return true }, nil},
	}
	for _, tt := range tests {
		if got := orders.AllowedFor(tt.from, tt.can); !slices.Equal(got, tt.want) {
			t.Errorf("AllowedFor(%q) = %v, want %v", tt.from, got, tt.want)
		}
	}
}
