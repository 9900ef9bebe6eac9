package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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

type stoppingKey struct{}

// Stopping is closed when the server that received r's request begins to shut
// down. Long-lived responses (event streams) end themselves on it: http.Server's
// Shutdown waits for them but never interrupts them, and a request's own context
// is only cancelled when its client leaves. Outside Serve it is never closed.
func Stopping(ctx context.Context) <-chan struct{} {
	if ch, ok := ctx.Value(stoppingKey{}).(chan struct{}); ok {
		return ch
	}
	return nil
}

// Serve serves on ln until ctx is done, then drains and stops accepting as stop
// says, giving in-flight requests up to stop.Grace to finish. It returns nil after
// a clean shutdown.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, stop Stop) error {
	stopping := make(chan struct{})
	srv.BaseContext = func(net.Listener) context.Context {
		return context.WithValue(context.Background(), stoppingKey{}, stopping)
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
	close(stopping)
	sctx, cancel := context.WithTimeout(context.Background(), stop.Grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown after %s: %w", stop.Grace, err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
