// Package session is the HTTP side of staff sessions: the cookie, loading and saving
// the session around a request (scs with its pgxstore, so every instance serves every
// session), the principal it stands for, flash messages and one-shot form keys. Who a
// session may stand for is auth's rule; this package only carries it between requests.
package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/store/listen"
)

// CookieName is the session cookie's name.
const CookieName = "stockroom_session"

// Session keys. The session holds who signed in and the auth_version they signed in
// with; permissions are loaded per request (from PrincipalCache for a few seconds at
// most, emptied by every auth change on any instance), so a change applies at once.
const (
	keyUserID      = "user_id"
	keyAuthVersion = "auth_version"
	keyFlash       = "flash"
	// keyWrote is the WAL position (store.LSN) of the session's last write: its
	// reads avoid a read replica that has not replayed that far, on every instance.
	keyWrote = "wrote_lsn"
)

// Manager runs staff sessions: scs with its pgxstore, so every instance serves every
// session. Expired rows are deleted by a goroutine of our own, which Close stops:
// pgxstore's own cleanup goroutine creates its stop channel inside the goroutine, so
// stopping it races (and, called early, misses it and leaks it).
type Manager struct {
	st   *store.Store
	sm   *scs.SessionManager
	rows *rowCache // the session rows its store keeps (touchStore)
	svc  *auth.Service
	log  *slog.Logger
	stop chan struct{}
	done chan struct{}
}

// sessionsKept is how many sessions' data the codec remembers per generation
// (memoCodec keeps two): the signed-in staff of an instance, a few hundred bytes each.
const sessionsKept = 1024

// Options are the cookie and timeout settings (STOCKROOM_SESSION_*,
// STOCKROOM_SECURE_COOKIES).
type Options struct {
	Idle     time.Duration // sign out after this long without a request
	Lifetime time.Duration // sign out after this long, however active
	Secure   bool          // send the cookie over HTTPS only
	// Cleanup is how often expired sessions are deleted (default 5 minutes);
	// negative: never, for a program whose job queue does it (internal/store/jobs).
	Cleanup time.Duration
	// OnError renders a failure to load or save a session (default: a bare 500).
	OnError func(w http.ResponseWriter, r *http.Request, err error)
}

// New returns the session manager on st's database.
func New(st *store.Store, svc *auth.Service, log *slog.Logger, opts Options) *Manager {
	if opts.Cleanup == 0 {
		opts.Cleanup = 5 * time.Minute
	}
	sm := scs.New()
	sm.Codec = newMemoCodec(sm.Codec, sessionsKept)
	ts := newTouchStore(st, sm.Codec)
	sm.Store = ts
	sm.IdleTimeout = opts.Idle
	sm.Lifetime = opts.Lifetime
	sm.Cookie.Name = CookieName
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = opts.Secure
	sm.Cookie.Path = "/"
	sm.Cookie.Persist = false // a browser session: closing the browser signs out too
	if opts.OnError != nil {
		sm.ErrorFunc = opts.OnError
	}
	s := &Manager{st: st, sm: sm, rows: ts.rows, svc: svc, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	if opts.Cleanup < 0 {
		close(s.done)
		return s
	}
	go s.cleanup(opts.Cleanup)
	return s
}

// Handler is the listen.Handler of Channel: the rows kept lately are forgotten as
// they change, on any instance (rowCache).
func (s *Manager) Handler() listen.Handler { return s.rows.handler() }

// cleanup deletes expired sessions, and sign-in failures too old to count, every
// interval until Close.
func (s *Manager) cleanup(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			n, old, err := s.svc.DeleteExpired(ctx)
			cancel()
			if n+old > 0 {
				s.log.Debug("expired sessions and old sign-in failures deleted", "sessions", n, "failures", old)
			}
			if err != nil {
				s.log.Warn("delete expired sessions", "err", err)
			}
		}
	}
}

// Close stops the goroutine that deletes expired sessions and waits for it, so the
// pool can close after it. Call it once.
func (s *Manager) Close() {
	close(s.stop)
	<-s.done
}

// LoadAndSave loads the request's session and saves it (and sets the cookie) when
// the handler changed it.
func (s *Manager) LoadAndSave(next http.Handler) http.Handler { return s.sm.LoadAndSave(next) }

// Authenticate puts the signed-in principal into the request's context (see
// auth.FromContext); a session that no longer stands for anyone is destroyed and the
// request goes on anonymous. It must run inside LoadAndSave.
func (s *Manager) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		uid := s.sm.GetInt64(ctx, keyUserID)
		if uid == 0 {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.svc.SessionPrincipal(ctx, uid, s.sm.GetInt32(ctx, keyAuthVersion))
		switch {
		case errors.Is(err, auth.ErrSignedOut):
			s.log.InfoContext(ctx, "session ended", "user_id", uid, "reason", "user inactive, gone or credentials changed")
			if err := s.sm.Destroy(ctx); err != nil {
				s.sm.ErrorFunc(w, r, err)
				return
			}
		case err != nil:
			s.sm.ErrorFunc(w, r, err)
			return
		default:
			sessionCtx := ctx // scs keeps the session's data in it
			ctx = s.st.Track(auth.WithPrincipal(ctx, p), store.LSN(s.sm.GetInt64(ctx, keyWrote)),
				func(l store.LSN) { s.sm.Put(sessionCtx, keyWrote, int64(l)) })
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// RequestPrincipal returns the principal r's session cookie stands for, or nil when
// it stands for nobody. It reads the session without LoadAndSave, so a JSON API call
// made with the admin's cookie never writes or renews the session.
func (s *Manager) RequestPrincipal(r *http.Request) (*auth.Principal, error) {
	c, err := r.Cookie(s.sm.Cookie.Name)
	if err != nil {
		return nil, nil // no cookie: anonymous
	}
	ctx, err := s.sm.Load(r.Context(), c.Value)
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	uid := s.sm.GetInt64(ctx, keyUserID)
	if uid == 0 {
		return nil, nil
	}
	p, err := s.svc.SessionPrincipal(ctx, uid, s.sm.GetInt32(ctx, keyAuthVersion))
	if errors.Is(err, auth.ErrSignedOut) {
		return nil, nil
	}
	return p, err
}

// Client is where a sign-in came from, for the user's list of sessions.
type Client struct {
	Addr      string // the peer's IP address
	UserAgent string
}

// SignIn makes the session stand for p under a new token, so a token planted before
// sign-in (session fixation) is worth nothing after it, and records it in p's list
// of sessions.
func (s *Manager) SignIn(ctx context.Context, p *auth.Principal, from Client) error {
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	s.CancelSecondFactor(ctx)
	s.sm.Put(ctx, keyUserID, p.UserID)
	s.sm.Put(ctx, keyAuthVersion, p.AuthVersion)
	return s.svc.RecordSession(ctx, s.sm.Token(ctx), p, from.Addr, from.UserAgent)
}

// LastSeen is when a session with idle deadline expiry was last used, to the
// minute: the deadline moves on with each request (at most once a minute).
func (s *Manager) LastSeen(expiry time.Time) time.Time { return expiry.Add(-s.sm.IdleTimeout) }

// Token is the session's current token: what the list of sessions marks as "this
// one". Never show it: it is the cookie.
func (s *Manager) Token(ctx context.Context) string { return s.sm.Token(ctx) }

// SignOut ends the session: its row is deleted and the next Put (a flash) starts a
// new one under a new token. The sign-out is recorded in the audit log first (scs
// deletes the session row on its own, so there is no transaction to share).
func (s *Manager) SignOut(ctx context.Context) error {
	if p := auth.FromContext(ctx); p != nil {
		if err := s.svc.RecordSignOut(ctx, p); err != nil {
			return err
		}
	}
	return s.sm.Destroy(ctx)
}

// KeepSignedIn records a new auth_version in the current session, after its own user
// changed their password: the change ends every other session, not this one. The
// token is renewed too.
func (s *Manager) KeepSignedIn(ctx context.Context, authVersion int32) error {
	old := s.sm.Token(ctx)
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	s.sm.Put(ctx, keyAuthVersion, authVersion)
	return s.svc.RenameSession(ctx, old, s.sm.Token(ctx), authVersion)
}

// Flash queues a message for the next page the session sees (post/redirect/get).
func (s *Manager) Flash(ctx context.Context, msg string) {
	msgs, _ := s.sm.Get(ctx, keyFlash).([]string)
	s.sm.Put(ctx, keyFlash, append(msgs, msg))
}

// Flashes returns and forgets the queued messages.
func (s *Manager) Flashes(ctx context.Context) []string {
	if !s.sm.Exists(ctx, keyFlash) {
		return nil // no Pop: it would mark the session modified and rewrite it
	}
	msgs, _ := s.sm.Pop(ctx, keyFlash).([]string)
	return msgs
}
