package main

import (
	"log/slog"

	"github.com/stockroom-dev/stockroom/internal/admin"
	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// adminOptions wires the admin's dependencies: sign-in, the catalog (the one the
// API uses too), its media directory, and the audit log.
func adminOptions(e *env, st *store.Store, cat *catalog.Catalog, svc *auth.Service, sessions *auth.Sessions, log *slog.Logger) admin.Options {
	return admin.Options{
		Auth: svc, Sessions: sessions, Log: log,
		Catalog:  cat,
		Audit:    audit.New(st),
		MediaDir: e.cfg.MediaDir,
		Currency: e.cfg.Currency,
	}
}
