// Package devdb runs a private PostgreSQL cluster from the server binaries already
// on the machine: the database of `stockroom dev` when STOCKROOM_DATABASE_URL is not
// set, and the last resort of dbtest. Nothing is downloaded.
//
// initdb and postgres refuse to run as root. As root, Start gives the cluster's
// directory to the OS user postgres (Debian's package creates it) and runs every
// binary as that user, without supplementary groups. When that user cannot reach
// the directory asked for (a checkout under /root, or any 0700 directory), the
// cluster lives in a directory of its own under /var/lib/stockroom (see relocate)
// and the directory asked for becomes a symbolic link to it: the owner's own
// directories are never opened up.
package devdb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Cluster is a running PostgreSQL server on a data directory of its own, listening
// on 127.0.0.1 only and trusting every local connection. Stop it when done.
type Cluster struct {
	Dir       string // the data directory, symbolic links resolved
	Link      string // the directory asked for, when it is a link to Dir (see relocate); else ""
	SocketDir string // holds the unix socket, .s.PGSQL.<port> (Dir unless that path is too long)
	LogFile   string // the server's log, in Dir; it grows across restarts

	port          int
	bin           string              // where initdb, pg_ctl and postgres live
	cred          *syscall.Credential // nil unless root runs the binaries as postgres
	env           []string
	log           *slog.Logger
	tempSocketDir bool     // SocketDir was made for this run and goes at Stop
	settings      []string // -c name=value on every start
	fixedPort     int      // 0: a free port

	mu      sync.Mutex
	stopped bool
}

// errPortTaken: someone bound the chosen port between our probe and the server.
var errPortTaken = errors.New("port already in use")

const (
	// startAttempts bounds the retries when the chosen port is taken meanwhile.
	startAttempts = 5
	// maxSocketPath keeps a unix socket path under sun_path's limit: 108 bytes on
	// Linux and 104 on macOS, the terminating NUL included.
	maxSocketPath = 100
	// serverUserName is the OS user that runs the binaries when we are root.
	serverUserName = "postgres"
	// duplicateDatabase is the SQLSTATE of CREATE DATABASE on a name that exists.
	duplicateDatabase = "42P04"
)

// Start starts the cluster in dir, creating it first if dir is missing or empty
// (initdb -U postgres --auth=trust -E UTF8 --locale=C.UTF-8), and returns once the
// server accepts connections on 127.0.0.1 at a free port. A server an earlier run
// left in dir is stopped first. log may be nil.
func Start(ctx context.Context, dir string, log *slog.Logger) (*Cluster, error) {
	return StartWith(ctx, dir, Options{Log: log})
}

// Options tune a cluster Start or StartReplica makes.
type Options struct {
	Log *slog.Logger // nil: discard
	// Settings are server settings ("shared_buffers=32MB"), given to postgres as -c
	// on every start: tests and `make cluster` keep their clusters small with them.
	Settings []string
	// Port is the port to listen on; 0 picks a free one. A replica restarted in a
	// test keeps its port, as a real one does.
	Port int
}

func (o Options) logger() *slog.Logger {
	if o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Log
}

// StartWith is Start with options.
func StartWith(ctx context.Context, dir string, opts Options) (*Cluster, error) {
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	c, owner, err := newCluster(dir, bin, opts)
	if err != nil {
		return nil, err
	}
	fresh, err := prepareDir(c.Dir, owner)
	if err != nil {
		return nil, err
	}
	if fresh {
		if err := c.initdb(ctx); err != nil {
			return nil, err
		}
	} else if err := c.clearLeftovers(ctx); err != nil {
		return nil, err
	}
	return c.run(ctx, owner)
}

// StartReplica starts a streaming replica of primary in dir: on first use a copy of
// primary taken with pg_basebackup -R (which writes standby.signal and the
// primary_conninfo that follows primary's port), afterwards the copy dir holds. It
// returns once the replica accepts connections, read-only, on 127.0.0.1 at a free
// port. A replica follows the port primary had when it was copied: restart both
// together, or copy again after primary moved.
func StartReplica(ctx context.Context, primary *Cluster, dir string, opts Options) (*Cluster, error) {
	c, owner, err := newCluster(dir, primary.bin, opts)
	if err != nil {
		return nil, err
	}
	fresh, err := prepareDir(c.Dir, owner)
	if err != nil {
		return nil, err
	}
	if fresh {
		c.log.Info("copying the primary for a replica", "dir", c.Dir, "primary_port", primary.port)
		out, err := c.command(ctx, "pg_basebackup", "-D", c.Dir, "-R", "-X", "stream", "-c", "fast",
			"-h", "127.0.0.1", "-p", strconv.Itoa(primary.port), "-U", "postgres").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("devdb: pg_basebackup into %s: %w\n%s", c.Dir, err, lastLines(out, 20))
		}
		// The copy carries the primary's log; the replica starts its own.
		os.Remove(filepath.Join(c.Dir, filepath.Base(primary.LogFile)))
	} else if err := c.clearLeftovers(ctx); err != nil {
		return nil, err
	}
	if err := c.follow(primary); err != nil {
		return nil, err
	}
	return c.run(ctx, owner)
}

// follow points the replica at primary's current port: a dev cluster gets a new
// port at every start, and primary_conninfo (postgresql.auto.conf, written by
// pg_basebackup -R) still names the old one. The file keeps the postgres user's
// ownership: it is rewritten in place.
func (c *Cluster) follow(primary *Cluster) error {
	file := filepath.Join(c.Dir, "postgresql.auto.conf")
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("devdb: %w", err)
	}
	var lines []string
	for line := range strings.SplitSeq(strings.TrimRight(string(data), "\n"), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "primary_conninfo") {
			lines = append(lines, line)
		}
	}
	lines = append(lines, fmt.Sprintf("primary_conninfo = 'host=127.0.0.1 port=%d user=postgres "+
		"application_name=stockroom_replica'", primary.port))
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("devdb: %w", err)
	}
	_, err = f.WriteString(strings.Join(lines, "\n") + "\n")
	if err = errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("devdb: %w", err)
	}
	return nil
}

// newCluster describes the cluster in dir, run as the postgres OS user when we are
// root.
func newCluster(dir, bin string, opts Options) (*Cluster, *serverUser, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("devdb: %w", err)
	}
	log := opts.logger()
	var owner *serverUser
	var link string
	if os.Geteuid() == 0 {
		if owner, err = lookupServerUser(); err != nil {
			return nil, nil, err
		}
		asked := dir
		if dir, err = owner.relocate(dir, relocationBases); err != nil {
			return nil, nil, err
		}
		if dir != asked {
			link = asked
			log.Info("postgres cannot reach the data directory asked for: the cluster lives apart, linked from it",
				"dir", dir, "link", link)
		}
	}
	c := &Cluster{Dir: dir, Link: link, LogFile: filepath.Join(dir, "server.log"), bin: bin, log: log,
		settings: opts.Settings, fixedPort: opts.Port}
	if owner != nil {
		// No Groups: the server runs with its primary group only, which is what
		// checkReach assumes.
		c.cred = &syscall.Credential{Uid: owner.uid, Gid: owner.gid}
	}
	c.env = serverEnv(owner)
	return c, owner, nil
}

// run starts the prepared cluster's server at a free port.
func (c *Cluster) run(ctx context.Context, owner *serverUser) (*Cluster, error) {
	if err := c.chooseSocketDir(owner); err != nil {
		return nil, err
	}
	log, dir := c.log, c.Dir
	for attempt := 1; ; attempt++ {
		port, err := c.fixedPort, error(nil)
		if port == 0 {
			port, err = freePort()
		}
		if err == nil {
			err = c.start(ctx, port)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, errPortTaken) || attempt == startAttempts || c.fixedPort != 0 {
			c.removeSocketDir()
			return nil, err
		}
		log.Debug("postgres port taken meanwhile, trying another", "port", port)
	}
	log.Info("postgres started", "dir", dir, "port", c.port, "log", c.LogFile)
	return c, nil
}

// Port returns the TCP port the server listens on, on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// URL returns a connection URL for database dbname as the superuser postgres.
func (c *Cluster) URL(dbname string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, url.PathEscape(dbname))
}

// CreateDatabase creates database name unless it exists.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("devdb: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		return fmt.Errorf("devdb: look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == duplicateDatabase {
		return nil // created meanwhile by someone else: fine
	}
	if err != nil {
		return fmt.Errorf("devdb: create database %s: %w", name, err)
	}
	return nil
}

// Stop shuts the server down (pg_ctl -m fast -w stop, then -m immediate if that
// fails) and waits until the postmaster has exited. It can be called more than once.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.stopServer(ctx); err != nil {
		return err
	}
	c.stopped = true
	c.removeSocketDir()
	c.log.Info("postgres stopped", "dir", c.Dir)
	return nil
}

// command prepares one of the server binaries, run as the cluster's OS user.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.Dir // our own working directory may be closed to the postgres user
	cmd.Env = c.env
	// A process group of its own: a Ctrl-C in the terminal goes to us, not to the
	// server, and we stop it in order. Cancelling kills the whole group, so no
	// half-done helper is left behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.cred}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// initdb creates the cluster in the empty c.Dir. C.UTF-8 sorts by code point, like C,
// but knows the case of non-ASCII letters (lower(), citext, pg_trgm need that).
func (c *Cluster) initdb(ctx context.Context) error {
	c.log.Info("creating a PostgreSQL cluster", "dir", c.Dir)
	out, err := c.command(ctx, "initdb", "-D", c.Dir, "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--locale=C.UTF-8").CombinedOutput()
	if err != nil {
		return fmt.Errorf("devdb: initdb %s: %w\n%s", c.Dir, err, lastLines(out, 20))
	}
	return nil
}

// clearLeftovers deals with a postmaster.pid an earlier run left in c.Dir. A server
// still running there (its owner died before Stop) is stopped. A stale file is
// removed: if its PID now names another process, postgres would refuse to start.
func (c *Cluster) clearLeftovers(ctx context.Context) error {
	if _, err := os.Stat(c.pidFile()); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	out, err := c.command(ctx, "pg_ctl", "-D", c.Dir, "status").CombinedOutput()
	exitErr, _ := errors.AsType[*exec.ExitError](err)
	switch {
	case err == nil && c.postmasterRunning(): // exit 0: pg_ctl saw the PID alive
		c.log.Warn("stopping a postgres an earlier run left running", "dir", c.Dir)
		return c.stopServer(ctx)
	case err == nil, exitErr != nil && exitErr.ExitCode() == 3: // 3: no server running
		return c.removeStalePIDFile()
	}
	return fmt.Errorf("devdb: pg_ctl status %s: %w\n%s", c.Dir, err, bytes.TrimSpace(out))
}

// chooseSocketDir puts the unix socket in c.Dir, or in a short new temporary
// directory when the socket's path would be too long for the kernel.
func (c *Cluster) chooseSocketDir(owner *serverUser) error {
	if len(filepath.Join(c.Dir, ".s.PGSQL.65535")) < maxSocketPath {
		c.SocketDir = c.Dir
		return nil
	}
	base := os.TempDir()
	if len(base) > maxSocketPath/2 {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "pg-")
	if err != nil {
		return fmt.Errorf("devdb: socket directory: %w", err)
	}
	if owner != nil {
		if err := os.Chown(dir, int(owner.uid), int(owner.gid)); err != nil {
			os.Remove(dir)
			return fmt.Errorf("devdb: socket directory: %w", err)
		}
	}
	c.SocketDir, c.tempSocketDir = dir, true
	return nil
}

func (c *Cluster) removeSocketDir() {
	if c.tempSocketDir {
		os.RemoveAll(c.SocketDir)
	}
}

// start starts the server on port, which was free a moment ago; errPortTaken says
// someone else took it meanwhile. On failure the error ends with the server's log.
func (c *Cluster) start(ctx context.Context, port int) error {
	c.port = port
	var logStart int64 // show only what this attempt logged
	if st, err := os.Stat(c.LogFile); err == nil {
		logStart = st.Size()
	}
	// pg_ctl hands -o to /bin/sh, hence the quoting.
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", port, shellQuote(c.SocketDir))
	for _, kv := range c.settings {
		opts += " -c " + shellQuote(kv)
	}
	out, err := c.command(ctx, "pg_ctl", "-D", c.Dir, "-l", c.LogFile, "-o", opts,
		"-w", "-t", "60", "start").CombinedOutput()
	if err == nil {
		return nil
	}
	// pg_ctl may have given up (or been cancelled) while the server still comes up.
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if stopErr := c.stopServer(stopCtx); stopErr != nil {
		c.log.Error("stop a server that failed to start", "dir", c.Dir, "err", stopErr)
	}
	tail := logTail(c.LogFile, logStart, 20)
	if strings.Contains(tail, "already in use") {
		err = fmt.Errorf("%w: %w", errPortTaken, err)
	}
	return fmt.Errorf("devdb: start postgres in %s on port %d: %w\n%s\nlast lines of %s:\n%s",
		c.Dir, port, err, bytes.TrimSpace(out), c.LogFile, tail)
}

// stopServer stops the server running in c.Dir, if any, and waits for its exit.
func (c *Cluster) stopServer(ctx context.Context) error {
	var outs []string
	for _, mode := range []string{"fast", "immediate"} {
		if !c.postmasterRunning() {
			return c.removeStalePIDFile()
		}
		out, err := c.command(ctx, "pg_ctl", "-D", c.Dir, "-m", mode, "-w", "-t", "60", "stop").CombinedOutput()
		if err == nil {
			return nil
		}
		outs = append(outs, string(bytes.TrimSpace(out)))
		c.log.Warn("postgres shutdown failed", "dir", c.Dir, "mode", mode, "err", err)
	}
	if !c.postmasterRunning() {
		return c.removeStalePIDFile()
	}
	return fmt.Errorf("devdb: stop postgres in %s: pg_ctl failed twice:\n%s", c.Dir, strings.Join(outs, "\n"))
}

func (c *Cluster) pidFile() string { return filepath.Join(c.Dir, "postmaster.pid") }

// postmasterRunning reports whether postmaster.pid names a live postmaster of this
// cluster. The postmaster removes the file as the very last thing it does, after all
// its children have exited; a file left behind is stale.
func (c *Cluster) postmasterRunning() bool {
	data, err := os.ReadFile(c.pidFile())
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	pid, err := strconv.Atoi(string(bytes.TrimSpace(line)))
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return false // a crash while starting; postgres itself would refuse the file
	case err != nil || pid <= 0:
		return true // torn, or a single-user backend (-pid): pg_ctl judges, we never delete it
	}
	return isPostmaster(pid, c.Dir)
}

func (c *Cluster) removeStalePIDFile() error {
	if err := os.Remove(c.pidFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("devdb: remove stale %s: %w", c.pidFile(), err)
	}
	return nil
}

// serverUser is the OS account that runs the binaries when we are root.
type serverUser struct {
	name     string
	uid, gid uint32
	home     string
}

func lookupServerUser() (*serverUser, error) {
	u, err := user.Lookup(serverUserName)
	if err != nil {
		return nil, fmt.Errorf("devdb: running as root, and initdb and postgres refuse root, but "+
			"there is no OS user %s to run them as (%w): install the Debian package postgresql, "+
			"or set STOCKROOM_DATABASE_URL to a server you run", serverUserName, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("devdb: uid of %s: %w", serverUserName, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("devdb: gid of %s: %w", serverUserName, err)
	}
	return &serverUser{name: u.Username, uid: uint32(uid), gid: uint32(gid), home: u.HomeDir}, nil
}

// checkReach returns an error naming the first directory on the way to parent
// (parent included) that u may not search, so the cluster in dir would be out of its
// reach. Only mode bits count: u runs with its primary group only, and ACLs are rare
// on such paths. Parents are never chmod-ed: opening them up is the owner's call.
func (u *serverUser) checkReach(dir, parent string) error {
	real, err := filepath.EvalSymlinks(parent)
	if err != nil {
		return fmt.Errorf("devdb: %w", err)
	}
	var chain []string
	for p := real; ; p = filepath.Dir(p) {
		chain = append(chain, p)
		if p == filepath.Dir(p) {
			break
		}
	}
	slices.Reverse(chain) // report the topmost blocker: fixing a lower one would not help
	for _, p := range chain {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("devdb: %w", err)
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if !ok {
			return nil // not a Unix file system: let the server find out
		}
		var search fs.FileMode = 0o001
		switch {
		case sys.Uid == u.uid:
			search = 0o100
		case sys.Gid == u.gid:
			search = 0o010
		}
		if st.Mode().Perm()&search == 0 {
			return fmt.Errorf("devdb: the server runs as OS user %s (initdb and postgres refuse root), "+
				"which cannot reach %s: %s (mode %#o, uid %d) is not searchable by it; put the cluster "+
				"under a directory it can reach, or set STOCKROOM_DATABASE_URL to a server you run",
				u.name, dir, p, st.Mode().Perm(), sys.Uid)
		}
	}
	return nil
}

// relocationBases are where a cluster the server user cannot reach where it was
// asked for lives instead, in order of preference: the system's state directory
// (it survives reboots, so "the second start reuses the data" holds), then the
// temporary ones.
var relocationBases = []string{"/var/lib/stockroom", "/var/tmp/stockroom", "/tmp/stockroom"}

// relocate returns the directory the cluster asked for at dir really lives in.
// That is dir itself (symbolic links resolved) when u can reach it. Otherwise
// dir must be missing or empty, and becomes a symbolic link to a directory of its
// own under the first usable base: named for dir (its last three elements and a
// hash of its path), so each checkout keeps its own cluster, and found again on every
// start through the link. A dir holding anything else is the old error: its data
// is not moved.
func (u *serverUser) relocate(dir string, bases []string) (string, error) {
	if fi, err := os.Lstat(dir); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(dir)
		if err != nil {
			return "", fmt.Errorf("devdb: %w", err)
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(dir), target)
		}
		// The target may be gone (a wiped /tmp): it is made again, empty.
		return filepath.Clean(target), nil
	}
	// The parents are made first, as prepareDir would: a path not made yet is not
	// one out of reach.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("devdb: %w", err)
	}
	reachErr := u.checkReach(dir, filepath.Dir(dir))
	if reachErr == nil {
		return dir, nil
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return "", fmt.Errorf("devdb: %w", err)
	case len(entries) > 0:
		return "", reachErr
	}
	sum := sha256.Sum256([]byte(dir))
	var parts []string // ".../shop/.data/postgres" → "shop-data-postgres-<hash>"
	for p := dir; len(parts) < 3 && p != filepath.Dir(p); p = filepath.Dir(p) {
		parts = append([]string{strings.Trim(filepath.Base(p), ".")}, parts...)
	}
	name := strings.Join(append(parts, hex.EncodeToString(sum[:6])), "-")
	for _, base := range bases {
		if !u.usableBase(base) {
			continue
		}
		target := filepath.Join(base, name)
		if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("devdb: %w", err) // dir was empty: this removes nothing
		}
		if err := os.Symlink(target, dir); err != nil {
			return "", fmt.Errorf("devdb: link %s to %s: %w", dir, target, err)
		}
		return target, nil
	}
	return "", fmt.Errorf("%w (and none of %s is usable for it instead)", reachErr, strings.Join(bases, ", "))
}

// usableBase makes base if it is missing (root's, mode 0755) and reports whether u
// can reach it and root owns it: a base someone else made in /tmp is not trusted.
func (u *serverUser) usableBase(base string) bool {
	if err := os.MkdirAll(base, 0o755); err != nil {
		return false
	}
	fi, err := os.Lstat(base)
	if err != nil || !fi.IsDir() {
		return false
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || st.Uid != 0 || fi.Mode().Perm()&0o022 != 0 {
		return false
	}
	return u.checkReach(base, base) == nil
}

// prepareDir makes dir ready and reports whether it still needs initdb: it exists
// afterwards, empty or holding a cluster. As root (owner != nil), it checks that
// owner can reach dir, and a new cluster's directory is given to owner.
func prepareDir(dir string, owner *serverUser) (fresh bool, err error) {
	parent := filepath.Dir(dir)
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err == nil {
		if owner != nil {
			return false, owner.checkReach(dir, parent)
		}
		return false, nil
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return false, fmt.Errorf("devdb: %w", err)
		}
	case err != nil:
		return false, fmt.Errorf("devdb: %w", err)
	case len(entries) > 0:
		// Never chown or initdb over someone's files.
		return false, fmt.Errorf("devdb: %s is neither empty nor a PostgreSQL data directory; choose another", dir)
	}
	if owner != nil {
		if err := owner.checkReach(dir, parent); err != nil {
			return false, err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return false, fmt.Errorf("devdb: %w", err)
	}
	if owner != nil {
		// dir is empty, so this is the whole tree; initdb fixes its mode itself.
		if err := os.Chown(dir, int(owner.uid), int(owner.gid)); err != nil {
			return false, fmt.Errorf("devdb: %w", err)
		}
	}
	return true, nil
}

// serverEnv is our environment without the PG* variables, which would steer pg_ctl
// (PGDATA, PGPORT, ...), and with HOME set to the server user's when we switch to it.
func serverEnv(owner *serverUser) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || owner != nil && strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	if owner != nil {
		env = append(env, "HOME="+owner.home)
	}
	return env
}

// isPostmaster reports whether process pid is a live postgres working in dataDir,
// as far as /proc tells. A PID in a stale postmaster.pid may since have gone to any
// other process; without /proc, it trusts pg_ctl, which found the process alive.
func isPostmaster(pid int, dataDir string) bool {
	proc := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(proc + "/stat")
	if err != nil {
		_, noProc := os.Stat("/proc/self")
		return noProc != nil
	}
	// "pid (comm) state ...": comm may hold spaces and parentheses.
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open || end+2 >= len(stat) {
		return true
	}
	comm, state := string(stat[open+1:end]), stat[end+2]
	// An orphan nobody reaps stays a zombie after its exit.
	if comm != "postgres" || state == 'Z' || state == 'X' {
		return false
	}
	// The postmaster works in its data directory. Reading another user's cwd needs
	// privilege; without it, the name must do.
	cwd, err := os.Readlink(proc + "/cwd")
	if err != nil {
		return true
	}
	real, err := filepath.EvalSymlinks(dataDir)
	return err != nil || cwd == real
}

// freePort returns a TCP port on 127.0.0.1 that was free when asked.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("devdb: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// logTail returns the last n lines of file from offset on.
func logTail(file string, offset int64, n int) string {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	return lastLines(data, n)
}

// lastLines returns the last n lines of out, trimmed.
func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
