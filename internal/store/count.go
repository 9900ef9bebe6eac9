package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
)

// Count counts under the one count policy (keyset.CountOf): the planner's estimate
// of the rows count's statement scans first (EXPLAIN, no rows read); when that is
// small, count runs for real (asked to stop past max rows, which a count without a
// cap ignores), so a list page shows "about n" instead of paying for a COUNT(*) over
// a big table on every request.
//
// count must issue exactly one query through q: a sqlc count query with the list's
// filters, so the estimate and the exact count are the same SQL with the same
// parameters.
func (s *Store) Count(ctx context.Context, count func(q *db.Queries, max int32) (int64, error)) (keyset.Count, error) {
	est, err := s.Estimate(ctx, func(q *db.Queries) error {
		_, err := count(q, keyset.ExactCountLimit+1)
		return err
	})
	if err != nil {
		return keyset.Count{}, err
	}
	n, err := keyset.CountOf(est, func(max int32) (int64, error) { return count(s.queries, max) })
	if err != nil {
		return keyset.Count{}, classify(err)
	}
	return n, nil
}

// Estimate returns the planner's estimate of the rows that the one query fn issues
// would produce, before any aggregate or LIMIT on top: EXPLAIN (FORMAT JSON) of the
// same SQL with the same parameters, so nothing is read. fn sees the query's result as
// an error and should return it unchanged.
func (s *Store) Estimate(ctx context.Context, fn func(q *db.Queries) error) (int64, error) {
	e := &explainer{pool: planner{inner: s.pool, pooled: s.pooled}} // EXPLAIN plans with the values, never generic
	err := fn(db.New(e))
	if e.err != nil {
		return 0, classify(e.err)
	}
	if !e.done {
		if err != nil {
			return 0, classify(err)
		}
		return 0, errors.New("estimate: the function issued no query")
	}
	return e.rows, nil
}

// errExplained is what the explaining DBTX hands back instead of rows.
var errExplained = errors.New("explained, not run")

// explainer is a db.DBTX that EXPLAINs the first query instead of running it.
type explainer struct {
	pool interface {
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	}
	rows int64
	done bool
	err  error
}

func (e *explainer) explain(ctx context.Context, sql string, args ...any) {
	if e.done {
		e.err = errors.New("estimate: the function issued more than one query")
		return
	}
	e.done = true
	var raw []byte
	if err := e.pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&raw); err != nil {
		e.err = fmt.Errorf("explain: %w", err)
		return
	}
	e.rows, e.err = planRows(raw)
}

// Exec explains instead of executing.
func (e *explainer) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	e.explain(ctx, sql, args...)
	return pgconn.CommandTag{}, errExplained
}

// Query explains instead of querying.
func (e *explainer) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	e.explain(ctx, sql, args...)
	return nil, errExplained
}

// QueryRow explains instead of querying; the row scans as errExplained.
func (e *explainer) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	e.explain(ctx, sql, args...)
	return errRow{}
}

// CopyFrom cannot be explained; no list or count query uses COPY.
func (e *explainer) CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error) {
	e.err = errors.New("estimate: COPY cannot be explained")
	return 0, e.err
}

type errRow struct{}

// Scan reports that the query was explained, not run.
func (errRow) Scan(...any) error { return errExplained }

// planNode is the part of an EXPLAIN (FORMAT JSON) node that planRows reads.
type planNode struct {
	Type    string     `json:"Node Type"`
	Rows    float64    `json:"Plan Rows"`
	Workers int        `json:"Workers Planned"`
	Plans   []planNode `json:"Plans"`
}

// planRows digs the row estimate out of a plan: it descends through the nodes that
// sit on top of the row source (aggregates, LIMIT, sorts, gathers) and takes the
// estimate of the first other node. Under a Gather the scan's estimate is per worker
// (the leader helps too), so it is scaled back up by workers + 1; "about" is all this promises.
func planRows(raw []byte) (int64, error) {
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &plans); err != nil || len(plans) == 0 {
		return 0, fmt.Errorf("explain: unexpected plan %.200s", raw)
	}
	n, workers := plans[0].Plan, 0
	for len(n.Plans) > 0 {
		switch n.Type {
		case "Aggregate", "Limit", "Sort", "Incremental Sort", "Result":
		case "Gather", "Gather Merge":
			workers = n.Workers
		default:
			return int64(n.Rows * float64(workers+1)), nil
		}
		n = n.Plans[0]
	}
	return int64(n.Rows * float64(workers+1)), nil
}
