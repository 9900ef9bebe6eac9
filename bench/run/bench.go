package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stockroom-dev/stockroom/internal/devdb"
	"github.com/stockroom-dev/stockroom/internal/seed"
)

// The bench's staff user and token.
const (
	benchEmail    = "bench@example.com"
	benchPassword = "correct horse battery staple" // passes auth.ValidatePassword
)

// bench is one run: its settings, the database, the servers and the results.
type bench struct {
	cfg     config
	out     io.Writer
	start   time.Time
	scratch string // logs and generated scripts: bench/scratch/<time>, not committed
	tmp     string // the private cluster, media
	lua     string // absolute path of bench/lua

	cluster    *devdb.Cluster // nil with STOCKROOM_BENCH_DATABASE_URL
	dbURL      string
	postmaster int // the PostgreSQL server's pid, for its CPU time; 0: unknown
	settings   [][2]string
	versions   [][2]string
	loadBefore string

	seedTime time.Duration
	seedLine string
	token    string
	tokenID  int64
	userID   int64
	cookie   string
	in       inputs
	missing  map[string]string // scenario → why it does not run in this build

	stockroom, lean, samesql, httplimit *server
	baseline                            *server // BENCH_BASELINE's binary; nil without one or when it refused the database
	baselineRev, baselineNote           string
	debugBase                           string // stockroom's profiler (BENCH_PROFILE), http://127.0.0.1:port

	budgets       []budget
	streamsReport string // bench/streams' table (STREAMS), or why it did not run
	scaleReport   string // SCALE's table, or why it did not run
	results       []*measurement
	notes         map[int][]string // connection count → what happened between windows
}

func newBench(cfg config, out io.Writer) (*bench, error) {
	b := &bench{cfg: cfg, out: out, start: time.Now(), missing: map[string]string{}, notes: map[int][]string{}}
	b.scratch = filepath.Join("bench", "scratch", b.start.Format("20060102-150405"))
	if err := os.MkdirAll(b.scratch, 0o755); err != nil {
		return nil, err
	}
	var err error
	if b.lua, err = filepath.Abs(filepath.Join("bench", "lua")); err != nil {
		return nil, err
	}
	if b.tmp, err = os.MkdirTemp("", "stockroom-bench-"); err != nil {
		return nil, err
	}
	// As root the cluster runs as the postgres user, who must reach its directory.
	if err := os.Chmod(b.tmp, 0o755); err != nil {
		return nil, err
	}
	b.loadBefore = loadAverage()
	return b, nil
}

func (b *bench) logf(format string, a ...any) {
	fmt.Fprintf(b.out, "%s  %s\n", time.Since(b.start).Round(time.Second), fmt.Sprintf(format, a...))
}

// close stops what the run started, servers first, and removes the cluster.
func (b *bench) close() {
	for _, s := range []*server{b.stockroom, b.baseline, b.lean, b.samesql, b.httplimit} {
		if s != nil {
			s.stop()
		}
	}
	if b.cluster != nil {
		if err := b.cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "bench: stop the private cluster:", err)
		}
	}
	os.RemoveAll(b.tmp)
}

// prepare builds, provisions and seeds the database, and starts the servers.
func (b *bench) prepare(ctx context.Context) error {
	if err := b.tools(ctx); err != nil {
		return err
	}
	b.logf("building bin/stockroom, bin/bench-lean, bin/bench-samesql, bin/bench-httplimit")
	for _, t := range [][2]string{{"bin/stockroom", "./cmd/stockroom"}, {"bin/bench-lean", "./bench/lean"},
		{"bin/bench-samesql", "./bench/samesql"}, {"bin/bench-httplimit", "./bench/httplimit"}} {
		out, err := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", t[0], t[1]).CombinedOutput()
		if err != nil {
			return fmt.Errorf("go build %s: %w\n%s", t[1], err, out)
		}
	}
	if b.cfg.baseline != "" {
		b.logf("building bin/stockroom-baseline at %s", b.cfg.baseline)
		var err error
		if b.baselineRev, err = b.buildBaseline(ctx, b.cfg.baseline); err != nil {
			return err
		}
	}
	if err := b.database(ctx); err != nil {
		return err
	}
	if _, err := b.stockroomCmd(ctx, "", "migrate", "up"); err != nil {
		return err
	}
	b.logf("seeding %d products", b.cfg.products)
	start := time.Now()
	out, err := b.stockroomCmd(ctx, "", "seed", "--products", strconv.Itoa(b.cfg.products))
	if err != nil {
		return err
	}
	b.seedTime, b.seedLine = time.Since(start), strings.TrimSpace(out)
	b.logf("%s (wall %s)", b.seedLine, b.seedTime.Round(time.Millisecond))
	if _, err := b.stockroomCmd(ctx, benchPassword+"\n", "createsuperuser", "--email", benchEmail, "--name", "Bench", "--password-stdin"); err != nil {
		return err
	}
	if b.token, err = b.stockroomCmd(ctx, "", "token", "create", "--email", benchEmail, "--name", "bench", "--scope", "write"); err != nil {
		return err
	}
	b.token = strings.TrimSpace(b.token)
	if err := b.readInputs(ctx); err != nil {
		return err
	}
	if err := b.startServers(ctx); err != nil {
		return err
	}
	if err := b.signIn(ctx); err != nil {
		return err
	}
	b.probe(ctx)
	b.queryBudgets(ctx)
	return nil
}

// tools checks for wrk and pgbench, installing wrk with apt when root.
func (b *bench) tools(ctx context.Context) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		if os.Geteuid() != 0 {
			return errors.New("wrk is not installed: install the Debian package wrk (apt-get install wrk)")
		}
		b.logf("installing wrk (apt package wrk)")
		cmd := exec.CommandContext(ctx, "sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get install wrk: %w\n%s", err, lastLines(out, 10))
		}
	}
	if _, err := exec.LookPath("pgbench"); err != nil {
		return errors.New("pgbench is not installed: install the Debian package postgresql-client")
	}
	wrkV, _ := exec.CommandContext(ctx, "wrk", "-v").CombinedOutput()
	pgbV, _ := exec.CommandContext(ctx, "pgbench", "--version").CombinedOutput()
	goV, _ := exec.CommandContext(ctx, "go", "version").CombinedOutput()
	b.versions = append(b.versions,
		[2]string{"Go", strings.TrimSpace(string(goV))},
		[2]string{"wrk", strings.TrimSpace(strings.SplitN(string(wrkV), "\n", 2)[0])},
		[2]string{"pgbench", strings.TrimSpace(string(pgbV))})
	return nil
}

// clusterSettings are the private cluster's settings beyond initdb's: memory for this
// 24 GiB machine, connections for pgbench at 256 clients next to the servers'
// pools, and pg_stat_statements for the query budgets.
func (b *bench) clusterSettings() [][2]string {
	return [][2]string{
		{"shared_buffers", b.cfg.sharedBuffers},
		{"effective_cache_size", "8GB"},
		{"max_connections", "400"},
		{"max_wal_size", "4GB"},
		{"shared_preload_libraries", "pg_stat_statements"},
	}
}

// database connects to STOCKROOM_BENCH_DATABASE_URL, or starts a private cluster
// in a temporary directory, tunes it and restarts it with its settings.
func (b *bench) database(ctx context.Context) error {
	if b.cfg.databaseURL != "" {
		b.dbURL = b.cfg.databaseURL
	} else {
		b.logf("starting a private PostgreSQL cluster in %s", b.tmp)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		dir := filepath.Join(b.tmp, "pg")
		c, err := devdb.Start(ctx, dir, log)
		if err != nil {
			return err
		}
		b.cluster = c
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		if err != nil {
			return err
		}
		for _, s := range b.clusterSettings() {
			if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER SYSTEM SET %s = '%s'", s[0], s[1])); err != nil {
				conn.Close(ctx)
				return fmt.Errorf("ALTER SYSTEM SET %s: %w", s[0], err)
			}
		}
		conn.Close(ctx)
		if err := c.Stop(); err != nil {
			return err
		}
		if b.cluster, err = devdb.Start(ctx, dir, log); err != nil {
			return err
		}
		if err := b.cluster.CreateDatabase(ctx, "stockroom_bench"); err != nil {
			return err
		}
		b.dbURL = b.cluster.URL("stockroom_bench")
	}
	conn, err := pgx.Connect(ctx, b.dbURL)
	if err != nil {
		return fmt.Errorf("connect to the bench database: %w", err)
	}
	defer conn.Close(ctx)
	var backend int
	var version string
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid(), version()").Scan(&backend, &version); err != nil {
		return err
	}
	b.versions = append(b.versions, [2]string{"PostgreSQL", version})
	// The backend's parent is the postmaster when the server runs on this machine
	// (it must: the bench loads 127.0.0.1 only).
	if st, err := readStat(backend); err == nil {
		b.postmaster = st.ppid
	}
	for _, name := range []string{"shared_buffers", "effective_cache_size", "work_mem", "max_connections",
		"max_wal_size", "synchronous_commit", "fsync", "shared_preload_libraries"} {
		var v string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err == nil {
			b.settings = append(b.settings, [2]string{name, v})
		}
	}
	return nil
}

// stockroomCmd runs bin/stockroom with the bench database and returns its stdout.
func (b *bench) stockroomCmd(ctx context.Context, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "bin/stockroom", args...)
	cmd.Env = append(os.Environ(), "STOCKROOM_DATABASE_URL="+b.dbURL, "STOCKROOM_LOG_LEVEL=warn")
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("stockroom %s: %w\n%s", args[0], err, stderr.String())
	}
	return stdout.String(), nil
}

// readInputs reads what the scenarios pick from, and checks what the scripts
// assume of the seeded ids.
func (b *bench) readInputs(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, b.dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var n int64
	err = conn.QueryRow(ctx, "SELECT min(id), max(id), count(*) FROM products").Scan(&b.in.pmin, &b.in.pmax, &n)
	if err != nil {
		return err
	}
	if n != b.in.pmax-b.in.pmin+1 {
		return fmt.Errorf("the seeded product ids are not contiguous (%d..%d, %d products)", b.in.pmin, b.in.pmax, n)
	}
	if err := conn.QueryRow(ctx, "SELECT min(id) FROM product_variants").Scan(&b.in.vmin); err != nil {
		return err
	}
	var matched int64
	err = conn.QueryRow(ctx, `SELECT count(*) FROM products p JOIN product_variants v
		ON v.id = $1 + 3 * (p.id - $2) AND v.product_id = p.id`, b.in.vmin, b.in.pmin).Scan(&matched)
	if err != nil {
		return err
	}
	if matched != n {
		return fmt.Errorf("only %d of %d products have their first variant at id %d+3i: internal/seed changed, update bench/lua/s3.lua and bench/pgbench/s3.sql", matched, n, b.in.vmin)
	}
	b.in.words = seed.SearchWords()
	// S6 orders one unit of a variant that is for sale (its product is active), has
	// plenty of stock, and is not a product's first variant: S3 sets those to random
	// stock levels, down to 0, before S6 runs.
	rows, err := conn.Query(ctx, `SELECT v.id FROM product_variants v JOIN products p ON p.id = v.product_id
		WHERE p.status = 'active' AND v.stock >= 100 AND v.id <> $1 + 3 * (p.id - $2)
		ORDER BY v.id LIMIT 2000`, b.in.vmin, b.in.pmin)
	if err != nil {
		return err
	}
	b.in.s6Variants, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	if len(b.in.s6Variants) < 100 {
		return fmt.Errorf("only %d variants are fit for S6's orders (active, stock of 100 or more, not a first variant): internal/seed changed", len(b.in.s6Variants))
	}
	sum := sha256.Sum256([]byte(b.token))
	return conn.QueryRow(ctx, "SELECT id, user_id FROM api_tokens WHERE token_hash = $1", sum[:]).Scan(&b.tokenID, &b.userID)
}

// server is a process the bench started and loads.
type server struct {
	name string
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) stop() {
	if s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer starts bin/<name> with env and waits until ready answers want.
func (b *bench) startServer(ctx context.Context, name, bin string, env []string, ready string, want int, args ...string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(b.scratch, name+".log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "STOCKROOM_ADDR="+addr, "LEAN_ADDR="+addr, "SAMESQL_ADDR="+addr, "HTTPLIMIT_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, cmd: cmd, base: "http://" + addr}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.base + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return s, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			return nil, fmt.Errorf("%s did not get ready on %s (see %s)", name, addr, logf.Name())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *bench) poolSize() string {
	if b.cfg.maxConns == 0 {
		return "0"
	}
	return strconv.Itoa(b.cfg.maxConns)
}

func (b *bench) startServers(ctx context.Context) error {
	env := b.serveEnv()
	if len(b.cfg.profile) > 0 {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		b.debugBase = "http://" + addr
		env = append(env, "STOCKROOM_DEBUG_ADDR="+addr)
	}
	var err error
	b.stockroom, err = b.startServer(ctx, "stockroom", "bin/stockroom", env, "/readyz", http.StatusOK, "serve")
	if err != nil {
		return err
	}
	if b.cfg.baseline != "" {
		b.startBaseline(ctx, env)
	}
	// The lean floor runs with pgxpool's defaults, as the smallest program would.
	b.lean, err = b.startServer(ctx, "lean", "bin/bench-lean", []string{"LEAN_DATABASE_URL=" + b.dbURL},
		"/api/v1/products", http.StatusUnauthorized)
	if err != nil {
		return err
	}
	b.samesql, err = b.startServer(ctx, "samesql", "bin/bench-samesql", []string{
		"SAMESQL_DATABASE_URL=" + b.dbURL, "SAMESQL_MAX_CONNS=" + b.poolSize(),
	}, "/api/v1/products", http.StatusUnauthorized)
	if err != nil {
		return err
	}
	b.httplimit, err = b.startServer(ctx, "httplimit", "bin/bench-httplimit", nil, "/", http.StatusOK)
	return err
}

// signIn signs the bench user in through the admin's form, as a browser does, and
// keeps the session cookie for S5.
func (b *bench) signIn(ctx context.Context) error {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(b.stockroom.base + "/admin/login")
	if err != nil {
		return err
	}
	resp.Body.Close()
	form := url.Values{"email": {benchEmail}, "password": {benchPassword}, "next": {"/admin/"}}
	req, _ := http.NewRequestWithContext(ctx, "POST", b.stockroom.base+"/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("sign in: POST /admin/login answered %s, want 303", resp.Status)
	}
	u, _ := url.Parse(b.stockroom.base + "/admin/")
	var parts []string
	for _, ck := range jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	if len(parts) == 0 {
		return errors.New("sign in: no session cookie")
	}
	b.cookie = strings.Join(parts, "; ")
	return nil
}

// probe finds which of S5 and S6 this build serves: the admin's product list, and
// POST /api/v1/orders in the API's OpenAPI document.
func (b *bench) probe(ctx context.Context) {
	b.in.s5Path = "/admin/products/?size=100"
	status, body, err := b.send(ctx, b.stockroom, scenarioByName("S5"), "GET", b.in.s5Path, "")
	switch {
	case err != nil:
		b.missing["S5"] = "S5: " + err.Error()
	case status == http.StatusNotFound:
		b.missing["S5"] = "S5: GET /admin/products/ not in this build"
	case status != http.StatusOK:
		b.missing["S5"] = fmt.Sprintf("S5: GET %s answered %d", b.in.s5Path, status)
	case strings.Count(body, `<td class="name">`) != 100:
		b.logf("warning: %s shows %d product rows, not 100", b.in.s5Path, strings.Count(body, `<td class="name">`))
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	_, body, err = b.send(ctx, b.stockroom, scenarioByName("S1"), "GET", "/api/v1/openapi.json", "")
	if err == nil {
		err = json.Unmarshal([]byte(body), &doc)
	}
	if _, ok := doc.Paths["/api/v1/orders"]["post"]; err != nil || !ok {
		b.missing["S6"] = "S6: POST /api/v1/orders not in this build"
	}
	for _, s := range scenarios {
		if why := b.missing[s.name]; why != "" && b.cfg.scenarios[s.name] {
			b.logf("%s", why)
		}
	}
}

// send makes one request of scenario s to srv and returns its status and body.
func (b *bench) send(ctx context.Context, srv *server, s *scenario, method, path, body string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, srv.base+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if s.session {
		req.Header.Set("Cookie", b.cookie)
	} else {
		req.Header.Set("Authorization", "Bearer "+b.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if method == "POST" {
		req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-probe-%d", time.Now().UnixNano()))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out), err
}

func (b *bench) tokenHash() string {
	sum := sha256.Sum256([]byte(b.token))
	return `\x` + hex.EncodeToString(sum[:])
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
