package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
)

// budgetRequests is how many requests of a scenario the budget pass sends, one at a
// time: enough to average out the token's once-a-minute last_used_at write.
const budgetRequests = 20

// budget is the statements one request of a scenario runs, counted by
// pg_stat_statements (calls over requests): for stockroom, the lean floor, the
// same-SQL floor and the pgbench script of the database limit.
type budget struct {
	scenario  string
	stockroom count   // with its statements and their time
	lean      float64 // -1: the floors do not answer this scenario
	samesql   float64
	pgbench   float64 // -1: no pgbench script
	note      string
}

// statementsSQL lists the statements run since the reset with their calls and their
// planning and execution time (ms; planning is 0 unless track_planning is on).
const statementsSQL = `SELECT calls, total_plan_time, total_exec_time, regexp_replace(left(query, 2000), '\s+', ' ', 'g')
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC, query`

// queryBudgets counts each scenario's statements per request with pg_stat_statements,
// which the private cluster preloads. Without it (an outside database that lacks it)
// it says so; the API's and admin's own tests assert the budgets with a pgx tracer
// (go test -run QueryBudget -v ./internal/...).
func (b *bench) queryBudgets(ctx context.Context) {
	conn, err := pgx.Connect(ctx, b.dbURL)
	if err == nil {
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
	}
	if err == nil {
		_, err = conn.Exec(ctx, "SELECT pg_stat_statements_reset()")
	}
	if err != nil {
		b.budgets = append(b.budgets, budget{note: "pg_stat_statements is not available (" + strings.SplitN(err.Error(), "\n", 2)[0] +
			"): see go test -run QueryBudget -v ./internal/api ./internal/admin ./internal/catalog"})
		return
	}
	b.logf("counting statements per request (pg_stat_statements)")
	if b.cfg.databaseURL == "" {
		// Planning time too, for this pass only: track_planning costs contention
		// when many connections run one statement, which the load runs would pay.
		defer b.trackPlanning(ctx, conn, false)
		b.trackPlanning(ctx, conn, true)
	}
	scripts, err := b.pgbenchScripts(ctx)
	if err != nil {
		b.budgets = append(b.budgets, budget{note: "pgbench scripts: " + err.Error()})
		return
	}
	for _, s := range scenarios {
		if !b.cfg.scenarios[s.name] || b.missing[s.name] != "" {
			continue
		}
		bu := budget{scenario: s.name, lean: -1, samesql: -1, pgbench: -1}
		var list []string
		var lean, samesql, pgb count
		bu.stockroom, err = b.countStatements(ctx, conn, func() error { return b.sendN(ctx, b.stockroom, s, 1) })
		if err == nil && s.floor {
			lean, err = b.countStatements(ctx, conn, func() error { return b.sendN(ctx, b.lean, s, 2) })
			bu.lean, list = lean.perRequest, lean.list
			appendFile(filepath.Join(b.scratch, "budget.log"), fmt.Sprintf("lean floor %s:\n  %s\n", s.name, strings.Join(list, "\n  ")))
		}
		if err == nil && s.floor {
			samesql, err = b.countStatements(ctx, conn, func() error { return b.sendN(ctx, b.samesql, s, 3) })
			bu.samesql, list = samesql.perRequest, samesql.list
			appendFile(filepath.Join(b.scratch, "budget.log"), fmt.Sprintf("same-SQL floor %s:\n  %s\n", s.name, strings.Join(list, "\n  ")))
		}
		if err == nil && s.floor {
			pgb, err = b.countStatements(ctx, conn, func() error {
				_, err := b.pgbench(ctx, scripts[s.name], b.pgbenchVars(), 1, 0, budgetRequests)
				return err
			})
			bu.pgbench, list = pgb.perRequest, pgb.list
			appendFile(filepath.Join(b.scratch, "budget.log"), fmt.Sprintf("pgbench %s:\n  %s\n", s.name, strings.Join(list, "\n  ")))
		}
		if err != nil {
			bu.note = err.Error()
		}
		b.budgets = append(b.budgets, bu)
	}
}

// sendN sends budgetRequests requests of s to srv, one after the other, and wants
// each to succeed. Each target gets its own random stream (seed), so S3 never sets
// a stock level the previous target just set, which would write nothing.
func (b *bench) sendN(ctx context.Context, srv *server, s *scenario, seed uint64) error {
	rng := rand.New(rand.NewPCG(7, seed))
	for range budgetRequests {
		method, path, body := s.request(&b.in, rng)
		status, resp, err := b.send(ctx, srv, s, method, path, body)
		if err != nil {
			return err
		}
		if status/100 != 2 {
			return fmt.Errorf("%s %s %s on %s: %d %.300s", s.name, method, path, srv.name, status, resp)
		}
	}
	return nil
}

// count is what one budget pass saw, per request: statements, each with its calls
// and mean time, and the database time they took.
type count struct {
	perRequest float64
	list       []string
	plan, exec float64 // ms
}

// countStatements resets pg_stat_statements, runs fn, and returns what it ran per
// request.
func (b *bench) countStatements(ctx context.Context, conn *pgx.Conn, fn func() error) (count, error) {
	if _, err := conn.Exec(ctx, "SELECT pg_stat_statements_reset()"); err != nil {
		return count{}, err
	}
	if err := fn(); err != nil {
		return count{}, err
	}
	rows, err := conn.Query(ctx, statementsSQL)
	if err != nil {
		return count{}, err
	}
	var c count
	for rows.Next() {
		var calls int64
		var plan, exec float64
		var query string
		if err := rows.Scan(&calls, &plan, &exec, &query); err != nil {
			rows.Close()
			return count{}, err
		}
		c.add(calls, plan, exec, query)
	}
	if err := rows.Err(); err != nil {
		return count{}, err
	}
	return c, nil
}

// add counts one pg_stat_statements row: calls of a statement that took plan and
// exec ms in all over the budget pass's requests.
func (c *count) add(calls int64, plan, exec float64, query string) {
	c.plan += plan / budgetRequests
	c.exec += exec / budgetRequests
	if calls == 0 {
		// Planned but not counted as run: a trigger's or a function's statement
		// (track = top), whose run is its caller's time. Its planning is counted.
		return
	}
	c.perRequest += float64(calls) / budgetRequests
	c.list = append(c.list, fmt.Sprintf("%.2f × %.3f ms (plan %.3f) %s", float64(calls)/budgetRequests,
		(plan+exec)/float64(calls), plan/float64(calls), shorten(query, 110)))
}

// trackPlanning turns pg_stat_statements' planning times on or off in the private
// cluster. A failure only leaves planning times out of the report.
func (b *bench) trackPlanning(ctx context.Context, conn *pgx.Conn, on bool) {
	set := "ALTER SYSTEM SET pg_stat_statements.track_planning = on"
	if !on {
		set = "ALTER SYSTEM RESET pg_stat_statements.track_planning"
	}
	if _, err := conn.Exec(ctx, set); err != nil {
		b.logf("pg_stat_statements.track_planning: %v", err)
		return
	}
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		b.logf("pg_stat_statements.track_planning: reload: %v", err)
	}
}

// shorten cuts a statement to n characters, without sqlc's "-- name: X :one" prefix
// but with the name kept in front.
func shorten(q string, n int) string {
	q = strings.TrimSpace(q)
	if rest, ok := strings.CutPrefix(q, "-- name: "); ok {
		name, body, _ := strings.Cut(rest, " ")
		if _, after, ok := strings.Cut(body, " "); ok { // drop ":one"
			body = after
		}
		q = name + ": " + strings.TrimSpace(body)
	}
	if len(q) > n {
		q = q[:n] + "…"
	}
	return q
}
