package orders_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// TestCancelConcurrent: two cancels of one paid order at once. One succeeds, the
// other is told the order is cancelled already, and the units go back once.
func TestCancelConcurrent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.variant(t, "CAN-A", 1_000, 10)
	b := e.variant(t, "CAN-B", 500, 4)
	c := e.customer(t, "cancel@example.com", "")
	o := e.place(t, c.ID, line(a, 3), line(b, 4))
	e.move(t, o.ID, "paid")

	errs := concurrently(2, func(int) error {
		_, err := e.orders.Transition(ctx, ops, o.ID, "cancelled", 0)
		return err
	})
	var ok, refused int
	for _, err := range errs {
		var te *orders.TransitionError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &te) && te.From == "cancelled":
			refused++
		default:
			t.Errorf("cancel: %v, want success or a TransitionError from cancelled", err)
		}
	}
	if ok != 1 || refused != 1 {
		t.Errorf("%d cancels succeeded and %d were refused, want 1 and 1", ok, refused)
	}
	for _, v := range []struct{ id, stock int64 }{{a.ID, 10}, {b.ID, 4}} {
		if s, total := e.stock(t, v.id); s != v.stock || total != v.stock {
			t.Errorf("variant %d: stock %d, stock_total %d; want %d restored once", v.id, s, total, v.stock)
		}
	}
	if n := e.rows(t, "order_events", "order_id = $1 AND kind = 'cancelled'", o.ID); n != 1 {
		t.Errorf("%d cancelled entries, want 1", n)
	}
	if n := e.rows(t, "orders", "id = $1 AND restocked_at IS NOT NULL", o.ID); n != 1 {
		t.Error("restocked_at is not set")
	}
	if n := e.rows(t, "audit_log", "resource = 'orders' AND object_id = $1 AND action = 'cancel' AND note = '7 units back in stock'", o.ID); n != 1 {
		t.Errorf("%d cancel audit rows with the restock note, want 1", n)
	}
}

// TestRestock checks which moves put units back: cancel and refund, once each
// order, and never the others.
func TestRestock(t *testing.T) {
	e := newEnv(t)
	c := e.customer(t, "restock@example.com", "")
	tests := []struct {
		path  []string
		stock int64 // of 10, after an order of 4
	}{
		{[]string{"cancelled"}, 10},
		{[]string{"paid", "cancelled"}, 10},
		{[]string{"paid", "refunded"}, 10},
		{[]string{"paid", "fulfilled", "delivered", "refunded"}, 10},
		{[]string{"paid", "fulfilled", "delivered"}, 6},
	}
	for i, tt := range tests {
		t.Run(strings.Join(tt.path, "→"), func(t *testing.T) {
			v := e.variant(t, sku(i), 100, 10)
			o := e.place(t, c.ID, line(v, 4))
			e.move(t, o.ID, tt.path...)
			if s, total := e.stock(t, v.ID); s != tt.stock || total != tt.stock {
				t.Errorf("stock %d, stock_total %d; want %d", s, total, tt.stock)
			}
		})
	}
}

// TestRestockDeletedVariant: a variant deleted after the sale has nowhere to take
// its units back; the other lines are still restocked.
func TestRestockDeletedVariant(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	keep := e.variant(t, "KEEP-1", 100, 5)
	gone := e.variant(t, "GONE-1", 100, 5)
	c := e.customer(t, "gone@example.com", "")
	o := e.place(t, c.ID, line(keep, 2), line(gone, 2))
	if _, err := e.pool.Exec(ctx, "DELETE FROM products WHERE id = $1", gone.ProductID); err != nil {
		t.Fatal(err)
	}
	e.move(t, o.ID, "cancelled")
	if s, _ := e.stock(t, keep.ID); s != 5 {
		t.Errorf("stock %d, want 5", s)
	}
	back, err := e.orders.Order(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if back.Lines[1].VariantID != nil || back.Lines[1].Sku != "GONE-1" {
		t.Errorf("line of the deleted variant = %+v, want its snapshot without a variant", back.Lines[1])
	}
}

// TestTransitionAtomic makes the audit row of a transition fail: the status, the
// timeline entry and the restock go with it.
func TestTransitionAtomic(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.variant(t, "TA-1", 100, 5)
	c := e.customer(t, "ta@example.com", "")
	o := e.place(t, c.ID, line(v, 5))
	e.failAuditOf(t, "orders")
	if _, err := e.orders.Transition(ctx, ops, o.ID, "cancelled", 0); err == nil {
		t.Fatal("Transition succeeded although its audit row failed")
	}
	if n := e.rows(t, "orders", "id = $1 AND status = 'pending' AND restocked_at IS NULL", o.ID); n != 1 {
		t.Error("the order moved although its audit row failed")
	}
	if n := e.rows(t, "order_events", "order_id = $1", o.ID); n != 1 {
		t.Errorf("%d timeline entries, want only the created one", n)
	}
	if s, _ := e.stock(t, v.ID); s != 0 {
		t.Errorf("stock %d, want 0: the restock must roll back too", s)
	}
}

func TestTransitionMany(t *testing.T) {
	e := newEnv(t)
	v := e.variant(t, "BULK-1", 100, 10)
	c := e.customer(t, "bulk@example.com", "")
	paid := e.place(t, c.ID, line(v, 1))
	e.move(t, paid.ID, "paid")
	pending := e.place(t, c.ID, line(v, 1))
	res := e.orders.TransitionMany(context.Background(), ops, []int64{paid.ID, pending.ID, 999_999}, "fulfilled")
	if len(res) != 3 || res[0].Err != nil || res[0].Order.Status != "fulfilled" {
		t.Fatalf("results = %+v, want the paid order fulfilled first", res)
	}
	if !errors.As(res[1].Err, new(*orders.TransitionError)) {
		t.Errorf("pending order: %v, want a TransitionError", res[1].Err)
	}
	if !errors.Is(res[2].Err, store.ErrNotFound) {
		t.Errorf("missing order: %v, want ErrNotFound", res[2].Err)
	}
}

func TestAddNote(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.variant(t, "NOTE-1", 100, 10)
	c := e.customer(t, "note@example.com", "")
	o := e.place(t, c.ID, line(v, 1))
	ev, err := e.orders.AddNote(ctx, staff, o.ID, "  called the customer  ")
	if err != nil {
		t.Fatalf("AddNote: %v", err)
	}
	if ev.Kind != "note" || ev.Note != "called the customer" || ev.ActorLabel != "ops@example.com" {
		t.Errorf("event = %+v", ev)
	}
	if n := e.rows(t, "audit_log", "resource = 'orders' AND object_id = $1 AND action = 'note'", o.ID); n != 1 {
		t.Errorf("%d note audit rows, want 1", n)
	}
	tests := []struct {
		name string
		id   int64
		note string
		want error
	}{
		{"empty", o.ID, "  ", validator.Errors{}},
		{"too long", o.ID, strings.Repeat("n", orders.MaxNote+1), validator.Errors{}},
		{"missing order", o.ID + 1000, "hello", store.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.orders.AddNote(ctx, staff, tt.id, tt.note)
			if _, field := tt.want.(validator.Errors); field {
				if !fieldError(err, "note") {
					t.Errorf("AddNote: %v, want a field error on note", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("AddNote: %v, want %v", err, tt.want)
			}
		})
	}
}

// TestTransitionPermission: who may make which move is Transition's rule, whichever
// transport asks: each move needs orders.Permission(to) of the principal, a read
// token never moves an order, and nil (the system) may make any move. A refusal is
// an *auth.PermissionError naming the permission and changes nothing.
func TestTransitionPermission(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.variant(t, "PERM-A", 1_000, 50)
	clerk := auth.NewPrincipal(7, "clerk@example.com", "", false, []string{"orders.view", "orders.change"})
	fulfiller := auth.NewPrincipal(7, "fulfil@example.com", "", false, []string{"orders.change", "orders.fulfil"})
	readToken := auth.NewPrincipal(7, "ops@example.com", "", true, nil).WithToken(3, auth.ScopeRead)
	tests := []struct {
		name     string
		p        *auth.Principal
		from, to string
		want     string // the permission refused; "" for a move made
	}{
		{"clerk pays", clerk, "", "paid", ""},
		{"clerk cannot fulfil", clerk, "paid", "fulfilled", "orders.fulfil"},
		{"clerk cannot cancel", clerk, "", "cancelled", "orders.cancel"},
		{"fulfiller fulfils", fulfiller, "paid", "fulfilled", ""},
		{"fulfiller delivers", fulfiller, "paid fulfilled", "delivered", ""},
		{"fulfiller cannot refund", fulfiller, "paid", "refunded", "orders.refund"},
		{"a read token of a superuser", readToken, "", "paid", "orders.change"},
		{"the system refunds", nil, "paid", "refunded", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.customer(t, strings.ReplaceAll(tt.name, " ", "-")+"@example.com", "")
			o := e.place(t, c.ID, line(v, 1))
			if tt.from != "" {
				e.move(t, o.ID, strings.Fields(tt.from)...)
			}
			got, err := e.orders.Transition(ctx, tt.p, o.ID, tt.to, 0)
			pe, refused := errors.AsType[*auth.PermissionError](err)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Transition to %s: %v, want the move made", tt.to, err)
			case tt.want == "" && got.Status != tt.to:
				t.Errorf("status %s, want %s", got.Status, tt.to)
			case tt.want != "" && (!refused || pe.Perm != tt.want || !errors.Is(err, auth.ErrForbidden)):
				t.Errorf("Transition to %s: %v, want a PermissionError for %s", tt.to, err, tt.want)
			case tt.want != "" && e.rows(t, "order_events", "order_id = $1 AND kind = $2", o.ID, tt.to) != 0:
				t.Errorf("a refused move to %s wrote a timeline entry", tt.to)
			}
		})
	}
}
