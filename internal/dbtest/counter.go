package dbtest

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/store"
)

// Counter is a pgx tracer that counts the statements a pool runs, for query-budget
// tests: a route must run a fixed number of statements however many rows it shows.
// The NOTIFY after a commit that wrote events (store.AnnounceSQL) is not counted:
// it is sent at once or from a timer up to 10 ms later, for the commits of a
// window together, so it would land in whichever count is open then.
// store's TestCommitsInAWindowShareOneAnnouncement bounds those NOTIFYs.
//
//	var c dbtest.Counter
//	pool := dbtest.NewWithConfig(t, c.Install)
//	c.Reset(); doRequest(); if got := c.Count(); got != 2 { t.Errorf(...; c.Statements()) }
type Counter struct {
	mu   sync.Mutex
	sqls []string
}

// Install sets c as cfg's tracer; pass it to NewWithConfig.
func (c *Counter) Install(cfg *pgxpool.Config) { cfg.ConnConfig.Tracer = c }

// TraceQueryStart records one statement.
func (c *Counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !counted(data.SQL) {
		return ctx
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sqls = append(c.sqls, strings.Join(strings.Fields(data.SQL), " "))
	return ctx
}

// TraceQueryEnd is required by pgx.QueryTracer; there is nothing to do.
func (c *Counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// counted reports whether Counter and Tally count a statement: all but the NOTIFY
// (see Counter).
func counted(sql string) bool { return sql != store.AnnounceSQL }

// Reset forgets the statements counted so far.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sqls = nil
}

// Count returns the number of statements since the last Reset.
func (c *Counter) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sqls)
}

// Statements returns the statements since the last Reset, one line each, for a
// failure message that shows what ran.
func (c *Counter) Statements() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.sqls, "\n")
}

// Tally is a pgx tracer that only counts statements, for pools that run a whole
// test (or a benchmark) under it: nothing is kept per statement. Like Counter it
// leaves out store.AnnounceSQL.
//
//	var n dbtest.Tally
//	pool := dbtest.NewWithConfig(t, n.Install)
//	if got := n.During(func() { doRequest() }); got != 2 { ... }
type Tally struct{ n atomic.Int64 }

// Install sets t as cfg's tracer; pass it to NewWithConfig.
func (t *Tally) Install(cfg *pgxpool.Config) { cfg.ConnConfig.Tracer = t }

// TraceQueryStart counts one statement.
func (t *Tally) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !counted(data.SQL) {
		return ctx
	}
	t.n.Add(1)
	return ctx
}

// TraceQueryEnd is required by pgx.QueryTracer; there is nothing to do.
func (t *Tally) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// During runs fn and returns how many statements the pool ran meanwhile (those of
// other goroutines included).
func (t *Tally) During(fn func()) int64 {
	before := t.n.Load()
	fn()
	return t.n.Load() - before
}
