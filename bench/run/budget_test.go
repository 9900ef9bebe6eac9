package main

import (
	"math"
	"strings"
	"testing"
)

// A statement pg_stat_statements has planned but not counted as run (one inside a
// trigger, with track = top) adds its planning time and no line: the 2026-12-06
// 00:21 report listed S6's as "0.00 × +Inf ms (plan +Inf)".
func TestBudgetCountSkipsStatementsNeverRun(t *testing.T) {
	var c count
	c.add(2*budgetRequests, 4, 16, "-- name: GetVariant :one SELECT 1")
	c.add(0, 2, 0, "TG_OP IN ($7, $8)")
	if c.perRequest != 2 || len(c.list) != 1 {
		t.Fatalf("perRequest %v, list %q; want 2 and one line", c.perRequest, c.list)
	}
	if want := "2.00 × 0.500 ms (plan 0.100) GetVariant: SELECT 1"; c.list[0] != want {
		t.Errorf("line %q, want %q", c.list[0], want)
	}
	if math.Abs(c.plan-0.3) > 1e-9 || math.Abs(c.exec-0.8) > 1e-9 {
		t.Errorf("plan %v ms, exec %v ms per request; want 0.3 and 0.8", c.plan, c.exec)
	}
	for _, l := range c.list {
		if strings.Contains(l, "Inf") {
			t.Errorf("line %q", l)
		}
	}
}
