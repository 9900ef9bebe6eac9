package main

import (
	"log/slog"

	"github.com/stockroom-dev/stockroom/internal/admin"
	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/imports"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/web/session"
)

// adminOptions wires the admin's dependencies: sign-in, the catalog and the orders
// (the ones the API uses too), the media directory, and the audit log.
func adminOptions(e *env, st *store.Store, cat *catalog.Catalog, ord *orders.Orders, imp *imports.Service, svc *auth.Service, sessions *session.Manager, log *slog.Logger) admin.Options {
	if e.cfg.Require2FA != "off" && e.cfg.SecretKey == "" {
		log.Warn("STOCKROOM_REQUIRE_2FA covers users but STOCKROOM_SECRET_KEY is not set: they cannot set up an authenticator app",
			"require_2fa", e.cfg.Require2FA)
	}
	return admin.Options{
		Auth: svc, Sessions: sessions, Log: log,
		Catalog:  cat,
		Orders:   ord,
		Audit:    audit.New(st),
		MediaDir: e.cfg.MediaDir,
		Currency: e.cfg.Currency,
		// Load has checked the name: an unknown one never gets here.
		Require2FA: auth.Policy(e.cfg.Require2FA),
		BaseURL:    e.cfg.BaseURL,
		Imports:    imp,
	}
}
