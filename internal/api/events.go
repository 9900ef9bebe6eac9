package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/events"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// streamEvents answers GET /api/v1/events: the live stream of changes the caller
// may see, resumable with Last-Event-ID (package events does the streaming).
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) error {
	types, err := events.ParseTypes(r.URL.Query().Get("types"))
	held := events.Detached(r) // the rechecks read the request again, after this handler
	if err == nil {
		err = s.events.Serve(w, r, events.Request{
			Principal: auth.FromContext(r.Context()),
			Types:     types,
			// The token (or session) is looked at again when permissions change: a
			// revoked token's or a deactivated user's stream ends.
			Recheck: func(ctx context.Context) (*auth.Principal, error) {
				p, err := s.authenticate(held.WithContext(ctx))
				if errors.Is(err, web.ErrUnauthenticated) || errors.Is(err, web.ErrForbidden) {
					return nil, nil
				}
				return p, err
			},
		})
	}
	var refused *events.RefusedError
	if errors.As(err, &refused) {
		if refused.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(refused.RetryAfter.Seconds()))))
		}
		return &clientError{kind: refused.Kind, detail: refused.Detail}
	}
	return err
}
