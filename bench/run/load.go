package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// measurement is one measured window against one target.
type measurement struct {
	target   string // stockroom, floor, HTTP limit, DB limit
	scenario string
	conns    int

	requests  int64
	seconds   float64
	rps       float64
	p50, p99  time.Duration
	avg       time.Duration // pgbench reports an average, not percentiles
	non2xx    int64
	socketErr int64
	rssKiB    int64   // the server's largest RSS in the window; 0: not measured
	serverCPU float64 // seconds, the server process
	pgCPU     float64 // seconds, the PostgreSQL server; -1: not measured
	statuses  map[string]int64
	note      string // why it did not run, or what went wrong

	webhookN    int64   // WEBHOOK: deliveries the receiver got
	webhookRate float64 // WEBHOOK: deliveries a second at the receiver, first to last
}

// failed reports whether the window saw any error response, or could not run
// (socketErr -1, with the reason in note).
func (m *measurement) failed() bool { return m.non2xx > 0 || m.socketErr != 0 }

// perK is CPU seconds per 1,000 requests.
func (m *measurement) perK(sec float64) float64 {
	if m.requests == 0 {
		return 0
	}
	return sec / (float64(m.requests) / 1000)
}

// wrkResult is the line bench/lua/common.lua's done() prints.
type wrkResult struct {
	Requests   int64 `json:"requests"`
	DurationUS int64 `json:"duration_us"`
	Bytes      int64 `json:"bytes"`
	Connect    int64 `json:"connect"`
	Read       int64 `json:"read"`
	Write      int64 `json:"write"`
	Status     int64 `json:"status"`
	Timeout    int64 `json:"timeout"`
	P50US      int64 `json:"p50_us"`
	P90US      int64 `json:"p90_us"`
	P99US      int64 `json:"p99_us"`
	MaxUS      int64 `json:"max_us"`
}

// parseWrk finds the BENCH_RESULT line in wrk's output.
func parseWrk(out []byte) (wrkResult, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "BENCH_RESULT "); ok {
			var r wrkResult
			if err := json.Unmarshal([]byte(v), &r); err != nil {
				return r, fmt.Errorf("wrk result %q: %w", v, err)
			}
			return r, nil
		}
	}
	return wrkResult{}, fmt.Errorf("wrk printed no BENCH_RESULT line:\n%s", lastLines(out, 15))
}

// wrkTimeout is how long wrk waits for an answer before it counts a socket error and
// drops the connection. wrk leaves such requests out of its latency percentiles, so
// its default of 2 s would turn an overloaded server's slow answers into errors and
// flatter its p99; 30 s lets every answer that comes count as the latency it had.
const wrkTimeout = "30s"

// wrkRun is one wrk invocation.
type wrkRun struct {
	url      string
	script   string
	conns    int
	duration time.Duration
	env      []string
	log      string // wrk's output goes here too
}

func (b *bench) wrk(ctx context.Context, r wrkRun) (wrkResult, error) {
	args := []string{"-t", strconv.Itoa(b.cfg.threads), "-c", strconv.Itoa(r.conns),
		"-d", strconv.Itoa(int(r.duration.Seconds())) + "s", "--timeout", wrkTimeout, "--latency", "-s", r.script, r.url}
	cmd := exec.CommandContext(ctx, "wrk", args...)
	// BENCH_RUN is new for every invocation, warm-up and measured window alike: S6's
	// Idempotency-Keys must never repeat, or the server rightly refuses them, and
	// common.lua seeds the random ids from it, so a measured window never replays
	// its warm-up's (S3 would write the stock values already there).
	cmd.Env = append(append(os.Environ(), r.env...), fmt.Sprintf("BENCH_RUN=%d", time.Now().UnixNano()))
	out, err := cmd.CombinedOutput()
	if r.log != "" {
		appendFile(r.log, fmt.Sprintf("$ wrk %s\n%s\n", strings.Join(args, " "), out))
	}
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w\n%s", err, lastLines(out, 15))
	}
	return parseWrk(out)
}

// pgbenchResult is what the bench reads of pgbench's summary.
type pgbenchResult struct {
	transactions int64
	failed       int64
	tps          float64
	avg          time.Duration
}

var (
	reTPS       = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)
	reProcessed = regexp.MustCompile(`(?m)^number of transactions actually processed: (\d+)`)
	reFailed    = regexp.MustCompile(`(?m)^number of failed transactions: (\d+)`)
	reLatency   = regexp.MustCompile(`(?m)^latency average = ([0-9.]+) ms`)
)

// parsePgbench reads pgbench's summary from its standard output. pgbench leaves the
// tps line out when no transaction completed, as when every client aborted.
func parsePgbench(out []byte) (pgbenchResult, error) {
	var r pgbenchResult
	m := reTPS.FindSubmatch(out)
	if m == nil {
		return r, errors.New("pgbench printed no tps line")
	}
	r.tps, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := reProcessed.FindSubmatch(out); m != nil {
		r.transactions, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	if m := reFailed.FindSubmatch(out); m != nil {
		r.failed, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	if m := reLatency.FindSubmatch(out); m != nil {
		ms, _ := strconv.ParseFloat(string(m[1]), 64)
		r.avg = time.Duration(ms * float64(time.Millisecond))
	}
	return r, nil
}

// pgbench runs the scripts (each "file" or "file@weight") with clients connections
// and prepared statements, as stockroom's pool runs them. transactions > 0 runs that
// many per client instead of for d, unprepared: that is the statement count pass,
// and pg_stat_statements counts a prepared BEGIN or COMMIT only once.
func (b *bench) pgbench(ctx context.Context, scripts []string, vars map[string]string, clients int, d time.Duration, transactions int) (pgbenchResult, error) {
	mode := "prepared"
	if transactions > 0 {
		mode = "extended"
	}
	args := []string{"-n", "-M", mode, "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(b.cfg.threads, clients))}
	if transactions > 0 {
		args = append(args, "-t", strconv.Itoa(transactions))
	} else {
		args = append(args, "-T", strconv.Itoa(int(d.Seconds())))
	}
	for _, s := range scripts {
		args = append(args, "-f", s)
	}
	for k, v := range vars {
		args = append(args, "-D", k+"="+v)
	}
	args = append(args, b.dbURL)
	cmd := exec.CommandContext(ctx, "pgbench", args...)
	// Plan like stockroom's pool (store.Tune): every execution with its values.
	cmd.Env = append(os.Environ(), "PGOPTIONS=-c plan_cache_mode=force_custom_plan")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	appendFile(b.scratch+"/pgbench.log", scrub(fmt.Sprintf("$ pgbench %s\n%s%s\n", strings.Join(args, " "), stdout.Bytes(), stderr.Bytes()), b.dbURL))
	return readPgbench(stdout.Bytes(), stderr.Bytes(), err, b.dbURL)
}

// readPgbench reads one pgbench run from its output and exit (runErr). A run that
// exited non-zero is no measurement even when it printed a tps line: exit 2 means
// some clients aborted (a deadlock, too many connections), so the summary covers
// only part of the window. The error is one line, as it ends up in a table cell of
// the report, and closes with the last lines of pgbench's stderr (its stdout when
// stderr is empty), with dbURL and its password taken out.
func readPgbench(stdout, stderr []byte, runErr error, dbURL string) (pgbenchResult, error) {
	r, err := parsePgbench(stdout)
	if runErr == nil && err == nil {
		return r, nil
	}
	if runErr != nil {
		err = fmt.Errorf("pgbench %w", runErr) // "exit status 2", "signal: killed"
	}
	said := stderr
	if len(bytes.TrimSpace(said)) == 0 {
		said = stdout
	}
	lines := strings.Split(lastLines(said, 3), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return pgbenchResult{}, fmt.Errorf("%w: %s", err, scrub(strings.Join(lines, " / "), dbURL))
}

// scrub takes dbURL out of s, and its password wherever that appears on its own:
// pgbench's arguments and messages go into the scratch log and the report.
func scrub(s, dbURL string) string {
	if dbURL == "" {
		return s
	}
	s = strings.ReplaceAll(s, dbURL, "<database url>")
	if u, err := url.Parse(dbURL); err == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			s = strings.ReplaceAll(s, pw, "<password>")
		}
	}
	return s
}

func appendFile(path, s string) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	f.WriteString(s)
}

// lastLines returns the last n lines of out.
func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// parseStatusCounts sums stockroom_http_requests_total by status, over every route
// but /metrics itself, from a Prometheus text exposition.
func parseStatusCounts(text []byte) map[string]int64 {
	out := map[string]int64{}
	re := regexp.MustCompile(`^stockroom_http_requests_total\{(.*)\} ([0-9.e+]+)$`)
	status := regexp.MustCompile(`status="(\d+)"`)
	for line := range strings.SplitSeq(string(text), "\n") {
		m := re.FindStringSubmatch(line)
		if m == nil || strings.Contains(m[1], `/metrics"`) {
			continue
		}
		s := status.FindStringSubmatch(m[1])
		v, err := strconv.ParseFloat(m[2], 64)
		if s == nil || err != nil {
			continue
		}
		out[s[1]] += int64(v)
	}
	return out
}

// diffCounts is after - before, without the zeros.
func diffCounts(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}
