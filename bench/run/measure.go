package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
)

// Targets: who answers a measured window.
const (
	targetStockroom = "stockroom"
	targetLean      = "lean floor"
	targetSameSQL   = "same SQL"
	targetHTTP      = "HTTP limit"
	targetDB        = "DB limit"
)

// measure runs every window: per connection count, the HTTP limit, then for each
// scenario stockroom, the lean floor, the same-SQL floor and pgbench back to back, so that the ratios compare
// numbers measured minutes apart at most.
func (b *bench) measure(ctx context.Context) error {
	scripts, err := b.pgbenchScripts(ctx)
	if err != nil {
		return err
	}
	for _, conns := range b.cfg.conns {
		b.logf("— %d connections —", conns)
		b.record(b.wrkWindow(ctx, targetHTTP, b.httplimit, scenarioByName("S1"), conns))
		for _, s := range scenarios {
			if !b.cfg.scenarios[s.name] {
				continue
			}
			if why := b.missing[s.name]; why != "" {
				b.record(&measurement{target: targetStockroom, scenario: s.name, conns: conns, note: why})
				continue
			}
			b.record(b.wrkWindow(ctx, targetStockroom, b.stockroom, s, conns))
			if b.baseline != nil {
				b.record(b.wrkWindow(ctx, targetBaseline, b.baseline, s, conns))
			}
			if s.floor {
				b.record(b.wrkWindow(ctx, targetLean, b.lean, s, conns))
				b.record(b.wrkWindow(ctx, targetSameSQL, b.samesql, s, conns))
				b.record(b.pgbenchWindow(ctx, s, scripts[s.name], conns))
			}
			if s.writes && b.cfg.vacuum {
				b.afterWrites(ctx, s, conns)
			}
			if s.name == "S3" && b.cfg.scenarios["WEBHOOK"] {
				b.webhookWindow(ctx, conns)
				if b.cfg.vacuum {
					b.afterWrites(ctx, s, conns)
				}
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	return nil
}

func (b *bench) record(m *measurement) {
	b.results = append(b.results, m)
	switch {
	case m.note != "" && m.requests == 0:
		b.logf("%-10s %-3s c=%-4d %s", m.target, m.scenario, m.conns, m.note)
	case m.target == targetDB:
		b.logf("%-10s %-3s c=%-4d %8.0f tx/s  avg %s  failed %d", m.target, m.scenario, m.conns, m.rps, ms(m.avg), m.non2xx)
	default:
		b.logf("%-10s %-3s c=%-4d %8.0f req/s  p50 %s  p99 %s  non-2xx %d  socket errors %d", m.target, m.scenario,
			m.conns, m.rps, ms(m.p50), ms(m.p99), m.non2xx, m.socketErr)
	}
}

// wrkWindow warms srv up with scenario s, then measures it for the configured window.
func (b *bench) wrkWindow(ctx context.Context, target string, srv *server, s *scenario, conns int) *measurement {
	m := &measurement{target: target, scenario: s.name, conns: conns, pgCPU: -1}
	if target == targetHTTP {
		m.scenario = "-"
	}
	url := srv.base + "/"
	if s.static {
		_, path, _ := s.request(&b.in, nil)
		url = srv.base + path
	}
	run := wrkRun{url: url, script: filepath.Join(b.lua, s.script), conns: conns,
		log: filepath.Join(b.scratch, "wrk.log"), env: []string{
			"BENCH_LUA_DIR=" + b.lua, "BENCH_TOKEN=" + b.token, "BENCH_COOKIE=" + b.cookie,
			"BENCH_PMIN=" + strconv.FormatInt(b.in.pmin, 10), "BENCH_PMAX=" + strconv.FormatInt(b.in.pmax, 10),
			"BENCH_VMIN=" + strconv.FormatInt(b.in.vmin, 10), "BENCH_WORDS=" + strings.Join(b.in.words, ","),
			"BENCH_S6_VARIANTS=" + joinInts(b.in.s6Variants),
		}}
	run.duration = b.cfg.warmup
	if _, err := b.wrk(ctx, run); err != nil {
		m.note = "warm-up: " + err.Error()
		m.socketErr = -1
		return m
	}
	var before map[string]int64
	if target == targetStockroom {
		before = b.statusCounts(ctx)
	}
	srvCPU := cpuSeconds(srv.pid())
	pgCPU := 0.0
	if b.postmaster != 0 && target != targetHTTP {
		pgCPU = treeCPUSeconds(b.postmaster)
	}
	rss := sampleRSS(srv.pid(), 100*time.Millisecond)
	var profiled chan string
	if target == targetStockroom && b.cfg.profile[s.name] {
		profiled = make(chan string, 1)
		go func() { profiled <- b.profile(ctx, s, conns) }()
	}
	run.duration = b.cfg.duration
	r, err := b.wrk(ctx, run)
	m.rssKiB = rss.stop()
	if profiled != nil {
		b.notes[conns] = append(b.notes[conns], <-profiled)
	}
	m.serverCPU = cpuSeconds(srv.pid()) - srvCPU
	if b.postmaster != 0 && target != targetHTTP {
		m.pgCPU = treeCPUSeconds(b.postmaster) - pgCPU
	}
	if err != nil {
		m.note = err.Error()
		m.socketErr = -1
		return m
	}
	if target == targetStockroom {
		m.statuses = diffCounts(before, b.statusCounts(ctx))
	}
	m.requests, m.seconds = r.Requests, float64(r.DurationUS)/1e6
	m.rps = float64(r.Requests) / m.seconds
	m.p50, m.p99 = time.Duration(r.P50US)*time.Microsecond, time.Duration(r.P99US)*time.Microsecond
	m.non2xx, m.socketErr = r.Status, r.Connect+r.Read+r.Write+r.Timeout
	return m
}

// statusCounts reads stockroom's request counters by status from /metrics.
func (b *bench) statusCounts(ctx context.Context) map[string]int64 {
	req, _ := http.NewRequestWithContext(ctx, "GET", b.stockroom.base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return parseStatusCounts(body)
}

// pgbenchWindow measures the database limit of scenario s: its statements, warmed
// up, then for the window, with as many clients as wrk has connections.
func (b *bench) pgbenchWindow(ctx context.Context, s *scenario, scripts []string, clients int) *measurement {
	m := &measurement{target: targetDB, scenario: s.name, conns: clients, pgCPU: -1}
	// When pgbench gives no figure (its clients aborted under load, say), the
	// database limit is a reference point missing from the report, not an error
	// answered by anything measured: the note says why, socketErr stays 0, so the
	// run goes on and does not fail for it.
	vars := b.pgbenchVars()
	if _, err := b.pgbench(ctx, scripts, vars, clients, b.cfg.warmup, 0); err != nil {
		m.note = "not measured: warm-up: " + err.Error()
		return m
	}
	pgCPU := 0.0
	if b.postmaster != 0 {
		pgCPU = treeCPUSeconds(b.postmaster)
	}
	r, err := b.pgbench(ctx, scripts, vars, clients, b.cfg.duration, 0)
	if b.postmaster != 0 {
		m.pgCPU = treeCPUSeconds(b.postmaster) - pgCPU
	}
	if err != nil {
		m.note = "not measured: " + err.Error()
		return m
	}
	m.requests, m.seconds, m.rps, m.avg, m.non2xx = r.transactions, b.cfg.duration.Seconds(), r.tps, r.avg, r.failed
	return m
}

func (b *bench) pgbenchVars() map[string]string {
	vars := map[string]string{
		"tokenhash":   b.tokenHash(),
		"pmin":        strconv.FormatInt(b.in.pmin, 10),
		"pmax":        strconv.FormatInt(b.in.pmax, 10),
		"vmin":        strconv.FormatInt(b.in.vmin, 10),
		"user_id":     strconv.FormatInt(b.userID, 10),
		"token_id":    strconv.FormatInt(b.tokenID, 10),
		"actor_label": benchEmail + " (bench)",
		"changes":     `{"variants[SR-0000001-1].stock": [10, 20]}`,
	}
	for i, w := range b.in.words {
		vars["pattern_"+strconv.Itoa(i)] = "%" + w + "%"
	}
	return vars
}

// pgbenchScripts writes each scenario's pgbench script(s) from bench/pgbench: the
// token lookup, then the scenario's statements. S4 gets one script per word, each
// the one statement stockroom runs for a search of one word by name
// (SearchProductWordsByNameAsc, s4.sql); it checks first that stockroom does run it
// for every word: each is one word (catalog.OneWord) in fewer than catalog.MaxWords
// of the names' words, else stockroom searches it another way and s4.sql is not
// its database limit.
func (b *bench) pgbenchScripts(ctx context.Context) (map[string][]string, error) {
	read := func(name string) (string, error) {
		data, err := os.ReadFile(filepath.Join("bench", "pgbench", name))
		return string(data), err
	}
	token, err := read("token.sql")
	if err != nil {
		return nil, err
	}
	list, err := read("list.sql")
	if err != nil {
		return nil, err
	}
	s2, err := read("s2.sql")
	if err != nil {
		return nil, err
	}
	s3, err := read("s3.sql")
	if err != nil {
		return nil, err
	}
	s4, err := read("s4.sql")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(b.scratch, "pgbench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	write := func(name, body string) (string, error) {
		path := filepath.Join(dir, name)
		return path, os.WriteFile(path, []byte(body), 0o644)
	}
	out := map[string][]string{}
	add := func(scenario, name, body string) error {
		path, err := write(name, body)
		out[scenario] = append(out[scenario], path)
		return err
	}
	if err := add("S1", "s1.sql", token+"\\set row_limit 51\n"+list); err != nil {
		return nil, err
	}
	if err := add("S2", "s2.sql", token+s2); err != nil {
		return nil, err
	}
	if err := add("S3", "s3.sql", token+s3); err != nil {
		return nil, err
	}
	if err := b.checkWords(ctx); err != nil {
		return nil, err
	}
	for i := range b.in.words {
		body := token + fmt.Sprintf("\\set row_limit 51\n\\set max_words %d\n", catalog.MaxWords) +
			strings.ReplaceAll(s4, "{{pattern}}", ":pattern_"+strconv.Itoa(i))
		if err := add("S4", fmt.Sprintf("s4_%02d.sql", i), body); err != nil {
			return nil, err
		}
	}
	for i, p := range out["S4"] {
		out["S4"][i] = p + "@1" // equal weights: a word at random per transaction
	}
	return out, nil
}

// checkWords makes sure stockroom searches every word of S4 with
// SearchProductWordsByNameAsc and nothing else, as s4.sql does: each word is one
// word (catalog.OneWord), and the statement, run once as catalog runs it, does not
// say overflow (the word is in catalog.MaxWords words of the names or more, and
// stockroom would walk or match first instead).
func (b *bench) checkWords(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, b.dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	q := db.New(conn)
	for _, w := range b.in.words {
		if !catalog.OneWord(w) {
			return fmt.Errorf("S4 word %q is not one word (catalog.OneWord): stockroom does not run s4.sql for it", w)
		}
		rows, err := q.SearchProductWordsByNameAsc(ctx, db.SearchProductWordsByNameAscParams{
			MaxWords: catalog.MaxWords, Pattern: "%" + w + "%", RowLimit: 51,
		})
		if err != nil {
			return fmt.Errorf("S4 word %q: %w", w, err)
		}
		if len(rows) > 0 && rows[0].Overflow {
			return fmt.Errorf("S4 word %q is in %d words of the names or more: stockroom does not run s4.sql for it", w, catalog.MaxWords)
		}
	}
	return nil
}

// afterWrites records what a write scenario left behind (dead rows, the trigram
// indexes' pending lists) and vacuums the catalog, so that every target of the next
// scenario starts from the same state: left to autovacuum, the first target measured
// after S3 paid for the pending entries its searches had to scan, the later ones not.
func (b *bench) afterWrites(ctx context.Context, s *scenario, conns int) {
	conn, err := pgx.Connect(ctx, b.dbURL)
	if err != nil {
		b.notes[conns] = append(b.notes[conns], fmt.Sprintf("after %s: %v", s.name, err))
		return
	}
	defer conn.Close(ctx)
	var dead int64
	conn.QueryRow(ctx, "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'products'").Scan(&dead)
	note := fmt.Sprintf("after %s: %s dead product rows", s.name, thousands(dead))
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pgstattuple"); err == nil {
		for _, idx := range []string{"products_name_trgm_idx", "products_skus_trgm_idx"} {
			var pages, tuples int64
			if err := conn.QueryRow(ctx, "SELECT pending_pages, pending_tuples FROM pgstatginindex($1::regclass)", idx).Scan(&pages, &tuples); err == nil {
				note += fmt.Sprintf(", %s pending list %d pages (%s entries)", idx, pages, thousands(tuples))
			}
		}
	}
	start := time.Now()
	if _, err := conn.Exec(ctx, "VACUUM products, product_variants"); err != nil {
		note += fmt.Sprintf("; VACUUM failed: %v", err)
	} else {
		note += fmt.Sprintf("; VACUUM products, product_variants before the next scenario (%s)", time.Since(start).Round(time.Millisecond))
	}
	b.logf("%s", note)
	b.notes[conns] = append(b.notes[conns], note)
}

func joinInts(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// profile takes a CPU profile of stockroom through its profiler for the measured
// window (less a second at each end), writes it and its top functions to the
// scratch directory, and says where.
func (b *bench) profile(ctx context.Context, s *scenario, conns int) string {
	secs := max(int(b.cfg.duration.Seconds())-2, 1)
	time.Sleep(time.Second)
	name := filepath.Join(b.scratch, fmt.Sprintf("profile-%s-%d.pb.gz", s.name, conns))
	fail := func(err error) string { return fmt.Sprintf("%s: no CPU profile: %v", s.name, err) }
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", b.debugBase, secs), nil)
	if err != nil {
		return fail(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("profiler answered %s", resp.Status))
	}
	data, err := io.ReadAll(resp.Body)
	if err == nil {
		err = os.WriteFile(name, data, 0o644)
	}
	if err != nil {
		return fail(err)
	}
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount", "60", "bin/stockroom", name).CombinedOutput()
	if err != nil {
		return fail(fmt.Errorf("go tool pprof: %w\n%s", err, top))
	}
	if err := os.WriteFile(strings.TrimSuffix(name, ".pb.gz")+".txt", top, 0o644); err != nil {
		return fail(err)
	}
	return fmt.Sprintf("%s: CPU profile of %ds of the measured window: %s (functions by cumulative time: %s)",
		s.name, secs, name, strings.TrimSuffix(name, ".pb.gz")+".txt")
}
