package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/stockroom-dev/stockroom/internal/devdb"
	"github.com/stockroom-dev/stockroom/internal/haproxy"
)

// SCALE (issue #15): S1 and S3 through haproxy in front of 1 and 3 serve copies,
// with and without the streaming replica (STOCKROOM_DATABASE_READ_URL), with and
// without pgbouncer in transaction mode, next to one copy loaded directly in the
// same minutes. On a 2-core machine this measures what the extra hops cost, not a
// speed-up: every copy, haproxy, pgbouncer and both PostgreSQL servers share the
// same cores as wrk.

// scaleConfig is one arrangement of the scale-out pieces.
type scaleConfig struct {
	copies  int
	replica bool
	pooler  bool
}

func (c scaleConfig) String() string {
	s := fmt.Sprintf("haproxy, %d cop", c.copies)
	if c.copies == 1 {
		s += "y"
	} else {
		s += "ies"
	}
	if c.pooler {
		s += ", pgbouncer"
	}
	if c.replica {
		s += ", replica"
	}
	return s
}

// scaleDirect is the label of the baseline: one copy, loaded without haproxy.
const scaleDirect = "direct, 1 copy"

// scale runs the SCALE windows at the first connection count and renders them into
// b.scaleReport.
func (b *bench) scale(ctx context.Context) {
	if b.cluster == nil {
		b.scaleReport = "not run: SCALE needs the private cluster (it starts a replica of it); unset STOCKROOM_BENCH_DATABASE_URL\n"
		return
	}
	if _, err := exec.LookPath("haproxy"); err != nil {
		b.scaleReport = "not run: haproxy is not installed (Debian package haproxy)\n"
		return
	}
	conns := b.cfg.conns[0]
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.logf("SCALE: starting a streaming replica of the bench database and pgbouncer")
	replica, err := devdb.StartReplica(ctx, b.cluster, filepath.Join(b.tmp, "replica"), devdb.Options{Log: log})
	if err != nil {
		b.scaleReport = "not run: replica: " + err.Error() + "\n"
		return
	}
	defer replica.Stop()
	bouncer, err := devdb.StartPgbouncer(ctx, filepath.Join(b.tmp, "pgbouncer"), b.cluster.Port(),
		devdb.PgbouncerOptions{Log: log, PoolSize: 20})
	if err != nil {
		b.scaleReport = "not run: pgbouncer: " + err.Error() + "\n"
		return
	}
	defer bouncer.Stop()
	dbName := b.dbURL[strings.LastIndex(b.dbURL, "/")+1:]
	if i := strings.IndexByte(dbName, '?'); i >= 0 {
		dbName = dbName[:i]
	}

	type row struct {
		label  string
		s1, s3 *measurement
	}
	var rows []row
	window := func(label string, srv *server) row {
		r := row{label: label}
		for _, name := range []string{"S1", "S3"} {
			s := scenarioByName(name)
			m := b.wrkWindow(ctx, "SCALE "+label, srv, s, conns)
			b.record(m)
			if name == "S1" {
				r.s1 = m
			} else {
				r.s3 = m
			}
			if s.writes && b.cfg.vacuum {
				b.afterWrites(ctx, s, conns)
			}
		}
		return r
	}
	rows = append(rows, window(scaleDirect, b.stockroom))
	for _, copies := range []int{1, 3} {
		for _, pooler := range []bool{false, true} {
			for _, replicaOn := range []bool{false, true} {
				if ctx.Err() != nil {
					break
				}
				cfg := scaleConfig{copies: copies, replica: replicaOn, pooler: pooler}
				env := b.serveEnv()
				if pooler {
					env = append(env, "STOCKROOM_DATABASE_URL="+bouncer.URL(dbName), "STOCKROOM_DATABASE_POOLER=transaction",
						"STOCKROOM_DATABASE_DIRECT_URL="+b.dbURL)
				}
				if replicaOn {
					env = append(env, "STOCKROOM_DATABASE_READ_URL="+replica.URL(dbName))
				}
				front, stop, err := b.startScale(ctx, cfg, env)
				if err != nil {
					b.logf("SCALE %s: %v", cfg, err)
					rows = append(rows, row{label: cfg.String(), s1: &measurement{note: err.Error(), socketErr: -1}})
					stop()
					continue
				}
				rows = append(rows, window(cfg.String(), front))
				stop()
			}
		}
	}

	var w strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&w, format, a...) }
	p("wrk at %d connections, the same windows as above, S1 then S3 per arrangement; each copy with the pool size of the "+
		"single server (BENCH_MAX_CONNS), pgbouncer in transaction mode with 20 server connections, the replica a "+
		"`pg_basebackup -R` copy of the bench cluster on the same machine. \"vs direct\" divides by the first row, measured "+
		"in the same minutes. haproxy CPU is its own process's, per 1,000 requests of the window (S1). On this machine "+
		"every piece shares the same cores: this is what the hops cost, not what more machines would gain.\n\n", conns)
	p("| arrangement | S1 req/s | vs direct | S1 p50 | S1 p99 | S3 req/s | vs direct | S3 p50 | S3 p99 | non-2xx + socket errors | haproxy CPU s / 1k req |\n")
	p("|---|---|---|---|---|---|---|---|---|---|---|\n")
	base := rows[0]
	ratio := func(m, b *measurement) string {
		if m == nil || b == nil || b.rps == 0 || m.rps == 0 {
			return "—"
		}
		return fmt.Sprintf("%.2f", m.rps/b.rps)
	}
	for _, r := range rows {
		if r.s1 == nil || r.s3 == nil {
			note := "did not run"
			if r.s1 != nil {
				note = r.s1.note
			}
			p("| %s | %s |||||||||\n", r.label, oneLine(note))
			continue
		}
		hp := "—"
		if r.label != scaleDirect {
			hp = cpu(r.s1.perK(r.s1.serverCPU))
		}
		p("| %s | %.0f | %s | %s | %s | %.0f | %s | %s | %s | %d | %s |\n", r.label,
			r.s1.rps, ratio(r.s1, base.s1), ms(r.s1.p50), ms(r.s1.p99),
			r.s3.rps, ratio(r.s3, base.s3), ms(r.s3.p50), ms(r.s3.p99),
			r.s1.non2xx+r.s1.socketErr+r.s3.non2xx+r.s3.socketErr, hp)
	}
	b.scaleReport = w.String()
}

// serveEnv is the environment of every stockroom serve the bench starts.
func (b *bench) serveEnv() []string {
	return []string{
		"STOCKROOM_DATABASE_URL=" + b.dbURL,
		"STOCKROOM_DATABASE_MAX_CONNS=" + b.poolSize(),
		"STOCKROOM_LOG_LEVEL=warn", // the access log is at info: one line a request would dominate
		"STOCKROOM_API_RATE_LIMIT=100000000",
		"STOCKROOM_MEDIA_DIR=" + filepath.Join(b.tmp, "media"),
		"STOCKROOM_REQUIRE_2FA=off", // S5 signs in with the password alone
		// WEBHOOK's receiver is on 127.0.0.1; with no endpoint this changes nothing.
		"STOCKROOM_WEBHOOKS_ALLOW_PRIVATE=true",
	}
}

// startScale starts cfg's copies (env, later entries winning) and haproxy in front of
// them, and returns haproxy as the server to load; stop ends them all.
func (b *bench) startScale(ctx context.Context, cfg scaleConfig, env []string) (*server, func(), error) {
	var copies []*server
	var proxy *server
	stop := func() {
		if proxy != nil {
			proxy.stop()
		}
		for _, c := range copies {
			c.stop()
		}
	}
	b.logf("SCALE %s: starting", cfg)
	for i := range cfg.copies {
		c, err := b.startServer(ctx, fmt.Sprintf("scale-copy%d", i+1), "bin/stockroom", env, "/readyz", http.StatusOK, "serve")
		if err != nil {
			return nil, stop, err
		}
		copies = append(copies, c)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, stop, err
	}
	var servers []string
	for _, c := range copies {
		servers = append(servers, strings.TrimPrefix(c.base, "http://"))
	}
	conf := haproxy.Config(addr, 4000, servers)
	file := filepath.Join(b.scratch, "haproxy.cfg")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		return nil, stop, err
	}
	logf, err := os.Create(filepath.Join(b.scratch, "haproxy.log"))
	if err != nil {
		return nil, stop, err
	}
	defer logf.Close()
	cmd := exec.Command("haproxy", "-db", "-f", file)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, stop, fmt.Errorf("start haproxy: %w", err)
	}
	proxy = &server{name: "haproxy", cmd: cmd, base: "http://" + addr}
	// Ready once haproxy's checks have taken every copy in (rise 2, 500 ms apart).
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(proxy.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, stop, fmt.Errorf("haproxy did not get ready on %s (see %s)", addr, logf.Name())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	return proxy, stop, nil
}
