package admin

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/events"
)

// streamEvents answers GET /admin/events: the live pages' event stream (one per tab,
// opened by htmx-ext-sse's sse-connect). Besides each event it sends a frame named
// after the changed object ("orders-7"), which list rows and edit pages listen for,
// and the count of orders placed since it opened, for the order list's notice.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) error {
	types, err := events.ParseTypes(r.URL.Query().Get("types"))
	held := events.Detached(r) // the rechecks read the request again, after this handler
	if err == nil {
		err = s.events.Serve(w, r, events.Request{
			Principal:    auth.FromContext(r.Context()),
			Types:        types,
			ObjectEvents: true,
			Watch:        watchable(auth.FromContext(r.Context()), r.URL.Query().Get("watch")),
			Counts:       []string{audit.TypeOrderPlaced}, // the order list's notice
			// The session is read again when permissions change: a signed-out or
			// deactivated user's stream ends.
			Recheck: func(ctx context.Context) (*auth.Principal, error) {
				return s.sessions.RequestPrincipal(held.WithContext(ctx))
			},
		})
	}
	var refused *events.RefusedError
	if errors.As(err, &refused) && refused.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(refused.RetryAfter.Seconds()))))
	}
	return err
}

// watchable returns w when p may see the object it names (its resource's view
// permission), else "": presence tells who looks at what.
func watchable(p *auth.Principal, w string) string {
	resource, _, ok := strings.Cut(w, "-")
	if !ok || !events.ValidWatch(w) || !p.Can(events.ViewPermission(resource)) {
		return ""
	}
	return w
}
