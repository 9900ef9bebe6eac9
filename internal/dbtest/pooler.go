package dbtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/devdb"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// poolerEnv set to "pgbouncer" runs every New and NewWithConfig pool through a
// pgbouncer in transaction pooling mode that this test process starts in front of
// its server, with statements run as store.Open runs them behind a pooler
// (store.PooledExecMode): `STOCKROOM_TEST_POOLER=pgbouncer go test ./internal/api`
// proves a package works behind pgbouncer. NewURL stays direct (it is for
// subprocesses, which configure themselves).
const poolerEnv = "STOCKROOM_TEST_POOLER"

// startPooler starts the pgbouncer of this test process when poolerEnv asks for it.
func (s *server) startPooler(ctx context.Context) error {
	switch v := os.Getenv(poolerEnv); v {
	case "":
		return nil
	case "pgbouncer":
	default:
		return fmt.Errorf("%s=%q: the only pooler is pgbouncer", poolerEnv, v)
	}
	u, err := url.Parse(s.adminURL)
	if err != nil {
		return fmt.Errorf("%s: the server's URL is malformed", poolerEnv)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		port = 5432
	}
	dir, err := os.MkdirTemp("", "stockroom-pgbouncer-")
	if err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	// Tests keep their pools at a few connections; each test database gets its own
	// server pool, given back within seconds of the test's end.
	if s.pooler, err = devdb.StartPgbouncer(ctx, dir, port, devdb.PgbouncerOptions{PoolSize: 4}); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("%s: %w", poolerEnv, err)
	}
	s.poolerDir = dir
	// Without dbtest.Main nothing would stop it: a shell does, once we exit.
	cmd := exec.Command("/bin/sh", "-c", `read _; kill -INT "$2" 2>/dev/null; sleep 1; rm -rf "$1"`,
		"dbtest-pooler-watchdog", dir, strconv.Itoa(s.pooler.PID()))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if s.poolerWatchdog, err = cmd.StdinPipe(); err == nil {
		err = cmd.Start()
	}
	if err != nil {
		return fmt.Errorf("%s: watchdog: %w", poolerEnv, err)
	}
	return nil
}

// throughPooler points cfg at the pooler, when there is one, and runs statements
// the way a pooled store does.
func (s *server) throughPooler(cfg *pgxpool.Config) {
	if s.pooler == nil {
		return
	}
	cfg.ConnConfig.Host, cfg.ConnConfig.Port = "127.0.0.1", uint16(s.pooler.Port())
	cfg.ConnConfig.Fallbacks = nil
	cfg.ConnConfig.DefaultQueryExecMode = store.PooledExecMode
}
