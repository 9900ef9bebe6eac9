package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// The scopes a token can have: a read token may only do what a user's *.view
// permissions allow; a write token may do all the user may.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
)

// The audit log's resource for tokens, and the action of a revocation (a creation
// is audit.ActionCreate). A token's row names it by name and prefix, never by its
// secret or hash.
const (
	ResourceTokens = "tokens"
	ActionRevoke   = "revoke"
)

// TokenPrefix starts every token secret, so a leaked one is easy to recognise (by
// people and by secret scanners).
const TokenPrefix = "srk_"

const (
	secretBytes   = 32
	secretLen     = len(TokenPrefix) + 43 // base64url of 32 bytes, unpadded
	displayPrefix = len(TokenPrefix) + 6  // what is stored in clear, to tell tokens apart
)

// ErrInvalidToken: the secret names no usable token. Unknown, revoked, expired and
// deactivated-user tokens are deliberately not told apart.
var ErrInvalidToken = errors.New("invalid API token")

// Token is an API token as its owner sees it: never its secret.
type Token struct {
	ID         int64
	UserID     int64
	Email      string // the owner's
	Name       string
	Prefix     string // the secret's first characters, e.g. srk_Ab3dE9
	Scope      string // ScopeRead or ScopeWrite
	ExpiresAt  *time.Time
	LastUsedAt *time.Time // at most a minute behind the last use
	RevokedAt  *time.Time
	CreatedAt  time.Time
	Version    int32
}

// The states of a token, as Token.State and the admin's list name them.
const (
	StateActive  = "active"
	StateExpired = "expired"
	StateRevoked = "revoked"
)

// State says whether t is active, expired or revoked at now.
func (t Token) State(now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return StateRevoked
	case t.ExpiresAt != nil && !t.ExpiresAt.After(now):
		return StateExpired
	}
	return StateActive
}

// Repr is how the audit log and the admin name a token: its name and prefix,
// "ci (srk_Ab3dE9)". The prefix is stored in clear anyway; the rest of the secret
// never appears anywhere.
func (t Token) Repr() string { return tokenRepr(t.Name, t.Prefix) }

func tokenRepr(name, prefix string) string { return name + " (" + prefix + ")" }

// Tokens creates, lists, revokes and checks API tokens.
type Tokens struct {
	st    *store.Store
	cache *PrincipalCache // nil: none
}

// NewTokens returns the token service on st.
func NewTokens(st *store.Store) *Tokens { return &Tokens{st: st} }

// WithCache returns the token service keeping principals in c (nil: none).
func (t *Tokens) WithCache(c *PrincipalCache) *Tokens { return &Tokens{st: t.st, cache: c} }

// Tokens returns the token service on the same store as s, so the admin reaches it
// through the auth service it already has.
func (s *Service) Tokens() *Tokens { return NewTokens(s.st) }

// UserID returns the id of the staff user with email, for the command line, which
// names a token's owner by email. An unknown email is store.ErrNotFound.
func (t *Tokens) UserID(ctx context.Context, email string) (int64, error) {
	var u db.User
	err := t.st.Read(ctx, func(q *db.Queries) (err error) {
		u, err = q.GetUserByEmail(ctx, email)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("user %s: %w", email, err)
	}
	return u.ID, nil
}

// MaxTokenYears is how far ahead a token's expiry may be: to the end of the tenth
// calendar year from now (UTC). No expiry at all is allowed: that is a choice, a
// hundred years is a typo.
const MaxTokenYears = 10

// TokenExpiryLimit is the latest expiry a token made at now may have: the start of
// the year after the tenth from now, so that any day of the tenth year can be its
// last.
func TokenExpiryLimit(now time.Time) time.Time {
	return time.Date(now.UTC().Year()+MaxTokenYears+1, 1, 1, 0, 0, 0, 0, time.UTC)
}

// Create makes a token for userID and returns its secret, which exists only in this
// return value: the database keeps its SHA-256. expiresAt may be nil (no expiry), and
// may not pass TokenExpiryLimit. Only a superuser makes a token for someone else; a
// nil p is the command line, which may for anyone. The token and its audit row (by
// p: name, owner, scope, expiry and prefix, never the secret) commit together.
// Invalid input is a validator.Errors, and so are a refused owner and a user who is
// unknown or deactivated.
func (t *Tokens) Create(ctx context.Context, p *Principal, userID int64, name, scope string, expiresAt *time.Time) (string, Token, error) {
	name = strings.TrimSpace(name)
	now := time.Now()
	errs := validator.Errors{}
	errs.Check(p == nil || userID == p.UserID || p.Superuser, "user", "only a superuser can create tokens for someone else")
	errs.Check(validator.Required(name), "name", "is required")
	errs.Check(validator.MaxLen(name, 100), "name", "must be at most 100 characters")
	errs.Check(scope == ScopeRead || scope == ScopeWrite, "scope", "must be read or write")
	errs.Check(expiresAt == nil || expiresAt.After(now), "expires_at", "must be in the future")
	errs.Check(expiresAt == nil || !expiresAt.After(TokenExpiryLimit(now)), "expires_at", "must be within ten years")
	if err := errs.Err(); err != nil {
		return "", Token{}, err
	}
	actor := p.Actor()
	var raw [secretBytes]byte
	rand.Read(raw[:]) // never fails (crypto/rand since Go 1.24)
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	hash := sha256.Sum256([]byte(secret))
	var row db.CreateAPITokenRow
	err := t.st.InTx(ctx, func(q *db.Queries) error {
		var err error
		row, err = q.CreateAPIToken(ctx, db.CreateAPITokenParams{
			UserID: userID, Name: name, TokenHash: hash[:], Prefix: secret[:displayPrefix],
			Scope: scope, ExpiresAt: expiresAt,
		})
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, actor, audit.ActionCreate, ResourceTokens, row.ID, tokenRepr(row.Name, row.Prefix),
			audit.Diff(nil, map[string]any{
				"name": row.Name, "user": row.Email, "scope": row.Scope, "expires_at": row.ExpiresAt, "prefix": row.Prefix,
			}))
	})
	// No row: the user is unknown or deactivated; the foreign key: deleted meanwhile.
	if errors.Is(err, store.ErrNotFound) || store.Constraint(err) == "api_tokens_user_fkey" {
		return "", Token{}, validator.Errors{"user": "does not exist or is deactivated"}
	}
	if err != nil {
		return "", Token{}, fmt.Errorf("create token: %w", err)
	}
	return secret, Token{
		ID: row.ID, UserID: row.UserID, Email: row.Email, Name: row.Name, Prefix: row.Prefix, Scope: row.Scope,
		ExpiresAt: row.ExpiresAt, CreatedAt: row.CreatedAt, Version: row.Version,
	}, nil
}

// Get returns token id (never its secret); an unknown id is store.ErrNotFound.
func (t *Tokens) Get(ctx context.Context, id int64) (Token, error) {
	var r db.GetAPITokenRow
	err := t.st.Read(ctx, func(q *db.Queries) error {
		var err error
		r, err = q.GetAPIToken(ctx, id)
		return err
	})
	if err != nil {
		return Token{}, fmt.Errorf("get token %d: %w", id, err)
	}
	return Token{
		ID: r.ID, UserID: r.UserID, Email: r.Email, Name: r.Name, Prefix: r.Prefix, Scope: r.Scope,
		ExpiresAt: r.ExpiresAt, LastUsedAt: r.LastUsedAt, RevokedAt: r.RevokedAt,
		CreatedAt: r.CreatedAt, Version: r.Version,
	}, nil
}

// List returns the tokens of userID, or of every user when userID is nil, newest first.
func (t *Tokens) List(ctx context.Context, userID *int64) ([]Token, error) {
	var rows []db.ListAPITokensRow
	err := t.st.Read(ctx, func(q *db.Queries) error {
		var err error
		rows, err = q.ListAPITokens(ctx, userID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out := make([]Token, len(rows))
	for i, r := range rows {
		out[i] = Token{
			ID: r.ID, UserID: r.UserID, Email: r.Email, Name: r.Name, Prefix: r.Prefix, Scope: r.Scope,
			ExpiresAt: r.ExpiresAt, LastUsedAt: r.LastUsedAt, RevokedAt: r.RevokedAt,
			CreatedAt: r.CreatedAt, Version: r.Version,
		}
	}
	return out, nil
}

// TokenList is a page request for the admin's token list.
type TokenList struct {
	Search   string // substring of the token's name or its owner's email
	Scope    string // ScopeRead, ScopeWrite or "" for both
	State    string // StateActive, StateExpired, StateRevoked or "" for all
	Sort     string // name, user, expires, last_used, created
	Desc     bool
	AfterKey string // keyset cursor: the sort key and id of the last row shown
	AfterID  int64
	HasAfter bool
	Limit    int
}

func (l TokenList) filters() (search, scope, state *string) {
	search = likePattern(l.Search)
	if l.Scope != "" {
		scope = &l.Scope
	}
	if l.State != "" {
		state = &l.State
	}
	return search, scope, state
}

// Search returns one page of tokens (Limit rows at most) of every user, each with
// its state and sort key; never a secret or hash.
func (t *Tokens) Search(ctx context.Context, l TokenList) ([]db.SearchAPITokensRow, error) {
	search, scope, state := l.filters()
	var rows []db.SearchAPITokensRow
	err := t.st.Read(ctx, func(q *db.Queries) (err error) {
		rows, err = q.SearchAPITokens(ctx, db.SearchAPITokensParams{
			Sort: l.Sort, Search: search, Scope: scope, State: state,
			HasAfter: l.HasAfter, Descending: l.Desc, AfterKey: l.AfterKey, AfterID: l.AfterID, RowLimit: int32(l.Limit),
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("search tokens: %w", err)
	}
	return rows, nil
}

// Count counts the tokens l's search and filters match (the policy is
// keyset.CountOf).
func (t *Tokens) Count(ctx context.Context, l TokenList) (keyset.Count, error) {
	search, scope, state := l.filters()
	return t.st.Count(ctx, func(q *db.Queries, _ int32) (int64, error) {
		return q.CountAPITokens(ctx, db.CountAPITokensParams{Search: search, Scope: scope, State: state})
	})
}

// Owners returns the active users a token can be made for, by email.
func (t *Tokens) Owners(ctx context.Context) ([]db.ListTokenOwnersRow, error) {
	var rows []db.ListTokenOwnersRow
	err := t.st.Read(ctx, func(q *db.Queries) (err error) {
		rows, err = q.ListTokenOwners(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list token owners: %w", err)
	}
	return rows, nil
}

// Revoke ends token id at once: the next request with it is refused. The revocation
// and its audit row (by p; nil is the command line) commit together. Revoking a revoked token changes
// nothing and records nothing; an unknown id is store.ErrNotFound.
func (t *Tokens) Revoke(ctx context.Context, p *Principal, id int64) error {
	actor := p.Actor()
	err := t.st.InTx(ctx, func(q *db.Queries) error {
		row, err := q.RevokeAPIToken(ctx, id)
		if err == nil {
			return audit.Record(ctx, q, actor, ActionRevoke, ResourceTokens, row.ID, tokenRepr(row.Name, row.Prefix),
				audit.Changes{"revoked_at": {nil, row.RevokedAt}})
		}
		if !store.IsNotFound(err) {
			return err
		}
		exists, err := q.APITokenExists(ctx, id)
		if err == nil && !exists {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	return nil
}

// Authenticate returns the principal a token secret acts as: its user, with the
// user's permissions narrowed by the token's scope. A secret that names no usable
// token is ErrInvalidToken.
//
// It runs one statement (token, user and permissions joined), plus an UPDATE of
// last_used_at at most once a minute per token, so a busy token costs one round
// trip per request; none while its principal is in the cache (PrincipalCache), but
// for that UPDATE.
func (t *Tokens) Authenticate(ctx context.Context, secret string) (*Principal, error) {
	if !wellFormed(secret) {
		return nil, ErrInvalidToken // junk never reaches the database
	}
	hash := sha256.Sum256([]byte(secret))
	if p, touch, ok := t.cache.token(hash); ok {
		if touch {
			err := t.st.Read(ctx, func(q *db.Queries) error { return q.TouchAPIToken(ctx, p.TokenID) })
			if err != nil {
				return nil, fmt.Errorf("authenticate token: %w", err)
			}
			t.cache.touched(hash)
		}
		return p, nil
	}
	gen, _ := t.cache.generation()
	var row db.AuthenticateAPITokenRow
	err := t.st.Read(ctx, func(q *db.Queries) error {
		var err error
		if row, err = q.AuthenticateAPIToken(ctx, hash[:]); err != nil {
			return err
		}
		if row.TouchDue {
			return q.TouchAPIToken(ctx, row.ID)
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate token: %w", err)
	}
	p := NewPrincipal(row.UserID, row.Email, row.UserName, row.IsSuperuser, row.Permissions).WithToken(row.ID, row.Scope)
	p.TokenName = row.Name
	t.cache.putToken(gen, hash, p, row.ExpiresAt)
	return p, nil
}

// wellFormed reports whether secret looks like one Create makes.
func wellFormed(secret string) bool {
	if len(secret) != secretLen || !strings.HasPrefix(secret, TokenPrefix) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(secret[len(TokenPrefix):])
	return err == nil
}
