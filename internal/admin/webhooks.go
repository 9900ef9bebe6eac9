package admin

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
	"github.com/stockroom-dev/stockroom/internal/webhooks"
)

// Webhook endpoints in the admin: the list with each endpoint's recent success rate
// (webhooks.view), a form that creates one and shows its secret once (webhooks.add),
// the endpoint's page with its form, delivery log, resend, test event and secret
// rotation (webhooks.view to look, webhooks.change to act), and a delete
// confirmation (webhooks.delete).

const webhooksPath = "/admin/webhooks/"

// webhookRow is an endpoint on the list, with its success rate.
type webhookRow struct {
	db.ListWebhookEndpointsRow
}

// SuccessRate is "97%" of the last attempts (up to 100) that got a 2xx, or "—".
func (r webhookRow) SuccessRate() string {
	if r.RecentAttempts == 0 {
		return "—"
	}
	return fmt.Sprintf("%d%% of %d", r.RecentSucceeded*100/r.RecentAttempts, r.RecentAttempts)
}

// webhooksPage is the list.
type webhooksPage struct {
	Layout
	Rows   []webhookRow
	Next   string // the link to the next page, "" on the last
	CanAdd bool
}

// listWebhooks is GET /admin/webhooks/.
func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	page, err := s.webhooks.ListEndpoints(r.Context(), max(after, 0), 100)
	if err != nil {
		return err
	}
	pg := &webhooksPage{Layout: Layout{Title: "Webhooks"}, CanAdd: auth.FromContext(r.Context()).Can("webhooks.add")}
	for _, e := range page.Endpoints {
		pg.Rows = append(pg.Rows, webhookRow{e})
	}
	if page.NextAfter != 0 {
		pg.Next = fmt.Sprintf("%s?after=%d", webhooksPath, page.NextAfter)
	}
	return s.render(w, r, http.StatusOK, "webhooks/list", pg)
}

// webhookForm is the endpoint form's values: the defaults, or what was posted.
type webhookForm struct {
	ID          int64
	Version     int32
	URL         string
	Description string
	All         bool     // every event type
	Types       []string // the checked types, when not All
	Active      bool
	Key         string // the create form's one-shot key (see createToken)
}

// Has reports whether event type t is checked.
func (f webhookForm) Has(t string) bool { return slices.Contains(f.Types, t) }

func (f webhookForm) input() webhooks.EndpointInput {
	types := f.Types
	if f.All {
		types = []string{webhooks.AllEvents}
	}
	return webhooks.EndpointInput{URL: f.URL, Description: f.Description, EventTypes: types, Active: f.Active}
}

func webhookFormOf(e db.WebhookEndpoint) webhookForm {
	f := webhookForm{ID: e.ID, Version: e.Version, URL: e.Url, Description: e.Description, Active: e.Active}
	if slices.Contains(e.EventTypes, webhooks.AllEvents) {
		f.All = true
	} else {
		f.Types = e.EventTypes
	}
	return f
}

// readWebhookForm reads a posted endpoint form.
func readWebhookForm(r *http.Request) webhookForm {
	return webhookForm{URL: r.PostFormValue("url"), Description: r.PostFormValue("description"),
		All: r.PostFormValue("all_events") != "", Types: r.PostForm["event_types"], Active: r.PostFormValue("active") != "",
		Key: r.PostFormValue("form_key")}
}

// webhookFormPage is the form that creates an endpoint, and the endpoint's own page:
// its form, state and delivery log.
type webhookFormPage struct {
	Layout
	New        bool
	Form       webhookForm
	Errors     validator.Errors
	EventTypes []string
	ReadOnly   bool
	CanDelete  bool
	Endpoint   db.WebhookEndpoint // not New: as stored
	Attempts   []db.ListWebhookAttemptsRow
	Conflict   bool // the save lost to a newer version
}

// newWebhookForm is GET /admin/webhooks/new.
func (s *Server) newWebhookForm(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "webhooks/form", &webhookFormPage{Layout: Layout{Title: "Add webhook endpoint"},
		New: true, Form: webhookForm{All: true, Active: true, Key: newFormKey()}, EventTypes: webhooks.EventTypes})
}

// webhookCreatedPage shows an endpoint's secret, the one time anyone sees it: after
// creation, and after a rotation.
type webhookCreatedPage struct {
	Layout
	Endpoint db.WebhookEndpoint
	Rotated  bool
}

// createWebhook is POST /admin/webhooks/new. Like createToken, success renders the
// secret (201, never cached) rather than redirecting, and the form's key turns a
// second post of the same form into a redirect instead of a second endpoint.
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	bad, err := readForm(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	f := readWebhookForm(r)
	if f.Key != "" && s.sessions.FormUsed(ctx, f.Key) {
		return s.redirect(w, r, webhooksPath, "That form was sent before and its endpoint created; "+
			"its secret is not shown again. If you did not copy it, rotate the endpoint's secret.")
	}
	if len(f.Key) > 64 || f.Key == "" {
		f.Key = newFormKey()
	}
	err = bad.Err()
	var e db.WebhookEndpoint
	if err == nil {
		e, err = s.webhooks.CreateEndpoint(ctx, auth.FromContext(ctx).Actor(), f.input())
	}
	if fe := fieldErrors(err); fe != nil {
		return s.render(w, r, http.StatusUnprocessableEntity, "webhooks/form", &webhookFormPage{
			Layout: Layout{Title: "Add webhook endpoint"}, New: true, Form: f, Errors: withText(fe, bad), EventTypes: webhooks.EventTypes})
	} else if err != nil {
		return err
	}
	s.sessions.MarkFormUsed(ctx, f.Key)
	return s.render(w, r, http.StatusCreated, "webhooks/created", &webhookCreatedPage{
		Layout: Layout{Title: "Webhook endpoint created"}, Endpoint: e})
}

// webhookPage builds the endpoint's page around form f.
func (s *Server) webhookPage(r *http.Request, e db.WebhookEndpoint, f webhookForm, errs validator.Errors) (*webhookFormPage, error) {
	attempts, err := s.webhooks.Attempts(r.Context(), e.ID, 0, keyset.DefaultLimit)
	if err != nil {
		return nil, err
	}
	p := auth.FromContext(r.Context())
	return &webhookFormPage{Layout: Layout{Title: e.Url}, Form: f, Errors: errs, EventTypes: webhooks.EventTypes,
		ReadOnly: !p.Can("webhooks.change"), CanDelete: p.Can("webhooks.delete"), Endpoint: e, Attempts: attempts}, nil
}

// editWebhookForm is GET /admin/webhooks/{id}/.
func (s *Server) editWebhookForm(w http.ResponseWriter, r *http.Request) error {
	e, err := byPathID(r, s.webhooks.Endpoint)
	if err != nil {
		return err
	}
	pg, err := s.webhookPage(r, e, webhookFormOf(e), nil)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "webhooks/form", pg)
}

// updateWebhook is POST /admin/webhooks/{id}/. A save over a newer version shows
// the form again (409) with the stored endpoint beside it, never overwriting it.
func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	id, version, bad, err := readEdit(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	f := readWebhookForm(r)
	f.ID, f.Version = id, version
	err = bad.Err()
	if err == nil {
		_, err = s.webhooks.UpdateEndpoint(ctx, auth.FromContext(ctx).Actor(), id, version, f.input())
	}
	if err == nil {
		return s.redirect(w, r, fmt.Sprintf("%s%d/", webhooksPath, id), "The endpoint was saved.")
	}
	fe, stale := fieldErrors(err), errors.Is(err, store.ErrStale)
	if fe == nil && !stale {
		return err
	}
	cur, err := s.webhooks.Endpoint(ctx, id)
	if err != nil {
		return err
	}
	status := http.StatusUnprocessableEntity
	if stale {
		status, f.Version = http.StatusConflict, cur.Version // saving again overwrites, knowingly
	}
	pg, err := s.webhookPage(r, cur, f, withText(fe, bad))
	if err != nil {
		return err
	}
	pg.Conflict = stale
	return s.render(w, r, status, "webhooks/form", pg)
}

// webhookDeletePage is the delete confirmation.
func (s *Server) webhookDeletePage(r *http.Request) (*deletePage, error) {
	e, err := byPathID(r, s.webhooks.Endpoint)
	if err != nil {
		return nil, err
	}
	return &deletePage{Layout: Layout{Title: "Delete " + e.Url}, Kind: "webhook endpoint", Name: e.Url,
		Action: fmt.Sprintf("%s%d/delete", webhooksPath, e.ID), Cancel: fmt.Sprintf("%s%d/", webhooksPath, e.ID),
		Version: e.Version,
		Effects: []string{"its delivery log", "deliveries still waiting to be sent to it: they are dropped"}}, nil
}

// deleteWebhookForm is GET /admin/webhooks/{id}/delete.
func (s *Server) deleteWebhookForm(w http.ResponseWriter, r *http.Request) error {
	pg, err := s.webhookDeletePage(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "confirm/delete", pg)
}

// deleteWebhook is POST /admin/webhooks/{id}/delete.
func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	pg, err := s.webhookDeletePage(r)
	if err != nil {
		return err
	}
	if err := readConfirm(w, r); err != nil {
		return err
	}
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 32)
	id, _ := pathID(r)
	err = s.webhooks.DeleteEndpoint(r.Context(), auth.FromContext(r.Context()).Actor(), id, int32(version))
	if errors.Is(err, store.ErrStale) {
		pg.Notice = "The endpoint was changed since this page was opened: check it, then confirm again."
		return s.render(w, r, http.StatusConflict, "confirm/delete", pg)
	}
	if err != nil {
		return err
	}
	return s.redirect(w, r, webhooksPath, fmt.Sprintf("Webhook endpoint %s was deleted.", pg.Name))
}

// webhookRotatePage confirms a secret rotation.
type webhookRotatePage struct {
	Layout
	Endpoint db.WebhookEndpoint
}

// rotateWebhookForm is GET /admin/webhooks/{id}/rotate.
func (s *Server) rotateWebhookForm(w http.ResponseWriter, r *http.Request) error {
	e, err := byPathID(r, s.webhooks.Endpoint)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "webhooks/rotate", &webhookRotatePage{Layout: Layout{Title: "Rotate secret"}, Endpoint: e})
}

// rotateWebhook is POST /admin/webhooks/{id}/rotate: the new secret is shown here,
// once (200, never cached).
func (s *Server) rotateWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	e, err := s.webhooks.RotateSecret(r.Context(), auth.FromContext(r.Context()).Actor(), id)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "webhooks/created", &webhookCreatedPage{
		Layout: Layout{Title: "Webhook secret rotated"}, Endpoint: e, Rotated: true})
}

// testWebhook is POST /admin/webhooks/{id}/test: queue a webhook.test message.
func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	back := fmt.Sprintf("%s%d/", webhooksPath, id)
	err = s.webhooks.SendTest(r.Context(), id)
	if errors.Is(err, webhooks.ErrInactive) {
		return s.redirect(w, r, back, "The endpoint is turned off: turn it on and save to send it a test event.")
	}
	if err != nil {
		return err
	}
	return s.redirect(w, r, back, "A test event is on its way; reload this page to see the attempt in the log.")
}

// resendWebhook is POST /admin/webhooks/{id}/resend with delivery=<id>: one more
// attempt, with the same webhook-id.
func (s *Server) resendWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := readConfirm(w, r); err != nil {
		return err
	}
	delivery, err := strconv.ParseInt(r.PostFormValue("delivery"), 10, 64)
	if err != nil || delivery < 1 {
		return store.ErrNotFound
	}
	if err := s.webhooks.Resend(r.Context(), id, delivery); err != nil {
		return err
	}
	return s.redirect(w, r, fmt.Sprintf("%s%d/", webhooksPath, id),
		fmt.Sprintf("Delivery %d is queued to be sent again.", delivery))
}

// readConfirm reads the form of a button (a confirmation, a resend): text
// PostgreSQL could not store in any field is a 422 naming it, as everywhere.
func readConfirm(w http.ResponseWriter, r *http.Request) error {
	bad, err := readForm(w, r)
	if err != nil {
		return err
	}
	return bad.Err()
}
