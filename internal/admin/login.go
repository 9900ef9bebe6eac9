package admin

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/validator"
	"github.com/stockroom-dev/stockroom/internal/web/session"
)

// loginPage is the sign-in form. It never carries the password back.
type loginPage struct {
	Layout
	Email    string
	Next     string
	Message  string // the one message a failed sign-in gets
	Passkeys bool   // offer signing in with a passkey alone
}

// badCredentials is the one message for an unknown email, a wrong password and an
// inactive account alike.
const badCredentials = "Please enter a correct email and password."

// loginForm shows the sign-in form (GET /admin/login); signed in already, it goes on
// to next.
func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	if auth.FromContext(r.Context()) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, http.StatusOK, "auth/login", &loginPage{Layout: Layout{Title: "Sign in"}, Next: next,
		Passkeys: s.auth.PasskeysAvailable()})
}

// login signs in (POST /admin/login): a new session token, then on to next.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	bad, err := readForm(w, r)
	if err != nil {
		return err
	}
	email := r.PostFormValue("email")
	page := &loginPage{Layout: Layout{Title: "Sign in"}, Email: email, Next: safeNext(r.PostFormValue("next")),
		Passkeys: s.auth.PasskeysAvailable()}
	if len(bad) > 0 {
		page.Email = "" // not shown again: it cannot be stored, and may not be shown either
		page.Message = "Not signed in: " + fieldSentence(bad)
		return s.render(w, r, http.StatusUnprocessableEntity, "auth/login", page)
	}
	p, err := s.auth.Authenticate(r.Context(), email, r.PostFormValue("password"), clientAddr(r))
	var throttled *auth.ThrottleError
	var pending *auth.SecondFactorRequired
	switch {
	case errors.As(err, &throttled):
		page.Message = throttled.Message()
		w.Header().Set("Retry-After", strconv.Itoa(int(throttled.Wait.Seconds())))
		return s.render(w, r, http.StatusTooManyRequests, "auth/login", page)
	case errors.As(err, &pending):
		if err := s.sessions.BeginSecondFactor(r.Context(), pending.UserID, pending.AuthVersion); err != nil {
			return err
		}
		http.Redirect(w, r, "/admin/login/verify?next="+url.QueryEscape(page.Next), http.StatusSeeOther)
		return nil
	case errors.Is(err, auth.ErrBadCredentials):
		page.Message = badCredentials
		return s.render(w, r, http.StatusUnauthorized, "auth/login", page)
	case err != nil:
		return err
	}
	if err := s.sessions.SignIn(r.Context(), p, clientOf(r)); err != nil {
		return err
	}
	http.Redirect(w, r, page.Next, http.StatusSeeOther)
	return nil
}

// clientOf is where r comes from, for the list of sessions.
func clientOf(r *http.Request) session.Client {
	return session.Client{Addr: clientAddr(r), UserAgent: r.UserAgent()}
}

// clientAddr is the peer's IP address, the key of the per-address throttle. Proxy
// headers are not trusted: anyone can send them.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// logout signs out (POST /admin/logout) and shows the sign-in page.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.sessions.SignOut(r.Context()); err != nil {
		return err
	}
	return s.redirect(w, r, "/admin/login", "You have signed out.")
}

// passwordPage changes the signed-in user's own password.
type passwordPage struct {
	Layout
	Errors validator.Errors
}

// passwordForm shows the form (GET /admin/password).
func (s *Server) passwordForm(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "auth/password", &passwordPage{Layout: Layout{Title: "Change password"}})
}

// changePassword changes the user's own password (POST /admin/password). Their other
// sessions end; this one goes on under a new token.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	bad, err := readForm(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	p := auth.FromContext(ctx)
	errs := withText(validator.Errors{}, bad)
	errs.Check(validator.Required(r.PostFormValue("current")), "current", "is required")
	errs.Check(r.PostFormValue("password") == r.PostFormValue("password2"), "password2", "does not match the new password")
	var v int32
	err = errs.Err()
	if err == nil {
		v, err = s.auth.ChangeOwnPassword(ctx, p, r.PostFormValue("current"), r.PostFormValue("password"))
	}
	if fe := fieldErrors(err); fe != nil {
		return s.render(w, r, http.StatusUnprocessableEntity, "auth/password",
			&passwordPage{Layout: Layout{Title: "Change password"}, Errors: fe})
	} else if err != nil {
		return err
	}
	if err := s.sessions.KeepSignedIn(ctx, v); err != nil {
		return err
	}
	return s.redirect(w, r, "/admin/", "Your password has been changed. Other sessions have been signed out.")
}
