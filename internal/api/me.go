package api

import (
	"net/http"
	"slices"

	"github.com/stockroom-dev/stockroom/internal/auth"
)

// meBody is GET /api/v1/me: who the caller is and what they may do.
type meBody struct {
	ID        int64    `json:"id"`
	Email     string   `json:"email"`
	Name      string   `json:"name"`
	Superuser bool     `json:"superuser"`
	Token     *meToken `json:"token"` // null when signed in with the session
	Scope     *string  `json:"scope"` // the token's; null for a session
	// Permissions are the codenames the caller holds, narrowed by the token's scope.
	// A superuser may do everything, including what is not listed.
	Permissions []string `json:"permissions"`
}

type meToken struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// me answers GET /api/v1/me from the principal alone: no statement beyond the
// token lookup.
func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	body := meBody{ID: p.UserID, Email: p.Email, Name: p.Name, Superuser: p.Superuser, Permissions: []string{}}
	if p.TokenID != 0 {
		body.Token = &meToken{ID: p.TokenID, Name: p.TokenName}
		body.Scope = &p.Scope
	}
	for _, perm := range p.Perms() {
		if p.Can(perm) {
			body.Permissions = append(body.Permissions, perm)
		}
	}
	slices.Sort(body.Permissions)
	return writeJSON(w, http.StatusOK, body)
}
