package store_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// BenchmarkExecModes measures what running behind a transaction-mode pooler costs
// in pgx's execution modes alone: a key lookup (GetCategory, which the store
// otherwise prepares) and the category tree (a recursive CTE), each one round trip
// on a one-connection pool. "prepared" is the store's own choice per statement
// (plans.go); "cache_describe" is store.PooledExecMode; "exec" describes nothing
// and sends text-typed parameters. Run it direct, then through pgbouncer:
//
//	go test -run - -bench ExecModes ./internal/store
//	STOCKROOM_TEST_POOLER=pgbouncer go test -run - -bench ExecModes ./internal/store
//
// (behind pgbouncer "prepared" is left out: it cannot work there).
func BenchmarkExecModes(b *testing.B) {
	ctx := context.Background()
	modes := []struct {
		name string
		mode pgx.QueryExecMode
	}{
		{"prepared", pgx.QueryExecModeCacheStatement},
		{"cache_describe", pgx.QueryExecModeCacheDescribe},
		{"exec", pgx.QueryExecModeExec},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			pooled := false
			pool := dbtest.NewWithConfig(b, func(c *pgxpool.Config) {
				pooled = store.Pooled(c.ConnConfig)
				if !pooled {
					c.ConnConfig.DefaultQueryExecMode = m.mode
				} else if m.mode != pgx.QueryExecModeCacheStatement {
					c.ConnConfig.DefaultQueryExecMode = m.mode
				}
				store.Tune(c)
				c.MaxConns = 1
			})
			if pooled && m.mode == pgx.QueryExecModeCacheStatement {
				b.Skip("prepared statements cannot work behind a transaction-mode pooler")
			}
			st := store.New(pool)
			var id int64
			if err := pool.QueryRow(ctx, "INSERT INTO categories (name, slug) VALUES ('Lamps', 'lamps') RETURNING id").Scan(&id); err != nil {
				b.Fatal(err)
			}
			for _, q := range []struct {
				name string
				run  func(q *db.Queries) error
			}{
				{"lookup", func(q *db.Queries) error { _, err := q.GetCategory(ctx, id); return err }},
				{"tree", func(q *db.Queries) error { _, err := q.CategoryTree(ctx); return err }},
			} {
				b.Run(q.name, func(b *testing.B) {
					for b.Loop() {
						if err := st.Read(ctx, q.run); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
