package store_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/seed"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// A lookup by key runs as a prepared statement, which PostgreSQL may plan once; a
// list with optional filters never does (it is planned at every execution with its
// values), in a transaction or not. pg_prepared_statements shows what the one
// connection of the pool has prepared, and how often each ran.
func TestPlanModes(t *testing.T) {
	ctx := context.Background()
	st := store.New(dbtest.NewWithConfig(t, func(c *pgxpool.Config) { store.Tune(c); c.MaxConns = 1 }))
	status := "active"
	for range 6 {
		err := st.Read(ctx, func(q *db.Queries) error {
			q.GetProductListing(ctx, 1) // no such product: the statement runs all the same
			_, err := q.ListProductsByNameAsc(ctx, db.ListProductsByNameAscParams{Status: &status, RowLimit: 51})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		err = st.InTx(ctx, func(q *db.Queries) error {
			if _, err := q.EnqueueEventDeliveries(ctx); err != nil { // every write transaction's last statement
				return err
			}
			_, err := q.ListProductsByPriceDesc(ctx, db.ListProductsByPriceDescParams{Status: &status, RowLimit: 51})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var mode string
	if err := st.Pool().QueryRow(ctx, "SHOW plan_cache_mode").Scan(&mode); err != nil || mode != "auto" { // PostgreSQL's default, unsent behind a pooler
		t.Errorf("plan_cache_mode %q (%v), want auto", mode, err)
	}
	rows, err := st.Pool().Query(ctx, `SELECT substring(statement from '-- name: (\w+)'), generic_plans + custom_plans
		FROM pg_prepared_statements WHERE statement LIKE '-- name: %'`)
	if err != nil {
		t.Fatal(err)
	}
	prepared := map[string]int64{}
	for rows.Next() {
		var name string
		var runs int64
		if err := rows.Scan(&name, &runs); err != nil {
			t.Fatal(err)
		}
		prepared[name] = runs
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if store.Pooled(st.Pool().Config().ConnConfig) {
		// Through a transaction-mode pooler (STOCKROOM_TEST_POOLER) nothing may stay
		// prepared on a server connection: the next transaction may run elsewhere.
		if len(prepared) > 0 {
			t.Errorf("through the pooler, prepared statements %v, want none", prepared)
		}
		return
	}
	for _, name := range []string{"GetProductListing", "EnqueueEventDeliveries"} {
		if prepared[name] != 6 {
			t.Errorf("%s ran %d times as a prepared statement, want 6 (prepared: %v)", name, prepared[name], prepared)
		}
	}
	for _, name := range []string{"ListProductsByNameAsc", "ListProductsByPriceDesc"} {
		if _, ok := prepared[name]; ok {
			t.Errorf("%s is a prepared statement, want it planned at every execution (prepared: %v)", name, prepared)
		}
	}
}

// The whole catalog's first page (S1, the admin's list) keeps a generic plan once
// PostgreSQL has seen five custom ones. With LIMIT $1 alone it never did: the generic
// plan is costed for a tenth of the table, far above the custom plans' cost, so
// every execution was planned again (0.4 ms of a 0.7 ms statement on 100,000
// products). The catalog here is large enough for that gap.
func TestListAllKeepsAGenericPlan(t *testing.T) {
	ctx := context.Background()
	st := store.New(dbtest.NewWithConfig(t, func(c *pgxpool.Config) { store.Tune(c); c.MaxConns = 1 }))
	if store.Pooled(st.Pool().Config().ConnConfig) {
		t.Skip("through a transaction-mode pooler nothing stays prepared (TestPlanModes checks that)")
	}
	if _, err := seed.Run(ctx, st, seed.Options{Products: 2000}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	for range 8 {
		if err := st.Read(ctx, func(q *db.Queries) error {
			_, err := q.ListAllProductsByNameAsc(ctx, 51)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	var generic, custom int64
	err := st.Pool().QueryRow(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements
		WHERE statement LIKE '-- name: ListAllProductsByNameAsc %'`).Scan(&generic, &custom)
	if err != nil {
		t.Fatal(err)
	}
	if generic == 0 {
		t.Errorf("ListAllProductsByNameAsc: %d generic plans, %d custom; want the generic plan kept after five custom ones", generic, custom)
	}
}
