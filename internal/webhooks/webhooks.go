// Package webhooks sends stockroom's events to other services over HTTP, per the
// Standard Webhooks specification (https://www.standardwebhooks.com): each message is
// a JSON body {"type", "timestamp", "data"} with the headers webhook-id (the event's
// id: receivers dedupe by it), webhook-timestamp and webhook-signature (HMAC-SHA256
// under the endpoint's whsec_ secret).
//
// Delivery is at least once and unordered. Every transaction that writes events
// (audit.Record) also creates, before it commits (store.BeforeCommit), one delivery
// per subscribed active endpoint and a River job for each (internal/store/jobs): a change
// that rolls back sends nothing, a committed one is sent even if the process dies
// right after. A job makes one attempt; a failure is retried with exponential backoff
// and jitter for about a day. A 410 Gone turns the endpoint off at once, and so do
// Options.MaxFailures failed attempts in a row.
//
// Outbound requests never reach private, loopback or link-local addresses (the
// dialer refuses them at connect time, after DNS) unless Options.AllowPrivate.
package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/store/jobs"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Resource is the audit resource of endpoints.
const Resource = "webhooks"

// ActionRotateSecret is the audit action of a secret rotation.
const ActionRotateSecret = "rotate_secret"

// AllEvents subscribes an endpoint to every event type.
const AllEvents = "*"

// EventTypes are the event types the admin offers as checkboxes. An endpoint may
// list any well-formed type (new ones appear as stockroom grows), or AllEvents.
var EventTypes = []string{
	"product.created", "product.updated", "product.deleted", "variant.stock_changed",
	"category.created", "category.updated", "category.deleted",
	"order.placed", "order.status_changed",
	"customer.created", "customer.updated", "customer.deleted",
}

// PreviousSecretValidity is how long a rotated-out secret keeps signing.
const PreviousSecretValidity = 24 * time.Hour

// Limits on an endpoint's input.
const (
	MaxURL         = 2000
	MaxDescription = 500
	MaxEventTypes  = 100
)

var eventTypePattern = regexp.MustCompile(`^[a-z_]+\.[a-z_]+$`)

// Options tune the service. The zero value is stockroom's defaults.
type Options struct {
	// AllowPrivate lets webhooks reach loopback, private and link-local addresses
	// (STOCKROOM_WEBHOOKS_ALLOW_PRIVATE): for tests and closed networks only.
	AllowPrivate bool
	// MaxFailures failed attempts in a row turn an endpoint off (default 50).
	MaxFailures int
	// MaxAttempts is how many times one delivery is tried (default 17: with the
	// default backoff, about a day).
	MaxAttempts int
	// Backoff is the wait before retry number attempt (1-based); default
	// DefaultBackoff. Tests shorten it.
	Backoff func(attempt int) time.Duration
	// Timeout bounds one request, connection to last byte (default 10 s).
	Timeout time.Duration
	// MaxWorkers is how many deliveries a process sends at once (default 10).
	MaxWorkers int
}

// Queue is the job queue the deliveries run on.
const Queue = "webhooks"

// Service manages endpoints and delivers events to them.
type Service struct {
	st     *store.Store
	jobs   *jobs.Queue
	log    *slog.Logger
	opts   Options
	guard  guard
	client *http.Client
}

// New returns the service and registers its delivery worker and queue on q. Call
// it while wiring, before q.Start; then EnqueueOnCommit, for events to be sent.
func New(st *store.Store, q *jobs.Queue, log *slog.Logger, opts Options) *Service {
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 50
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 17
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxWorkers <= 0 {
		opts.MaxWorkers = 10
	}
	s := &Service{st: st, jobs: q, log: log, opts: opts, guard: guard{allowPrivate: opts.AllowPrivate}}
	s.client = newClient(s.guard.control, opts.Timeout)
	q.AddQueue(Queue, opts.MaxWorkers)
	jobs.AddWorker(q, &deliverWorker{s: s})
	return s
}

// EnqueueOnCommit hooks the enqueueing of deliveries into every transaction of the
// store (store.BeforeCommit): from then on, every transaction that writes events
// runs one more statement before it commits. Call it once, while wiring, before any
// transaction runs. (Tests of other packages leave it out, so that their statement
// counts stay theirs.)
func (s *Service) EnqueueOnCommit() {
	s.st.BeforeCommit(s.enqueueEvents)
}

// EndpointInput is an endpoint as a form or an API payload gives it.
type EndpointInput struct {
	URL         string
	Description string
	EventTypes  []string // AllEvents for all
	Active      bool
}

// InputOf is a stored endpoint as input: what an edit form starts from and what a
// PATCH applies its fields to.
func InputOf(e db.WebhookEndpoint) EndpointInput {
	return EndpointInput{URL: e.Url, Description: e.Description, EventTypes: e.EventTypes, Active: e.Active}
}

func (in EndpointInput) normalize() EndpointInput {
	in.URL = strings.TrimSpace(in.URL)
	in.Description = strings.TrimSpace(in.Description)
	types := make([]string, 0, len(in.EventTypes))
	for _, t := range in.EventTypes {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	if slices.Contains(types, AllEvents) {
		types = []string{AllEvents}
	}
	slices.Sort(types)
	in.EventTypes = types
	return in
}

// Validate checks the input and returns a message per bad field, or nil. The URL
// must be http(s) and, unless private addresses are allowed, neither be nor resolve
// to a forbidden address.
func (s *Service) Validate(ctx context.Context, in EndpointInput) validator.Errors {
	in = in.normalize()
	errs := validator.Errors{}
	switch {
	case !validator.Required(in.URL):
		errs.Add("url", "is required")
	case !validator.MaxLen(in.URL, MaxURL):
		errs.Add("url", fmt.Sprintf("must be at most %d characters", MaxURL))
	default:
		if msg := s.guard.checkURL(ctx, in.URL); msg != "" {
			errs.Add("url", msg)
		}
	}
	errs.Check(validator.MaxLen(in.Description, MaxDescription), "description",
		fmt.Sprintf("must be at most %d characters", MaxDescription))
	switch {
	case len(in.EventTypes) == 0:
		errs.Add("event_types", "choose at least one event type, or all events")
	case len(in.EventTypes) > MaxEventTypes:
		errs.Add("event_types", fmt.Sprintf("must list at most %d event types", MaxEventTypes))
	default:
		for _, t := range in.EventTypes {
			if t != AllEvents && !eventTypePattern.MatchString(t) {
				errs.Add("event_types", fmt.Sprintf("%q is not an event type (like product.updated, or * for all)", t))
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// snapshot is what the audit log records of an endpoint: never its secret.
func snapshot(e db.WebhookEndpoint) map[string]any {
	return map[string]any{"url": e.Url, "description": e.Description, "event_types": e.EventTypes, "active": e.Active}
}

// Endpoint returns one endpoint.
func (s *Service) Endpoint(ctx context.Context, id int64) (db.WebhookEndpoint, error) {
	var e db.WebhookEndpoint
	err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		e, err = q.GetWebhookEndpoint(ctx, id)
		return err
	})
	if err != nil {
		return db.WebhookEndpoint{}, fmt.Errorf("webhook endpoint %d: %w", id, err)
	}
	return e, nil
}

// EndpointPage is one page of endpoints, each with its recent success rate.
type EndpointPage struct {
	Endpoints []db.ListWebhookEndpointsRow
	NextAfter int64 // the id to continue after; 0 when this is the last page
}

// ListEndpoints returns up to limit endpoints after the id after, in id order.
func (s *Service) ListEndpoints(ctx context.Context, after int64, limit int) (EndpointPage, error) {
	var rows []db.ListWebhookEndpointsRow
	err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		rows, err = q.ListWebhookEndpoints(ctx, db.ListWebhookEndpointsParams{AfterID: after, RowLimit: int32(limit + 1)})
		return err
	})
	if err != nil {
		return EndpointPage{}, fmt.Errorf("list webhook endpoints: %w", err)
	}
	var p EndpointPage
	if len(rows) > limit {
		rows = rows[:limit]
		p.NextAfter = rows[limit-1].ID
	}
	p.Endpoints = rows
	return p, nil
}

// CreateEndpoint stores a new endpoint with a new secret, which it returns in the
// endpoint: the caller shows it once.
func (s *Service) CreateEndpoint(ctx context.Context, actor audit.Actor, in EndpointInput) (db.WebhookEndpoint, error) {
	in = in.normalize()
	if errs := s.Validate(ctx, in); errs != nil {
		return db.WebhookEndpoint{}, errs
	}
	var e db.WebhookEndpoint
	err := s.st.InTx(ctx, func(q *db.Queries) (err error) {
		e, err = q.CreateWebhookEndpoint(ctx, db.CreateWebhookEndpointParams{
			Url: in.URL, Description: in.Description, EventTypes: in.EventTypes, Active: in.Active, Secret: NewSecret(),
		})
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, actor, audit.ActionCreate, Resource, e.ID, e.Url, audit.Diff(nil, snapshot(e)))
	})
	if err != nil {
		return db.WebhookEndpoint{}, fmt.Errorf("create webhook endpoint: %w", err)
	}
	return e, nil
}

// ErrStale: the endpoint changed since the caller read it (store.ErrStale).
var errStale = fmt.Errorf("webhook endpoint: %w", store.ErrStale)

// UpdateEndpoint stores in over endpoint id if it is still at version (0: any).
// Turning an endpoint back on clears its failure count.
func (s *Service) UpdateEndpoint(ctx context.Context, actor audit.Actor, id int64, version int32, in EndpointInput) (db.WebhookEndpoint, error) {
	in = in.normalize()
	if errs := s.Validate(ctx, in); errs != nil {
		return db.WebhookEndpoint{}, errs
	}
	var e db.WebhookEndpoint
	err := s.st.InTx(ctx, func(q *db.Queries) error {
		before, err := q.LockWebhookEndpoint(ctx, id)
		if err != nil {
			return err
		}
		if version != 0 && before.Version != version {
			return errStale
		}
		e, err = q.UpdateWebhookEndpoint(ctx, db.UpdateWebhookEndpointParams{
			ID: id, Version: before.Version, Url: in.URL, Description: in.Description,
			EventTypes: in.EventTypes, Active: in.Active,
		})
		if err != nil {
			return err
		}
		changes := audit.Diff(snapshot(before), snapshot(e))
		if len(changes) == 0 {
			return nil
		}
		return audit.Record(ctx, q, actor, audit.ActionUpdate, Resource, id, e.Url, changes)
	})
	if err != nil {
		return db.WebhookEndpoint{}, fmt.Errorf("update webhook endpoint %d: %w", id, err)
	}
	return e, nil
}

// RotateSecret gives endpoint id a new secret, returned in the endpoint (shown
// once); the old one keeps signing, as a second signature, for
// PreviousSecretValidity.
func (s *Service) RotateSecret(ctx context.Context, actor audit.Actor, id int64) (db.WebhookEndpoint, error) {
	var e db.WebhookEndpoint
	err := s.st.InTx(ctx, func(q *db.Queries) (err error) {
		e, err = q.RotateWebhookSecret(ctx, db.RotateWebhookSecretParams{
			ID: id, Secret: NewSecret(), PreviousExpiresAt: time.Now().Add(PreviousSecretValidity),
		})
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, actor, ActionRotateSecret, Resource, id, e.Url, nil)
	})
	if err != nil {
		return db.WebhookEndpoint{}, fmt.Errorf("rotate secret of webhook endpoint %d: %w", id, err)
	}
	return e, nil
}

// DeleteEndpoint deletes endpoint id if it is still at version (0: any), with its
// deliveries and their log. Jobs still queued for it find nothing and end.
func (s *Service) DeleteEndpoint(ctx context.Context, actor audit.Actor, id int64, version int32) error {
	err := s.st.InTx(ctx, func(q *db.Queries) error {
		before, err := q.LockWebhookEndpoint(ctx, id)
		if err != nil {
			return err
		}
		if version != 0 && before.Version != version {
			return errStale
		}
		if _, err := q.DeleteWebhookEndpoint(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, q, actor, audit.ActionDelete, Resource, id, before.Url, audit.Diff(snapshot(before), nil))
	})
	if err != nil {
		return fmt.Errorf("delete webhook endpoint %d: %w", id, err)
	}
	return nil
}

// Attempts returns endpoint id's delivery attempts newest first, before the attempt
// id before (0: from the newest), at most limit.
func (s *Service) Attempts(ctx context.Context, id, before int64, limit int) ([]db.ListWebhookAttemptsRow, error) {
	var rows []db.ListWebhookAttemptsRow
	err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		rows, err = q.ListWebhookAttempts(ctx, db.ListWebhookAttemptsParams{EndpointID: id, BeforeID: before, RowLimit: int32(limit)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("webhook attempts of endpoint %d: %w", id, err)
	}
	return rows, nil
}

// Deliveries returns endpoint id's deliveries newest first, before the delivery id
// before (0: from the newest), at most limit.
func (s *Service) Deliveries(ctx context.Context, id, before int64, limit int) ([]db.ListWebhookDeliveriesRow, error) {
	var rows []db.ListWebhookDeliveriesRow
	err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		rows, err = q.ListWebhookDeliveries(ctx, db.ListWebhookDeliveriesParams{EndpointID: id, BeforeID: before, RowLimit: int32(limit)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("webhook deliveries of endpoint %d: %w", id, err)
	}
	return rows, nil
}

// Resend sends delivery deliveryID of endpoint endpointID once more (a new job; the
// message keeps its webhook-id, so a receiver that had it dedupes it).
func (s *Service) Resend(ctx context.Context, endpointID, deliveryID int64) error {
	err := s.st.Transact(ctx, func(tx *store.Tx) error {
		id, err := tx.Q.ResendWebhookDelivery(ctx, db.ResendWebhookDeliveryParams{ID: deliveryID, EndpointID: endpointID})
		if err != nil {
			return err
		}
		return s.jobs.InsertTx(ctx, tx, DeliverArgs{DeliveryID: id}, s.insertOpts())
	})
	if err != nil {
		return fmt.Errorf("resend webhook delivery %d: %w", deliveryID, err)
	}
	return nil
}

// SendTest queues a "webhook.test" message to endpoint id, whether or not it is
// subscribed to it; an inactive endpoint gets none (ErrInactive).
func (s *Service) SendTest(ctx context.Context, id int64) error {
	err := s.st.Transact(ctx, func(tx *store.Tx) error {
		e, err := tx.Q.GetWebhookEndpoint(ctx, id)
		if err != nil {
			return err
		}
		if !e.Active {
			return ErrInactive
		}
		msgID := "msg_test_" + strings.TrimPrefix(NewSecret(), secretPrefix)[:16]
		body := fmt.Sprintf(`{"type":"webhook.test","timestamp":%q,"data":{"endpoint_id":%d,"message":"This is a test event from stockroom."}}`,
			time.Now().UTC().Format(time.RFC3339Nano), id)
		did, err := tx.Q.CreateWebhookDelivery(ctx, db.CreateWebhookDeliveryParams{
			EndpointID: id, EventType: "webhook.test", MsgID: msgID, Body: []byte(body),
		})
		if err != nil {
			return err
		}
		return s.jobs.InsertTx(ctx, tx, DeliverArgs{DeliveryID: did}, s.insertOpts())
	})
	if err != nil {
		return fmt.Errorf("test webhook endpoint %d: %w", id, err)
	}
	return nil
}

// ErrInactive: the endpoint is turned off, so nothing is sent to it.
var ErrInactive = errors.New("the endpoint is turned off")

// enqueueEvents is the store.BeforeCommit hook: a delivery and a job for every event
// this transaction wrote and every active endpoint subscribed to it. One statement
// when nothing matches (every write transaction pays it), two when something does.
func (s *Service) enqueueEvents(ctx context.Context, tx *store.Tx) error {
	ids, err := tx.Q.EnqueueEventDeliveries(ctx)
	if err != nil {
		return fmt.Errorf("enqueue webhook deliveries: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	opts := s.insertOpts()
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		params[i] = river.InsertManyParams{Args: DeliverArgs{DeliveryID: id}, InsertOpts: opts}
	}
	return s.jobs.InsertManyTx(ctx, tx, params)
}
