package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/stockroom-dev/stockroom/internal/config"
	"github.com/stockroom-dev/stockroom/internal/devdb"
	"github.com/stockroom-dev/stockroom/internal/haproxy"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// A local scale-out cluster (`stockroom dev --instances N`, `make cluster`): a
// private primary, a streaming replica of it (pg_basebackup -R), pgbouncer in
// transaction mode, N `stockroom serve` copies of this binary and haproxy in front
// of them with /readyz health checks. Every piece is a process of ours, stopped in
// reverse order when the cluster stops.

// clusterSettings keep the clusters small: the machine may be shared.
func clusterSettings() []string {
	return []string{"shared_buffers=32MB", "max_connections=60", "hot_standby_feedback=on"}
}

// cluster is the running local cluster.
type cluster struct {
	dir     string
	log     *slog.Logger
	primary *devdb.Cluster
	replica *devdb.Cluster
	bouncer *devdb.Pgbouncer
	haproxy *exec.Cmd
	copies  []*copyProc
	addr    string // haproxy's listen address
	exe     string // the stockroom binary the copies run
	env     []string
	out     io.Writer
}

// copyProc is one serve copy: its address and, while it runs, its process.
type copyProc struct {
	addr string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// startCluster starts everything under dir; addr is haproxy's listen address and
// exe the stockroom binary. prepare runs on the primary's migrated database before
// any copy starts. out receives the copies' and haproxy's output.
func startCluster(ctx context.Context, exe, dir, addr string, instances int, log *slog.Logger, out io.Writer,
	prepare func(ctx context.Context, st *store.Store) error) (c *cluster, err error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(out, nil))
	}
	c = &cluster{dir: dir, log: log, addr: addr, out: out, exe: exe}
	defer func() {
		if err != nil {
			c.stop()
		}
	}()
	if _, err := exec.LookPath("haproxy"); err != nil {
		return nil, errors.New("haproxy is not installed: install the Debian package haproxy")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	opts := devdb.Options{Log: log, Settings: clusterSettings()}
	if c.primary, err = devdb.StartWith(ctx, filepath.Join(dir, "primary"), opts); err != nil {
		return nil, err
	}
	if err := c.primary.CreateDatabase(ctx, "stockroom"); err != nil {
		return nil, err
	}
	direct := c.primary.URL("stockroom")
	st, err := store.Open(ctx, direct, store.Options{MaxConns: 4})
	if err != nil {
		return nil, err
	}
	err = store.Migrate(ctx, st.Pool(), "up")
	if err == nil && prepare != nil {
		err = prepare(ctx, st)
	}
	st.Close()
	if err != nil {
		return nil, err
	}
	if c.replica, err = devdb.StartReplica(ctx, c.primary, filepath.Join(dir, "replica"), opts); err != nil {
		return nil, err
	}
	if c.bouncer, err = devdb.StartPgbouncer(ctx, filepath.Join(dir, "pgbouncer"), c.primary.Port(),
		devdb.PgbouncerOptions{Log: log, PoolSize: 20}); err != nil {
		return nil, err
	}
	c.env = append(os.Environ(),
		"STOCKROOM_DATABASE_URL="+c.bouncer.URL("stockroom"),
		"STOCKROOM_DATABASE_POOLER=transaction",
		"STOCKROOM_DATABASE_DIRECT_URL="+direct,
		"STOCKROOM_DATABASE_READ_URL="+c.replica.URL("stockroom"),
		"STOCKROOM_DATABASE_MAX_CONNS=8",
		// haproxy checks every 500 ms and takes a copy out after 2 failures.
		"STOCKROOM_DRAIN_DELAY=2s",
		"STOCKROOM_SHUTDOWN_GRACE=10s",
		"STOCKROOM_SECRET_KEY="+config.DevSecretKey,
		"STOCKROOM_REQUIRE_2FA=off",
		"STOCKROOM_LOG_FORMAT=text",
		"STOCKROOM_MEDIA_DIR="+filepath.Join(dir, "media"),
	)
	for range instances {
		a, err := freeLoopbackAddr()
		if err != nil {
			return nil, err
		}
		cp := &copyProc{addr: a}
		c.copies = append(c.copies, cp)
		if err := c.startCopy(cp); err != nil {
			return nil, err
		}
	}
	for _, cp := range c.copies {
		if err := waitHTTP(ctx, "http://"+cp.addr+"/readyz", time.Minute); err != nil {
			return nil, fmt.Errorf("copy %s: %w", cp.addr, err)
		}
	}
	if err := c.startHAProxy(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// startCopy starts (or restarts) one serve copy.
func (c *cluster) startCopy(cp *copyProc) error {
	cmd := exec.Command(c.exe, "serve")
	cmd.Env = append(slices.Clone(c.env), "STOCKROOM_ADDR="+cp.addr)
	cmd.Stdout, cmd.Stderr = c.out, c.out
	// A group of its own: Ctrl-C reaches us, and we stop the copies in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start serve: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	cp.mu.Lock()
	cp.cmd, cp.done = cmd, done
	cp.mu.Unlock()
	c.log.Info("serve copy started", "addr", cp.addr, "pid", cmd.Process.Pid)
	return nil
}

// signalCopy sends sig to copy i and waits up to wait for it to exit.
func (c *cluster) signalCopy(i int, sig syscall.Signal, wait time.Duration) error {
	cp := c.copies[i]
	cp.mu.Lock()
	cmd, done := cp.cmd, cp.done
	cp.mu.Unlock()
	if cmd == nil {
		return nil
	}
	cmd.Process.Signal(sig)
	select {
	case <-done:
		return nil
	case <-time.After(wait):
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("copy %s did not exit within %s of %s", cp.addr, wait, sig)
	}
}

// restartCopy starts copy i again once it has exited, and waits until it is ready.
func (c *cluster) restartCopy(ctx context.Context, i int) error {
	if err := c.startCopy(c.copies[i]); err != nil {
		return err
	}
	return waitHTTP(ctx, "http://"+c.copies[i].addr+"/readyz", time.Minute)
}

// startHAProxy writes haproxy's config and starts it in the foreground (-db).
func (c *cluster) startHAProxy(ctx context.Context) error {
	var servers []string
	for _, cp := range c.copies {
		servers = append(servers, cp.addr)
	}
	cfg := haproxy.Config(c.addr, 2000, servers)
	file := filepath.Join(c.dir, "haproxy.cfg")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		return err
	}
	cmd := exec.Command("haproxy", "-db", "-f", file)
	cmd.Stdout, cmd.Stderr = c.out, c.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start haproxy: %w", err)
	}
	c.haproxy = cmd
	c.log.Info("haproxy started", "addr", c.addr, "pid", cmd.Process.Pid)
	return waitHTTP(ctx, "http://"+c.addr+"/readyz", 30*time.Second)
}

// stop stops everything that started, in reverse order.
func (c *cluster) stop() {
	if c.haproxy != nil {
		c.haproxy.Process.Signal(syscall.SIGTERM)
		c.haproxy.Wait()
	}
	var wg sync.WaitGroup
	for i := range c.copies {
		wg.Go(func() {
			if err := c.signalCopy(i, syscall.SIGTERM, 30*time.Second); err != nil {
				c.log.Error("stop copy", "err", err)
			}
		})
	}
	wg.Wait()
	if c.bouncer != nil {
		c.bouncer.Stop()
	}
	for _, pg := range []*devdb.Cluster{c.replica, c.primary} {
		if pg != nil {
			if err := pg.Stop(); err != nil {
				c.log.Error("stop PostgreSQL", "err", err)
			}
		}
	}
}

// runCluster is `stockroom dev --instances N` with N > 1: the cluster under the
// data dir, haproxy on STOCKROOM_ADDR, until Ctrl-C.
func runCluster(ctx context.Context, e *env, instances int) error {
	log := e.cfg.Logger(e.stderr)
	dir, err := filepath.Abs(filepath.Join(e.cfg.DataDir, "cluster"))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "starting a cluster in %s: PostgreSQL primary and replica, pgbouncer, %d copies, haproxy ...\n", dir, instances)
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	c, err := startCluster(context.WithoutCancel(ctx), exe, dir, e.cfg.Addr, instances, log, e.stderr,
		func(ctx context.Context, st *store.Store) error { return prepareDev(ctx, e, st) })
	if err != nil {
		return err
	}
	defer c.stop()
	fmt.Fprintf(e.stdout, "stockroom is ready at http://%s/admin/ through haproxy (copies:", c.addr)
	for _, cp := range c.copies {
		fmt.Fprintf(e.stdout, " %s", cp.addr)
	}
	fmt.Fprintf(e.stdout, "; primary 127.0.0.1:%d, replica 127.0.0.1:%d, pgbouncer 127.0.0.1:%d)  (Ctrl-C to stop)\n",
		c.primary.Port(), c.replica.Port(), c.bouncer.Port())
	<-ctx.Done()
	fmt.Fprintln(e.stdout, "stopping the cluster ...")
	return nil
}

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitHTTP waits until url answers 200.
func waitHTTP(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not ready within %s", url, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// defineDev is dev's flags: --no-workers, and --instances for a local cluster.
func defineDev(fs *flag.FlagSet) runFunc {
	instances := fs.Int("instances", 1, "with more than 1: a local cluster (primary, replica, pgbouncer, N serve copies, haproxy on STOCKROOM_ADDR)")
	serving := defineServing(runDev)(fs)
	return func(ctx context.Context, e *env, args []string) error {
		switch {
		case *instances < 1 || *instances > 16:
			return usagef("--instances must be 1 to 16")
		case *instances > 1 && len(args) > 0:
			return usagef("dev takes no arguments")
		case *instances > 1:
			return runCluster(ctx, e, *instances)
		}
		return serving(ctx, e, args)
	}
}
