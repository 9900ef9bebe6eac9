package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// ErrBadCredentials is the one answer to a failed sign-in, whether the email is
// unknown, the password wrong or the user inactive: telling them apart would tell an
// attacker which emails have accounts.
var ErrBadCredentials = errors.New("email or password is incorrect")

// ErrThrottled is wrapped by ThrottleError: too many failed sign-ins.
var ErrThrottled = errors.New("too many failed sign-ins")

// ErrSignedOut means a session no longer stands for anyone: the user is gone or
// inactive, or their password changed since the session signed in.
var ErrSignedOut = errors.New("session no longer valid")

// ThrottleError refuses a sign-in, even with the right password, until Wait has
// passed. It wraps ErrThrottled.
type ThrottleError struct {
	Wait time.Duration
}

// Error says how long the refusal lasts (for logs; people get Message).
func (e *ThrottleError) Error() string { return fmt.Sprintf("%s: wait %s", ErrThrottled, e.Wait) }

// Unwrap makes errors.Is(err, ErrThrottled) hold.
func (e *ThrottleError) Unwrap() error { return ErrThrottled }

// Minutes is Wait rounded up to whole minutes, at least 1: what the message says.
func (e *ThrottleError) Minutes() int {
	m := int((e.Wait + time.Minute - 1) / time.Minute)
	return max(m, 1)
}

// Message is the sentence shown to the person signing in.
func (e *ThrottleError) Message() string {
	if m := e.Minutes(); m != 1 {
		return fmt.Sprintf("Too many failed sign-ins. Try again in %d minutes.", m)
	}
	return "Too many failed sign-ins. Try again in 1 minute."
}

// NormalizeEmail is the form emails are stored and compared in: trimmed. Case is the
// database's business (citext), so the address keeps the spelling its owner typed.
func NormalizeEmail(email string) string { return strings.TrimSpace(email) }

// Authenticate checks a sign-in and returns the principal to store in the session.
// It refuses with a *ThrottleError once the email (or the client address) has had
// too many recent failures, before looking at the password; otherwise any failure is
// ErrBadCredentials, and costs the same argon2 work whether or not the email exists.
// A success forgets the email's failures, stamps last_login_at and rehashes the
// password when the stored hash is weaker than the current parameters.
func (s *Service) Authenticate(ctx context.Context, email, password, clientAddr string) (*Principal, error) {
	email = NormalizeEmail(email)
	var wait db.LoginThrottleRow
	err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		wait, err = q.LoginThrottle(ctx, db.LoginThrottleParams{
			WindowSecs: s.opts.Window.Seconds(),
			Email:      email, EmailSkip: int32(s.opts.FailureLimit - 1),
			ClientAddr: clientAddr, AddrSkip: int32(s.opts.AddressLimit - 1),
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("check sign-in throttle: %w", err)
	}
	if secs := max(wait.EmailWaitSecs, wait.AddrWaitSecs); secs > 0 {
		s.log.WarnContext(ctx, "sign-in throttled", "email", email, "client_addr", clientAddr, "wait_secs", secs)
		return nil, &ThrottleError{Wait: time.Duration(secs) * time.Second}
	}

	var u db.User
	err = s.st.Read(ctx, func(q *db.Queries) (err error) {
		u, err = q.GetUserByEmail(ctx, email)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.hasher.VerifyDummy(ctx, password)
		return nil, s.failed(ctx, 0, email, clientAddr, "unknown email")
	case err != nil:
		return nil, fmt.Errorf("load user: %w", err)
	}
	ok, rehash, err := s.hasher.Verify(ctx, password, u.PasswordHash)
	if errors.Is(err, ErrMalformedHash) {
		s.log.ErrorContext(ctx, "stored password hash is malformed", "user_id", u.ID, "err", err)
		return nil, s.failed(ctx, u.ID, email, clientAddr, "malformed hash")
	} else if err != nil {
		return nil, fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		return nil, s.failed(ctx, u.ID, email, clientAddr, "wrong password")
	}
	if !u.IsActive { // checked after the hash, so an inactive account costs the same
		return nil, s.failed(ctx, u.ID, email, clientAddr, "inactive user")
	}

	var newHash *string
	if rehash {
		h, err := s.hasher.Hash(ctx, password)
		if err != nil {
			return nil, fmt.Errorf("rehash password: %w", err)
		}
		newHash = &h
	}
	// A user with a second factor is not signed in yet: the error says who passed the
	// password step, and VerifySecondFactor finishes the sign-in.
	if err := s.needsSecondFactor(ctx, u, newHash, clientAddr); err != nil {
		return nil, err
	}
	var su db.GetSessionUserRow
	err = s.st.InTx(ctx, func(q *db.Queries) error {
		if err := q.RecordLogin(ctx, db.RecordLoginParams{ID: u.ID, NewHash: newHash}); err != nil {
			return err
		}
		if err := q.ClearLoginFailures(ctx, email); err != nil {
			return err
		}
		if su, err = q.GetSessionUser(ctx, u.ID); err != nil {
			return err
		}
		return audit.Append(ctx, q, userActor(u.ID, u.Email), audit.Event{
			Action: ActionSignIn, Resource: ResourceSessions, ObjectID: u.ID, Repr: u.Email, Note: "from " + clientAddr,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("record sign-in: %w", err)
	}
	s.log.InfoContext(ctx, "signed in", "user_id", u.ID, "email", u.Email, "client_addr", clientAddr, "rehashed", rehash)
	return principalOf(su), nil
}

// failed counts a failed sign-in, records it in the audit log (on the user when the
// email is one's, else on object 0) and returns ErrBadCredentials.
func (s *Service) failed(ctx context.Context, userID int64, email, clientAddr, why string) error {
	s.log.WarnContext(ctx, "sign-in failed", "email", email, "client_addr", clientAddr, "reason", why)
	err := s.st.InTx(ctx, func(q *db.Queries) error {
		if err := q.RecordLoginFailure(ctx, db.RecordLoginFailureParams{Email: email, ClientAddr: clientAddr}); err != nil {
			return err
		}
		return audit.Append(ctx, q, userActor(0, email), audit.Event{
			Action: ActionSignInFailed, Resource: ResourceSessions, ObjectID: userID, Repr: email,
			Note: why + " from " + clientAddr,
		})
	})
	if err != nil {
		return fmt.Errorf("record failed sign-in: %w", err)
	}
	return ErrBadCredentials
}

// SessionPrincipal loads the principal a session stands for, in one statement. It
// returns ErrSignedOut when the user is gone or inactive, or when authVersion is not
// the user's current one (password changed, deactivated since).
func (s *Service) SessionPrincipal(ctx context.Context, userID int64, authVersion int32) (*Principal, error) {
	su, ok := s.opts.Cache.user(userID)
	var err error
	if !ok {
		gen, _ := s.opts.Cache.generation()
		err = s.st.Read(ctx, func(q *db.Queries) (err error) {
			su, err = q.GetSessionUser(ctx, userID)
			return err
		})
		if err == nil {
			s.opts.Cache.putUser(gen, su)
		}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, ErrSignedOut
	case err != nil:
		return nil, fmt.Errorf("load session user %d: %w", userID, err)
	case !su.IsActive || su.AuthVersion != authVersion:
		return nil, ErrSignedOut
	}
	return principalOf(su), nil
}

func principalOf(su db.GetSessionUserRow) *Principal {
	p := NewPrincipal(su.ID, su.Email, su.Name, su.IsSuperuser, su.Perms)
	p.AuthVersion = su.AuthVersion
	p.SecondFactor = su.HasSecondFactor
	return p
}

// RecordSignOut writes p's sign-out to the audit log. The session itself is the
// transport's: it deletes the session row after this (scs does that on its own, so
// there is no transaction to share).
func (s *Service) RecordSignOut(ctx context.Context, p *Principal) error {
	s.log.InfoContext(ctx, "signed out", "user_id", p.UserID, "email", p.Email)
	err := s.st.InTx(ctx, func(q *db.Queries) error {
		return audit.Record(ctx, q, p.Actor(), ActionSignOut, ResourceSessions, p.UserID, p.Email, nil)
	})
	if err != nil {
		return fmt.Errorf("record sign-out: %w", err)
	}
	return nil
}

// DeleteExpired deletes expired sessions and sign-in failures too old to count, in
// one transaction, and says how many of each went.
func (s *Service) DeleteExpired(ctx context.Context) (sessions, failures int64, err error) {
	err = s.st.InTx(ctx, func(q *db.Queries) error {
		var err error
		if sessions, err = q.DeleteExpiredSessions(ctx); err != nil {
			return err
		}
		failures, err = q.DeleteOldLoginAttempts(ctx)
		return err
	})
	return sessions, failures, err
}
