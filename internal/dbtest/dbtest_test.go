package dbtest_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestNewGivesEachTestItsOwnMigratedDatabase(t *testing.T) {
	ctx := t.Context()
	a, b := dbtest.New(t), dbtest.New(t)
	if nameA, nameB := currentDatabase(t, a), currentDatabase(t, b); nameA == nameB {
		t.Fatalf("two New calls gave the same database %q", nameA)
	}
	for _, pool := range []*pgxpool.Pool{a, b} {
		if got := regclass(t, pool, "goose_db_version"); got == nil {
			t.Errorf("%s: goose_db_version is missing, want the migrations applied", currentDatabase(t, pool))
		}
	}
	if _, err := a.Exec(ctx, "CREATE TABLE scratch (v int); INSERT INTO scratch VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if got := regclass(t, b, "scratch"); got != nil {
		t.Errorf("a table made in one test database shows in another, as %s", *got)
	}
}

func TestNewInParallel(t *testing.T) {
	for range 6 {
		t.Run("db", func(t *testing.T) {
			t.Parallel()
			pool := dbtest.New(t)
			if got := regclass(t, pool, "goose_db_version"); got == nil {
				t.Error("goose_db_version is missing, want the migrations applied")
			}
		})
	}
}

func TestNewURLDropsTheDatabaseAtCleanup(t *testing.T) {
	var name string
	var conn *pgx.Conn // left open past the subtest: the drop must not wait for it
	t.Cleanup(func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	})
	t.Run("user", func(t *testing.T) {
		var err error
		if conn, err = pgx.Connect(t.Context(), dbtest.NewURL(t)); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(t.Context(), "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
	})
	if name == "" {
		t.Fatal("the subtest learned no database name")
	}
	var exists bool
	err := dbtest.New(t).QueryRow(t.Context(),
		"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

func TestNewWithConfigAdjustsThePool(t *testing.T) {
	var tracer countingTracer
	pool := dbtest.NewWithConfig(t, func(cfg *pgxpool.Config) {
		cfg.ConnConfig.Tracer = &tracer
		cfg.MaxConns = 1
	})
	for range 3 {
		if _, err := pool.Exec(t.Context(), "SELECT 1"); err != nil {
			t.Fatal(err)
		}
	}
	if got := tracer.queries.Load(); got != 3 {
		t.Errorf("tracer counted %d statements, want 3", got)
	}
	if got := pool.Config().MaxConns; got != 1 {
		t.Errorf("MaxConns = %d, want 1", got)
	}
}

// countingTracer counts the statements a pool runs.
type countingTracer struct{ queries atomic.Int64 }

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.queries.Add(1)
	return ctx
}

func (c *countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func currentDatabase(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var name string
	if err := pool.QueryRow(t.Context(), "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}

// regclass returns to_regclass(name): nil when no such table is visible.
func regclass(t *testing.T, pool *pgxpool.Pool, name string) *string {
	t.Helper()
	var got *string
	if err := pool.QueryRow(t.Context(), "SELECT to_regclass($1)::text", name).Scan(&got); err != nil {
		t.Fatal(err)
	}
	return got
}
