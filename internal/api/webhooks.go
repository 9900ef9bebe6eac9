package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/webhooks"
)

// webhookBody is a webhook endpoint. Its secret is in the answers to POST
// /api/v1/webhooks and POST .../rotate-secret only, once.
type webhookBody struct {
	ID                      int64      `json:"id"`
	URL                     string     `json:"url"`
	Description             string     `json:"description"`
	EventTypes              []string   `json:"event_types"`
	Active                  bool       `json:"active"`
	DisabledReason          string     `json:"disabled_reason"`
	DisabledAt              *time.Time `json:"disabled_at"`
	ConsecutiveFailures     int32      `json:"consecutive_failures"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at"`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`
	Version                 int32      `json:"version"`
	Secret                  string     `json:"secret,omitempty"`
}

// webhookCreate is the body of POST /api/v1/webhooks.
type webhookCreate struct {
	URL         string   `json:"url"`
	Description string   `json:"description"`
	EventTypes  []string `json:"event_types"`
	Active      *bool    `json:"active"` // absent: true
}

// webhookPatch is the body of PATCH /api/v1/webhooks/{id}: a JSON merge patch.
type webhookPatch struct {
	URL         *string   `json:"url"`
	Description *string   `json:"description"`
	EventTypes  *[]string `json:"event_types"`
	Active      *bool     `json:"active"`
}

var webhookReadOnly = []string{"id", "disabled_reason", "disabled_at", "consecutive_failures",
	"previous_secret_expires_at", "created_at", "updated_at", "version", "secret"}

var webhookList = listSpec{orderings: []string{"id"}}

func webhookOf(e db.WebhookEndpoint) webhookBody {
	b := webhookBody{
		ID: e.ID, URL: e.Url, Description: e.Description, EventTypes: e.EventTypes, Active: e.Active,
		DisabledReason: e.DisabledReason, DisabledAt: utcPtr(e.DisabledAt), ConsecutiveFailures: e.ConsecutiveFailures,
		CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC(), Version: e.Version,
	}
	if e.PreviousSecretExpiresAt != nil && e.PreviousSecretExpiresAt.After(time.Now()) {
		b.PreviousSecretExpiresAt = utcPtr(e.PreviousSecretExpiresAt)
	}
	return b
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// listWebhooks answers GET /api/v1/webhooks, by id.
func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	p, err := s.page(r, webhookList)
	if err != nil {
		return err
	}
	var after int64
	if p.After != nil {
		after = p.After.ID
	}
	page, err := s.webhooks.ListEndpoints(r.Context(), after, p.Limit)
	if err != nil {
		return err
	}
	out := list[webhookBody]{Data: make([]webhookBody, len(page.Endpoints))}
	for i, e := range page.Endpoints {
		out.Data[i] = webhookOf(db.WebhookEndpoint{
			ID: e.ID, Url: e.Url, Description: e.Description, EventTypes: e.EventTypes, Active: e.Active,
			PreviousSecretExpiresAt: e.PreviousSecretExpiresAt, ConsecutiveFailures: e.ConsecutiveFailures,
			DisabledReason: e.DisabledReason, DisabledAt: e.DisabledAt, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
			Version: e.Version,
		})
	}
	if page.NextAfter != 0 {
		out.NextCursor, out.HasMore = s.next(p, "", page.NextAfter), true
	}
	return writeJSON(w, http.StatusOK, out)
}

// createWebhook answers POST /api/v1/webhooks. The answer carries the secret, once.
// A URL that is, or resolves to, a private or loopback address is a 422 on url.
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var in webhookCreate
	if _, err := decode(r, &in, webhookReadOnly...); err != nil {
		return err
	}
	active := in.Active == nil || *in.Active
	e, err := s.webhooks.CreateEndpoint(r.Context(), actor(r), webhooks.EndpointInput{
		URL: in.URL, Description: in.Description, EventTypes: in.EventTypes, Active: active,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/webhooks/%d", e.ID))
	return writeWebhook(w, r, http.StatusCreated, e, true)
}

// getWebhook answers GET /api/v1/webhooks/{id}.
func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	e, err := s.webhooks.Endpoint(r.Context(), id)
	if err != nil {
		return err
	}
	return writeWebhook(w, r, http.StatusOK, e, false)
}

// updateWebhook answers PATCH /api/v1/webhooks/{id}. Setting active to true turns an
// endpoint that was turned off (410, too many failures) back on.
func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in webhookPatch
	b, err := decode(r, &in, webhookReadOnly...)
	if err != nil {
		return err
	}
	if err := notNull(b, "url", "description", "event_types", "active"); err != nil {
		return err
	}
	return retryStale(r, func() error {
		cur, err := s.checkedWebhook(r, id)
		if err != nil {
			return err
		}
		input := webhooks.InputOf(cur)
		setIf(&input.URL, in.URL)
		setIf(&input.Description, in.Description)
		setIf(&input.EventTypes, in.EventTypes)
		setIf(&input.Active, in.Active)
		e, err := s.webhooks.UpdateEndpoint(r.Context(), actor(r), id, cur.Version, input)
		if err != nil {
			return err
		}
		return writeWebhook(w, r, http.StatusOK, e, false)
	})
}

// deleteWebhook answers DELETE /api/v1/webhooks/{id}.
func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return retryStale(r, func() error {
		version, err := conditionalVersion(r, func() (int32, error) {
			cur, err := s.checkedWebhook(r, id)
			if err != nil {
				return 0, err
			}
			return cur.Version, nil
		})
		if err != nil {
			return err
		}
		if err := s.webhooks.DeleteEndpoint(r.Context(), actor(r), id, version); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// rotateWebhookSecret answers POST /api/v1/webhooks/{id}/rotate-secret: a new
// secret, in the answer once; the old one keeps signing for 24 hours.
func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	e, err := s.webhooks.RotateSecret(r.Context(), actor(r), id)
	if err != nil {
		return err
	}
	return writeWebhook(w, r, http.StatusOK, e, true)
}

// testWebhook answers POST /api/v1/webhooks/{id}/test: queue a webhook.test message
// (202). A turned-off endpoint is a 409.
func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	err = s.webhooks.SendTest(r.Context(), id)
	if errors.Is(err, webhooks.ErrInactive) {
		return &clientError{kind: store.ErrConflict, detail: "The endpoint is turned off: turn it on (active: true) to send it a test event."}
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// webhookDelivery is one delivery in an endpoint's log.
type webhookDelivery struct {
	ID            int64      `json:"id"`
	EventID       *int64     `json:"event_id"`
	EventType     string     `json:"event_type"`
	MessageID     string     `json:"message_id"`
	State         string     `json:"state"`
	Attempts      int32      `json:"attempts"`
	LastStatus    *int32     `json:"last_status"`
	LastError     string     `json:"last_error"`
	CreatedAt     time.Time  `json:"created_at"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	DeliveredAt   *time.Time `json:"delivered_at"`
}

// listWebhookDeliveries answers GET /api/v1/webhooks/{id}/deliveries: newest first,
// before=<delivery id> for older ones, limit up to 200.
func (s *Server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	for name := range q {
		if name != "limit" && name != "before" {
			return badParam(name, "is not a parameter of this list")
		}
	}
	limit, err := limitParam(q)
	if err != nil {
		return err
	}
	var before int64
	if v := q.Get("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 1 {
			return badParam("before", "must be a delivery id")
		}
	}
	if _, err := s.webhooks.Endpoint(r.Context(), id); err != nil {
		return err
	}
	rows, err := s.webhooks.Deliveries(r.Context(), id, before, limit)
	if err != nil {
		return err
	}
	out := struct {
		Data []webhookDelivery `json:"data"`
	}{Data: make([]webhookDelivery, len(rows))}
	for i, d := range rows {
		out.Data[i] = webhookDelivery{ID: d.ID, EventID: d.EventID, EventType: d.EventType, MessageID: d.MsgID,
			State: d.State, Attempts: d.Attempts, LastStatus: d.LastStatus, LastError: d.LastError,
			CreatedAt: d.CreatedAt.UTC(), LastAttemptAt: utcPtr(d.LastAttemptAt), DeliveredAt: utcPtr(d.DeliveredAt)}
	}
	return writeJSON(w, http.StatusOK, out)
}

// resendWebhookDelivery answers POST /api/v1/webhooks/{id}/deliveries/{did}/resend:
// one more attempt (202), with the same webhook-id.
func (s *Server) resendWebhookDelivery(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	did, err := pathID(r, "did")
	if err != nil {
		return err
	}
	if err := s.webhooks.Resend(r.Context(), id, did); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// checkedWebhook loads endpoint id for a write and checks the request's If-Match.
func (s *Server) checkedWebhook(r *http.Request, id int64) (db.WebhookEndpoint, error) {
	return loadForWrite(r, func(ctx context.Context) (db.WebhookEndpoint, error) { return s.webhooks.Endpoint(ctx, id) },
		func(e db.WebhookEndpoint) (string, error) { return etagOf(e.ID, e.Version, webhookOf(e)) })
}

// writeWebhook writes an endpoint; withSecret adds its secret (creation, rotation)
// and keeps the answer out of every cache. The ETag is that of the representation
// without the secret, as GET gives it.
func writeWebhook(w http.ResponseWriter, r *http.Request, status int, e db.WebhookEndpoint, withSecret bool) error {
	b := webhookOf(e)
	body, tag, err := represent(e.ID, e.Version, b)
	if err != nil {
		return err
	}
	if !withSecret {
		return writeRepresentation(w, r, status, body, tag)
	}
	b.Secret = e.Secret
	w.Header().Set("ETag", tag)
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, status, b)
}
