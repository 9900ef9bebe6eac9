package admin

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/validator"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// resetLinkPage confirms making a reset link, then shows it once.
type resetLinkPage struct {
	Layout
	User    auth.User
	Link    string     // set once made
	Expires *time.Time // set once made
}

func (s *Server) resetLinkUser(r *http.Request) (auth.User, error) {
	if !auth.FromContext(r.Context()).Superuser {
		return auth.User{}, web.ErrForbidden // it lets whoever holds it into the account
	}
	return byPathID(r, s.auth.GetUser)
}

// resetLinkForm explains and asks to confirm (GET /admin/users/{id}/reset-link).
func (s *Server) resetLinkForm(w http.ResponseWriter, r *http.Request) error {
	u, err := s.resetLinkUser(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "users/reset-link", &resetLinkPage{Layout: Layout{Title: "Reset link for " + u.Email}, User: u})
}

// createResetLink makes the link and shows it, once (POST /admin/users/{id}/reset-link):
// only its hash is kept, so this answer is the only place it appears.
func (s *Server) createResetLink(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	u, err := s.resetLinkUser(r)
	if err != nil {
		return err
	}
	link, err := s.auth.CreateResetLink(r.Context(), auth.FromContext(r.Context()), u.ID)
	if err != nil {
		return err
	}
	base := s.baseURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return s.render(w, r, http.StatusOK, "users/reset-link", &resetLinkPage{Layout: Layout{Title: "Reset link for " + u.Email},
		User: u, Link: base + "/admin/reset/" + link.Token, Expires: &link.Expires})
}

// resetPage is where a reset link leads: a new password, twice.
type resetPasswordPage struct {
	Layout
	Email   string
	Invalid bool
	Errors  validator.Errors
}

// invalidReset is the page of a link that does not work (404: nothing is there).
func (s *Server) invalidReset(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusNotFound, "auth/reset", &resetPasswordPage{Layout: Layout{Title: "Reset link not valid"}, Invalid: true})
}

// resetForm shows the form (GET /admin/reset/{token}).
func (s *Server) resetForm(w http.ResponseWriter, r *http.Request) error {
	email, err := s.auth.ResetTarget(r.Context(), r.PathValue("token"))
	if errors.Is(err, auth.ErrResetInvalid) {
		return s.invalidReset(w, r)
	} else if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "auth/reset", &resetPasswordPage{Layout: Layout{Title: "Choose a new password"}, Email: email})
}

// resetPassword sets the password (POST /admin/reset/{token}) and sends the user to
// sign in with it.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	token := r.PathValue("token")
	email, err := s.auth.ResetTarget(r.Context(), token)
	if errors.Is(err, auth.ErrResetInvalid) {
		return s.invalidReset(w, r)
	} else if err != nil {
		return err
	}
	errs := validator.Errors{}
	errs.Check(r.PostFormValue("password") == r.PostFormValue("password2"), "password2", "does not match the new password")
	err = errs.Err()
	if err == nil {
		err = s.auth.ResetPassword(r.Context(), token, r.PostFormValue("password"))
	}
	if fe := fieldErrors(err); fe != nil {
		return s.render(w, r, http.StatusUnprocessableEntity, "auth/reset", &resetPasswordPage{Layout: Layout{Title: "Choose a new password"},
			Email: email, Errors: fe})
	} else if errors.Is(err, auth.ErrResetInvalid) {
		return s.invalidReset(w, r)
	} else if err != nil {
		return err
	}
	return s.redirect(w, r, "/admin/login", fmt.Sprintf("The password of %s is set. Sign in with it.", email))
}
