package dbtest

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestTemplateNameIsStable(t *testing.T) {
	a, err := templateName()
	if err != nil {
		t.Fatal(err)
	}
	b, err := templateName()
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("templateName() = %q, then %q, want the same twice", a, b)
	}
	if !strings.HasPrefix(a, templatePrefix) || len(a) != len(templatePrefix)+12 {
		t.Errorf("templateName() = %q, want %s and 12 hex digits", a, templatePrefix)
	}
}

// TestPrivateCluster runs what a machine without a server on 5432 runs, and then
// what happens when the test process exits without dbtest.Main.
func TestPrivateCluster(t *testing.T) {
	ctx := t.Context()
	srv, err := startPrivate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.close(); err != nil {
			t.Error(err)
		}
	})
	name, err := srv.createDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, withDatabase(srv.adminURL, name))
	if err != nil {
		t.Fatal(err)
	}
	var table *string
	if err := conn.QueryRow(ctx, "SELECT to_regclass('goose_db_version')::text").Scan(&table); err != nil {
		t.Fatal(err)
	}
	if table == nil {
		t.Error("goose_db_version is missing, want the migrations applied")
	}
	conn.Close(ctx)

	data, err := os.ReadFile(filepath.Join(srv.dir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(line)
	if err != nil {
		t.Fatal(err)
	}
	// The pipe closes as it would when this process exits.
	srv.admin.Close()
	srv.watchdog.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, statErr := os.Lstat(srv.dir)
		_, dataErr := os.Lstat(srv.cluster.Dir) // apart from dir when root's TMPDIR is private
		killErr := syscall.Kill(pid, 0)
		if errors.Is(statErr, os.ErrNotExist) && errors.Is(dataErr, os.ErrNotExist) &&
			(errors.Is(killErr, syscall.ESRCH) || isZombie(pid)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the watchdog's pipe closed: stat %s: %v; stat %s: %v; postmaster %d: %v; want all gone",
				srv.dir, statErr, srv.cluster.Dir, dataErr, pid, killErr)
		}
	}
}

// isZombie reports whether pid has exited but not been reaped: here, nobody may
// reap an orphaned postmaster.
func isZombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}
