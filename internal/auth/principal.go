package auth

import (
	"context"
	"strings"
	"time"
)

// Principal is who is making a request: a staff user signed in with a session, or
// the same user acting through an API token. It answers every permission question.
type Principal struct {
	UserID    int64
	Email     string
	Name      string
	Superuser bool
	TokenID   int64  // 0 for a session
	Scope     string // "" for a session; "read" or "write" for a token
	// AuthVersion is the user's auth_version when the principal was loaded: a session
	// carries it and is void once the stored one moves on.
	AuthVersion int32
	TokenName   string // "" for a session; the token's name, for audit labels
	// SecondFactor says the user has a second factor switched on (an authenticator
	// app): the 2FA policy sends users without one to enrolment.
	SecondFactor bool
	// RecoveryCodeUsedAt is set on the principal a sign-in returns when a recovery
	// code was used since the user's previous sign-in, for the transport to tell them.
	RecoveryCodeUsedAt *time.Time
	perms              map[string]bool
}

// NewPrincipal builds a principal from a user's standing and the union of their own
// and their groups' permission codenames. An inactive user is never a principal: the
// caller refuses them before this point.
func NewPrincipal(userID int64, email, name string, superuser bool, perms []string) *Principal {
	m := make(map[string]bool, len(perms))
	for _, p := range perms {
		m[p] = true
	}
	return &Principal{UserID: userID, Email: email, Name: name, Superuser: superuser, perms: m}
}

// WithToken returns a copy of p acting through token id with scope: a read token
// narrows the user's permissions to the view ones.
func (p *Principal) WithToken(id int64, scope string) *Principal {
	c := *p
	c.TokenID, c.Scope = id, scope
	return &c
}

// Can reports whether p may do perm (a resource.action codename). A token's scope
// narrows what its user may do; it never widens it.
func (p *Principal) Can(perm string) bool {
	if p == nil {
		return false
	}
	if p.Scope == "read" && !strings.HasSuffix(perm, ".view") {
		return false
	}
	return p.Superuser || p.perms[perm]
}

// Perms returns the principal's own permission codenames (superusers hold all of them
// implicitly; this lists only the stored ones).
func (p *Principal) Perms() []string {
	out := make([]string, 0, len(p.perms))
	for k := range p.perms {
		out = append(out, k)
	}
	return out
}

// DisplayName is the name to show, falling back to the email.
func (p *Principal) DisplayName() string {
	if p.Name != "" {
		return p.Name
	}
	return p.Email
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the request's principal, or nil when nobody is signed in.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
