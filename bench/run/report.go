package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stockroom-dev/stockroom/internal/store"
)

// find returns the measurement of target for scenario at conns, or nil.
func (b *bench) find(target, scenario string, conns int) *measurement {
	for _, m := range b.results {
		if m.target == target && m.scenario == scenario && m.conns == conns {
			return m
		}
	}
	return nil
}

// failures names the windows that saw error responses (or did not run for an error).
func (b *bench) failures() []string {
	var out []string
	for _, m := range b.results {
		if m.failed() {
			out = append(out, fmt.Sprintf("%s %s at %d connections", m.target, m.scenario, m.conns))
		}
	}
	return out
}

// report renders the run as markdown.
func (b *bench) report() string {
	var w strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&w, format, a...) }
	p("# stockroom bench, %s, %s products\n\n", b.start.Format("2006-01-02 15:04 MST"), thousands(int64(b.cfg.products)))
	p("Each window: %s warm-up, then %s measured; wrk with %d threads, %s timeout. Ratios compare windows of the same run.\n\n",
		b.cfg.warmup, b.cfg.duration, b.cfg.threads, wrkTimeout)
	p("Seed: `%s` (wall %s).\n\n", b.seedLine, b.seedTime.Round(time.Millisecond))
	for _, conns := range b.cfg.conns {
		b.table(&w, conns)
	}
	if b.cfg.scenarios["SCALE"] {
		p("## SCALE: through the load balancer (haproxy, copies, replica, pgbouncer; issue #15)\n\n%s\n", b.scaleReport)
	}
	if b.cfg.scenarios["STREAMS"] {
		p("## STREAMS: event streams (bench/streams, issue #14)\n\n%s\n", b.streamsReport)
	}
	b.baselineTable(&w)
	b.budgetReport(&w)
	b.machine(&w)
	return w.String()
}

func (b *bench) table(w *strings.Builder, conns int) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## %d connections\n\n", conns)
	p("| scenario | req/s | %% of lean floor | %% of same-SQL floor | %% of DB limit | p50 | p99 | non-2xx | socket errors | server RSS max | server CPU s/1k req | postgres CPU s/1k req | postgres CPU ÷ lean floor's |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	var notes []string
	for _, name := range tableRows() {
		m := b.find(targetStockroom, name, conns)
		if m == nil {
			continue
		}
		if m.requests == 0 {
			p("| %s | %s |  |  |  |  |  |  |  |  |  |  |  |\n", name, m.note)
			continue
		}
		lean, same, dbl, pgRatio := "", "", "", ""
		if f := b.find(targetLean, name, conns); f != nil && f.rps > 0 {
			lean = fmt.Sprintf("%.0f%%", 100*m.rps/f.rps)
			if m.pgCPU > 0 && f.pgCPU > 0 {
				pgRatio = fmt.Sprintf("%.2f×", m.perK(m.pgCPU)/f.perK(f.pgCPU))
			}
		}
		if f := b.find(targetSameSQL, name, conns); f != nil && f.rps > 0 {
			same = fmt.Sprintf("%.0f%%", 100*m.rps/f.rps)
		}
		if d := b.find(targetDB, name, conns); d != nil && d.rps > 0 {
			dbl = fmt.Sprintf("%.0f%%", 100*m.rps/d.rps)
		} else if d != nil && d.requests == 0 {
			dbl = "not measured" // the reference rows below say why
		}
		if name == webhookScenario {
			if s3 := b.find(targetStockroom, "S3", conns); s3 != nil && s3.rps > 0 {
				lean = fmt.Sprintf("(%.0f%% of S3; receiver %.0f deliveries/s)", 100*m.rps/s3.rps, m.webhookRate)
			}
		}
		if name == "S5" {
			if s1 := b.find(targetStockroom, "S1", conns); s1 != nil && s1.rps > 0 {
				lean = fmt.Sprintf("(%.0f%% of S1)", 100*m.rps/s1.rps)
			}
		}
		p("| %s | %.0f | %s | %s | %s | %s | %s | %d | %d | %s | %s | %s | %s |\n", name, m.rps, lean, same, dbl, ms(m.p50), ms(m.p99),
			m.non2xx, max(m.socketErr, 0), mib(m.rssKiB), cpu(m.perK(m.serverCPU)), pgcpu(m), pgRatio)
		if bad := nonOK(m.statuses); bad != "" && m.non2xx == 0 {
			notes = append(notes, fmt.Sprintf("%s: the server logged %s in the window (/metrics), none of which wrk received: "+
				"requests wrk abandoned when the window closed, answered after their client had gone", name, bad))
		} else if bad != "" {
			notes = append(notes, fmt.Sprintf("%s: the server logged %s in the window (/metrics)", name, bad))
		}
		if m.note != "" {
			notes = append(notes, name+": "+m.note)
		}
	}
	p("\nReference points at %d connections:\n\n", conns)
	p("| reference | req/s (tx/s) | p50 | p99 | errors | RSS max | process CPU s/1k req | postgres CPU s/1k req |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	if h := b.find(targetHTTP, "-", conns); h != nil {
		b.refRow(w, "HTTP limit (bare net/http)", h)
	}
	for _, s := range scenarios {
		if f := b.find(targetLean, s.name, conns); f != nil {
			b.refRow(w, "lean floor "+s.name, f)
		}
	}
	for _, s := range scenarios {
		if f := b.find(targetSameSQL, s.name, conns); f != nil {
			b.refRow(w, "same-SQL floor "+s.name, f)
		}
	}
	for _, s := range scenarios {
		if d := b.find(targetDB, s.name, conns); d != nil {
			b.refRow(w, "DB limit "+s.name+" (pgbench)", d)
		}
	}
	p("\n")
	notes = append(notes, b.notes[conns]...)
	for _, n := range notes {
		p("- %s\n", n)
	}
	if len(notes) > 0 {
		p("\n")
	}
}

func (b *bench) refRow(w *strings.Builder, name string, m *measurement) {
	if m.requests == 0 {
		fmt.Fprintf(w, "| %s | %s |  |  |  |  |  |  |\n", name, oneLine(m.note))
		return
	}
	p50, p99 := ms(m.p50), ms(m.p99)
	if m.target == targetDB {
		p50, p99 = "avg "+ms(m.avg), ""
	}
	rss, proc := mib(m.rssKiB), cpu(m.perK(m.serverCPU))
	if m.target == targetDB {
		rss, proc = "", ""
	}
	fmt.Fprintf(w, "| %s | %.0f | %s | %s | %d | %s | %s | %s |\n", name, m.rps, p50, p99, m.non2xx+max(m.socketErr, 0), rss, proc, pgcpu(m))
}

func (b *bench) budgetReport(w *strings.Builder) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## Query budget\n\nStatements per request (pg_stat_statements calls ÷ %d requests sent one at a time; BEGIN and COMMIT count):\n\n", budgetRequests)
	if len(b.budgets) == 1 && b.budgets[0].scenario == "" {
		p("%s\n\n", b.budgets[0].note)
		return
	}
	p("| scenario | stockroom | lean floor | same-SQL floor | pgbench script |\n|---|---:|---:|---:|---:|\n")
	num := func(v float64) string {
		if v < 0 {
			return "–"
		}
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	for _, bu := range b.budgets {
		if bu.note != "" {
			p("| %s | %s |  |  |  |\n", bu.scenario, oneLine(bu.note))
			continue
		}
		p("| %s | %s | %s | %s | %s |\n", bu.scenario, num(bu.stockroom.perRequest), num(bu.lean), num(bu.samesql), num(bu.pgbench))
	}
	p("\nstockroom's statements per request (calls × mean time, its planning in brackets; planning is counted in this pass only, with pg_stat_statements.track_planning on):\n\n")
	for _, bu := range b.budgets {
		if len(bu.stockroom.list) == 0 {
			continue
		}
		p("- %s: %.3f ms of database time per request, %.3f ms of it planning\n", bu.scenario, bu.stockroom.plan+bu.stockroom.exec, bu.stockroom.plan)
		for _, s := range bu.stockroom.list {
			p("  - `%s`\n", strings.ReplaceAll(s, "`", "'"))
		}
	}
	p("\n")
}

func (b *bench) machine(w *strings.Builder) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## Machine, versions, settings\n\n")
	p("- load average before: %s; after: %s\n", b.loadBefore, loadAverage())
	p("- CPUs: %d (%s); memory: %s; kernel %s\n", runtime.NumCPU(), cpuModel(), memTotal(), kernel())
	for _, v := range b.versions {
		p("- %s: %s\n", v[0], v[1])
	}
	db := "private cluster (internal/devdb) in a temporary directory"
	if b.cluster == nil {
		db = "STOCKROOM_BENCH_DATABASE_URL"
	}
	p("- database: %s; settings:", db)
	for _, s := range b.settings {
		p(" %s=%s;", s[0], s[1])
	}
	p("\n- stockroom serve: STOCKROOM_LOG_LEVEL=warn, STOCKROOM_API_RATE_LIMIT=100000000, STOCKROOM_DATABASE_MAX_CONNS=%s (0: store.DefaultMaxConns, %d here); the same-SQL floor's pool the same; the lean floor's is pgxpool's default (max(4, CPUs))\n", b.poolSize(), store.DefaultMaxConns())
	p("- pgbench: -M prepared, -j %d, PGOPTIONS=-c plan_cache_mode=force_custom_plan (as stockroom's pool)\n", b.cfg.threads)
	p("- raw output: %s (not committed)\n", b.scratch)
}

// write puts the report at bench/results/<date>-<time>-<products>.md.
func (b *bench) write(report string) (string, error) {
	if err := os.MkdirAll(b.cfg.outDir, 0o755); err != nil {
		return "", err
	}
	// One file per run: a later run the same day, or one of a few scenarios, must not
	// overwrite a full run.
	path := filepath.Join(b.cfg.outDir, fmt.Sprintf("%s-%d.md", b.start.UTC().Format("2006-01-02-1504"), b.cfg.products))
	return path, os.WriteFile(path, []byte(report), 0o644)
}

func nonOK(statuses map[string]int64) string {
	var keys []string
	for k := range statuses {
		if !strings.HasPrefix(k, "2") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s × %d", k, statuses[k]))
	}
	return strings.Join(parts, ", ")
}

func mib(kib int64) string {
	if kib <= 0 {
		return ""
	}
	return fmt.Sprintf("%.0f MiB", float64(kib)/1024)
}

func cpu(sec float64) string { return fmt.Sprintf("%.3f", sec) }

func pgcpu(m *measurement) string {
	if m.pgCPU < 0 {
		return "n/a"
	}
	return cpu(m.perK(m.pgCPU))
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.ReplaceAll(s, "|", "/")
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown"
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err == nil {
				return fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
			}
		}
	}
	return "unknown"
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// tableRows are the scenario rows of a table: S1..S6, with WEBHOOK's S3 + webhook
// after S3.
func tableRows() []string {
	var rows []string
	for _, s := range scenarios {
		rows = append(rows, s.name)
		if s.name == "S3" {
			rows = append(rows, webhookScenario)
		}
	}
	return rows
}
