package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stockroom-dev/stockroom/internal/admin"
	"github.com/stockroom-dev/stockroom/internal/api"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/events"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/store/jobs"
	"github.com/stockroom-dev/stockroom/internal/store/listen"
	"github.com/stockroom-dev/stockroom/internal/web"
	"github.com/stockroom-dev/stockroom/internal/web/session"
)

// app is one running stockroom: the store, the logger and the HTTP handler.
type app struct {
	store    *store.Store
	migrator *store.Migrator
	sessions *session.Manager
	log      *slog.Logger
	handler  http.Handler
	draining *atomic.Bool // set on SIGTERM: /readyz fails while requests are still served
	jobs     *jobs.Queue
	e        *env
	stop     func()        // ends the listener and the event hub, after the HTTP server
	beating  chan struct{} // closed when the API's heartbeat has forgotten this process
}

// openStore connects to the configured database.
func openStore(ctx context.Context, e *env, url string) (*store.Store, error) {
	if url == "" {
		return nil, usagef("STOCKROOM_DATABASE_URL is not set")
	}
	st, err := store.Open(ctx, url, store.Options{MaxConns: e.cfg.DatabaseMaxConns,
		ReadURL: e.cfg.DatabaseReadURL, MaxLag: e.cfg.ReplicaMaxLag,
		Pooler: e.cfg.DatabasePooler, DirectURL: e.cfg.DatabaseDirectURL})
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	return st, nil
}

// newApp wires every package into one handler. It refuses a database whose schema
// does not match this binary's migrations.
func newApp(ctx context.Context, e *env, st *store.Store, log *slog.Logger) (*app, error) {
	m, err := store.NewMigrator(st.Pool())
	if err != nil {
		return nil, err
	}
	if err := m.Check(ctx); err != nil {
		m.Close()
		return nil, err
	}
	reg := prometheus.NewRegistry()
	metrics := web.NewMetrics(reg)
	web.RegisterPool(reg, st.PoolStats)
	web.RegisterReplica(reg, st.ReplicaStatus)

	draining := new(atomic.Bool)
	mux := http.NewServeMux()
	ops := web.NewRoutes(mux, func(perm string, h http.Handler) http.Handler { return h })
	ops.Handle("GET /healthz", web.Public, web.Health())
	ops.Handle("GET /readyz", web.Public, web.Ready(readiness(st, m, draining, log)))
	ops.Handle("GET /metrics", web.Public, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	// The process's one LISTEN connection (internal/store/listen): every channel's handler
	// is registered below, then it runs for as long as the app.
	// Behind a transaction-mode pooler it needs STOCKROOM_DATABASE_DIRECT_URL (st.Direct).
	lst := listen.New(st.Direct(), log)
	// Principals (token or session → user and permissions) kept for seconds, forgotten
	// on every auth change on any instance (migration 0011 notifies ChangesChannel).
	principals := auth.NewPrincipalCache(0, 0)
	lst.Handle(auth.ChangesChannel, principals.Handler())
	// The event hub reads each new event once and fans it out to this process's
	// streams (/api/v1/events, /admin/events).
	hub := events.NewHub(st, log, events.Options{AuthGeneration: principals.Generation, PerUser: e.cfg.StreamsPerUser})
	lst.Handle(events.Channel, hub.Handler())
	lst.Handle(events.PresenceChannel, hub.PresenceHandler())
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "stockroom_event_streams",
			Help: "Event streams (admin tabs, API clients) open on this instance."}, func() float64 { return float64(hub.Streams()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "stockroom_event_streams_cut_total",
			Help: "Event streams cut because their client read too slowly."}, func() float64 { return float64(hub.Cut()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "stockroom_events_read_total",
			Help: "Events this instance read once and fanned out to its streams."}, func() float64 { return float64(hub.Read()) }))

	// The job queue: every worker registered, working unless --no-workers. Its
	// periodic cleanup deletes expired sessions, so the sessions run none of their own.
	queue, hooks, err := newQueue(ctx, e, st, log, !e.noWorkers, reg)
	if err != nil {
		m.Close()
		return nil, err
	}
	svc := newAuth(e, st, log, principals)
	sessions := newSessions(e, st, svc, log)
	// Session rows kept for seconds, each forgotten when it changes on any instance
	// (migration 0088 notifies session.Channel).
	lst.Handle(session.Channel, sessions.Handler())
	cat := catalog.New(st, catalog.Config{MediaDir: e.cfg.MediaDir, LowStock: e.cfg.LowStock})
	// The category tree kept until a category changes on any instance (migration
	// 0084 notifies CategoriesChannel): the product list draws its filter from it.
	lst.Handle(catalog.CategoriesChannel, cat.CategoryTreeHandler())
	ord := orders.New(st, orders.Config{Currency: e.cfg.Currency, TaxRate: e.cfg.TaxRateBPS})
	imp := newImports(e, st, queue)
	admOpts := adminOptions(e, st, cat, ord, imp, svc, sessions, log)
	admOpts.Events = hub // live pages
	admOpts.Webhooks = hooks
	admOpts.Jobs = queue
	adm, err := admin.New(admOpts)
	if err == nil {
		_, err = adm.Routes(mux)
	}
	if err != nil {
		stopQueue(e, queue, log)
		sessions.Close()
		m.Close()
		return nil, fmt.Errorf("admin: %w", err)
	}

	// The JSON API: bearer tokens, or the admin session cookie for same-origin
	// browser calls.
	jsonAPI, err := api.New(ctx, st, log, api.Options{
		Catalog: cat, Orders: ord, Currency: e.cfg.Currency, RatePerMinute: e.cfg.APIRatePerMinute,
		SessionPrincipal: sessionPrincipal(sessions, auth.Policy(e.cfg.Require2FA)), Tokens: auth.NewTokens(st).WithCache(principals),
		Events:   hub,
		Webhooks: hooks, Imports: imp,
	})
	if err == nil {
		err = errors.Join(ops.Err(), jsonAPI.Routes(mux).Err())
	}
	if err != nil {
		stopQueue(e, queue, log)
		sessions.Close()
		m.Close()
		return nil, err
	}
	// The listener and the hub outlive ctx (the signal) until close: streams end when
	// the HTTP server begins to stop (web.Stopping), after the drain, and until then
	// they go on hearing events.
	life, stop := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		if err := lst.Run(life); err != nil && life.Err() == nil {
			log.Error("listener stopped", "err", err)
		}
	}()
	go func() {
		if err := hub.Run(life); err != nil && life.Err() == nil {
			log.Error("event hub stopped", "err", err)
		}
	}()
	// Every second, tell the other copies this one is alive, so that the
	// idempotency keys of requests it was running when killed are taken over within
	// seconds (internal/api, RunHeartbeat).
	beating := make(chan struct{})
	go func() {
		defer close(beating)
		jsonAPI.RunHeartbeat(life)
	}()
	return &app{store: st, migrator: m, sessions: sessions, log: log, handler: web.Middleware(log, metrics, mux),
		draining: draining, jobs: queue, e: e, stop: stop, beating: beating}, nil
}

// readiness reports whether the database answers and is migrated to this binary's
// schema. The reason is for operators; details go to the log.
func readiness(st *store.Store, m *store.Migrator, draining *atomic.Bool, log *slog.Logger) func(ctx context.Context) (string, bool) {
	return func(ctx context.Context) (string, bool) {
		if draining.Load() {
			return "shutting down", false
		}
		if err := st.Ping(ctx); err != nil {
			log.WarnContext(ctx, "not ready", "err", err)
			return "database unreachable", false
		}
		if err := m.Check(ctx); err != nil {
			log.WarnContext(ctx, "not ready", "err", err)
			if errors.Is(err, store.ErrNotMigrated) {
				return err.Error(), false
			}
			return "database unreachable", false
		}
		// A replica that cannot answer leaves the copy ready (reads go to the
		// primary) but degraded, which the answer says.
		if r := st.ReplicaStatus(); r.Configured && !r.Usable {
			return "read replica bypassed: " + r.Reason, true
		}
		return "", true
	}
}

// gcPercent is the garbage collector's target (GOGC) of a serving process when the
// environment sets none. Go's default, 100, collects whenever the heap has doubled:
// a server whose live heap is a few MiB then spends a third of its CPU on the admin
// list (S5) collecting. 400 lets the heap grow to five times the live data, still
// tens of MiB (make bench reports RSS), for fewer collections. GOGC and GOMEMLIMIT
// in the environment keep their usual meaning.
const gcPercent = 400

// tuneGC sets gcPercent unless GOGC is set, and returns the target in force.
func tuneGC(getenv func(string) string) int {
	if v := getenv("GOGC"); v != "" {
		old := debug.SetGCPercent(100)
		debug.SetGCPercent(old) // the runtime read GOGC at start: keep it
		return old
	}
	debug.SetGCPercent(gcPercent)
	return gcPercent
}

// serveHTTP listens on the configured address and serves until ctx is done.
// announce is called once the listener is open, with the address it got.
func (a *app) serveHTTP(ctx context.Context, e *env, announce func(addr net.Addr)) error {
	a.log.Info("garbage collector", "gogc", tuneGC(e.getenv))
	ln, err := net.Listen("tcp", e.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if e.cfg.DebugAddr != "" {
		dln, err := net.Listen("tcp", e.cfg.DebugAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen for the profiler (STOCKROOM_DEBUG_ADDR): %w", err)
		}
		a.log.Info("profiler", "addr", dln.Addr().String(), "path", "/debug/pprof/")
		go func() {
			if err := web.Serve(ctx, web.NewDebugServer(), dln, web.Stop{Grace: time.Second}); err != nil {
				a.log.Warn("profiler stopped", "err", err)
			}
		}()
	}
	announce(ln.Addr())
	err = web.Serve(ctx, web.NewServer(a.handler, a.log), ln, web.Stop{
		Drain: e.cfg.DrainDelay,
		OnDrain: func() {
			a.draining.Store(true)
			a.log.Info("draining", "for", e.cfg.DrainDelay.String())
		},
		Grace: e.cfg.ShutdownGrace,
	})
	a.log.Info("stopped", "err", err)
	return err
}

// close stops the app once it serves no more: running jobs get the shutdown grace
// to finish (see stopQueue), then sessions and migrator go.
func (a *app) close() {
	a.stop()
	<-a.beating
	stopQueue(a.e, a.jobs, a.log)
	a.sessions.Close()
	a.migrator.Close()
}

// runServe is `stockroom serve`: production, config from the environment.
func runServe(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usagef("serve takes no arguments")
	}
	log := e.cfg.Logger(e.stderr)
	st, err := openStore(ctx, e, e.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := newApp(ctx, e, st, log)
	if err != nil {
		return err
	}
	defer a.close()
	return a.serveHTTP(ctx, e, func(addr net.Addr) {
		log.Info("serving", "addr", addr.String())
	})
}
