package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// targetBaseline is stockroom built from BENCH_BASELINE, an earlier revision: its
// windows run right after the current binary's, so that a change's before and after
// are measured in the same run on the same database (a refactor that must not slow
// anything down, say).
const targetBaseline = "baseline"

// buildBaseline builds cmd/stockroom at revision rev into bin/stockroom-baseline from
// `git archive`, which leaves the work tree and its worktrees alone, and returns the
// revision's short name.
func (b *bench) buildBaseline(ctx context.Context, rev string) (string, error) {
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short", "--verify", rev+"^{commit}").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("BENCH_BASELINE: %q is not a commit: %s", rev, strings.TrimSpace(string(out)))
	}
	short := strings.TrimSpace(string(out))
	src := filepath.Join(b.tmp, "baseline-src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	archive := exec.CommandContext(ctx, "sh", "-c", `git archive "$1" | tar -x -C "$2"`, "sh", short, src)
	if out, err := archive.CombinedOutput(); err != nil {
		return "", fmt.Errorf("git archive %s: %w\n%s", short, err, out)
	}
	bin, err := filepath.Abs("bin/stockroom-baseline")
	if err != nil {
		return "", err
	}
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/stockroom")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build at %s: %w\n%s", short, err, out)
	}
	return short, nil
}

// startBaseline starts the baseline binary on the run's database with stockroom's
// own settings. A revision whose migrations differ from this one's refuses the
// database (serve checks the schema): the run goes on without it and says why.
func (b *bench) startBaseline(ctx context.Context, env []string) {
	srv, err := b.startServer(ctx, targetBaseline, "bin/stockroom-baseline", env, "/readyz", http.StatusOK, "serve")
	if err != nil {
		b.baselineNote = fmt.Sprintf("the baseline %s did not start (%v): a revision whose migrations differ from this one's refuses the database", b.baselineRev, err)
		b.logf("%s", b.baselineNote)
		return
	}
	b.baseline = srv
}

// baselineTable compares the current binary with the baseline, scenario by scenario.
func (b *bench) baselineTable(w *strings.Builder) {
	if b.cfg.baseline == "" {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## Before and after: this tree against %s (BENCH_BASELINE)\n\n", b.baselineRev)
	if b.baseline == nil {
		p("%s\n\n", b.baselineNote)
		return
	}
	p("Each baseline window ran right after the current binary's, on the same database.\n\n")
	p("| scenario | connections | req/s now | req/s baseline | now ÷ baseline | p99 now | p99 baseline | server CPU s/1k req now | baseline |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, conns := range b.cfg.conns {
		for _, name := range tableRows() {
			now, base := b.find(targetStockroom, name, conns), b.find(targetBaseline, name, conns)
			if now == nil || base == nil || now.requests == 0 || base.requests == 0 {
				continue
			}
			p("| %s | %d | %.0f | %.0f | %.2f | %s | %s | %s | %s |\n", name, conns, now.rps, base.rps, now.rps/base.rps,
				ms(now.p99), ms(base.p99), cpu(now.perK(now.serverCPU)), cpu(base.perK(base.serverCPU)))
		}
	}
	p("\n")
}
