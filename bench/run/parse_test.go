package main

import (
	"maps"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name string
		line string
		want procStat
		err  bool
	}{
		{"plain", "4242 (postgres) S 4200 4242 4242 0 -1 4194560 900 0 0 0 150 30 7 3 20 0 1 0 100 0 0",
			procStat{ppid: 4200, utime: 150, stime: 30, cutime: 7, cstime: 3}, false},
		{"name with spaces and parentheses", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 11 22 33 44 20 0 1 0",
			procStat{ppid: 1, utime: 11, stime: 22, cutime: 33, cstime: 44}, false},
		{"no name", "7 a R 1", procStat{}, true},
		{"too short", "7 (x) R 1 2 3", procStat{}, true},
		{"not a number", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 x 22 33 44 20", procStat{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.line))
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("parseStat(%q) = %+v, %v; want %+v, error %v", tt.line, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestParseRSS(t *testing.T) {
	got, err := parseRSS([]byte("Name:\tstockroom\nVmPeak:\t  900 kB\nVmRSS:\t   51234 kB\nVmData: 1 kB\n"))
	if err != nil || got != 51234 {
		t.Errorf("parseRSS = %d, %v; want 51234", got, err)
	}
	if _, err := parseRSS([]byte("Name:\tzombie\n")); err == nil {
		t.Error("parseRSS without VmRSS: no error")
	}
}

func TestParseWrk(t *testing.T) {
	out := "Running 15s test @ http://127.0.0.1:1/\n  2 threads and 16 connections\n" +
		`BENCH_RESULT {"requests":1200,"duration_us":15000000,"bytes":99,"connect":0,"read":1,"write":0,"status":3,"timeout":2,"p50_us":800,"p90_us":900,"p99_us":4000,"max_us":9000}` + "\n"
	got, err := parseWrk([]byte(out))
	want := wrkResult{Requests: 1200, DurationUS: 15000000, Bytes: 99, Read: 1, Status: 3, Timeout: 2, P50US: 800, P90US: 900, P99US: 4000, MaxUS: 9000}
	if err != nil || got != want {
		t.Errorf("parseWrk = %+v, %v; want %+v", got, err, want)
	}
	if _, err := parseWrk([]byte("unable to connect to 127.0.0.1:1 Connection refused\n")); err == nil {
		t.Error("parseWrk without a result line: no error")
	}
	if _, err := parseWrk([]byte("BENCH_RESULT {broken\n")); err == nil {
		t.Error("parseWrk with a broken result line: no error")
	}
}

func TestParsePgbench(t *testing.T) {
	out := `transaction type: multiple scripts
scaling factor: 1
query mode: prepared
number of clients: 16
number of transactions actually processed: 36012
number of failed transactions: 4 (0.011%)
latency average = 6.664 ms
initial connection time = 20.170 ms
tps = 2400.800936 (without initial connection time)
`
	got, err := parsePgbench([]byte(out))
	if err != nil || got.transactions != 36012 || got.failed != 4 || got.tps != 2400.800936 || got.avg != 6664*time.Microsecond {
		t.Errorf("parsePgbench = %+v, %v", got, err)
	}
	if _, err := parsePgbench([]byte("pgbench: error: connection to server failed\n")); err == nil {
		t.Error("parsePgbench without tps: no error")
	}
}

func TestStatusCounts(t *testing.T) {
	before := parseStatusCounts([]byte(`# TYPE stockroom_http_requests_total counter
stockroom_http_requests_total{route="GET /api/v1/products",status="200"} 10
stockroom_http_requests_total{route="GET /metrics",status="200"} 4
`))
	after := parseStatusCounts([]byte(`stockroom_http_requests_total{route="GET /api/v1/products",status="200"} 110
stockroom_http_requests_total{route="GET /api/v1/products/{id}",status="200"} 5
stockroom_http_requests_total{route="GET /api/v1/products",status="429"} 2
stockroom_http_requests_total{route="GET /metrics",status="200"} 5
stockroom_http_request_duration_seconds_count{route="GET /metrics"} 5
`))
	got := diffCounts(before, after)
	if want := map[string]int64{"200": 105, "429": 2}; !maps.Equal(got, want) {
		t.Errorf("status counts = %v, want %v", got, want)
	}
	if s := nonOK(got); s != "429 × 2" {
		t.Errorf("nonOK = %q, want 429 × 2", s)
	}
}

func TestShorten(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"-- name: GetVariant :one SELECT id FROM product_variants WHERE id = $1", 200, "GetVariant: SELECT id FROM product_variants WHERE id = $1"},
		{"begin", 200, "begin"},
		{"SELECT 1234567890", 11, "SELECT 1234…"},
	}
	for _, tt := range tests {
		if got := shorten(tt.in, tt.n); got != tt.want {
			t.Errorf("shorten(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	c, err := loadConfig(env(nil))
	if err != nil || c.products != 100_000 || c.duration != 15*time.Second || len(c.conns) != 2 || len(c.scenarios) != 9 || !c.scenarios["STREAMS"] || !c.scenarios["WEBHOOK"] || !c.scenarios["SCALE"] {
		t.Errorf("defaults: %+v, %v", c, err)
	}
	c, err = loadConfig(env(map[string]string{"BENCH_PRODUCTS": "1_000_000", "BENCH_CONNS": "64", "BENCH_SCENARIOS": "s1,S4", "BENCH_DURATION": "1m", "BENCH_PROFILE": "s4", "BENCH_BASELINE": "HEAD~2"}))
	if err != nil || c.baseline != "HEAD~2" || c.products != 1_000_000 || c.conns[0] != 64 || !c.scenarios["S1"] || !c.scenarios["S4"] || c.scenarios["S2"] || c.duration != time.Minute || !c.profile["S4"] || len(c.profile) != 1 {
		t.Errorf("set: %+v, %v", c, err)
	}
	c, err = loadConfig(env(map[string]string{"BENCH_SCENARIOS": "s3,webhook,streams"}))
	if err != nil || !c.scenarios["S3"] || !c.scenarios["STREAMS"] || !c.scenarios["WEBHOOK"] || len(c.scenarios) != 3 {
		t.Errorf("streams: %+v, %v", c, err)
	}
	for _, bad := range []map[string]string{
		{"BENCH_PRODUCTS": "many"},
		{"BENCH_PRODUCTS": "10"},
		{"BENCH_DURATION": "15"},
		{"BENCH_CONNS": "1"},
		{"BENCH_SCENARIOS": "S9"},
		{"BENCH_PROFILE": "S5,S7"},
		{"BENCH_PROFILE": "STREAMS"},
		{"BENCH_PROFILE": "WEBHOOK"},
	} {
		if _, err := loadConfig(env(bad)); err == nil {
			t.Errorf("loadConfig(%v): no error", bad)
		}
	}
}
