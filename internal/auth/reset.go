package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Audit actions of reset links, on "users" with the user as the object.
const (
	ActionMakeResetLink = "make_reset_link"
	ActionUseResetLink  = "use_reset_link"
)

// ErrResetInvalid is the one answer to a reset token that is unknown, used, expired
// or void (the password changed since): which of these is nobody's business.
var ErrResetInvalid = errors.New("reset link is invalid, used or expired")

// ResetLink is a new reset link's secret part and its expiry.
type ResetLink struct {
	Token   string // shown once, in the link; only its SHA-256 is stored
	Expires time.Time
}

func hashResetToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CreateResetLink makes a one-time link for user id to set a new password, for a
// superuser to hand over (there is no email). It replaces the user's unused links.
func (s *Service) CreateResetLink(ctx context.Context, actor *Principal, userID int64) (ResetLink, error) {
	if actor == nil || !actor.Superuser || actor.TokenID != 0 {
		return ResetLink{}, ErrNotSuperuser
	}
	token := rand.Text() + rand.Text() // 2×130 bits
	var link ResetLink
	err := s.st.InTx(ctx, func(q *db.Queries) error {
		u, err := q.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		if err := q.DeleteUnusedPasswordResets(ctx, userID); err != nil {
			return err
		}
		by := actor.UserID
		exp, err := q.CreatePasswordReset(ctx, db.CreatePasswordResetParams{TokenHash: hashResetToken(token), CreatedBy: &by, UserID: userID})
		if err != nil {
			return err
		}
		link = ResetLink{Token: token, Expires: exp}
		return audit.Append(ctx, q, actor.Actor(), audit.Event{Action: ActionMakeResetLink, Resource: ResourceUsers,
			ObjectID: userID, Repr: u.Email, Note: "valid for 1 hour, once; earlier unused links voided"})
	})
	if err != nil {
		return ResetLink{}, fmt.Errorf("make reset link for user %d: %w", userID, err)
	}
	s.log.InfoContext(ctx, "reset link made", "user_id", userID, "by", actor.UserID)
	return link, nil
}

// ResetTarget returns the email of the user token resets, or ErrResetInvalid.
func (s *Service) ResetTarget(ctx context.Context, token string) (string, error) {
	var r db.GetValidPasswordResetRow
	err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		r, err = q.GetValidPasswordReset(ctx, hashResetToken(token))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrResetInvalid
	} else if err != nil {
		return "", fmt.Errorf("load reset link: %w", err)
	}
	return r.Email, nil
}

// ResetPassword sets the password of token's user (the password rules apply: field
// errors on "password") and spends the link; every session of the user ends.
func (s *Service) ResetPassword(ctx context.Context, token, password string) error {
	var r db.GetValidPasswordResetRow
	err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		r, err = q.GetValidPasswordReset(ctx, hashResetToken(token))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrResetInvalid
	} else if err != nil {
		return fmt.Errorf("load reset link: %w", err)
	}
	if msg := ValidatePassword(password, r.Email, r.Name); msg != "" {
		return validator.Errors{"password": msg}
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	err = s.st.InTx(ctx, func(q *db.Queries) error {
		n, err := q.UsePasswordReset(ctx, r.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrResetInvalid // spent or voided since it was read
		}
		if _, err := q.SetUserPassword(ctx, db.SetUserPasswordParams{ID: r.UserID, PasswordHash: hash}); err != nil {
			return err
		}
		return audit.Append(ctx, q, userActor(r.UserID, r.Email), audit.Event{Action: ActionUseResetLink,
			Resource: ResourceUsers, ObjectID: r.UserID, Repr: r.Email, Note: "password set; their sessions ended"})
	})
	if errors.Is(err, ErrResetInvalid) {
		return err
	} else if err != nil {
		return fmt.Errorf("reset password of user %d: %w", r.UserID, err)
	}
	s.log.InfoContext(ctx, "password reset with a link", "user_id", r.UserID)
	return nil
}
