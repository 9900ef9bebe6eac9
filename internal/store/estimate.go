package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stockroom-dev/stockroom/internal/db"
)

// EstimateRows returns the planner's estimate of how many rows sql would return with
// args, without running it: the "Plan Rows" of EXPLAIN (FORMAT JSON)'s top node, or
// of the first node under a Limit, so that a list query's LIMIT does not cap the
// estimate. It is what "about 1,200,000 products" comes from: a page never counts a
// large table. The figure is an estimate, off by any factor when the statistics are
// stale or a condition is hard to judge (a substring search).
//
// It is hand-written rather than sqlc-generated because sqlc cannot express EXPLAIN.
// Callers above the store pass their sqlc query through Estimate instead, so the SQL
// stays in db/queries.
func (s *Store) EstimateRows(ctx context.Context, sql string, args ...any) (int64, error) {
	var out []byte
	if err := s.pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&out); err != nil {
		return 0, fmt.Errorf("explain: %w", classify(err))
	}
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(out, &plans); err != nil || len(plans) == 0 {
		return 0, fmt.Errorf("explain: unexpected output %.200q", out)
	}
	n := plans[0].Plan
	for n.NodeType == "Limit" && len(n.Plans) > 0 {
		n = n.Plans[0]
	}
	return int64(n.PlanRows), nil
}

// planNode is the part of an EXPLAIN (FORMAT JSON) node that EstimateRows reads.
type planNode struct {
	NodeType string     `json:"Node Type"`
	PlanRows float64    `json:"Plan Rows"`
	Plans    []planNode `json:"Plans"`
}

// Estimate is EstimateRows for the first statement fn runs through its queries: fn
// calls one generated query method with its parameters, which is recorded instead
// of run, and the planner estimates that. So a list and its "about N" count share
// one query and one set of filters:
//
//	n, err := st.Estimate(ctx, func(q *db.Queries) error {
//		_, err := q.ListProductsByNameAsc(ctx, params)
//		return err
//	})
func (s *Store) Estimate(ctx context.Context, fn func(q *db.Queries) error) (int64, error) {
	var c capture
	if err := fn(db.New(&c)); err != nil && !errors.Is(err, errCaptured) {
		return 0, err
	}
	if c.sql == "" {
		return 0, errors.New("estimate: fn ran no statement")
	}
	return s.EstimateRows(ctx, c.sql, c.args...)
}

// errCaptured is what a captured statement returns to the generated method, which
// hands it back to fn and so to Estimate.
var errCaptured = errors.New("statement captured for EXPLAIN, not run")

// capture is a db.DBTX that records the first statement it is given and runs none.
type capture struct {
	sql  string
	args []any
}

func (c *capture) record(sql string, args []any) {
	if c.sql == "" {
		c.sql, c.args = sql, args
	}
}

func (c *capture) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c.record(sql, args)
	return pgconn.CommandTag{}, errCaptured
}

func (c *capture) Query(_ context.Context, sql string, args ...any) (pgx.Rows, error) {
	c.record(sql, args)
	return nil, errCaptured
}

func (c *capture) QueryRow(_ context.Context, sql string, args ...any) pgx.Row {
	c.record(sql, args)
	return capturedRow{}
}

func (c *capture) CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error) {
	return 0, errors.New("estimate: COPY cannot be explained")
}

// capturedRow is the row a captured QueryRow returns: scanning it reports the capture.
type capturedRow struct{}

func (capturedRow) Scan(...any) error { return errCaptured }
