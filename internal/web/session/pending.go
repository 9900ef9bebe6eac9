package session

import (
	"context"
	"time"
)

// The half of a sign-in between the password and the second factor. These keys are
// not keyUserID: Authenticate never reads them, so a session holding only them is
// anonymous to every route, and only the code page (which asks PendingSecondFactor)
// knows it.
const (
	keyPendingUser    = "pending_user_id"
	keyPendingVersion = "pending_auth_version"
	keyPendingSince   = "pending_since" // Unix seconds

	// PendingLifetime is how long the code page waits after the password.
	PendingLifetime = 10 * time.Minute
)

// BeginSecondFactor remembers that the user passed the password step under a new
// token (the signed-in token comes later, from SignIn).
func (s *Manager) BeginSecondFactor(ctx context.Context, userID int64, authVersion int32) error {
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	s.sm.Put(ctx, keyPendingUser, userID)
	s.sm.Put(ctx, keyPendingVersion, authVersion)
	s.sm.Put(ctx, keyPendingSince, time.Now().Unix())
	return nil
}

// PendingSecondFactor returns who passed the password step in this session within
// PendingLifetime; ok is false when nobody did, or too long ago.
func (s *Manager) PendingSecondFactor(ctx context.Context) (userID int64, authVersion int32, ok bool) {
	userID = s.sm.GetInt64(ctx, keyPendingUser)
	since := time.Unix(s.sm.GetInt64(ctx, keyPendingSince), 0)
	if userID == 0 || time.Since(since) > PendingLifetime {
		return 0, 0, false
	}
	return userID, s.sm.GetInt32(ctx, keyPendingVersion), true
}

// CancelSecondFactor forgets a pending password step.
func (s *Manager) CancelSecondFactor(ctx context.Context) {
	for _, k := range []string{keyPendingUser, keyPendingVersion, keyPendingSince} {
		if s.sm.Exists(ctx, k) {
			s.sm.Remove(ctx, k)
		}
	}
}

// PutCeremony keeps the server's half of a WebAuthn exchange (kind: "register",
// "signin", "passwordless") until the browser answers. It lives in the session row,
// which the client never sees.
func (s *Manager) PutCeremony(ctx context.Context, kind string, state []byte) {
	s.sm.Put(ctx, "webauthn_"+kind, state)
}

// TakeCeremony returns and forgets the exchange of kind: each is answered once.
func (s *Manager) TakeCeremony(ctx context.Context, kind string) []byte {
	if !s.sm.Exists(ctx, "webauthn_"+kind) {
		return nil
	}
	b, _ := s.sm.Pop(ctx, "webauthn_"+kind).([]byte)
	return b
}
