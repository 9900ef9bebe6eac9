package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pgbenchSummary is what pgbench 15 prints on its standard output after a run.
const pgbenchSummary = `pgbench (15.20)
transaction type: multiple scripts
number of clients: 256
number of transactions actually processed: 36012
number of failed transactions: 0 (0.000%)
latency average = 6.664 ms
initial connection time = 20.170 ms
tps = 2400.800936 (without initial connection time)
`

// A database limit pgbench gives no figure for is reported as not measured, with
// pgbench's last words and without the database password, and neither stops the
// run nor makes it fail: it is a missing reference point, not an error response.
// A stand-in pgbench on PATH plays the warm-up (-T 1) and the measured window (-T 2).
func TestPgbenchWindow(t *testing.T) {
	summary := "cat <<'END'\n" + pgbenchSummary + "END\n"
	tests := []struct {
		name           string
		warmup, window string // the stand-in's shell commands
		wantNote       []string
	}{
		{"measured", summary, summary, nil},
		{"clients aborted in the window, tps of the others", summary,
			summary + `echo "pgbench: error: client 3 script 0 aborted in command 4 query 0: ERROR:  deadlock detected" >&2
echo "pgbench: error: Run was aborted; the above results are incomplete." >&2
exit 2`,
			[]string{"not measured: pgbench exit status 2: ", "deadlock detected / pgbench: error: Run was aborted"}},
		{"no connection in the warm-up",
			`echo "pgbench: error: connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  sorry, too many clients already" >&2
echo "pgbench: error: could not create connection for client 7 of $last" >&2
echo "password was $(echo "$last" | sed 's/.*bench:\(.*\)@.*/\1/')" >&2
exit 1`, summary,
			[]string{"not measured: warm-up: pgbench exit status 1: ", "too many clients already / ", "client 7 of <database url> / password was <password>"}},
		{"no tps line", summary, `echo "number of transactions actually processed: 0"`,
			[]string{"not measured: pgbench printed no tps line: number of transactions actually processed: 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := t.TempDir()
			script := "#!/bin/sh\nfor a; do last=$a; done\ncase \" $* \" in\n*\" -T 1 \"*)\n" + tt.warmup + "\n;;\n*)\n" + tt.window + "\n;;\nesac\n"
			if err := os.WriteFile(filepath.Join(bin, "pgbench"), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			b := &bench{cfg: config{threads: 2, warmup: time.Second, duration: 2 * time.Second}, out: io.Discard,
				scratch: t.TempDir(), dbURL: "postgres://bench:s3cret-pw@127.0.0.1:5432/bench", notes: map[int][]string{}}
			b.record(&measurement{target: targetStockroom, scenario: "S1", conns: 256, requests: 15000, seconds: 15, rps: 1000})
			b.record(b.pgbenchWindow(context.Background(), scenarioByName("S1"), []string{"s1.sql"}, 256))

			m := b.find(targetDB, "S1", 256)
			var report strings.Builder
			b.table(&report, 256)
			if failed := b.failures(); len(failed) > 0 {
				t.Errorf("failures() = %v, want none", failed)
			}
			if tt.wantNote == nil {
				if m.note != "" || m.rps != 2400.800936 || m.requests != 36012 {
					t.Errorf("measurement: rps %v, requests %d, note %q; want 2400.800936, 36012, no note", m.rps, m.requests, m.note)
				}
				if !strings.Contains(report.String(), "| S1 | 1000 |  |  | 42% |") {
					t.Errorf("report lacks S1 at 42%% of the DB limit:\n%s", report.String())
				}
				return
			}
			for _, want := range tt.wantNote {
				if !strings.Contains(m.note, want) {
					t.Errorf("note %q, want it to contain %q", m.note, want)
				}
			}
			for _, want := range []string{"| S1 | 1000 |  |  | not measured |", "| DB limit S1 (pgbench) | not measured: "} {
				if !strings.Contains(report.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, report.String())
				}
			}
			log, _ := os.ReadFile(filepath.Join(b.scratch, "pgbench.log"))
			for what, text := range map[string]string{"note": m.note, "report": report.String(), "pgbench.log": string(log)} {
				if strings.Contains(text, "s3cret-pw") {
					t.Errorf("the %s has the database password:\n%s", what, text)
				}
			}
		})
	}
}
