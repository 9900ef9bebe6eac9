package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// extraScenarios are the selectable runs beyond S1..S6: WEBHOOK is S3 again with one
// webhook endpoint subscribed (issue #16, bench/run/webhook.go; needs S3); STREAMS is
// bench/streams (issue #14), run as its own program after the wrk windows, its
// report going into this one; SCALE is S1 and S3 through haproxy in front of 1 and 3
// copies, with and without a replica and pgbouncer (issue #15, bench/run/scale.go).
var extraScenarios = []string{"WEBHOOK", "STREAMS", "SCALE"}

func isExtraScenario(name string) bool {
	for _, s := range extraScenarios {
		if s == name {
			return true
		}
	}
	return false
}

// streams runs bench/streams (`make bench-streams`) against an empty database: a
// second database in the private cluster, or STREAMS_DATABASE_URL when the bench
// uses STOCKROOM_BENCH_DATABASE_URL. Its STREAMS_* settings pass through (STREAMS_N,
// STREAMS_LATENCY, STREAMS_WRITES, STREAMS_WINDOW); its markdown goes into
// b.streamsReport.
func (b *bench) streams(ctx context.Context) {
	env := os.Environ()
	switch {
	case b.cluster != nil:
		if err := b.cluster.CreateDatabase(ctx, "stockroom_streams"); err != nil {
			b.streamsReport = "not run: create database stockroom_streams: " + err.Error() + "\n"
			return
		}
		env = append(env, "STREAMS_DATABASE_URL="+b.cluster.URL("stockroom_streams"))
	case os.Getenv("STREAMS_DATABASE_URL") == "":
		b.streamsReport = "not run: with STOCKROOM_BENCH_DATABASE_URL, set STREAMS_DATABASE_URL to another empty database\n"
		return
	}
	out := filepath.Join(b.scratch, "streams")
	env = append(env, "STREAMS_OUT="+out)
	b.logf("STREAMS: go run ./bench/streams (report also in %s)", out)
	cmd := exec.CommandContext(ctx, "go", "run", "./bench/streams")
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		b.streamsReport = fmt.Sprintf("failed: %v\n\n```\n%s```\n", err, lastLines([]byte(stderr.String()), 10))
		b.logf("STREAMS failed: %v", err)
		return
	}
	text := string(stdout)
	// Drop its own title: the section has one.
	if i := strings.Index(text, "\n"); strings.HasPrefix(text, "# ") && i >= 0 {
		text = strings.TrimLeft(text[i+1:], "\n")
	}
	b.streamsReport = text
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| measure") {
			b.logf("STREAMS %s", l)
		}
	}
}
