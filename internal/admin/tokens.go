package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// API tokens in the admin: a list of every user's tokens (tokens.view), a form that
// creates one and shows its secret once (tokens.add), and a confirmation that revokes
// one (tokens.delete: revoking ends a token for good, like deleting it, while the row
// stays for the record; tokens.change is not used, as a token has nothing to edit).
// Staff create tokens for themselves; only a superuser may pick another user. A token
// never does more than its user may: its scope only narrows the user's permissions.

type tokenRow = db.SearchAPITokensRow

const tokensPath = "/admin/tokens/"

// tokenListSpec declares the token list. It is built per request because its last
// column, the revoke links, is there only for those who may revoke.
func (s *Server) tokenListSpec(canRevoke bool) *ListSpec[tokenRow] {
	toList := func(req PageRequest) auth.TokenList {
		l := auth.TokenList{Search: req.Search, Scope: req.Filters["scope"], State: req.Filters["state"],
			Sort: req.Sort, Desc: req.Desc, Limit: req.Limit}
		if req.After != nil {
			l.HasAfter, l.AfterKey, l.AfterID = true, req.After.Value, req.After.ID
		}
		return l
	}
	cols := []Column{{Key: "name", Label: "Name"}, {Key: "user", Label: "User"}, {Label: "Prefix"}, {Label: "Scope"},
		{Key: "created", Label: "Created"}, {Key: "expires", Label: "Expires"}, {Key: "last_used", Label: "Last used"},
		{Label: "State"}}
	if canRevoke {
		cols = append(cols, Column{Label: "Actions"})
	}
	tokens := s.auth.Tokens()
	return &ListSpec[tokenRow]{
		Path: tokensPath, Singular: "token", Plural: "tokens",
		Columns: cols,
		Filters: []Filter{
			{Name: "scope", Label: "Scope", Options: []Option{{auth.ScopeRead, "Read"}, {auth.ScopeWrite, "Write"}}},
			{Name: "state", Label: "State", Options: []Option{
				{auth.StateActive, "Active"}, {auth.StateExpired, "Expired"}, {auth.StateRevoked, "Revoked"}}},
		},
		Search:      "Search name or email",
		DefaultSort: "created",
		DefaultDesc: true,
		Fetch: func(ctx context.Context, req PageRequest) ([]tokenRow, error) {
			return tokens.Search(ctx, toList(req))
		},
		Cursor: func(t tokenRow, _ string) Cursor { return Cursor{Value: t.SortKey, ID: t.ID} },
		Count: func(ctx context.Context, q ListQuery) (keyset.Count, error) {
			return tokens.Count(ctx, toList(PageRequest{Search: q.Search, Filters: q.Filters}))
		},
	}
}

// tokensPage is the token list.
type tokensPage struct {
	Layout
	List      *List[tokenRow]
	CanAdd    bool
	CanRevoke bool
}

func (p *tokensPage) list() framed { return p.List }

// listTokens is GET /admin/tokens/.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	spec := s.tokenListSpec(p.Can("tokens.delete"))
	l, err := spec.Load(r.Context(), spec.Parse(r.URL.Query()))
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "tokens/list", &tokensPage{Layout: Layout{Title: "API tokens"}, List: l,
		CanAdd: p.Can("tokens.add"), CanRevoke: p.Can("tokens.delete")})
}

// tokenExpiries are the form's expiry choices: "never", a number of days from now,
// or "date" (the end of the day given in expires_on, UTC).
var tokenExpiries = []Option{
	{"never", "Never"}, {"30", "In 30 days"}, {"90", "In 90 days"}, {"365", "In 365 days"}, {"date", "On a date"},
}

// tokenForm is the token form's values: the defaults, or what was posted.
type tokenForm struct {
	UserID    int64
	Name      string
	Scope     string
	Expires   string // a tokenExpiries value
	ExpiresOn string // YYYY-MM-DD, for "date"
	// Key names this form (random, in a hidden field), so that the browser sending it
	// again is recognised: see createToken.
	Key string
}

// newFormKey returns a fresh form key.
func newFormKey() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// tokenFormPage is the form that creates a token.
type tokenFormPage struct {
	Layout
	Form     tokenForm
	Errors   validator.Errors
	Owners   []db.ListTokenOwnersRow // a superuser's choice of user; nil for everyone else
	Expiries []Option
	Today    string // the earliest date the date input offers
}

// tokenFormPage builds the form page around f: superusers get the list of users.
func (s *Server) tokenFormPage(ctx context.Context, f tokenForm, errs validator.Errors) (*tokenFormPage, error) {
	pg := &tokenFormPage{Layout: Layout{Title: "Create API token"}, Form: f, Errors: errs, Expiries: tokenExpiries,
		Today: time.Now().UTC().Format(time.DateOnly)}
	if auth.FromContext(ctx).Superuser {
		var err error
		if pg.Owners, err = s.auth.Tokens().Owners(ctx); err != nil {
			return nil, err
		}
	}
	return pg, nil
}

// newTokenForm is GET /admin/tokens/new: a read token of one's own, for 90 days.
func (s *Server) newTokenForm(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	pg, err := s.tokenFormPage(ctx, tokenForm{UserID: auth.FromContext(ctx).UserID, Scope: auth.ScopeRead, Expires: "90",
		Key: newFormKey()}, nil)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "tokens/form", pg)
}

// tokenCreatedPage shows a new token's secret, the one time anyone sees it.
type tokenCreatedPage struct {
	Layout
	Secret  string
	Token   auth.Token
	CanList bool
}

// createToken is POST /admin/tokens/new. Success cannot follow post/redirect/get:
// the secret exists only in this response, so it is rendered here (201) and never
// again; render's Cache-Control: no-store keeps it out of every cache, so Back and
// Reload find nothing to show. What they can do is post the form again (after the
// browser asks): its key, recorded in the session on success, turns that into a
// redirect to the list instead of a second token.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	bad, err := readForm(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	p := auth.FromContext(ctx)
	f := tokenForm{UserID: p.UserID, Name: r.PostFormValue("name"), Scope: r.PostFormValue("scope"),
		Expires: r.PostFormValue("expires"), ExpiresOn: r.PostFormValue("expires_on"), Key: r.PostFormValue("form_key")}
	if f.Key != "" && s.sessions.FormUsed(ctx, f.Key) {
		return s.redirect(w, r, tokensBack(r), "That form was sent before and its token created; "+
			"its secret is not shown again. If you did not copy it, revoke that token and create another.")
	}
	if len(f.Key) > 64 {
		f.Key = "" // not one of ours; the form gets a fresh one below if it comes back
	}
	if f.Key == "" {
		f.Key = newFormKey()
	}
	errs := withText(validator.Errors{}, bad)
	if v := r.PostFormValue("user"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs.Add("user", "does not exist or is deactivated")
		} else {
			f.UserID = id // whether p may make it for them is Create's rule
		}
	}
	expiresAt := tokenExpiry(f.Expires, f.ExpiresOn, time.Now(), errs)
	err = errs.Err()
	var secret string
	var tok auth.Token
	if err == nil {
		secret, tok, err = s.auth.Tokens().Create(ctx, p, f.UserID, f.Name, f.Scope, expiresAt)
	}
	if fe := fieldErrors(err); fe != nil {
		if msg, ok := fe["expires_at"]; ok { // the form's field is the choice, or its date
			if f.Expires == "date" {
				fe.Add("expires_on", msg+"; choose Never for no expiry")
			} else {
				fe.Add("expires", msg)
			}
		}
		if fe["user"] != "" && !p.Superuser {
			f.UserID = p.UserID // the form offers them no one else
		}
		pg, err := s.tokenFormPage(ctx, f, fe)
		if err != nil {
			return err
		}
		return s.render(w, r, http.StatusUnprocessableEntity, "tokens/form", pg)
	} else if err != nil {
		return err
	}
	s.sessions.MarkFormUsed(ctx, f.Key)
	return s.render(w, r, http.StatusCreated, "tokens/created", &tokenCreatedPage{
		Layout: Layout{Title: "API token created"}, Secret: secret, Token: tok, CanList: p.Can("tokens.view")})
}

// tokenExpiry reads the expiry choice at now: nil for never. A bad choice or date is
// a field error in errs.
func tokenExpiry(choice, on string, now time.Time, errs validator.Errors) *time.Time {
	var at time.Time
	switch choice {
	case "never":
		return nil
	case "30", "90", "365":
		days, _ := strconv.Atoi(choice)
		at = now.UTC().Truncate(time.Second).AddDate(0, 0, days)
	case "date":
		day, err := time.Parse(time.DateOnly, on)
		switch {
		case on == "":
			errs.Add("expires_on", "is required for an expiry on a date")
		case err != nil:
			errs.Add("expires_on", "must be a date like 2030-12-31")
		case !day.AddDate(0, 0, 1).After(now):
			errs.Add("expires_on", "must be today or later")
		case day.AddDate(0, 0, 1).After(auth.TokenExpiryLimit(now)): // Tokens.Create's rule, said on the date
			errs.Add("expires_on", "must be within ten years; choose Never for no expiry")
		}
		at = day.AddDate(0, 0, 1) // the token works to the end of that day, UTC
	default:
		errs.Add("expires", "choose when the token expires")
	}
	return &at
}

// tokenRevokePage confirms a revocation.
type tokenRevokePage struct {
	Layout
	Token auth.Token
	State string
	Back  string
}

// revokeTokenForm is GET /admin/tokens/{id}/revoke.
func (s *Server) revokeTokenForm(w http.ResponseWriter, r *http.Request) error {
	tok, err := byPathID(r, s.auth.Tokens().Get)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "tokens/revoke", &tokenRevokePage{Layout: Layout{Title: "Revoke " + tok.Name},
		Token: tok, State: tok.State(time.Now()), Back: tokensBack(r)})
}

// revokeToken is POST /admin/tokens/{id}/revoke: the token is refused from its next
// request on.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	tokens := s.auth.Tokens()
	tok, err := byPathID(r, tokens.Get)
	if err != nil {
		return err
	}
	if tok.RevokedAt != nil {
		return s.redirect(w, r, tokensBack(r), fmt.Sprintf("Token %s was already revoked.", tok.Repr()))
	}
	if err := tokens.Revoke(r.Context(), auth.FromContext(r.Context()), tok.ID); err != nil {
		return err
	}
	return s.redirect(w, r, tokensBack(r), fmt.Sprintf("Token %s was revoked: requests with it are refused from now on.", tok.Repr()))
}

// tokensBack is where the revoke pages lead back to: the list, for those who may
// see it.
func tokensBack(r *http.Request) string {
	if auth.FromContext(r.Context()).Can("tokens.view") {
		return tokensPath
	}
	return "/admin/"
}
