package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// NewServer returns an http.Server with timeouts set, so a slow or idle client
// cannot hold a connection forever. Streams (CSV export, live updates) lift the
// write deadline for themselves with http.ResponseController.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // image uploads up to 10 MiB on slow links
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    http.DefaultMaxHeaderBytes, // withLimits answers below this (MaxURI, MaxHeader)
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Stop says how Serve stops once its context is done.
type Stop struct {
	// Drain is how long the server goes on serving after the signal, with OnDrain
	// called first (readiness then fails) and keep-alive off (each response closes
	// its connection), so a load balancer's health check takes the instance out of
	// rotation before it stops accepting: no request is sent to a closed port.
	Drain   time.Duration
	OnDrain func()
	// Grace is how long in-flight requests then get to finish.
	Grace time.Duration
}

type servingKey struct{}

// serving is what Serve tells the requests it serves about itself.
type serving struct {
	stopping chan struct{}
	held     sync.WaitGroup // responses going on after their handler returned
}

// Stopping is closed when the server that received r's request begins to shut
// down. Long-lived responses (event streams) end themselves on it: http.Server's
// Shutdown waits for them but never interrupts them, and a request's own context
// is only cancelled when its client leaves. Outside Serve it is never closed.
func Stopping(ctx context.Context) <-chan struct{} {
	if s, ok := ctx.Value(servingKey{}).(*serving); ok {
		return s.stopping
	}
	return nil
}

// Hold tells the server that received ctx's request that its response goes on
// after the handler returns (an event stream that took over its connection with
// http.ResponseController.Hijack, which http.Server's Shutdown no longer waits
// for): Serve's shutdown waits for release as it waits for handlers, within the
// same grace. Call it before the handler returns; outside Serve it does nothing.
func Hold(ctx context.Context) (release func()) {
	s, ok := ctx.Value(servingKey{}).(*serving)
	if !ok {
		return func() {}
	}
	s.held.Add(1)
	return sync.OnceFunc(s.held.Done)
}

// Serve serves on ln until ctx is done, then drains and stops accepting as stop
// says, giving in-flight requests up to stop.Grace to finish. It returns nil after
// a clean shutdown.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, stop Stop) error {
	sv := &serving{stopping: make(chan struct{})}
	srv.BaseContext = func(net.Listener) context.Context {
		return context.WithValue(context.Background(), servingKey{}, sv)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(problemListener{ln}) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	if stop.OnDrain != nil {
		stop.OnDrain()
	}
	if stop.Drain > 0 {
		srv.SetKeepAlivesEnabled(false)
		select {
		case <-time.After(stop.Drain):
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		}
	}
	close(sv.stopping)
	sctx, cancel := context.WithTimeout(context.Background(), stop.Grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown after %s: %w", stop.Grace, err)
	}
	// Every handler has returned: no Hold comes after this Wait begins.
	held := make(chan struct{})
	go func() { sv.held.Wait(); close(held) }()
	select {
	case <-held:
	case <-sctx.Done():
		return fmt.Errorf("shutdown after %s: held responses still going", stop.Grace)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
