package auth

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Audit actions of passkeys, on "users" with the owner as the object.
const (
	ActionAddPasskey    = "add_passkey"
	ActionUpdatePasskey = "update_passkey"
	ActionRemovePasskey = "remove_passkey"
)

// MethodPasskey is a sign-in with a passkey, after the password or alone.
const MethodPasskey SignInMethod = "passkey"

// ErrNoPasskeys means the server cannot use passkeys: it has no origin for them
// (STOCKROOM_BASE_URL, or a loopback address in development).
var ErrNoPasskeys = errors.New("passkeys need STOCKROOM_BASE_URL")

// ErrBadPasskey is the one answer to a passkey sign-in that fails: unknown
// credential, wrong signature, a passkey not allowed alone, an inactive user.
var ErrBadPasskey = errors.New("passkey not accepted")

// newWebAuthn is the relying party for origin ("https://shop.example"): its RP ID is
// the origin's host name, so passkeys belong to that site and its subdomains' pages.
func newWebAuthn(origin string) (*webauthn.WebAuthn, error) {
	if origin == "" {
		return nil, nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("passkey origin %q is not a URL", origin)
	}
	return webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: "stockroom",
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
	})
}

// passkeyUser is a user as the WebAuthn library sees them.
type passkeyUser struct {
	id          int64
	email, name string
	creds       []webauthn.Credential
	rows        []db.Passkey // same order as creds
}

// WebAuthnID is the user handle: the user id, 8 bytes big-endian. It is stable, and
// a passwordless sign-in finds the user by it.
func (u *passkeyUser) WebAuthnID() []byte { return binary.BigEndian.AppendUint64(nil, uint64(u.id)) }

// WebAuthnName is the account name an authenticator shows: the email.
func (u *passkeyUser) WebAuthnName() string { return u.email }

// WebAuthnDisplayName is the name shown beside it.
func (u *passkeyUser) WebAuthnDisplayName() string {
	if u.name != "" {
		return u.name
	}
	return u.email
}

// WebAuthnCredentials are the user's registered passkeys.
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// row is the stored passkey of credential id.
func (u *passkeyUser) row(id []byte) (db.Passkey, bool) {
	for _, r := range u.rows {
		if bytes.Equal(r.CredentialID, id) {
			return r, true
		}
	}
	return db.Passkey{}, false
}

// loadPasskeyUser reads user id with their passkeys.
func loadPasskeyUser(ctx context.Context, q *db.Queries, id int64) (*passkeyUser, db.User, error) {
	u, err := q.GetUser(ctx, id)
	if err != nil {
		return nil, u, err
	}
	rows, err := q.ListPasskeys(ctx, id)
	if err != nil {
		return nil, u, err
	}
	pu := &passkeyUser{id: u.ID, email: u.Email, name: u.Name, rows: rows}
	for _, r := range rows {
		var c webauthn.Credential
		if err := json.Unmarshal(r.Credential, &c); err != nil {
			return nil, u, fmt.Errorf("passkey %d: %w", r.ID, err)
		}
		pu.creds = append(pu.creds, c)
	}
	return pu, u, nil
}

// PasskeysAvailable reports whether the server can register and check passkeys.
func (s *Service) PasskeysAvailable() bool { return s.webauthn != nil }

// Passkeys lists user id's passkeys.
func (s *Service) Passkeys(ctx context.Context, userID int64) ([]db.Passkey, error) {
	var rows []db.Passkey
	err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		rows, err = q.ListPasskeys(ctx, userID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list passkeys of user %d: %w", userID, err)
	}
	return rows, nil
}

// PasskeyInput is what the owner says about a passkey: its name, and whether it
// may sign in alone.
type PasskeyInput struct {
	Name         string
	Passwordless bool
}

func (in *PasskeyInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	errs := validator.Errors{}
	errs.Check(in.Name != "", "name", "is required: name the device, e.g. “work laptop”")
	errs.Check(utf8.RuneCountInString(in.Name) <= 100, "name", "must be at most 100 characters")
	if msg := validator.Storable(in.Name); msg != "" {
		errs.Add("name", msg)
	}
	return errs.Err()
}

// Ceremony is a WebAuthn exchange half done: the options for the browser (JSON) and
// the state the server keeps until the browser answers (opaque; keep it in the
// session, never give it to the client).
type Ceremony struct {
	Options json.RawMessage
	State   []byte
}

// registrationState is what a registration keeps between its two requests.
type registrationState struct {
	Session webauthn.SessionData
	Input   PasskeyInput
}

// BeginPasskeyRegistration starts registering a passkey for p, named by in (a field
// error when the name is missing or taken). The authenticator is asked for a
// discoverable credential, so the passkey can later sign in alone if the owner opts
// in, and never for one p already has.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, p *Principal, in PasskeyInput) (Ceremony, error) {
	if s.webauthn == nil {
		return Ceremony{}, ErrNoPasskeys
	}
	if err := in.validate(); err != nil {
		return Ceremony{}, err
	}
	var pu *passkeyUser
	err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		pu, _, err = loadPasskeyUser(ctx, q, p.UserID)
		return err
	})
	if err != nil {
		return Ceremony{}, fmt.Errorf("load passkeys: %w", err)
	}
	if _, taken := nameTaken(pu.rows, in.Name, 0); taken {
		return Ceremony{}, validator.Errors{"name": "is the name of another of your passkeys"}
	}
	creation, sess, err := s.webauthn.BeginRegistration(pu,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithExclusions(webauthn.Credentials(pu.creds).CredentialDescriptors()),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementRequired,
			UserVerification: protocol.VerificationPreferred,
		}))
	if err != nil {
		return Ceremony{}, fmt.Errorf("begin passkey registration: %w", err)
	}
	return ceremony(creation, registrationState{Session: *sess, Input: in})
}

func nameTaken(rows []db.Passkey, name string, except int64) (db.Passkey, bool) {
	for _, r := range rows {
		if r.ID != except && strings.EqualFold(r.Name, name) {
			return r, true
		}
	}
	return db.Passkey{}, false
}

func ceremony(options, state any) (Ceremony, error) {
	o, err := json.Marshal(options)
	if err != nil {
		return Ceremony{}, err
	}
	st, err := json.Marshal(state)
	if err != nil {
		return Ceremony{}, err
	}
	return Ceremony{Options: o, State: st}, nil
}

// ErrCeremony means the browser's answer does not match the exchange the server
// started: none started, it expired, or the answer is malformed or wrong.
var ErrCeremony = errors.New("passkey exchange failed")

// FinishPasskeyRegistration checks the browser's answer (body) against state from
// BeginPasskeyRegistration and stores the new passkey.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, p *Principal, state []byte, body io.Reader) (db.Passkey, error) {
	if s.webauthn == nil {
		return db.Passkey{}, ErrNoPasskeys
	}
	var rs registrationState
	if err := json.Unmarshal(state, &rs); err != nil || len(state) == 0 {
		return db.Passkey{}, fmt.Errorf("%w: no registration under way", ErrCeremony)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBody(body)
	if err != nil {
		return db.Passkey{}, fmt.Errorf("%w: %w", ErrCeremony, err)
	}
	var pu *passkeyUser
	if err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		pu, _, err = loadPasskeyUser(ctx, q, p.UserID)
		return err
	}); err != nil {
		return db.Passkey{}, fmt.Errorf("load passkeys: %w", err)
	}
	cred, err := s.webauthn.CreateCredential(pu, rs.Session, parsed)
	if err != nil {
		return db.Passkey{}, fmt.Errorf("%w: %w", ErrCeremony, err)
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return db.Passkey{}, err
	}
	var row db.Passkey
	err = s.st.InTx(ctx, func(q *db.Queries) (err error) {
		row, err = q.CreatePasskey(ctx, db.CreatePasskeyParams{UserID: p.UserID, Name: rs.Input.Name,
			CredentialID: cred.ID, Credential: raw, Passwordless: rs.Input.Passwordless})
		if err != nil {
			return err
		}
		return audit.Append(ctx, q, p.Actor(), audit.Event{Action: ActionAddPasskey, Resource: ResourceUsers,
			ObjectID: p.UserID, Repr: p.Email, Changes: audit.Changes{"passkey": {nil, rs.Input.Name},
				"passwordless": {nil, rs.Input.Passwordless}}})
	})
	if store.Constraint(err) == "passkeys_user_name_key" {
		return db.Passkey{}, validator.Errors{"name": "is the name of another of your passkeys"}
	} else if err != nil {
		return db.Passkey{}, fmt.Errorf("store passkey: %w", err)
	}
	s.log.InfoContext(ctx, "passkey added", "user_id", p.UserID, "passkey_id", row.ID)
	return row, nil
}

// UpdatePasskey renames one of p's passkeys and sets whether it signs in alone.
func (s *Service) UpdatePasskey(ctx context.Context, p *Principal, id int64, in PasskeyInput) (db.Passkey, error) {
	if err := in.validate(); err != nil {
		return db.Passkey{}, err
	}
	var before, after db.Passkey
	err := s.st.InTx(ctx, func(q *db.Queries) (err error) {
		if before, err = q.GetPasskey(ctx, db.GetPasskeyParams{ID: id, UserID: p.UserID}); err != nil {
			return err
		}
		after, err = q.UpdatePasskey(ctx, db.UpdatePasskeyParams{ID: id, UserID: p.UserID, Name: in.Name, Passwordless: in.Passwordless})
		if err != nil {
			return err
		}
		c := audit.Diff(map[string]any{"passkey": before.Name, "passwordless": before.Passwordless},
			map[string]any{"passkey": after.Name, "passwordless": after.Passwordless})
		if len(c) == 0 {
			return nil
		}
		return audit.Record(ctx, q, p.Actor(), ActionUpdatePasskey, ResourceUsers, p.UserID, p.Email, c)
	})
	if store.Constraint(err) == "passkeys_user_name_key" {
		return db.Passkey{}, validator.Errors{"name": "is the name of another of your passkeys"}
	} else if err != nil {
		return db.Passkey{}, fmt.Errorf("update passkey %d: %w", id, err)
	}
	return after, nil
}

// Passkey returns one of p's passkeys (store.ErrNotFound for anyone else's).
func (s *Service) Passkey(ctx context.Context, p *Principal, id int64) (db.Passkey, error) {
	var row db.Passkey
	err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		row, err = q.GetPasskey(ctx, db.GetPasskeyParams{ID: id, UserID: p.UserID})
		return err
	})
	if err != nil {
		return row, fmt.Errorf("passkey %d: %w", id, err)
	}
	return row, nil
}

// DeletePasskey removes one of p's passkeys.
func (s *Service) DeletePasskey(ctx context.Context, p *Principal, id int64) error {
	err := s.st.InTx(ctx, func(q *db.Queries) error {
		name, err := q.DeletePasskey(ctx, db.DeletePasskeyParams{ID: id, UserID: p.UserID})
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, p.Actor(), ActionRemovePasskey, ResourceUsers, p.UserID, p.Email,
			audit.Changes{"passkey": {name, nil}})
	})
	if err != nil {
		return fmt.Errorf("delete passkey %d: %w", id, err)
	}
	s.log.InfoContext(ctx, "passkey removed", "user_id", p.UserID, "passkey_id", id)
	return nil
}

// BeginPasskeySignIn starts the second step of a sign-in with one of user id's
// passkeys (after Authenticate answered SecondFactorRequired).
func (s *Service) BeginPasskeySignIn(ctx context.Context, userID int64) (Ceremony, error) {
	if s.webauthn == nil {
		return Ceremony{}, ErrNoPasskeys
	}
	var pu *passkeyUser
	if err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		pu, _, err = loadPasskeyUser(ctx, q, userID)
		return err
	}); err != nil {
		return Ceremony{}, fmt.Errorf("load passkeys: %w", err)
	}
	if len(pu.creds) == 0 {
		return Ceremony{}, fmt.Errorf("user %d has no passkey: %w", userID, store.ErrNotFound)
	}
	assertion, sess, err := s.webauthn.BeginLogin(pu, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return Ceremony{}, fmt.Errorf("begin passkey sign-in: %w", err)
	}
	return ceremony(assertion, sess)
}

// FinishPasskeySignIn checks the browser's answer for user id, who passed the
// password step with authVersion, and signs them in like VerifySecondFactor. A
// failure counts toward the sign-in throttle and is ErrBadPasskey.
func (s *Service) FinishPasskeySignIn(ctx context.Context, userID int64, authVersion int32, state []byte, body io.Reader, clientAddr string) (*Principal, error) {
	if s.webauthn == nil {
		return nil, ErrNoPasskeys
	}
	var sess webauthn.SessionData
	if err := json.Unmarshal(state, &sess); err != nil || len(state) == 0 {
		return nil, fmt.Errorf("%w: no sign-in under way", ErrCeremony)
	}
	var pu *passkeyUser
	var u db.User
	err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		pu, u, err = loadPasskeyUser(ctx, q, userID)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, ErrSignedOut
	case err != nil:
		return nil, fmt.Errorf("load passkeys: %w", err)
	case !u.IsActive || u.AuthVersion != authVersion:
		return nil, ErrSignedOut
	}
	if err := s.throttle(ctx, u.Email, clientAddr); err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(body)
	var cred *webauthn.Credential
	if err == nil {
		cred, err = s.webauthn.ValidateLogin(pu, sess, parsed)
	}
	if err != nil {
		s.log.InfoContext(ctx, "passkey refused", "user_id", u.ID, "err", err)
		if ferr := s.failedCode(ctx, u, clientAddr, "passkey refused"); !errors.Is(ferr, ErrBadCode) {
			return nil, ferr
		}
		return nil, ErrBadPasskey
	}
	return s.passkeySignedIn(ctx, pu, u, cred, clientAddr, "with passkey after password")
}

// passkeySignedIn stores the credential's new counter and finishes the sign-in.
func (s *Service) passkeySignedIn(ctx context.Context, pu *passkeyUser, u db.User, cred *webauthn.Credential, clientAddr, how string) (*Principal, error) {
	row, ok := pu.row(cred.ID)
	if !ok {
		return nil, ErrBadPasskey
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return nil, err
	}
	var su db.GetSessionUserRow
	var usedAt *time.Time
	err = s.st.InTx(ctx, func(q *db.Queries) (err error) {
		if err := q.UsePasskey(ctx, db.UsePasskeyParams{ID: row.ID, Credential: raw}); err != nil {
			return err
		}
		if usedAt, err = recoveryCodeUse(ctx, q, u); err != nil {
			return err
		}
		if err := q.RecordLogin(ctx, db.RecordLoginParams{ID: u.ID}); err != nil {
			return err
		}
		if err := q.ClearLoginFailures(ctx, u.Email); err != nil {
			return err
		}
		if su, err = q.GetSessionUser(ctx, u.ID); err != nil {
			return err
		}
		return audit.Append(ctx, q, userActor(u.ID, u.Email), audit.Event{Action: ActionSignIn,
			Resource: ResourceSessions, ObjectID: u.ID, Repr: u.Email,
			Note: how + " “" + row.Name + "” from " + clientAddr})
	})
	if err != nil {
		return nil, fmt.Errorf("record sign-in: %w", err)
	}
	s.log.InfoContext(ctx, "signed in", "user_id", u.ID, "email", u.Email, "client_addr", clientAddr, "second_factor", "passkey")
	p := principalOf(su)
	p.RecoveryCodeUsedAt = usedAt
	return p, nil
}

// BeginPasswordless starts a sign-in with a passkey alone: the browser offers the
// site's discoverable passkeys, and the authenticator must verify the user.
func (s *Service) BeginPasswordless(ctx context.Context) (Ceremony, error) {
	if s.webauthn == nil {
		return Ceremony{}, ErrNoPasskeys
	}
	assertion, sess, err := s.webauthn.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return Ceremony{}, fmt.Errorf("begin passwordless sign-in: %w", err)
	}
	return ceremony(assertion, sess)
}

// FinishPasswordless checks the browser's answer and signs its user in, when the
// passkey is one its owner allowed to sign in alone and the user is active. Any
// failure is ErrBadPasskey (after the library's own checks: signature, origin,
// user verification, counter).
func (s *Service) FinishPasswordless(ctx context.Context, state []byte, body io.Reader, clientAddr string) (*Principal, error) {
	if s.webauthn == nil {
		return nil, ErrNoPasskeys
	}
	var sess webauthn.SessionData
	if err := json.Unmarshal(state, &sess); err != nil || len(state) == 0 {
		return nil, fmt.Errorf("%w: no sign-in under way", ErrCeremony)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCeremony, err)
	}
	var pu *passkeyUser
	var u db.User
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		if len(userHandle) != 8 {
			return nil, errors.New("unknown user handle")
		}
		id := int64(binary.BigEndian.Uint64(userHandle))
		err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
			pu, u, err = loadPasskeyUser(ctx, q, id)
			return err
		})
		if err != nil {
			return nil, err
		}
		return pu, nil
	}
	cred, err := s.webauthn.ValidateDiscoverableLogin(handler, sess, parsed)
	if err != nil {
		s.log.InfoContext(ctx, "passwordless sign-in refused", "client_addr", clientAddr, "err", err)
		return nil, ErrBadPasskey
	}
	row, ok := pu.row(cred.ID)
	switch {
	case !ok:
		return nil, ErrBadPasskey
	case !row.Passwordless:
		s.log.InfoContext(ctx, "passwordless sign-in refused", "user_id", u.ID, "reason", "passkey not allowed alone")
		return nil, ErrBadPasskey
	case !u.IsActive:
		return nil, ErrBadPasskey
	}
	if err := s.throttle(ctx, u.Email, clientAddr); err != nil {
		return nil, err
	}
	return s.passkeySignedIn(ctx, pu, u, cred, clientAddr, "with passkey alone")
}
