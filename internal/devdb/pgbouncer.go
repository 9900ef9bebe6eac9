package devdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Pgbouncer is a running pgbouncer (the Debian package) in transaction pooling mode
// in front of one PostgreSQL server, on 127.0.0.1 at a free port, with its config,
// log and pid file in a directory of its own. It is our own process, never the
// system service. Stop it when done.
type Pgbouncer struct {
	Dir  string
	port int
	cmd  *exec.Cmd
	done chan error
	log  *slog.Logger
	stop sync.Once
}

// PgbouncerOptions tune StartPgbouncer.
type PgbouncerOptions struct {
	Log *slog.Logger // nil: discard
	// PoolSize is the server connections per database and user (default_pool_size);
	// 0 is 10.
	PoolSize int
}

// StartPgbouncer starts pgbouncer in dir (created if missing) for the server at
// 127.0.0.1:upstreamPort: every database name is passed through, as user postgres,
// and clients are not authenticated (loopback only). As root it runs as the
// postgres OS user: pgbouncer refuses root.
func StartPgbouncer(ctx context.Context, dir string, upstreamPort int, opts PgbouncerOptions) (*Pgbouncer, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		return nil, errors.New("devdb: pgbouncer is not installed: install the Debian package pgbouncer")
	}
	if opts.PoolSize == 0 {
		opts.PoolSize = 10
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, fmt.Errorf("devdb: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("devdb: %w", err)
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		owner, err := lookupServerUser()
		if err != nil {
			return nil, err
		}
		if err := owner.checkReach(dir, dir); err != nil {
			return nil, err
		}
		if err := os.Chown(dir, int(owner.uid), int(owner.gid)); err != nil {
			return nil, fmt.Errorf("devdb: %w", err)
		}
		cred = &syscall.Credential{Uid: owner.uid, Gid: owner.gid}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "pgbouncer.ini")
	// server_reset_query is unused in transaction mode; server_idle_timeout gives
	// idle server connections back soon, since many test databases come and go.
	ini := fmt.Sprintf(`[databases]
* = host=127.0.0.1 port=%d user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = %d
max_client_conn = 1000
server_idle_timeout = 10
server_lifetime = 600
logfile = %s
pidfile = %s
ignore_startup_parameters = extra_float_digits
`, upstreamPort, port, opts.PoolSize, filepath.Join(dir, "pgbouncer.log"), filepath.Join(dir, "pgbouncer.pid"))
	if err := os.WriteFile(conf, []byte(ini), 0o644); err != nil {
		return nil, fmt.Errorf("devdb: %w", err)
	}
	cmd := exec.Command(bin, "-q", conf)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("devdb: start pgbouncer: %w", err)
	}
	p := &Pgbouncer{Dir: dir, port: port, cmd: cmd, done: make(chan error, 1), log: log}
	go func() { p.done <- cmd.Wait() }()
	// Ready once it accepts connections.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-p.done:
			return nil, fmt.Errorf("devdb: pgbouncer exited at start (%v); see %s", err, filepath.Join(dir, "pgbouncer.log"))
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.Stop()
			return nil, fmt.Errorf("devdb: pgbouncer did not listen on port %d within 10 s", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
	log.Info("pgbouncer started", "port", port, "dir", dir)
	return p, nil
}

// Port is where pgbouncer listens, on 127.0.0.1.
func (p *Pgbouncer) Port() int { return p.port }

// PID is pgbouncer's process id.
func (p *Pgbouncer) PID() int { return p.cmd.Process.Pid }

// URL returns a connection URL for database dbname through pgbouncer.
func (p *Pgbouncer) URL(dbname string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, url.PathEscape(dbname))
}

// Stop ends pgbouncer (SIGINT: it closes at once) and waits for its exit; after 10 s
// it is killed.
func (p *Pgbouncer) Stop() {
	p.stop.Do(func() {
		p.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
		p.log.Info("pgbouncer stopped", "dir", p.Dir)
	})
}
