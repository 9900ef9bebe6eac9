// Package listen keeps one dedicated PostgreSQL connection per process for LISTEN,
// and hands each notification to the handler of its channel. It is built on
// github.com/jackc/pgxlisten, adding a backoff between reconnections and a hook that
// runs after every (re)connection.
//
// NOTIFY is at-most-once: whatever is sent while the connection is down is lost. So
// each user of a channel keeps its own record of what it has seen (an id, a version)
// and catches up in Handler.Connected, which runs once LISTEN is in place again;
// notifications only say "look now". One listener serves every channel of a process
// (events, cache invalidation, ...): register them all with Handle before Run.
package listen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgxlisten"
)

// ApplicationName names the listener's connection in pg_stat_activity.
const ApplicationName = "stockroom-listen"

// Handler receives one channel's notifications. Both funcs run on the listener's
// goroutine, one at a time: they must return quickly (signal another goroutine that
// does the work on the pool), never query on the listener's connection.
type Handler struct {
	// Notify is called with each notification's payload.
	Notify func(ctx context.Context, payload string)
	// Connected, if set, is called after each (re)connection once LISTEN is in
	// place, the first included: anything notified while there was no connection
	// was lost, so the subscriber reads what changed since it last looked.
	Connected func(ctx context.Context)
}

// Listener is a process's one LISTEN connection.
type Listener struct {
	cfg      *pgx.ConnConfig
	log      *slog.Logger
	handlers map[string]Handler

	// MinBackoff and MaxBackoff bound the wait before reconnecting after a
	// connection that failed or lived less than Stable: it doubles from MinBackoff
	// up to MaxBackoff, and a connection that lived longer reconnects at once.
	MinBackoff, MaxBackoff, Stable time.Duration

	mu       sync.Mutex
	running  bool
	lastDial time.Time
	wait     time.Duration
}

// New makes a listener connecting like pool does (same server, user, password and
// TLS), on a connection of its own outside the pool.
func New(pool *pgxpool.Pool, log *slog.Logger) *Listener {
	cfg := pool.Config().ConnConfig.Copy()
	cfg.Tracer = nil // a test's statement counter counts requests, not the listener
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = ApplicationName
	return &Listener{cfg: cfg, log: log, handlers: map[string]Handler{},
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second, Stable: 30 * time.Second}
}

// Handle sets the handler of channel. Call it before Run.
func (l *Listener) Handle(channel string, h Handler) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running {
		panic("listen: Handle called after Run")
	}
	if h.Notify == nil {
		panic("listen: Handler.Notify is nil for channel " + channel)
	}
	l.handlers[channel] = h
}

// Run listens until ctx ends, reconnecting whenever the connection is lost. It
// returns ctx's error, or an error at once when no channel has a handler.
func (l *Listener) Run(ctx context.Context) error {
	l.mu.Lock()
	if len(l.handlers) == 0 {
		l.mu.Unlock()
		return errors.New("listen: no handlers")
	}
	l.running = true
	l.mu.Unlock()
	pl := &pgxlisten.Listener{
		Connect: l.dial,
		LogError: func(ctx context.Context, err error) {
			if ctx.Err() == nil {
				l.log.WarnContext(ctx, "listen: connection lost, reconnecting", "err", err)
			}
		},
		ReconnectDelay: -1, // dial waits, with backoff
	}
	for channel, h := range l.handlers {
		pl.Handle(channel, adapter{h})
	}
	return pl.Listen(ctx)
}

// dial connects, first waiting out the backoff when the previous connection failed
// or did not last.
func (l *Listener) dial(ctx context.Context) (*pgx.Conn, error) {
	l.mu.Lock()
	if !l.lastDial.IsZero() {
		if time.Since(l.lastDial) < l.Stable {
			l.wait = min(max(2*l.wait, l.MinBackoff), l.MaxBackoff)
		} else {
			l.wait = 0
		}
	}
	wait := l.wait
	l.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	l.mu.Lock()
	l.lastDial = time.Now()
	l.mu.Unlock()
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return nil, fmt.Errorf("listen: connect: %w", err)
	}
	return conn, nil
}

// adapter is a pgxlisten handler: a BacklogHandler too, which pgxlisten calls after
// each LISTEN, so Connected is the catch-up hook.
type adapter struct{ h Handler }

func (a adapter) HandleNotification(ctx context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	a.h.Notify(ctx, n.Payload)
	return nil
}

func (a adapter) HandleBacklog(ctx context.Context, _ string, _ *pgx.Conn) error {
	if a.h.Connected != nil {
		a.h.Connected(ctx)
	}
	return nil
}
