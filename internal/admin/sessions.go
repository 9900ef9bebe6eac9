package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// sessionsPath is the signed-in user's list of their own sessions.
const sessionsPath = "/admin/account/sessions"

// sessionRow is one session as the list shows it.
type sessionRow struct {
	ID         int64
	Device     string
	Addr       string
	SignedInAt *time.Time
	LastSeen   *time.Time
	Current    bool // the session of this very request
}

// sessionsPage lists a user's sessions: the viewer's own, or (for a superuser)
// anyone's.
type sessionsPage struct {
	Layout
	Email    string
	Own      bool
	Action   string // where the end buttons post: .../sessions/{id}/end
	Sessions []sessionRow
}

func (s *Server) sessionRows(r *http.Request, userID int64) ([]sessionRow, error) {
	rows, err := s.auth.Sessions(r.Context(), userID)
	if err != nil {
		return nil, err
	}
	current := s.sessions.Token(r.Context())
	out := make([]sessionRow, len(rows))
	for i, row := range rows {
		seen := s.sessions.LastSeen(row.Expiry)
		if seen.Before(row.SignedInAt) {
			seen = row.SignedInAt
		}
		out[i] = sessionRow{ID: row.ID, Device: auth.Device(row.UserAgent), Addr: row.ClientAddr,
			SignedInAt: &row.SignedInAt, LastSeen: &seen, Current: row.Token == current}
	}
	return out, nil
}

// ownSessions lists the viewer's sessions (GET /admin/account/sessions).
func (s *Server) ownSessions(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	rows, err := s.sessionRows(r, p.UserID)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "account/sessions", &sessionsPage{Layout: Layout{Title: "Your sessions"},
		Email: p.Email, Own: true, Action: sessionsPath, Sessions: rows})
}

// endOwnSession signs one of the viewer's other sessions out (POST
// /admin/account/sessions/{id}/end); that browser's next request is signed out.
func (s *Server) endOwnSession(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p := auth.FromContext(r.Context())
	return s.endSession(w, r, p.UserID, id, sessionsPath)
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request, userID, id int64, back string) error {
	rows, err := s.sessionRows(r, userID)
	if err != nil {
		return err
	}
	for _, row := range rows {
		if row.ID == id && row.Current {
			return s.redirect(w, r, back, "That is this session: use Sign out to end it.")
		}
	}
	err = s.auth.EndSession(r.Context(), auth.FromContext(r.Context()), userID, id)
	if errors.Is(err, store.ErrNotFound) {
		return s.redirect(w, r, back, "That session had already ended.")
	} else if err != nil {
		return err
	}
	return s.redirect(w, r, back, "The session was signed out.")
}

// endOtherSessions signs out every session of the viewer's but this one (POST
// /admin/account/sessions/end-others).
func (s *Server) endOtherSessions(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	n, err := s.auth.EndOtherSessions(ctx, auth.FromContext(ctx), s.sessions.Token(ctx))
	if err != nil {
		return err
	}
	if n == 0 {
		return s.redirect(w, r, sessionsPath, "You had no other sessions.")
	}
	return s.redirect(w, r, sessionsPath, plural(n, "other session was", "other sessions were")+" signed out.")
}

// userSessions lists another user's sessions for a superuser (GET
// /admin/users/{id}/sessions).
func (s *Server) userSessions(w http.ResponseWriter, r *http.Request) error {
	if !auth.FromContext(r.Context()).Superuser {
		return web.ErrForbidden
	}
	u, err := byPathID(r, s.auth.GetUser)
	if err != nil {
		return err
	}
	rows, err := s.sessionRows(r, u.ID)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "account/sessions", &sessionsPage{Layout: Layout{Title: "Sessions of " + u.Email},
		Email: u.Email, Action: fmt.Sprintf("/admin/users/%d/sessions", u.ID), Sessions: rows})
}

// endUserSession ends another user's session for a superuser (POST
// /admin/users/{id}/sessions/{sid}/end).
func (s *Server) endUserSession(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if !auth.FromContext(r.Context()).Superuser {
		return web.ErrForbidden
	}
	u, err := byPathID(r, s.auth.GetUser)
	if err != nil {
		return err
	}
	sid, err := strconv.ParseInt(r.PathValue("sid"), 10, 64)
	if err != nil {
		return fmt.Errorf("session %q: %w", r.PathValue("sid"), store.ErrNotFound)
	}
	return s.endSession(w, r, u.ID, sid, fmt.Sprintf("/admin/users/%d/sessions", u.ID))
}
