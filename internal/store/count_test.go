package store

import "testing"

func TestPlanRows(t *testing.T) {
	tests := []struct {
		name string
		plan string
		want int64
	}{
		{"count over a seq scan", `[{"Plan": {"Node Type": "Aggregate", "Plan Rows": 1, "Plans": [
			{"Node Type": "Seq Scan", "Plan Rows": 1234}]}}]`, 1234},
		{"limit over an index scan", `[{"Plan": {"Node Type": "Limit", "Plan Rows": 51, "Plans": [
			{"Node Type": "Index Scan", "Plan Rows": 99000}]}}]`, 99000},
		{"parallel count", `[{"Plan": {"Node Type": "Aggregate", "Plan Rows": 1, "Plans": [
			{"Node Type": "Gather", "Plan Rows": 2, "Workers Planned": 2, "Plans": [
			{"Node Type": "Aggregate", "Plan Rows": 1, "Plans": [
			{"Node Type": "Seq Scan", "Plan Rows": 400000}]}]}]}}]`, 1200000},
		{"join under an aggregate", `[{"Plan": {"Node Type": "Aggregate", "Plan Rows": 1, "Plans": [
			{"Node Type": "Hash Join", "Plan Rows": 500, "Plans": [{"Node Type": "Seq Scan", "Plan Rows": 9}]}]}}]`, 500},
	}
	for _, tt := range tests {
		got, err := planRows([]byte(tt.plan))
		if err != nil || got != tt.want {
			t.Errorf("%s: planRows = %d, %v; want %d", tt.name, got, err, tt.want)
		}
	}
	if _, err := planRows([]byte(`{}`)); err == nil {
		t.Error("planRows accepted a plan that is not a list")
	}
}
