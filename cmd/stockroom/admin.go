package main

import (
	"log/slog"

	"github.com/stockroom-dev/stockroom/internal/admin"
	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/web/session"
)

// adminOptions wires the admin's dependencies: sign-in, the catalog and the orders
// (the ones the API uses too), the media directory, and the audit log.
func adminOptions(e *env, st *store.Store, cat *catalog.Catalog, ord *orders.Orders, svc *auth.Service, sessions *session.Manager, log *slog.Logger) admin.Options {
	return admin.Options{
		Auth: svc, Sessions: sessions, Log: log,
		Catalog:  cat,
		Orders:   ord,
		Audit:    audit.New(st),
		MediaDir: e.cfg.MediaDir,
		Currency: e.cfg.Currency,
	}
}
