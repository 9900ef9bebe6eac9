package admin

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// securityPath is the account's security page: second factors and recovery codes.
const securityPath = "/admin/account/security"

// securityPage shows the signed-in user's second factors.
type securityPage struct {
	Layout
	TwoFactor auth.TwoFactor
	Passkeys  []db.Passkey
}

// security shows the page (GET /admin/account/security).
func (s *Server) security(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	st, err := s.auth.TwoFactorStatus(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	keys, err := s.auth.Passkeys(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "account/security", &securityPage{Layout: Layout{Title: "Account security"},
		TwoFactor: st, Passkeys: keys})
}

// startTOTP begins enrolling an authenticator app (POST /admin/account/security/totp/start)
// and shows its QR code.
func (s *Server) startTOTP(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	err := s.auth.StartTOTP(r.Context(), auth.FromContext(r.Context()))
	switch {
	case errors.Is(err, auth.ErrTOTPEnabled):
		return s.redirect(w, r, securityPath, "An authenticator app is already on. Switch it off first to set up another.")
	case errors.Is(err, auth.ErrNoSecretKey):
		return s.redirect(w, r, securityPath, "Authenticator apps are unavailable: the server has no STOCKROOM_SECRET_KEY. Ask an administrator.")
	case err != nil:
		return err
	}
	http.Redirect(w, r, securityPath+"/totp", http.StatusSeeOther)
	return nil
}

// totpPage is the enrolment page: the QR code, the secret as text and the code form.
type totpPage struct {
	Layout
	Enrolment auth.Enrolment
	QR        template.URL // a data: URI of a PNG made here, never stored data
	Errors    validator.Errors
}

// totpForm shows the enrolment waiting for its first code (GET /admin/account/security/totp).
func (s *Server) totpForm(w http.ResponseWriter, r *http.Request) error {
	return s.renderTOTP(w, r, http.StatusOK, nil)
}

func (s *Server) renderTOTP(w http.ResponseWriter, r *http.Request, status int, errs validator.Errors) error {
	e, err := s.auth.PendingTOTP(r.Context(), auth.FromContext(r.Context()))
	if errors.Is(err, store.ErrNotFound) {
		http.Redirect(w, r, securityPath, http.StatusSeeOther)
		return nil
	} else if err != nil {
		return err
	}
	return s.render(w, r, status, "account/totp", &totpPage{Layout: Layout{Title: "Set up an authenticator app"},
		Enrolment: e, QR: template.URL(e.QR), Errors: errs})
}

// codesPage shows a new set of recovery codes, once: only hashes are kept.
type codesPage struct {
	Layout
	Codes   []string
	Enabled bool // the codes came with switching an authenticator app on
}

// confirmTOTP switches the app on when the code is right (POST /admin/account/security/totp)
// and shows the recovery codes. The answer is the only place they ever appear, so
// it is not a redirect; posting again finds nothing waiting and goes to the page.
func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	codes, err := s.auth.ConfirmTOTP(r.Context(), auth.FromContext(r.Context()), r.PostFormValue("code"))
	if fe := fieldErrors(err); fe != nil {
		return s.renderTOTP(w, r, http.StatusUnprocessableEntity, fe)
	} else if errors.Is(err, store.ErrNotFound) {
		return s.redirect(w, r, securityPath, "Nothing is waiting to be set up: start again if the app is not on.")
	} else if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "account/codes", &codesPage{Layout: Layout{Title: "Recovery codes"}, Codes: codes, Enabled: true})
}

// passwordConfirmPage asks for the password before a change to the second factors.
type passwordConfirmPage struct {
	Layout
	Heading, Text, Action, Button string
	Errors                        validator.Errors
}

func disablePage(errs validator.Errors) *passwordConfirmPage {
	return &passwordConfirmPage{Layout: Layout{Title: "Switch off the authenticator app"},
		Heading: "Switch off the authenticator app",
		Text:    "Signing in will need only your password, and your recovery codes stop working. Enter your password to confirm.",
		Action:  securityPath + "/totp/disable", Button: "Switch off", Errors: errs}
}

func regeneratePage(errs validator.Errors) *passwordConfirmPage {
	return &passwordConfirmPage{Layout: Layout{Title: "New recovery codes"},
		Heading: "Make new recovery codes",
		Text:    "Your current recovery codes stop working and ten new ones are shown once. Enter your password to confirm.",
		Action:  securityPath + "/recovery-codes", Button: "Make new codes", Errors: errs}
}

// disableTOTPForm asks for the password (GET /admin/account/security/totp/disable).
func (s *Server) disableTOTPForm(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "account/confirm", disablePage(nil))
}

// disableTOTP switches the app off (POST /admin/account/security/totp/disable).
func (s *Server) disableTOTP(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	err := s.auth.DisableTOTP(r.Context(), auth.FromContext(r.Context()), r.PostFormValue("password"))
	if fe := fieldErrors(err); fe != nil {
		return s.render(w, r, http.StatusUnprocessableEntity, "account/confirm", disablePage(fe))
	} else if errors.Is(err, store.ErrNotFound) {
		return s.redirect(w, r, securityPath, "The authenticator app was already off.")
	} else if err != nil {
		return err
	}
	return s.redirect(w, r, securityPath, "The authenticator app is off; your recovery codes no longer work.")
}

// regenerateCodesForm asks for the password (GET /admin/account/security/recovery-codes).
func (s *Server) regenerateCodesForm(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "account/confirm", regeneratePage(nil))
}

// regenerateCodes makes a new set (POST /admin/account/security/recovery-codes) and
// shows it once.
func (s *Server) regenerateCodes(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	codes, err := s.auth.RegenerateRecoveryCodes(r.Context(), auth.FromContext(r.Context()), r.PostFormValue("password"))
	if fe := fieldErrors(err); fe != nil {
		return s.render(w, r, http.StatusUnprocessableEntity, "account/confirm", regeneratePage(fe))
	} else if errors.Is(err, store.ErrNotFound) {
		return s.redirect(w, r, securityPath, "Recovery codes come with an authenticator app: set one up first.")
	} else if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "account/codes", &codesPage{Layout: Layout{Title: "Recovery codes"}, Codes: codes})
}

// verifyPage is the second step of signing in: the code.
type verifyPage struct {
	Layout
	Next      string
	Message   string
	TwoFactor auth.TwoFactor // which second factors the user has
}

// badCode is the one message for a wrong, reused or expired code.
const badCode = "That code is not valid. Enter the current 6-digit code from your authenticator app, or an unused recovery code."

// verifyForm shows the code form (GET /admin/login/verify) to a session that passed
// the password step; any other goes to the sign-in page.
func (s *Server) verifyForm(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	uid, _, ok := s.sessions.PendingSecondFactor(r.Context())
	if !ok {
		http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(next), http.StatusSeeOther)
		return nil
	}
	st, err := s.auth.TwoFactorStatus(r.Context(), uid)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "auth/verify", &verifyPage{Layout: Layout{Title: "Two-factor sign-in"}, Next: next, TwoFactor: st})
}

// verify checks the code (POST /admin/login/verify) and signs in under a new token.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	page := &verifyPage{Layout: Layout{Title: "Two-factor sign-in"}, Next: safeNext(r.PostFormValue("next"))}
	uid, av, ok := s.sessions.PendingSecondFactor(ctx)
	if !ok {
		return s.redirect(w, r, "/admin/login?next="+url.QueryEscape(page.Next), "Your sign-in took too long. Please sign in again.")
	}
	st, err := s.auth.TwoFactorStatus(ctx, uid)
	if err != nil {
		return err
	}
	page.TwoFactor = st
	p, method, err := s.auth.VerifySecondFactor(ctx, uid, av, r.PostFormValue("code"), clientAddr(r))
	var throttled *auth.ThrottleError
	switch {
	case errors.As(err, &throttled):
		page.Message = throttled.Message()
		w.Header().Set("Retry-After", strconv.Itoa(int(throttled.Wait.Seconds())))
		return s.render(w, r, http.StatusTooManyRequests, "auth/verify", page)
	case errors.Is(err, auth.ErrBadCode):
		page.Message = badCode
		return s.render(w, r, http.StatusUnauthorized, "auth/verify", page)
	case errors.Is(err, auth.ErrSignedOut):
		s.sessions.CancelSecondFactor(ctx)
		return s.redirect(w, r, "/admin/login", "Please sign in again.")
	case err != nil:
		return err
	}
	if err := s.sessions.SignIn(ctx, p, clientOf(r)); err != nil {
		return err
	}
	s.tellRecoveryUse(r, p)
	if method == auth.MethodRecovery {
		st, err := s.auth.TwoFactorStatus(ctx, p.UserID)
		if err != nil {
			return err
		}
		s.sessions.Flash(ctx, "You signed in with a recovery code, which now no longer works. "+
			plural(st.RecoveryLeft, "recovery code", "recovery codes")+" left: make new ones on the Account security page if you are running low.")
	}
	http.Redirect(w, r, page.Next, http.StatusSeeOther)
	return nil
}

// tellRecoveryUse queues a warning when a recovery code was used since p's
// previous sign-in: if it was not them, they should act now.
func (s *Server) tellRecoveryUse(r *http.Request, p *auth.Principal) {
	if p.RecoveryCodeUsedAt == nil {
		return
	}
	s.sessions.Flash(r.Context(), "A recovery code was used to sign in to your account at "+
		p.RecoveryCodeUsedAt.UTC().Format("2006-01-02 15:04 UTC")+
		". If that was not you, change your password and make new recovery codes on the Account security page.")
}

// resetPage confirms a superuser's reset of another user's second factor.
type resetPage struct {
	Layout
	User      auth.User
	TwoFactor auth.TwoFactor
	Error     string
}

func (s *Server) resetPageOf(r *http.Request) (*resetPage, error) {
	p := auth.FromContext(r.Context())
	if !p.Superuser {
		return nil, web.ErrForbidden // users.change is not enough: this unlocks an account
	}
	u, err := byPathID(r, s.auth.GetUser)
	if err != nil {
		return nil, err
	}
	st, err := s.auth.TwoFactorStatus(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	pg := &resetPage{Layout: Layout{Title: "Two-factor sign-in of " + u.Email}, User: u, TwoFactor: st}
	if p.UserID == u.ID {
		pg.Error = "This is you: switch your own authenticator app off on your Account security page."
	}
	return pg, nil
}

// resetTwoFactorForm shows a user's second factors and asks to confirm the reset
// (GET /admin/users/{id}/two-factor).
func (s *Server) resetTwoFactorForm(w http.ResponseWriter, r *http.Request) error {
	pg, err := s.resetPageOf(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "users/two-factor", pg)
}

// resetTwoFactor removes the user's second factors and ends their sessions
// (POST /admin/users/{id}/two-factor).
func (s *Server) resetTwoFactor(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	pg, err := s.resetPageOf(r)
	if err != nil {
		return err
	}
	err = s.auth.ResetSecondFactor(r.Context(), auth.FromContext(r.Context()), pg.User.ID)
	back := fmt.Sprintf("/admin/users/%d/", pg.User.ID)
	switch {
	case errors.Is(err, auth.ErrOwnSecondFactor):
		return s.render(w, r, http.StatusUnprocessableEntity, "users/two-factor", pg)
	case errors.Is(err, store.ErrNotFound):
		return s.redirect(w, r, back, pg.User.Email+" has no second factor to reset.")
	case err != nil:
		return err
	}
	return s.redirect(w, r, back, "Two-factor sign-in of "+pg.User.Email+" was reset and their sessions ended. "+
		"They sign in with their password alone until they set up a new authenticator app.")
}
