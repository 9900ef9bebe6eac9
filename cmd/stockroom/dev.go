package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"

	"github.com/stockroom-dev/stockroom/internal/devdb"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// runDev is `stockroom dev`: the embedded default. Without STOCKROOM_DATABASE_URL it
// runs a private PostgreSQL cluster under the data dir, stopped again on exit; it
// migrates, prepares the shop on first start and serves on 127.0.0.1:8080.
func runDev(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usagef("dev takes no arguments")
	}
	log := e.cfg.Logger(e.stderr)
	url := e.cfg.DatabaseURL
	if url == "" {
		dir, err := filepath.Abs(filepath.Join(e.cfg.DataDir, "postgres"))
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "starting PostgreSQL in %s ...\n", dir)
		cluster, err := devdb.Start(ctx, dir, log)
		if err != nil {
			return err
		}
		defer func() {
			if err := cluster.Stop(); err != nil {
				log.Error("stop PostgreSQL", "err", err)
			}
		}()
		if err := cluster.CreateDatabase(ctx, "stockroom"); err != nil {
			return err
		}
		url = cluster.URL("stockroom")
	}
	st, err := openStore(ctx, e, url)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := store.Migrate(ctx, st.Pool(), "up"); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := prepareDev(ctx, e, st); err != nil {
		return err
	}
	a, err := newApp(ctx, e, st, log)
	if err != nil {
		return err
	}
	defer a.close()
	return a.serveHTTP(ctx, e, func(addr net.Addr) {
		fmt.Fprintf(e.stdout, "stockroom is ready at http://%s/admin/  (Ctrl-C to stop)\n", addr)
	})
}

// prepareDev gives a new dev database what a new user needs to look around. Each
// step is idempotent: it does its work on the first start only.
func prepareDev(ctx context.Context, e *env, st *store.Store) error {
	if err := ensureDevAdmin(ctx, e, st); err != nil {
		return err
	}
	return seedDev(ctx, e, st)
}
