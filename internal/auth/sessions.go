package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
)

// Audit actions of ending sessions, on "sessions" with the session's user as the
// object.
const (
	ActionEndSession       = "end_session"
	ActionEndOtherSessions = "end_other_sessions"
)

// RecordSession remembers that token is a session of user id, signed in from
// clientAddr with userAgent, for the user's list of sessions.
func (s *Service) RecordSession(ctx context.Context, token string, p *Principal, clientAddr, userAgent string) error {
	err := s.st.Primary(ctx, func(q *db.Queries) error {
		return q.CreateUserSession(ctx, db.CreateUserSessionParams{Token: token, UserID: p.UserID, AuthVersion: p.AuthVersion,
			ClientAddr: clientAddr, UserAgent: strings.ToValidUTF8(strings.ReplaceAll(userAgent, "\x00", ""), "")})
	})
	if err != nil {
		return fmt.Errorf("record session: %w", err)
	}
	return nil
}

// RenameSession follows a session whose token was renewed, now signed in under
// authVersion.
func (s *Service) RenameSession(ctx context.Context, oldToken, newToken string, authVersion int32) error {
	err := s.st.Primary(ctx, func(q *db.Queries) error {
		return q.RenameUserSession(ctx, db.RenameUserSessionParams{OldToken: oldToken, NewToken: newToken, AuthVersion: authVersion})
	})
	if err != nil {
		return fmt.Errorf("rename session: %w", err)
	}
	return nil
}

// Sessions lists user id's live sessions, newest first, forgetting ended ones.
func (s *Service) Sessions(ctx context.Context, userID int64) ([]db.ListUserSessionsRow, error) {
	var rows []db.ListUserSessionsRow
	err := s.st.InTx(ctx, func(q *db.Queries) (err error) {
		if err := q.PruneUserSessions(ctx, userID); err != nil {
			return err
		}
		rows, err = q.ListUserSessions(ctx, userID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions of user %d: %w", userID, err)
	}
	return rows, nil
}

// EndSession signs out session id of user userID: the user themselves, or a
// superuser. Its next request is anonymous. store.ErrNotFound when it is not theirs
// or already over.
func (s *Service) EndSession(ctx context.Context, actor *Principal, userID, id int64) error {
	if actor == nil || actor.UserID != userID && !actor.Superuser {
		return ErrNotSuperuser
	}
	err := s.st.InTx(ctx, func(q *db.Queries) error {
		gone, err := q.EndUserSession(ctx, db.EndUserSessionParams{ID: id, UserID: userID})
		if err != nil {
			return err
		}
		email, err := q.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		return audit.Append(ctx, q, actor.Actor(), audit.Event{Action: ActionEndSession, Resource: ResourceSessions,
			ObjectID: userID, Repr: email.Email, Note: "session from " + gone.ClientAddr + " (" + Device(gone.UserAgent) + ")"})
	})
	if err != nil {
		return fmt.Errorf("end session %d: %w", id, err)
	}
	s.log.InfoContext(ctx, "session ended", "user_id", userID, "session_id", id, "by", actor.UserID)
	return nil
}

// EndOtherSessions signs out every session of p's but the one with token keep, and
// says how many ended.
func (s *Service) EndOtherSessions(ctx context.Context, p *Principal, keep string) (int, error) {
	var n int
	err := s.st.InTx(ctx, func(q *db.Queries) error {
		if err := q.PruneUserSessions(ctx, p.UserID); err != nil {
			return err
		}
		gone, err := q.EndOtherUserSessions(ctx, db.EndOtherUserSessionsParams{UserID: p.UserID, Keep: keep})
		if err != nil || len(gone) == 0 {
			return err
		}
		n = len(gone)
		return audit.Append(ctx, q, p.Actor(), audit.Event{Action: ActionEndOtherSessions, Resource: ResourceSessions,
			ObjectID: p.UserID, Repr: p.Email, Note: fmt.Sprintf("%d sessions ended from %s", n, strings.Join(gone, ", "))})
	})
	if err != nil {
		return 0, fmt.Errorf("end other sessions: %w", err)
	}
	return n, nil
}

// Device names the browser and system of a User-Agent header for a person to
// recognise ("Firefox on Linux"): a few well-known tokens, checked in the order
// that tells them apart (Edge and Chrome both say Chrome, Chrome says Safari).
func Device(userAgent string) string {
	browser := "Unknown browser"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"HeadlessChrome/", "Headless Chrome"},
		{"Chromium/", "Chromium"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"},
		{"Go-http-client/", "Go program"},
	} {
		if strings.Contains(userAgent, b.token) {
			browser = b.name
			break
		}
	}
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(userAgent, o.token) {
			return browser + " on " + o.name
		}
	}
	return browser
}
