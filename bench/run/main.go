// Command run is `make bench`: it builds stockroom, the lean and same-SQL floors and the HTTP limit,
// seeds a database, starts the three servers on 127.0.0.1, loads them with wrk (and
// the database with pgbench) scenario by scenario at each connection count, and
// writes one markdown report of requests/s, latency, errors, memory and CPU per
// request, with ratios to the floors and the database limit measured in the same run.
//
// Settings are environment variables (see README.md, "Benchmarks"):
//
//	BENCH_PRODUCTS                products to seed (100000)
//	BENCH_DURATION, BENCH_WARMUP  measured window and warm-up per run (15s, 5s)
//	BENCH_CONNS                   connection counts (16,256)
//	BENCH_SCENARIOS               which of S1..S6, WEBHOOK (S3 + webhook), STREAMS and SCALE (through haproxy) to run (all)
//	BENCH_MAX_CONNS               pool size of stockroom and the same-SQL floor (0: store.DefaultMaxConns)
//	BENCH_SHARED_BUFFERS          the private cluster's shared_buffers (1GB)
//	BENCH_OUT                     where the report goes (bench/results)
//	BENCH_VACUUM=off              leave dead rows after S3 and S6 to autovacuum (default: VACUUM)
//	BENCH_PROFILE                 scenarios to CPU-profile in stockroom's measured windows (e.g. S5)
//	STOCKROOM_BENCH_DATABASE_URL  an empty database to use instead of a private cluster
//
// It exits 1 when any scenario answered with an error (a non-2xx status or a socket
// error), after printing and writing the report. A database limit pgbench gives no
// figure for is reported as not measured and does not count as such an error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// config is the run's settings, from BENCH_* variables.
type config struct {
	products      int
	duration      time.Duration
	warmup        time.Duration
	conns         []int
	threads       int
	scenarios     map[string]bool
	profile       map[string]bool // scenarios whose stockroom windows are CPU-profiled
	maxConns      int
	sharedBuffers string
	databaseURL   string
	outDir        string
	vacuum        bool
	baseline      string // BENCH_BASELINE: a revision to measure beside this tree
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{threads: 2, outDir: getenv("BENCH_OUT"), databaseURL: getenv("STOCKROOM_BENCH_DATABASE_URL"),
		baseline: getenv("BENCH_BASELINE")}
	if c.outDir == "" {
		c.outDir = "bench/results"
	}
	var err error
	num := func(name string, def int) int {
		v := getenv(name)
		if v == "" || err != nil {
			return def
		}
		n, e := strconv.Atoi(strings.ReplaceAll(v, "_", ""))
		if e != nil || n < 0 {
			err = fmt.Errorf("%s: %q is not a whole number", name, v)
		}
		return n
	}
	dur := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" || err != nil {
			return def
		}
		d, e := time.ParseDuration(v)
		if e != nil || d < time.Second {
			err = fmt.Errorf("%s: %q is not a duration of a second or more (15s, 1m)", name, v)
		}
		return d
	}
	c.products = num("BENCH_PRODUCTS", 100_000)
	c.maxConns = num("BENCH_MAX_CONNS", 0)
	c.duration = dur("BENCH_DURATION", 15*time.Second)
	c.warmup = dur("BENCH_WARMUP", 5*time.Second)
	c.vacuum = getenv("BENCH_VACUUM") != "off"
	c.sharedBuffers = getenv("BENCH_SHARED_BUFFERS")
	if c.sharedBuffers == "" {
		c.sharedBuffers = "1GB"
	}
	conns := getenv("BENCH_CONNS")
	if conns == "" {
		conns = "16,256"
	}
	for f := range strings.SplitSeq(conns, ",") {
		n, e := strconv.Atoi(strings.TrimSpace(f))
		if e != nil || n < c.threads {
			return c, fmt.Errorf("BENCH_CONNS: %q: want connection counts of %d or more, e.g. 16,256", conns, c.threads)
		}
		c.conns = append(c.conns, n)
	}
	var serr error
	if c.scenarios, serr = scenarioSet(getenv, "BENCH_SCENARIOS"); serr != nil {
		return c, serr
	}
	if len(c.scenarios) == 0 {
		for _, s := range scenarios {
			c.scenarios[s.name] = true
		}
		for _, s := range extraScenarios {
			c.scenarios[s] = true
		}
	}
	if c.profile, serr = scenarioSet(getenv, "BENCH_PROFILE"); serr != nil {
		return c, serr
	}
	if c.products < 1000 && err == nil {
		err = errors.New("BENCH_PRODUCTS: seed at least 1000 products")
	}
	return c, err
}

// scenarioSet reads variable name, a comma-separated list of scenario names in any
// case ("s1,S4"); unset is the empty set.
func scenarioSet(getenv func(string) string, name string) (map[string]bool, error) {
	set := map[string]bool{}
	v := getenv(name)
	if v == "" {
		return set, nil
	}
	for f := range strings.SplitSeq(v, ",") {
		s := strings.ToUpper(strings.TrimSpace(f))
		if scenarioByName(s) == nil && (name != "BENCH_SCENARIOS" || !isExtraScenario(s)) {
			return nil, fmt.Errorf("%s: unknown scenario %q (S1..S6, WEBHOOK, STREAMS, SCALE)", name, f)
		}
		set[s] = true
	}
	return set, nil
}

func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run from the repository's root (make bench)")
	}
	b, err := newBench(cfg, stdout)
	if err != nil {
		return err
	}
	defer b.close()
	if err := b.prepare(ctx); err != nil {
		return err
	}
	if err := b.measure(ctx); err != nil {
		return err
	}
	if cfg.scenarios["SCALE"] {
		b.scale(ctx)
	}
	if cfg.scenarios["STREAMS"] {
		b.streams(ctx)
	}
	report := b.report()
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, report)
	path, err := b.write(report)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwritten to %s\n", path)
	fmt.Fprintln(stdout, "Go micro-benchmarks of the hot paths (need a database, as the tests do):\n"+
		"  go test -run '^$' -bench . -benchtime 2s ./internal/api ./internal/catalog ./internal/auth ./internal/admin")
	if failed := b.failures(); len(failed) > 0 {
		return fmt.Errorf("error responses in %s", strings.Join(failed, ", "))
	}
	return nil
}
