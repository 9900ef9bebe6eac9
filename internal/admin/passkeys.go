package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Passkeys need the browser's WebAuthn API, so their exchanges are JSON requests made
// by templates/static/passkeys.js; pages around them (the list, rename, delete)
// are ordinary forms. The JSON answers are application/problem+json on failure.

// maxPasskeyBody bounds a WebAuthn answer: a few KB in practice.
const maxPasskeyBody = 64 << 10

// problem writes an RFC 9457 answer for the passkey script to show.
func problem(w http.ResponseWriter, status int, detail string, errs validator.Errors) {
	body := map[string]any{"title": http.StatusText(status), "status": status, "detail": detail}
	if len(errs) > 0 {
		var list []map[string]string
		for f, m := range errs {
			list = append(list, map[string]string{"field": f, "message": m})
		}
		body["errors"] = list
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(v)
}

// jsonOnly reports whether r's body is JSON. Anything else is refused: a form post
// is read like every form first, so text PostgreSQL cannot store is a 422 naming
// the field, and otherwise gets 415.
func (s *Server) jsonOnly(w http.ResponseWriter, r *http.Request) (bool, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		return true, nil
	}
	if err := parseForm(w, r); err != nil {
		return false, err
	}
	problem(w, http.StatusUnsupportedMediaType, "Passkey requests are JSON (application/json).", nil)
	return false, nil
}

// passkeyFail answers the passkey failures every exchange shares; it returns false
// for any other error, which the caller returns (a logged 500).
func (s *Server) passkeyFail(w http.ResponseWriter, err error) bool {
	var throttled *auth.ThrottleError
	var fe validator.Errors
	switch {
	case errors.As(err, &fe):
		msg := "Please correct the passkey’s details."
		if m, ok := fe["name"]; ok {
			msg = "Name " + m + "."
		}
		problem(w, http.StatusUnprocessableEntity, msg, fe)
	case errors.Is(err, auth.ErrNoPasskeys):
		problem(w, http.StatusConflict, "Passkeys are unavailable on this server: it has no STOCKROOM_BASE_URL. Ask an administrator.", nil)
	case errors.Is(err, auth.ErrCeremony):
		problem(w, http.StatusBadRequest, "The browser’s answer did not match: please try again.", nil)
	case errors.Is(err, auth.ErrBadPasskey):
		problem(w, http.StatusUnauthorized, "That passkey was not accepted.", nil)
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(int(throttled.Wait.Seconds())))
		problem(w, http.StatusTooManyRequests, throttled.Message(), nil)
	default:
		return false
	}
	return true
}

// registerPasskeyBegin starts registering a passkey (POST
// /admin/account/passkeys/register/begin, JSON {"name", "passwordless"}).
func (s *Server) registerPasskeyBegin(w http.ResponseWriter, r *http.Request) error {
	if ok, err := s.jsonOnly(w, r); !ok {
		return err
	}
	var in struct {
		Name         string `json:"name"`
		Passwordless bool   `json:"passwordless"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxPasskeyBody)).Decode(&in); err != nil {
		problem(w, http.StatusBadRequest, "The request was not understood.", nil)
		return nil
	}
	ctx := r.Context()
	c, err := s.auth.BeginPasskeyRegistration(ctx, auth.FromContext(ctx), auth.PasskeyInput{Name: in.Name, Passwordless: in.Passwordless})
	if s.passkeyFail(w, err) {
		return nil
	} else if err != nil {
		return err
	}
	s.sessions.PutCeremony(ctx, "register", c.State)
	_, err = w.Write(c.Options)
	return err
}

// registerPasskeyFinish stores the passkey the browser made (POST
// /admin/account/passkeys/register/finish).
func (s *Server) registerPasskeyFinish(w http.ResponseWriter, r *http.Request) error {
	if ok, err := s.jsonOnly(w, r); !ok {
		return err
	}
	ctx := r.Context()
	row, err := s.auth.FinishPasskeyRegistration(ctx, auth.FromContext(ctx), s.sessions.TakeCeremony(ctx, "register"),
		http.MaxBytesReader(w, r.Body, maxPasskeyBody))
	if s.passkeyFail(w, err) {
		return nil
	} else if err != nil {
		return err
	}
	s.sessions.Flash(ctx, "Passkey “"+row.Name+"” added.")
	return writeJSON(w, map[string]string{"redirect": securityPath})
}

// passkeySignInBegin starts the second step with a passkey (POST
// /admin/login/passkey/begin) for a session past the password step.
func (s *Server) passkeySignInBegin(w http.ResponseWriter, r *http.Request) error {
	if ok, err := s.jsonOnly(w, r); !ok {
		return err
	}
	ctx := r.Context()
	uid, _, ok := s.sessions.PendingSecondFactor(ctx)
	if !ok {
		problem(w, http.StatusUnauthorized, "Your sign-in took too long. Please sign in again.", nil)
		return nil
	}
	c, err := s.auth.BeginPasskeySignIn(ctx, uid)
	if s.passkeyFail(w, err) {
		return nil
	} else if errors.Is(err, store.ErrNotFound) {
		problem(w, http.StatusConflict, "You have no passkey: use your authenticator app’s code.", nil)
		return nil
	} else if err != nil {
		return err
	}
	s.sessions.PutCeremony(ctx, "signin", c.State)
	_, err = w.Write(c.Options)
	return err
}

// passkeySignInFinish checks the passkey and signs in (POST
// /admin/login/passkey/finish?next=...).
func (s *Server) passkeySignInFinish(w http.ResponseWriter, r *http.Request) error {
	if ok, err := s.jsonOnly(w, r); !ok {
		return err
	}
	ctx := r.Context()
	uid, av, ok := s.sessions.PendingSecondFactor(ctx)
	if !ok {
		problem(w, http.StatusUnauthorized, "Your sign-in took too long. Please sign in again.", nil)
		return nil
	}
	p, err := s.auth.FinishPasskeySignIn(ctx, uid, av, s.sessions.TakeCeremony(ctx, "signin"),
		http.MaxBytesReader(w, r.Body, maxPasskeyBody), clientAddr(r))
	if errors.Is(err, auth.ErrSignedOut) {
		s.sessions.CancelSecondFactor(ctx)
		problem(w, http.StatusUnauthorized, "Please sign in again.", nil)
		return nil
	} else if s.passkeyFail(w, err) {
		return nil
	} else if err != nil {
		return err
	}
	if err := s.sessions.SignIn(ctx, p, clientOf(r)); err != nil {
		return err
	}
	s.tellRecoveryUse(r, p)
	return writeJSON(w, map[string]string{"redirect": safeNext(r.URL.Query().Get("next"))})
}

// passwordlessBegin starts a sign-in with a passkey alone (POST
// /admin/login/passwordless/begin).
func (s *Server) passwordlessBegin(w http.ResponseWriter, r *http.Request) error {
	if ok, err := s.jsonOnly(w, r); !ok {
		return err
	}
	c, err := s.auth.BeginPasswordless(r.Context())
	if s.passkeyFail(w, err) {
		return nil
	} else if err != nil {
		return err
	}
	s.sessions.PutCeremony(r.Context(), "passwordless", c.State)
	_, err = w.Write(c.Options)
	return err
}

// passwordlessFinish checks the passkey and signs its owner in (POST
// /admin/login/passwordless/finish?next=...).
func (s *Server) passwordlessFinish(w http.ResponseWriter, r *http.Request) error {
	if ok, err := s.jsonOnly(w, r); !ok {
		return err
	}
	ctx := r.Context()
	p, err := s.auth.FinishPasswordless(ctx, s.sessions.TakeCeremony(ctx, "passwordless"),
		http.MaxBytesReader(w, r.Body, maxPasskeyBody), clientAddr(r))
	if s.passkeyFail(w, err) {
		return nil
	} else if err != nil {
		return err
	}
	if err := s.sessions.SignIn(ctx, p, clientOf(r)); err != nil {
		return err
	}
	s.tellRecoveryUse(r, p)
	return writeJSON(w, map[string]string{"redirect": safeNext(r.URL.Query().Get("next"))})
}

// passkeyPage renames a passkey and sets whether it signs in alone.
type passkeyPage struct {
	Layout
	Passkey db.Passkey
	Name    string
	Alone   bool
	Errors  validator.Errors
}

// passkeyOf loads the {id} passkey of the signed-in user (not found for anyone else's).
func (s *Server) passkeyOf(r *http.Request) (db.Passkey, error) {
	id, err := pathID(r)
	if err != nil {
		return db.Passkey{}, err
	}
	return s.auth.Passkey(r.Context(), auth.FromContext(r.Context()), id)
}

// editPasskeyForm shows the form (GET /admin/account/passkeys/{id}/).
func (s *Server) editPasskeyForm(w http.ResponseWriter, r *http.Request) error {
	pk, err := s.passkeyOf(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "account/passkey", &passkeyPage{Layout: Layout{Title: "Passkey " + pk.Name},
		Passkey: pk, Name: pk.Name, Alone: pk.Passwordless})
}

// updatePasskey saves it (POST /admin/account/passkeys/{id}/).
func (s *Server) updatePasskey(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	pk, err := s.passkeyOf(r)
	if err != nil {
		return err
	}
	in := auth.PasskeyInput{Name: r.PostFormValue("name"), Passwordless: r.PostFormValue("passwordless") == "on"}
	row, err := s.auth.UpdatePasskey(r.Context(), auth.FromContext(r.Context()), pk.ID, in)
	if fe := fieldErrors(err); fe != nil {
		return s.render(w, r, http.StatusUnprocessableEntity, "account/passkey", &passkeyPage{Layout: Layout{Title: "Passkey " + pk.Name},
			Passkey: pk, Name: in.Name, Alone: in.Passwordless, Errors: fe})
	} else if err != nil {
		return err
	}
	return s.redirect(w, r, securityPath, "Passkey “"+row.Name+"” saved.")
}

// deletePasskeyForm asks to confirm (GET /admin/account/passkeys/{id}/delete).
func (s *Server) deletePasskeyForm(w http.ResponseWriter, r *http.Request) error {
	pk, err := s.passkeyOf(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "confirm/delete", &deletePage{Layout: Layout{Title: "Remove passkey " + pk.Name},
		Kind: "passkey", Name: pk.Name, Action: fmt.Sprintf("/admin/account/passkeys/%d/delete", pk.ID), Cancel: securityPath,
		Effects: []string{"signing in with it: the device keeps it, but this site no longer accepts it"}})
}

// deletePasskey removes it (POST /admin/account/passkeys/{id}/delete).
func (s *Server) deletePasskey(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	pk, err := s.passkeyOf(r)
	if err != nil {
		return err
	}
	if err := s.auth.DeletePasskey(r.Context(), auth.FromContext(r.Context()), pk.ID); err != nil {
		return err
	}
	return s.redirect(w, r, securityPath, "Passkey “"+pk.Name+"” removed.")
}
