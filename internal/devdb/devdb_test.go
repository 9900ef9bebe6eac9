package devdb

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestClusterKeepsDataAcrossRestarts(t *testing.T) {
	ctx := t.Context()
	dir := clusterDir(t)
	c := start(t, dir)
	if err := c.CreateDatabase(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateDatabase(ctx, "shop"); err != nil {
		t.Fatalf("CreateDatabase of an existing database: %v", err)
	}
	execSQL(t, c.URL("shop"), "CREATE TABLE kept (v text)", "INSERT INTO kept VALUES ('hello')")

	pid := postmasterPID(t, dir)
	if pgid, err := syscall.Getpgid(pid); err != nil || pgid == syscall.Getpgrp() {
		t.Errorf("postmaster's process group = %d (%v), want one apart from ours (%d)", pgid, err, syscall.Getpgrp())
	}
	socket := filepath.Join(c.SocketDir, ".s.PGSQL."+strconv.Itoa(c.Port()))
	if _, err := os.Stat(socket); err != nil {
		t.Errorf("unix socket: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	assertStopped(t, dir, pid)

	c = start(t, dir)
	var got string
	conn := connect(t, c.URL("shop"))
	if err := conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "hello" {
		t.Errorf("after a restart, kept.v = %q, want %q", got, "hello")
	}
	conn.Close(ctx) // Stop's fast shutdown would end it anyway; this is just tidy
	pid = postmasterPID(t, dir)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	assertStopped(t, dir, pid)
}

func TestStartStopsAServerLeftRunning(t *testing.T) {
	dir := clusterDir(t)
	orphan := start(t, dir) // as if its process had died without Stop
	pid := postmasterPID(t, dir)

	c := start(t, dir)
	assertGone(t, pid)
	execSQL(t, c.URL("postgres"), "SELECT 1")
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := orphan.Stop(); err != nil {
		t.Errorf("Stop of a cluster whose server is gone: %v", err)
	}
}

func TestStartAfterACrash(t *testing.T) {
	dir := clusterDir(t)
	start(t, dir)
	pid := postmasterPID(t, dir)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	assertGone(t, pid)

	c := start(t, dir)
	execSQL(t, c.URL("postgres"), "SELECT 1")
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
}

func TestStartRemovesAStalePIDFile(t *testing.T) {
	dir := clusterDir(t)
	c := start(t, dir)
	pidFile := filepath.Join(dir, "postmaster.pid")
	content, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	// The PID of a dead postmaster, reused by a live process that is not postgres:
	// postgres itself would refuse to start over this file.
	_, rest, _ := bytes.Cut(content, []byte("\n"))
	stale := append([]byte(strconv.Itoa(os.Getpid())+"\n"), rest...)
	if err := os.WriteFile(pidFile, stale, 0o600); err != nil {
		t.Fatal(err)
	}
	sameOwner(t, pidFile, dir)

	c = start(t, dir)
	execSQL(t, c.URL("postgres"), "SELECT 1")
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
}

func TestStartWithASocketPathTooLong(t *testing.T) {
	dir := filepath.Join(clusterDir(t), strings.Repeat("d", 100))
	c := start(t, dir)
	if c.Link != "" || c.Dir != dir {
		t.Errorf("cluster in %s (linked from %q), want it where asked, %s: its parents were merely not made yet", c.Dir, c.Link, dir)
	}
	if c.SocketDir == c.Dir || len(c.SocketDir) > 60 {
		t.Errorf("SocketDir = %q, want a short directory apart from Dir", c.SocketDir)
	}
	execSQL(t, c.URL("postgres"), "SELECT 1")
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.SocketDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket directory after Stop: %v, want it gone", err)
	}
}

func TestStartOnATakenPort(t *testing.T) {
	dir := clusterDir(t)
	c, err := Start(t.Context(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	err = c.start(t.Context(), port)
	if err == nil {
		c.stopServer(t.Context())
		t.Fatalf("start on port %d, which is taken, succeeded", port)
	}
	if !errors.Is(err, errPortTaken) {
		t.Errorf("start error = %v, want errPortTaken", err)
	}
	if !strings.Contains(err.Error(), "could not bind") {
		t.Errorf("start error = %v, want the server log's lines in it", err)
	}
	if c.postmasterRunning() {
		t.Error("a postmaster runs after a failed start")
	}
}

func TestStartRefusesANonEmptyDirectory(t *testing.T) {
	dir := clusterDir(t)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Start(t.Context(), dir, nil)
	if err == nil {
		c.Stop()
		t.Fatal("Start on a directory with other files succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "neither empty nor a PostgreSQL data directory") {
		t.Errorf("Start error = %v, want it to say the directory is not empty", err)
	}
}

// As root, a cluster asked for in a directory the postgres user cannot reach (a
// checkout under /root, any 0700 directory) lives under a base it can reach, the
// directory asked for a link to it; the owner's directory stays closed, the data
// outlives a restart, and Stop leaves no process.
func TestStartAsRootOutOfPostgresReach(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the cluster to the postgres user")
	}
	ctx := t.Context()
	blocked := t.TempDir() // root's, inside testing's own 0700 directory
	if err := os.Chmod(blocked, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(blocked, "checkout", ".data", "postgres")
	c := start(t, dir)
	t.Cleanup(func() { os.RemoveAll(c.Dir) })
	if c.Link != dir || !strings.HasPrefix(c.Dir, relocationBases[0]+"/") {
		t.Errorf("Dir %q Link %q, want a directory under %s linked from %s", c.Dir, c.Link, relocationBases[0], dir)
	}
	if target, err := os.Readlink(dir); err != nil || target != c.Dir {
		t.Errorf("readlink %s = %q, %v; want %s", dir, target, err, c.Dir)
	}
	if st, err := os.Stat(blocked); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("%s: %v, mode %v; want it left 0700", blocked, err, st.Mode().Perm())
	}
	owner, err := lookupServerUser()
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(c.Dir); err != nil || st.Sys().(*syscall.Stat_t).Uid != owner.uid || st.Mode().Perm() != 0o700 {
		t.Errorf("%s: %v %v; want postgres's, 0700", c.Dir, err, st)
	}
	execSQL(t, c.URL("postgres"), "CREATE TABLE kept (v text)", "INSERT INTO kept VALUES ('hello')")
	pid := postmasterPID(t, c.Dir)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	assertStopped(t, c.Dir, pid)

	again := start(t, dir)
	if again.Dir != c.Dir {
		t.Errorf("second start in %s, want the first's %s", again.Dir, c.Dir)
	}
	var got string
	if err := connect(t, again.URL("postgres")).QueryRow(ctx, "SELECT v FROM kept").Scan(&got); err != nil || got != "hello" {
		t.Errorf("after a restart: %q, %v; want the data kept", got, err)
	}
	pid = postmasterPID(t, again.Dir)
	if err := again.Stop(); err != nil {
		t.Fatal(err)
	}
	assertStopped(t, again.Dir, pid)
}

// A directory out of the postgres user's reach that holds files already is not
// moved or linked: the error says what to do.
func TestStartAsRootOutOfReachWithFiles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the cluster to the postgres user")
	}
	blocked := t.TempDir()
	if err := os.Chmod(blocked, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(blocked, "pg")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Start(t.Context(), dir, nil)
	if err == nil {
		c.Stop()
		os.RemoveAll(c.Dir)
		t.Fatal("Start over files out of reach succeeded, want an error")
	}
	for _, want := range []string{dir, "STOCKROOM_DATABASE_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start error = %v, want it to name %s", err, want)
		}
	}
	if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() {
		t.Errorf("%s: %v, want the directory left as it was", dir, err)
	}
}

// clusterDir returns a new, empty directory for a cluster. t.TempDir's parent is a
// 0700 directory of ours; as root, it is opened to others so the postgres user can
// reach the cluster (only the test's own directory, never /tmp itself).
func clusterDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		if err := os.Chmod(filepath.Dir(dir), 0o711); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "pg")
}

// sameOwner gives file the owner of dir, as if the server had written it.
func sameOwner(t *testing.T, file, dir string) {
	t.Helper()
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	if err := os.Chown(file, int(sys.Uid), int(sys.Gid)); err != nil {
		t.Fatal(err)
	}
}

// start starts the cluster in dir and makes sure it is stopped when the test ends.
func start(t *testing.T, dir string) *Cluster {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := Start(t.Context(), dir, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func execSQL(t *testing.T, url string, statements ...string) {
	t.Helper()
	conn := connect(t, url)
	for _, sql := range statements {
		if _, err := conn.Exec(t.Context(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	conn.Close(t.Context())
}

func postmasterPID(t *testing.T, dir string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(line)
	if err != nil {
		t.Fatalf("postmaster.pid: %v", err)
	}
	return pid
}

// assertStopped checks that no server runs in dir any more.
func assertStopped(t *testing.T, dir string, pid int) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("postmaster.pid after Stop: %v, want it gone", err)
	}
	assertGone(t, pid)
}

// assertGone waits briefly for process pid to exit: a SIGKILL takes effect
// asynchronously. A zombie counts as gone: here, no one may reap an orphan.
func assertGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := syscall.Kill(pid, 0)
		if errors.Is(err, syscall.ESRCH) || isZombie(pid) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still exists (kill 0: %v), want it gone", pid, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isZombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...: comm may hold spaces, the state follows the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}
