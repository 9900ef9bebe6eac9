// Package dbtest gives each test a PostgreSQL database of its own: a clone of a
// template database that holds every migration, dropped when the test ends.
//
// The server is chosen once per test process: STOCKROOM_TEST_DATABASE_URL when set
// (an admin URL: dbtest creates and drops databases there), else the server on
// 127.0.0.1:5432 as user postgres without a password if it answers within a second,
// else a private cluster started with devdb from the server binaries on the machine.
// Without any of them, every test that asks fails; none is skipped.
//
// A package whose tests may start the private cluster should stop it at the end:
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
//
// Without that, a watchdog process stops the cluster and removes its files once the
// test process has exited, however it exits.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/devdb"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/migrations"
)

const (
	urlEnv   = "STOCKROOM_TEST_DATABASE_URL"
	localURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

	templatePrefix = "stockroom_tmpl_"
	testPrefix     = "stockroom_test_"
	// templateLock is the advisory lock key under which test processes check and
	// build templates; it spells "stockroo" in ASCII.
	templateLock int64 = 0x73746f636b726f6f

	objectInUse       = "55006" // SQLSTATE: the source database is being accessed by other users
	invalidCatalog    = "3D000" // SQLSTATE: the database does not exist
	setupTimeout      = 2 * time.Minute
	busyRetryAttempts = 8
)

// New returns a pool on a new, migrated database of its own, dropped when the test
// ends. It fails the test when no server is available.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return NewWithConfig(t, nil)
}

// NewWithConfig is New, letting adjust change the pool's config first: set a pgx
// QueryTracer to count statements, say. adjust may be nil.
func NewWithConfig(t testing.TB, adjust func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	dbURL := NewURL(t)
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatal("dbtest: the test database's URL is malformed") // it may hold a password
	}
	shared.srv.throughPooler(cfg) // NewURL succeeded: the server is there
	if adjust != nil {
		adjust(cfg)
	}
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(pool.Close) // runs before NewURL's drop: cleanups run last-in, first-out
	return pool
}

// NewURL is New for callers that need a connection URL (config, subprocesses). The
// database is dropped when the test ends, with any connections still open to it.
func NewURL(t testing.TB) string {
	t.Helper()
	srv, err := sharedServer()
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), setupTimeout)
	defer cancel()
	name, err := srv.createDatabase(ctx)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := srv.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("dbtest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(srv.adminURL, name)
}

// Main runs a package's tests, then stops the private cluster if they started one,
// and exits. Call it from TestMain; it is optional (see the package comment).
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit: it returns the tests' exit code, for a TestMain that
// has its own cleanup to do afterwards (a browser, say).
func Run(m *testing.M) int {
	code := m.Run()
	// After this Do, no test can start a server, and whatever an earlier Do stored
	// is visible here.
	shared.once.Do(func() { shared.err = errors.New("asked for a database after dbtest.Main finished") })
	if shared.srv != nil {
		if err := shared.srv.close(); err != nil {
			fmt.Fprintln(os.Stderr, "dbtest:", err)
		}
	}
	return code
}

// server is where this test process makes its databases.
type server struct {
	adminURL string
	admin    *pgxpool.Pool

	cluster  *devdb.Cluster // the private cluster, when that is the server
	dir      string         // the private cluster's temporary directory
	dataDir  string         // where dir links to, when the cluster lives apart; else ""
	watchdog io.Closer      // see startWatchdog; held so that it stays open

	pooler         *devdb.Pgbouncer // STOCKROOM_TEST_POOLER's, else nil
	poolerDir      string
	poolerWatchdog io.Closer

	mu       sync.Mutex
	template string // the template's name, once it is known to exist
}

// shared is the server of this test process, chosen on first use. Package state,
// but only tests reach it, and it is set once.
var shared struct {
	once sync.Once
	srv  *server
	err  error
}

func sharedServer() (*server, error) {
	shared.once.Do(func() {
		shared.srv, shared.err = openServer()
		if shared.err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
			defer cancel()
			shared.err = shared.srv.startPooler(ctx)
		}
	})
	return shared.srv, shared.err
}

// openServer finds a server in the order the package comment gives.
func openServer() (*server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if adminURL := os.Getenv(urlEnv); adminURL != "" {
		admin, err := connectAdmin(ctx, adminURL)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", urlEnv, err)
		}
		return &server{adminURL: adminURL, admin: admin}, nil
	}
	probeCtx, cancelProbe := context.WithTimeout(ctx, time.Second)
	admin, localErr := connectAdmin(probeCtx, localURL)
	cancelProbe()
	if localErr == nil {
		return &server{adminURL: localURL, admin: admin}, nil
	}
	srv, err := startPrivate(ctx)
	if err != nil {
		return nil, fmt.Errorf("no PostgreSQL for the tests: %s is not set; 127.0.0.1:5432 does not answer (%v); "+
			"and a private cluster did not start: %w", urlEnv, localErr, err)
	}
	return srv, nil
}

// connectAdmin opens a small pool on an admin URL and checks that the server answers.
func connectAdmin(ctx context.Context, adminURL string) (*pgxpool.Pool, error) {
	if u, err := url.Parse(adminURL); err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, errors.New("want a postgres:// URL") // never echo it: it may hold a password
	}
	cfg, err := pgxpool.ParseConfig(adminURL)
	if err != nil {
		return nil, errors.New("the URL is malformed")
	}
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// startPrivate starts a throwaway cluster in a new temporary directory.
func startPrivate(ctx context.Context) (*server, error) {
	dir, err := os.MkdirTemp("", "stockroom-dbtest-")
	if err != nil {
		return nil, err
	}
	srv := &server{dir: dir}
	if srv.cluster, err = devdb.Start(ctx, dir, nil); err != nil {
		srv.close()
		return nil, err
	}
	// As root with a private TMPDIR, the cluster lives apart and dir links to it
	// (devdb's relocate): both go at the end.
	if srv.cluster.Link != "" {
		srv.dataDir = srv.cluster.Dir
	}
	if srv.watchdog, err = startWatchdog(srv.cluster.Dir, dir); err != nil {
		srv.close()
		return nil, err
	}
	srv.adminURL = srv.cluster.URL("postgres")
	if srv.admin, err = connectAdmin(ctx, srv.adminURL); err != nil {
		srv.close()
		return nil, err
	}
	return srv, nil
}

// watchdogScript waits for EOF on stdin, which comes when the test process exits,
// however it exits (a test timeout's panic skips Main), then stops the postmaster of
// the cluster in $1 (SIGINT: a fast shutdown) and removes $1 and the other arguments.
const watchdogScript = `read _
pid=$(head -n 1 "$1/postmaster.pid" 2>/dev/null) && kill -INT "$pid" 2>/dev/null
i=0
while [ -e "$1/postmaster.pid" ] && [ "$i" -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
rm -rf "$@"`

// startWatchdog starts a shell that outlives this process to clean up after it.
// Closing the returned pipe sets it off.
func startWatchdog(dataDir string, more ...string) (io.Closer, error) {
	cmd := exec.Command("/bin/sh", append([]string{"-c", watchdogScript, "dbtest-watchdog", dataDir}, more...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a Ctrl-C must not end it first
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("watchdog: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("watchdog: %w", err)
	}
	return stdin, nil
}

// close releases the server: the pool, and the private cluster with its files.
func (s *server) close() error {
	if s.pooler != nil {
		s.pooler.Stop()
		os.RemoveAll(s.poolerDir)
		s.poolerWatchdog.Close()
	}
	if s.admin != nil {
		s.admin.Close()
	}
	var err error
	if s.cluster != nil {
		err = s.cluster.Stop()
	}
	if err == nil && s.dir != "" {
		err = os.RemoveAll(s.dir)
	}
	if err == nil && s.dataDir != "" {
		err = os.RemoveAll(s.dataDir)
	}
	if s.watchdog != nil {
		s.watchdog.Close() // after Stop: its work is done, or it finishes it
	}
	return err
}

// createDatabase clones the template into a new database and returns its name.
func (s *server) createDatabase(ctx context.Context) (string, error) {
	name := testPrefix + randomHex(8)
	for attempt := 1; ; attempt++ {
		tmpl, err := s.ensureTemplate(ctx)
		if err != nil {
			return "", err
		}
		err = retryBusy(ctx, func() error {
			_, err := s.admin.Exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(tmpl))
			return err
		})
		// Tests of another checkout, with other migrations, may have dropped our
		// template as outdated: build it again.
		if sqlState(err) == invalidCatalog && attempt == 1 {
			s.forgetTemplate()
			continue
		}
		if err != nil {
			return "", fmt.Errorf("create database %s from %s: %w", name, tmpl, err)
		}
		return name, nil
	}
}

func (s *server) forgetTemplate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.template = ""
}

// ensureTemplate returns the name of the template database for the migrations of
// this build, stockroom_tmpl_<hash>, building it unless it exists. Concurrent test
// processes (go test runs packages in parallel) take turns under an advisory lock.
// A template is built under a temporary name and renamed when fully migrated, so
// none is ever cloned half-done.
func (s *server) ensureTemplate(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.template != "" {
		return s.template, nil
	}
	name, err := templateName()
	if err != nil {
		return "", err
	}
	// A connection of its own: the lock is the session's and goes with it, even
	// when a step below fails halfway.
	conn, err := pgx.Connect(ctx, s.adminURL)
	if err != nil {
		return "", fmt.Errorf("template: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return "", fmt.Errorf("template: lock: %w", err)
	}
	var exists bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		return "", fmt.Errorf("template: %w", err)
	}
	if !exists {
		if err := s.buildTemplate(ctx, conn, name); err != nil {
			return "", err
		}
		dropOldTemplates(ctx, conn, name)
	}
	s.template = name
	return name, nil
}

// buildTemplate creates and migrates the template under a temporary name, then
// gives it its final name. It runs under the advisory lock, so a temporary database
// found here is a leftover of a process that died while building.
func (s *server) buildTemplate(ctx context.Context, conn *pgx.Conn, name string) error {
	wip := name + "_wip"
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(wip)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("template: drop leftover %s: %w", wip, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident(wip)); err != nil {
		return fmt.Errorf("template: create %s: %w", wip, err)
	}
	pool, err := pgxpool.New(ctx, withDatabase(s.adminURL, wip))
	if err != nil {
		return fmt.Errorf("template: %w", err)
	}
	err = store.Migrate(ctx, pool, "up")
	pool.Close()
	if err != nil {
		return fmt.Errorf("template: migrate %s: %w", wip, err)
	}
	// The server ends the pool's backends a moment after they disconnect.
	err = retryBusy(ctx, func() error {
		_, err := conn.Exec(ctx, "ALTER DATABASE "+ident(wip)+" RENAME TO "+ident(name))
		return err
	})
	if err != nil {
		return fmt.Errorf("template: rename %s: %w", wip, err)
	}
	return nil
}

// dropOldTemplates drops the templates of other migrations, as far as it can: one a
// test process of another checkout is cloning right now stays, and errors are
// ignored. A stockroom_tmpl_ database that is in use cannot be dropped without FORCE.
func dropOldTemplates(ctx context.Context, conn *pgx.Conn, keep string) {
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database
		WHERE starts_with(datname, $1) AND datname <> $2`, templatePrefix, keep)
	if err != nil {
		return
	}
	old, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range old {
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name))
	}
}

// templateName is stockroom_tmpl_ and the first 12 hex digits of a SHA-256 over the
// names and contents of all migration files and River's schema version: new
// migrations, new template.
func templateName() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		// Lengths first, so that no two different sets of files hash alike.
		fmt.Fprintf(h, "%d:%s %d:", len(path), path, len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	// River's migrations come from its module: a new River, a new template.
	fmt.Fprintf(h, "river:%d", store.RiverVersion())
	return templatePrefix + hex.EncodeToString(h.Sum(nil))[:12], nil
}

// retryBusy runs fn until it does not fail with "being accessed by other users",
// backing off from 25 ms, a few times at most.
func retryBusy(ctx context.Context, fn func() error) error {
	wait := 25 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if sqlState(err) != objectInUse || attempt == busyRetryAttempts {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 2
	}
}

func sqlState(err error) string {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr.Code
	}
	return ""
}

// withDatabase returns adminURL with its database replaced by name. adminURL has
// passed connectAdmin, so it parses.
func withDatabase(adminURL, name string) string {
	u, _ := url.Parse(adminURL)
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails: crypto/rand panics rather than return an error
	return hex.EncodeToString(b)
}
