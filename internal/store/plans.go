package store

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stockroom-dev/stockroom/internal/db"
)

// Plans: which statements PostgreSQL may plan once and reuse.
//
// Planning is most of the database's work for stockroom's hot statements: on 100,000
// products the default product list plans in 0.54 ms and runs in 0.29 ms, the token
// lookup plans in 0.38 ms and runs in 0.04 ms (EXPLAIN (ANALYZE, SUMMARY), issue
// #19). A statement that pgx prepares once per connection can keep a generic plan,
// made once without the parameters' values; that is right for a lookup by key, whose
// best plan is the same whatever the key, and wrong for the list queries, whose
// optional filters ("$1 IS NULL OR status = $1") and planner hints only fold away when
// the values are known: generic, the product list plans a sequential scan and a sort
// of every row, 440 ms for the first page at a million products against 0.6 ms custom
// (2026-11-25).
//
// So the choice is made per statement, by name: the statements genericPlan lists run
// as prepared statements (pgx's default), which PostgreSQL's plan_cache_mode=auto
// moves to a generic plan after five executions when that plan costs no more than
// the custom ones did; every other statement runs as an unnamed statement
// (pgx.QueryExecModeCacheDescribe: one round trip, description cached), which
// PostgreSQL plans at every execution with the values bound, exactly as
// force_custom_plan did. A new query is custom-planned until someone measures it and
// adds it here, so forgetting costs planning time, never a cliff.

// genericPlan reports whether the sqlc query called name may keep a generic plan:
// every one of them finds its rows through a key (a primary key, a unique hash, a
// foreign key with its index) or reads a fixed shape with no filter, so the plan
// does not depend on the values. TestPlanModes checks that these run prepared and
// the others not.
func genericPlan(name string) bool {
	switch name {
	case
		// Who is asking: the token or the session's user, on every request.
		"AuthenticateAPIToken", "TouchAPIToken", "GetSessionUser", "FindSession",
		// A product by id (S2 and every edit page), and its parts.
		"GetProductDetail", "GetProductListing", "ListProductVariants", "ListProductImages", "GetProductVersion",
		// The unfiltered first pages of the product list (S1, the admin's list).
		"ListAllProductsByNameAsc", "ListAllProductsByNameDesc", "ListAllProductsByUpdatedAtAsc",
		"ListAllProductsByUpdatedAtDesc", "ListAllProductsByPriceAsc", "ListAllProductsByPriceDesc",
		"ListAllProductsByStockAsc", "ListAllProductsByStockDesc",
		// A variant's stock write (S3): locks, the write, the summary, the audit row.
		"GetVariant", "LockProduct", "LockProductOfVariant", "UpdateVariant", "RefreshProductSummary",
		"CreateAuditEntry",
		// What every write transaction and every instance's event hub run: the webhook
		// deliveries of the transaction's events (no parameters), and the hub's read of
		// what is new (the frontier, no parameters; the events after an id, by key).
		"EnqueueEventDeliveries", "EventsFrontier", "ListEventsAfter",
		// Statements without parameters.
		"ProductsRowEstimate", "DatabaseNow", "CategoryTree":
		return true
	}
	return false
}

// queryName is the sqlc name of a generated statement ("-- name: GetVariant :one"),
// or "" for any other SQL.
func queryName(sql string) string {
	rest, ok := strings.CutPrefix(sql, "-- name: ")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, " ")
	return name
}

// execMode returns args led by the execution mode that sql's statement runs in:
// unchanged for a statement that may keep a generic plan, else led by
// QueryExecModeCacheDescribe, which pgx reads off the front of the arguments.
//
// Through a transaction-mode pooler every statement runs in the pool's mode
// (PooledExecMode): a prepared statement would be missing on the next connection.
func execMode(sql string, args []any, pooled bool) []any {
	return execModeOf(queryName(sql), args, pooled)
}

// execModeOf is execMode for a statement whose sqlc name is known already.
func execModeOf(name string, args []any, pooled bool) []any {
	if pooled || genericPlan(name) {
		return args
	}
	return append([]any{pgx.QueryExecModeCacheDescribe}, args...)
}

// planner is a db.DBTX that runs each statement in the mode its plan needs.
//
// It also notes the statements that insert events: in a transaction (tx set), so
// that Transact announces them after the commit; outside one (st set), where the
// statement is its own transaction, by announcing them at once.
type planner struct {
	inner  db.DBTX
	pooled bool   // through a transaction-mode pooler: the pool's mode for all
	tx     *bool  // in a transaction: set when a statement inserts events
	st     *Store // outside one: the store that announces them
}

func (p planner) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	name := queryName(sql)
	tag, err := p.inner.Exec(ctx, sql, execModeOf(name, args, p.pooled)...)
	if err == nil && writesEvents(name) {
		switch {
		case p.tx != nil:
			*p.tx = true
		case p.st != nil:
			p.st.announce(ctx)
		}
	}
	return tag, err
}

func (p planner) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return p.inner.Query(ctx, sql, execMode(sql, args, p.pooled)...)
}

func (p planner) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return p.inner.QueryRow(ctx, sql, execMode(sql, args, p.pooled)...)
}

func (p planner) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	return p.inner.CopyFrom(ctx, table, columns, src)
}
