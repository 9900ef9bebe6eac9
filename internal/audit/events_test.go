package audit_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// writePaths holds what the write paths of the event test need.
type writePaths struct {
	cat   *catalog.Catalog
	ord   *orders.Orders
	svc   *auth.Service
	admin *auth.Principal
	actor audit.Actor

	product  *catalog.Product
	variant  db.ProductVariant
	category db.Category
	customer db.Customer
	order    *orders.Order
	user     db.User
	group    db.Group
	token    auth.Token
	bulk     []int64
}

// Every write path records exactly one event per changed object, in the
// transaction of its audit row: the two tables move together, row for row, and an
// event names its audit row. The cases run in order on one database, each using
// what the ones before made.
func TestEveryWriteRecordsOneEventPerAuditRow(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	st := store.New(pool)
	var w writePaths
	w.cat = catalog.New(st, catalog.Config{MediaDir: t.TempDir(), LowStock: 5})
	w.ord = orders.New(st, orders.Config{Currency: "EUR"})
	w.svc = auth.New(st, auth.NewHasher(auth.Params{Memory: 32, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1),
		slog.New(slog.NewTextHandler(io.Discard, nil)), auth.Options{})
	admin, err := w.svc.CreateUser(ctx, nil, auth.UserInput{Email: "boss@example.com", Name: "Boss", Active: true,
		Superuser: true, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	w.admin = auth.NewPrincipal(admin.ID, admin.Email, admin.Name, true, nil)
	w.actor = w.admin.Actor()

	tests := []struct {
		name  string
		write func(t *testing.T) error
		types []string // the new events' types, in id order
	}{
		{"create category", func(t *testing.T) (err error) {
			w.category, err = w.cat.CreateCategory(ctx, w.actor, catalog.CategoryInput{Name: "Chairs"})
			return err
		}, []string{"category.created"}},
		{"update category", func(t *testing.T) (err error) {
			w.category, err = w.cat.UpdateCategory(ctx, w.actor, w.category.ID, w.category.Version, catalog.CategoryInput{Name: "Seats"})
			return err
		}, []string{"category.updated"}},
		{"create product", func(t *testing.T) (err error) {
			w.product, err = w.cat.CreateProduct(ctx, w.actor, catalog.ProductInput{Name: "Oak chair", Status: "active",
				CategoryID: &w.category.ID, Variants: []catalog.VariantInput{{SKU: "OAK-1", PriceCents: 4900, Stock: 10}}})
			return err
		}, []string{"product.created"}},
		{"update product", func(t *testing.T) (err error) {
			in := catalog.ProductInput{Name: "Oak chair II", Status: "active", CategoryID: &w.category.ID}
			for _, v := range w.product.Variants {
				in.Variants = append(in.Variants, catalog.VariantInput{ID: v.ID, Version: v.Version, SKU: v.Sku, PriceCents: 5900, Stock: int64(v.Stock)})
			}
			w.product, err = w.cat.UpdateProduct(ctx, w.actor, w.product.ID, w.product.Version, in)
			return err
		}, []string{"product.updated"}},
		{"add variant", func(t *testing.T) (err error) {
			w.variant, err = w.cat.AddVariant(ctx, w.actor, w.product.ID, catalog.VariantInput{SKU: "OAK-2", PriceCents: 5000, Stock: 3})
			return err
		}, []string{"product.updated"}},
		{"set stock", func(t *testing.T) (err error) {
			w.variant, err = w.cat.UpdateVariant(ctx, w.actor, w.variant,
				catalog.VariantInput{SKU: "OAK-2", PriceCents: 5000, Stock: 7})
			return err
		}, []string{audit.TypeStockChanged}},
		{"adjust stock", func(t *testing.T) (err error) {
			w.variant, err = w.cat.AdjustStock(ctx, w.actor, w.variant.ID, -2, "count")
			return err
		}, []string{audit.TypeStockChanged}},
		{"delete variant", func(t *testing.T) error {
			return w.cat.DeleteVariant(ctx, w.actor, w.product.ID, w.variant.ID, w.variant.Version)
		}, []string{"product.updated"}},
		{"create customer", func(t *testing.T) (err error) {
			w.customer, err = w.ord.CreateCustomer(ctx, w.actor, orders.CustomerInput{Email: "ann@example.com", Name: "Ann"})
			return err
		}, []string{"customer.created"}},
		{"update customer", func(t *testing.T) (err error) {
			w.customer, err = w.ord.UpdateCustomer(ctx, w.actor, w.customer.ID, w.customer.Version,
				orders.CustomerInput{Email: "ann@example.com", Name: "Ann B"})
			return err
		}, []string{"customer.updated"}},
		{"place order", func(t *testing.T) (err error) {
			w.order, err = w.ord.PlaceOrder(ctx, w.actor, orders.PlaceInput{CustomerID: w.customer.ID,
				Lines: []orders.LineInput{{VariantID: w.product.Variants[0].ID, Quantity: 2}}})
			return err
		}, []string{audit.TypeOrderPlaced}},
		{"place order for a new customer", func(t *testing.T) error {
			_, err := w.ord.PlaceOrder(ctx, w.actor, orders.PlaceInput{Email: "bob@example.com", Name: "Bob",
				Lines: []orders.LineInput{{VariantID: w.product.Variants[0].ID, Quantity: 1}}})
			return err
		}, []string{"customer.created", audit.TypeOrderPlaced}},
		{"order paid", func(t *testing.T) error {
			_, err := w.ord.Transition(ctx, w.admin, w.order.ID, orders.StatusPaid, w.order.Version)
			return err
		}, []string{audit.TypeStatusChanged}},
		{"order note", func(t *testing.T) error {
			_, err := w.ord.AddNote(ctx, w.actor, w.order.ID, "gift wrap")
			return err
		}, []string{"order.note"}},
		{"bulk: mark fulfilled", func(t *testing.T) error {
			for _, r := range w.ord.TransitionMany(ctx, w.admin, []int64{w.order.ID}, orders.StatusFulfilled) {
				if r.Err != nil {
					return r.Err
				}
			}
			return nil
		}, []string{audit.TypeStatusChanged}},
		{"bulk: archive three products", func(t *testing.T) error {
			for _, name := range []string{"Stool", "Bench", "Desk"} {
				p, err := w.cat.CreateProduct(ctx, w.actor, catalog.ProductInput{Name: name,
					Variants: []catalog.VariantInput{{SKU: name, PriceCents: 100}}})
				if err != nil {
					return err
				}
				w.bulk = append(w.bulk, p.ID)
			}
			_, err := w.cat.SetStatus(ctx, w.actor, w.bulk, catalog.StatusArchived)
			return err
		}, []string{"product.created", "product.created", "product.created", "product.updated", "product.updated", "product.updated"}},
		{"bulk: move to a category", func(t *testing.T) error {
			_, err := w.cat.MoveToCategory(ctx, w.actor, w.bulk, &w.category.ID)
			return err
		}, []string{"product.updated", "product.updated", "product.updated"}},
		{"bulk: delete", func(t *testing.T) error {
			_, err := w.cat.DeleteProducts(ctx, w.actor, w.bulk)
			return err
		}, []string{"product.deleted", "product.deleted", "product.deleted"}},
		{"create group", func(t *testing.T) (err error) {
			w.group, err = w.svc.CreateGroup(ctx, w.admin, auth.GroupInput{Name: "Packers"})
			return err
		}, []string{"group.created"}},
		{"create user", func(t *testing.T) (err error) {
			w.user, err = w.svc.CreateUser(ctx, w.admin, auth.UserInput{Email: "pat@example.com", Name: "Pat", Active: true,
				GroupIDs: []int64{w.group.ID}, Password: "correct horse battery"})
			return err
		}, []string{"user.created"}},
		{"deactivate user", func(t *testing.T) (err error) {
			w.user, err = w.svc.UpdateUser(ctx, w.admin, w.user.ID, w.user.Version, auth.UserInput{Email: "pat@example.com",
				Name: "Pat", Active: false, GroupIDs: []int64{w.group.ID}})
			return err
		}, []string{"user.updated"}},
		{"create token", func(t *testing.T) (err error) {
			_, w.token, err = w.svc.Tokens().Create(ctx, w.admin, w.admin.UserID, "ci", "read", nil)
			return err
		}, []string{"token.created"}},
		{"revoke token", func(t *testing.T) error {
			return w.svc.Tokens().Revoke(ctx, w.admin, w.token.ID)
		}, []string{"token.revoke"}},
		{"delete category (empty)", func(t *testing.T) error {
			c, err := w.cat.CreateCategory(ctx, w.actor, catalog.CategoryInput{Name: "Empty"})
			if err != nil {
				return err
			}
			return w.cat.DeleteCategory(ctx, w.actor, c.ID, c.Version)
		}, []string{"category.created", "category.deleted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auditBefore, eventsBefore := lastIDs(t, pool)
			if err := tt.write(t); err != nil {
				t.Fatal(err)
			}
			got := newEvents(t, pool, auditBefore, eventsBefore)
			if len(got) != len(tt.types) {
				t.Fatalf("%d new events %v, want %d %v", len(got), got, len(tt.types), tt.types)
			}
			for i, e := range got {
				if e.typ != tt.types[i] {
					t.Errorf("event %d is %s, want %s", i, e.typ, tt.types[i])
				}
			}
		})
	}
}

// An aborted transaction leaves neither the audit row nor its event.
func TestAbortedWriteLeavesNoEvent(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	st := store.New(pool)
	auditBefore, eventsBefore := lastIDs(t, pool)
	boom := errors.New("boom")
	err := st.InTx(ctx, func(q *db.Queries) error {
		if err := audit.Record(ctx, q, audit.System, audit.ActionCreate, "products", 1, "Chair", nil); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	// A failed write after the audit row aborts the whole transaction too.
	cat := catalog.New(st, catalog.Config{MediaDir: t.TempDir()})
	_, err = cat.CreateProduct(ctx, audit.System, catalog.ProductInput{Name: "Chair",
		Variants: []catalog.VariantInput{{SKU: "X", PriceCents: 1}, {SKU: "X", PriceCents: 2}}})
	if err == nil {
		t.Fatal("CreateProduct with a duplicate SKU succeeded")
	}
	if got := newEvents(t, pool, auditBefore, eventsBefore); len(got) != 0 {
		t.Errorf("aborted writes left events %v", got)
	}
}

type newEvent struct {
	id, auditID int64
	typ         string
}

func lastIDs(t *testing.T, pool *pgxpool.Pool) (auditID, eventID int64) {
	t.Helper()
	err := pool.QueryRow(context.Background(),
		`SELECT (SELECT coalesce(max(id), 0) FROM audit_log), (SELECT coalesce(max(id), 0) FROM events)`).Scan(&auditID, &eventID)
	if err != nil {
		t.Fatal(err)
	}
	return auditID, eventID
}

// newEvents returns the events after eventID, having checked that they pair off
// one to one with the audit rows after auditID: same object, resource and actor.
func newEvents(t *testing.T, pool *pgxpool.Pool, auditID, eventID int64) []newEvent {
	t.Helper()
	ctx := context.Background()
	var unpaired int
	err := pool.QueryRow(ctx, `
		SELECT count(*) FROM audit_log a FULL JOIN (SELECT * FROM events WHERE id > $2) e ON e.audit_id = a.id
		WHERE (a.id > $1 OR a.id IS NULL)
		  AND (e.id IS NULL OR a.id IS NULL OR e.object_id <> a.object_id OR e.resource <> a.resource
		       OR e.actor_label <> a.actor_label OR e.payload->'changes' <> a.changes)`, auditID, eventID).Scan(&unpaired)
	if err != nil {
		t.Fatal(err)
	}
	if unpaired != 0 {
		t.Errorf("%d audit rows and events do not pair off", unpaired)
	}
	rows, err := pool.Query(ctx, `SELECT id, audit_id, type FROM events WHERE id > $1 ORDER BY id`, eventID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []newEvent
	for rows.Next() {
		var e newEvent
		if err := rows.Scan(&e.id, &e.auditID, &e.typ); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
