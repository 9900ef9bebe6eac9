package auth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Audit actions of second factors, recorded on "users" with the user as the object.
const (
	ActionEnableTOTP        = "enable_totp"
	ActionDisableTOTP       = "disable_totp"
	ActionNewRecoveryCodes  = "new_recovery_codes"
	ActionRecoveryCodeUsed  = "recovery_code_used"
	ActionResetSecondFactor = "reset_second_factor"
)

// TOTP parameters: RFC 6238's defaults, which every authenticator app reads.
const (
	totpPeriod = 30 * time.Second
	totpDigits = otp.DigitsSix
	// totpSkew is how many steps either side of now a code may be from: ±1 step
	// allows for a phone clock off by up to 30 seconds and for typing time.
	totpSkew = 1
)

// ErrBadCode is the one answer to a wrong, reused or expired second-factor code.
var ErrBadCode = errors.New("second-factor code is incorrect")

// ErrTOTPEnabled refuses a new enrolment while an authenticator app is switched on:
// it must be switched off first, with the password.
var ErrTOTPEnabled = errors.New("an authenticator app is already switched on")

// SecondFactorRequired is Authenticate's answer to the right password of a user who
// has a second factor: not an error for the user, but not a sign-in either. The
// transport remembers UserID and AuthVersion (not as signed in) and asks for a code,
// which VerifySecondFactor checks.
type SecondFactorRequired struct {
	UserID      int64
	AuthVersion int32
}

// Error makes it an error, so a caller that does not handle it refuses the sign-in.
func (e *SecondFactorRequired) Error() string { return "second factor required" }

// SignInMethod says how a second factor was given.
type SignInMethod string

// The second-factor methods.
const (
	MethodTOTP     SignInMethod = "authenticator app"
	MethodRecovery SignInMethod = "recovery code"
)

// needsSecondFactor returns a *SecondFactorRequired for a user with a second factor
// (after storing newHash, a rehash of the right password), nil for one without.
func (s *Service) needsSecondFactor(ctx context.Context, u db.User, newHash *string, clientAddr string) error {
	st, err := s.TwoFactorStatus(ctx, u.ID)
	if err != nil {
		return err
	}
	if !st.TOTP && st.Passkeys == 0 {
		return nil
	}
	if newHash != nil {
		if err := s.st.InTx(ctx, func(q *db.Queries) error {
			return q.SetPasswordHash(ctx, db.SetPasswordHashParams{ID: u.ID, PasswordHash: *newHash})
		}); err != nil {
			return fmt.Errorf("store rehashed password: %w", err)
		}
	}
	s.log.InfoContext(ctx, "password accepted, second factor asked", "user_id", u.ID, "client_addr", clientAddr)
	return &SecondFactorRequired{UserID: u.ID, AuthVersion: u.AuthVersion}
}

// VerifySecondFactor finishes a sign-in that Authenticate answered with
// SecondFactorRequired: code is the authenticator app's current code or an unused
// recovery code. Failures count toward the same throttle as wrong passwords (a
// *ThrottleError once too many), each is ErrBadCode; a code is accepted once only.
// ErrSignedOut means the user changed meanwhile (password, deactivated): start over.
func (s *Service) VerifySecondFactor(ctx context.Context, userID int64, authVersion int32, code, clientAddr string) (*Principal, SignInMethod, error) {
	var u db.User
	err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		u, err = q.GetUser(ctx, userID)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, "", ErrSignedOut
	case err != nil:
		return nil, "", fmt.Errorf("load user %d: %w", userID, err)
	case !u.IsActive || u.AuthVersion != authVersion:
		return nil, "", ErrSignedOut
	}
	if err := s.throttle(ctx, u.Email, clientAddr); err != nil {
		return nil, "", err
	}

	method, spend, why := s.matchCode(ctx, u, code)
	if spend == nil {
		return nil, "", s.failedCode(ctx, u, clientAddr, why)
	}
	var su db.GetSessionUserRow
	var usedAt *time.Time
	err = s.st.InTx(ctx, func(q *db.Queries) error {
		if err := spend(q); err != nil {
			return err
		}
		if method != MethodRecovery { // that sign-in says so itself
			var err error
			if usedAt, err = recoveryCodeUse(ctx, q, u); err != nil {
				return err
			}
		}
		if err := q.RecordLogin(ctx, db.RecordLoginParams{ID: u.ID}); err != nil {
			return err
		}
		if err := q.ClearLoginFailures(ctx, u.Email); err != nil {
			return err
		}
		var err error
		if su, err = q.GetSessionUser(ctx, u.ID); err != nil {
			return err
		}
		actor := userActor(u.ID, u.Email)
		if method == MethodRecovery {
			if err := audit.Append(ctx, q, actor, audit.Event{Action: ActionRecoveryCodeUsed, Resource: ResourceUsers,
				ObjectID: u.ID, Repr: u.Email, Note: "from " + clientAddr}); err != nil {
				return err
			}
		}
		return audit.Append(ctx, q, actor, audit.Event{Action: ActionSignIn, Resource: ResourceSessions,
			ObjectID: u.ID, Repr: u.Email, Note: "with " + string(method) + " from " + clientAddr})
	})
	if errors.Is(err, errCodeSpent) {
		return nil, "", s.failedCode(ctx, u, clientAddr, "code already used")
	} else if err != nil {
		return nil, "", fmt.Errorf("record sign-in: %w", err)
	}
	s.log.InfoContext(ctx, "signed in", "user_id", u.ID, "email", u.Email, "client_addr", clientAddr, "second_factor", string(method))
	p := principalOf(su)
	p.RecoveryCodeUsedAt = usedAt
	return p, method, nil
}

// recoveryCodeUse is when u's latest recovery code was used since their previous
// sign-in (nil: none), read inside the sign-in's transaction before it moves
// last_login_at on: a recovery sign-in and its code share one timestamp, so the
// next sign-in finds it, and the one after that does not.
func recoveryCodeUse(ctx context.Context, q *db.Queries, u db.User) (*time.Time, error) {
	t, err := q.LastRecoveryCodeUse(ctx, db.LastRecoveryCodeUseParams{UserID: u.ID, Since: u.LastLoginAt})
	if store.IsNotFound(err) {
		return nil, nil
	}
	return t, err
}

// errCodeSpent aborts the sign-in transaction of a code used meanwhile (a replay).
var errCodeSpent = errors.New("code already used")

// matchCode finds what code is: the app's code of a step not used yet, or a recovery
// code. It returns the method and the write that spends the code (it fails with
// errCodeSpent when another request spent it first), or a nil spend and why not.
// The code is never logged.
func (s *Service) matchCode(ctx context.Context, u db.User, code string) (SignInMethod, func(q *db.Queries) error, string) {
	c := normalizeCode(code)
	switch {
	case len(c) == int(totpDigits) && strings.Trim(c, "0123456789") == "":
		var t db.UserTotp
		err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
			t, err = q.GetTOTP(ctx, u.ID)
			return err
		})
		if err != nil || t.ConfirmedAt == nil {
			return "", nil, "no authenticator app"
		}
		secret, err := s.sealer.open(t.Secret, u.ID)
		if err != nil {
			s.log.ErrorContext(ctx, "authenticator secret unusable", "user_id", u.ID, "err", err)
			return "", nil, "authenticator secret unusable"
		}
		step, ok := s.codeStep(string(secret), c)
		switch {
		case !ok:
			return "", nil, "wrong code"
		case step <= t.LastStep:
			return "", nil, "code already used"
		}
		return MethodTOTP, func(q *db.Queries) error {
			n, err := q.UseTOTPStep(ctx, db.UseTOTPStepParams{UserID: u.ID, Step: step})
			if err == nil && n == 0 {
				err = errCodeSpent
			}
			return err
		}, ""
	case len(c) == recoveryCodeLen:
		hash := hashRecoveryCode(c)
		return MethodRecovery, func(q *db.Queries) error {
			n, err := q.UseRecoveryCode(ctx, db.UseRecoveryCodeParams{UserID: u.ID, CodeHash: hash})
			if err == nil && n == 0 {
				err = errCodeSpent // wrong, or used before: one answer for both
			}
			return err
		}, ""
	}
	return "", nil, "malformed code"
}

// normalizeCode drops what people type between digits (spaces, dashes) and folds
// case, so "123 456" and "abcd-efgh-..." read as typed.
func normalizeCode(code string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(strings.TrimSpace(code)))
}

// codeStep returns the time step (Unix time / 30 s) whose code code is, within
// ±totpSkew steps of now. Codes are generated by the library and compared in
// constant time; the step tells UseTOTPStep what to refuse next time.
func (s *Service) codeStep(secret, code string) (int64, bool) {
	now := s.opts.Now()
	cur := now.Unix() / int64(totpPeriod/time.Second)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := cur + d
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*int64(totpPeriod/time.Second), 0), validateOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

var validateOpts = totp.ValidateOpts{Period: uint(totpPeriod / time.Second), Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}

// throttle refuses with a *ThrottleError while email or clientAddr has had too many
// recent failures, of passwords and codes alike.
func (s *Service) throttle(ctx context.Context, email, clientAddr string) error {
	var wait db.LoginThrottleRow
	err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		wait, err = q.LoginThrottle(ctx, db.LoginThrottleParams{
			WindowSecs: s.opts.Window.Seconds(),
			Email:      email, EmailSkip: int32(s.opts.FailureLimit - 1),
			ClientAddr: clientAddr, AddrSkip: int32(s.opts.AddressLimit - 1),
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("check sign-in throttle: %w", err)
	}
	if secs := max(wait.EmailWaitSecs, wait.AddrWaitSecs); secs > 0 {
		s.log.WarnContext(ctx, "sign-in throttled", "email", email, "client_addr", clientAddr, "wait_secs", secs)
		return &ThrottleError{Wait: time.Duration(secs) * time.Second}
	}
	return nil
}

// failedCode counts a failed second step like a failed password (the same throttle)
// and records it in the audit log.
func (s *Service) failedCode(ctx context.Context, u db.User, clientAddr, why string) error {
	s.log.WarnContext(ctx, "second factor refused", "user_id", u.ID, "client_addr", clientAddr, "reason", why)
	err := s.st.InTx(ctx, func(q *db.Queries) error {
		if err := q.RecordLoginFailure(ctx, db.RecordLoginFailureParams{Email: u.Email, ClientAddr: clientAddr}); err != nil {
			return err
		}
		return audit.Append(ctx, q, userActor(u.ID, u.Email), audit.Event{
			Action: ActionSignInFailed, Resource: ResourceSessions, ObjectID: u.ID, Repr: u.Email,
			Note: "second factor: " + why + " from " + clientAddr,
		})
	})
	if err != nil {
		return fmt.Errorf("record failed second factor: %w", err)
	}
	return ErrBadCode
}

// TwoFactor is what the account page shows of a user's second factors.
type TwoFactor struct {
	TOTP         bool // an authenticator app is switched on
	TOTPPending  bool // one waits for its first code
	RecoveryLeft int  // unused recovery codes
	Available    bool // the server can seal secrets (STOCKROOM_SECRET_KEY is set)
	Passkeys     int  // registered passkeys
	PasskeysOK   bool // the server can use passkeys (it has an origin for them)
}

// Any reports whether the user has a second factor on.
func (t TwoFactor) Any() bool { return t.TOTP || t.Passkeys > 0 }

// TwoFactorStatus reads user id's second factors.
func (s *Service) TwoFactorStatus(ctx context.Context, userID int64) (TwoFactor, error) {
	st := TwoFactor{Available: s.sealer != nil, PasskeysOK: s.webauthn != nil}
	err := s.st.Primary(ctx, func(q *db.Queries) error {
		t, err := q.GetTOTP(ctx, userID)
		switch {
		case err == nil:
			st.TOTP, st.TOTPPending = t.ConfirmedAt != nil, t.ConfirmedAt == nil
		case !store.IsNotFound(err):
			return err
		}
		n, err := q.CountRecoveryCodes(ctx, userID)
		if err != nil {
			return err
		}
		st.RecoveryLeft = int(n.Unused)
		keys, err := q.ListPasskeys(ctx, userID)
		st.Passkeys = len(keys)
		return err
	})
	if err != nil {
		return st, fmt.Errorf("load second factors of user %d: %w", userID, err)
	}
	return st, nil
}

// Enrolment is an authenticator app waiting for its first code: what the user scans
// or types into the app. Secret is shown to its owner only, never logged.
type Enrolment struct {
	Secret string // base32, for typing in
	URL    string // otpauth:// URI, what the QR code holds
	QR     string // the QR code as a data: URI of a PNG
}

// StartTOTP begins (or begins again) enrolling an authenticator app for p: a new
// random secret, sealed, waiting for confirmation. It refuses with ErrTOTPEnabled
// when one is on already and ErrNoSecretKey when the server cannot seal secrets.
func (s *Service) StartTOTP(ctx context.Context, p *Principal) error {
	if s.sealer == nil {
		return ErrNoSecretKey
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.opts.Issuer, AccountName: p.Email,
		Period: uint(totpPeriod / time.Second), Digits: totpDigits, Algorithm: otp.AlgorithmSHA1, SecretSize: 20})
	if err != nil {
		return fmt.Errorf("generate secret: %w", err)
	}
	sealed, err := s.sealer.seal([]byte(key.Secret()), p.UserID)
	if err != nil {
		return err
	}
	var t db.UserTotp
	err = s.st.InTx(ctx, func(q *db.Queries) error {
		if err := q.StartTOTP(ctx, db.StartTOTPParams{UserID: p.UserID, Secret: sealed}); err != nil {
			return err
		}
		t, err = q.GetTOTP(ctx, p.UserID)
		return err
	})
	if err != nil {
		return fmt.Errorf("start authenticator enrolment: %w", err)
	}
	if t.ConfirmedAt != nil {
		return ErrTOTPEnabled
	}
	return nil
}

// PendingTOTP returns p's enrolment waiting for its first code: store.ErrNotFound
// when there is none (never started, or confirmed already).
func (s *Service) PendingTOTP(ctx context.Context, p *Principal) (Enrolment, error) {
	var t db.UserTotp
	err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		t, err = q.GetTOTP(ctx, p.UserID)
		return err
	})
	if err != nil {
		return Enrolment{}, fmt.Errorf("load enrolment: %w", err)
	}
	if t.ConfirmedAt != nil {
		return Enrolment{}, fmt.Errorf("enrolment: %w", store.ErrNotFound)
	}
	secret, err := s.sealer.open(t.Secret, p.UserID)
	if err != nil {
		return Enrolment{}, fmt.Errorf("open enrolment secret: %w", err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(string(secret))
	if err != nil {
		return Enrolment{}, fmt.Errorf("decode enrolment secret: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.opts.Issuer, AccountName: p.Email,
		Period: uint(totpPeriod / time.Second), Digits: totpDigits, Algorithm: otp.AlgorithmSHA1, Secret: raw})
	if err != nil {
		return Enrolment{}, fmt.Errorf("rebuild key: %w", err)
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return Enrolment{}, fmt.Errorf("draw QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrolment{}, fmt.Errorf("encode QR code: %w", err)
	}
	return Enrolment{Secret: key.Secret(), URL: key.URL(),
		QR: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// ConfirmTOTP switches p's waiting authenticator app on when code is its current
// code, and returns a fresh set of recovery codes (to be shown once). A wrong code is
// a field error on "code"; none waiting is store.ErrNotFound.
func (s *Service) ConfirmTOTP(ctx context.Context, p *Principal, code string) ([]string, error) {
	var t db.UserTotp
	err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		t, err = q.GetTOTP(ctx, p.UserID)
		return err
	})
	if err == nil && t.ConfirmedAt != nil {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load enrolment: %w", err)
	}
	secret, err := s.sealer.open(t.Secret, p.UserID)
	if err != nil {
		return nil, fmt.Errorf("open enrolment secret: %w", err)
	}
	step, ok := s.codeStep(string(secret), normalizeCode(code))
	if !ok {
		return nil, validator.Errors{"code": "is not the app's current code: check the phone's clock and type the 6 digits shown now"}
	}
	codes, hashes := newRecoveryCodes()
	err = s.st.InTx(ctx, func(q *db.Queries) error {
		n, err := q.ConfirmTOTP(ctx, db.ConfirmTOTPParams{UserID: p.UserID, Step: step})
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound // confirmed meanwhile, in another tab
		}
		if err := replaceRecoveryCodes(ctx, q, p.UserID, hashes); err != nil {
			return err
		}
		return audit.Append(ctx, q, p.Actor(), audit.Event{Action: ActionEnableTOTP, Resource: ResourceUsers,
			ObjectID: p.UserID, Repr: p.Email, Note: fmt.Sprintf("%d recovery codes made", len(codes))})
	})
	if err != nil {
		return nil, fmt.Errorf("confirm authenticator: %w", err)
	}
	s.log.InfoContext(ctx, "authenticator app switched on", "user_id", p.UserID)
	return codes, nil
}

// checkPassword is a field error on "password" unless password is p's.
func (s *Service) checkPassword(ctx context.Context, p *Principal, password string) error {
	var u db.User
	if err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		u, err = q.GetUser(ctx, p.UserID)
		return err
	}); err != nil {
		return fmt.Errorf("load user %d: %w", p.UserID, err)
	}
	if password == "" {
		return validator.Errors{"password": "is required"}
	}
	ok, _, err := s.hasher.Verify(ctx, password, u.PasswordHash)
	if err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		return validator.Errors{"password": "is not your current password"}
	}
	return nil
}

// DisableTOTP switches p's authenticator app off and deletes their recovery codes,
// once password proves it is them.
func (s *Service) DisableTOTP(ctx context.Context, p *Principal, password string) error {
	if err := s.checkPassword(ctx, p, password); err != nil {
		return err
	}
	err := s.st.InTx(ctx, func(q *db.Queries) error {
		n, err := q.DeleteTOTP(ctx, p.UserID)
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		if err := q.DeleteRecoveryCodes(ctx, p.UserID); err != nil {
			return err
		}
		return audit.Record(ctx, q, p.Actor(), ActionDisableTOTP, ResourceUsers, p.UserID, p.Email, nil)
	})
	if err != nil {
		return fmt.Errorf("switch authenticator off: %w", err)
	}
	s.log.InfoContext(ctx, "authenticator app switched off", "user_id", p.UserID)
	return nil
}

// RegenerateRecoveryCodes replaces p's recovery codes with a new set, once password
// proves it is them; the old codes stop working. It needs a second factor on.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, p *Principal, password string) ([]string, error) {
	if err := s.checkPassword(ctx, p, password); err != nil {
		return nil, err
	}
	codes, hashes := newRecoveryCodes()
	err := s.st.InTx(ctx, func(q *db.Queries) error {
		t, err := q.GetTOTP(ctx, p.UserID)
		if err != nil {
			return err
		}
		if t.ConfirmedAt == nil {
			return store.ErrNotFound
		}
		if err := replaceRecoveryCodes(ctx, q, p.UserID, hashes); err != nil {
			return err
		}
		return audit.Append(ctx, q, p.Actor(), audit.Event{Action: ActionNewRecoveryCodes, Resource: ResourceUsers,
			ObjectID: p.UserID, Repr: p.Email, Note: "the old ones no longer work"})
	})
	if err != nil {
		return nil, fmt.Errorf("new recovery codes: %w", err)
	}
	return codes, nil
}

func replaceRecoveryCodes(ctx context.Context, q *db.Queries, userID int64, hashes [][]byte) error {
	if err := q.DeleteRecoveryCodes(ctx, userID); err != nil {
		return err
	}
	rows := make([]db.CreateRecoveryCodesParams, len(hashes))
	for i, h := range hashes {
		rows[i] = db.CreateRecoveryCodesParams{UserID: userID, CodeHash: h}
	}
	_, err := q.CreateRecoveryCodes(ctx, rows)
	return err
}

// ErrNotSuperuser refuses a change only a superuser may make.
var ErrNotSuperuser = errors.New("only a superuser may do this")

// ErrOwnSecondFactor refuses a reset of one's own second factor: the account page
// switches it off, with the password.
var ErrOwnSecondFactor = errors.New("reset your own second factor on your account page")

// ResetSecondFactor removes user id's authenticator app and recovery codes and ends
// all their sessions: for a user who lost both. Only a superuser may, never on
// themselves; a user with nothing to reset is store.ErrNotFound.
func (s *Service) ResetSecondFactor(ctx context.Context, actor *Principal, id int64) error {
	switch {
	case actor == nil || !actor.Superuser || actor.TokenID != 0:
		return ErrNotSuperuser
	case actor.UserID == id:
		return ErrOwnSecondFactor
	}
	err := s.st.InTx(ctx, func(q *db.Queries) error {
		n, err := q.DeleteTOTP(ctx, id)
		if err != nil {
			return err
		}
		keys, err := q.DeletePasskeys(ctx, id)
		if err != nil {
			return err
		}
		if n+keys == 0 {
			return store.ErrNotFound
		}
		if err := q.DeleteRecoveryCodes(ctx, id); err != nil {
			return err
		}
		email, err := q.BumpAuthVersion(ctx, id)
		if err != nil {
			return err
		}
		return audit.Append(ctx, q, actor.Actor(), audit.Event{Action: ActionResetSecondFactor, Resource: ResourceUsers,
			ObjectID: id, Repr: email, Note: fmt.Sprintf("authenticator app (%d), passkeys (%d) and recovery codes removed; their sessions ended", n, keys)})
	})
	if err != nil {
		return fmt.Errorf("reset second factor of user %d: %w", id, err)
	}
	s.log.InfoContext(ctx, "second factor reset", "user_id", id, "by", actor.UserID)
	return nil
}
