package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// Response limits: at most maxResponse bytes of a response are read (the rest is
// dropped with the connection), and the first excerptBytes are kept in the log.
const (
	maxResponse  = 64 << 10
	excerptBytes = 1024
)

// DeliverArgs is the job that makes one attempt at one delivery.
type DeliverArgs struct {
	DeliveryID int64 `json:"delivery_id"`
}

// Kind is the job kind River stores.
func (DeliverArgs) Kind() string { return "webhook_delivery" }

func (s *Service) insertOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: Queue, MaxAttempts: s.opts.MaxAttempts}
}

// DefaultBackoff waits 10 s before the first retry and doubles up to 4 hours, with
// ±20% jitter so that an endpoint coming back is not hit by every retry at once.
// With 17 attempts the last comes about a day after the first.
func DefaultBackoff(attempt int) time.Duration {
	d := 10 * time.Second << min(max(attempt-1, 0), 11)
	d = min(d, 4*time.Hour)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// newClient is the HTTP client of deliveries: the guarded dialer, no proxy (a proxy
// would connect for us, past the guard), no redirects followed (a redirect to an
// internal address is the classic way around a URL check), and a deadline on the
// whole exchange.
// control is the dialer's Control hook (guard.control), which refuses forbidden
// addresses after DNS and before the connect.
func newClient(control func(network, address string, c syscall.RawConn) error, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: control}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: timeout,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       60 * time.Second,
		},
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// deliverWorker runs DeliverArgs.
type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	s *Service
}

// Timeout leaves the request its own deadline and the bookkeeping a few seconds.
func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration {
	return w.s.opts.Timeout + 10*time.Second
}

// NextRetry is the service's backoff after attempt job.Attempt.
func (w *deliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	return time.Now().Add(w.s.opts.Backoff(job.Attempt))
}

// outcome is what one attempt came to.
type outcome struct {
	at      time.Time
	status  int // 0: no response
	latency time.Duration
	err     string // why it failed, for the log; "" on success
	excerpt string
}

func (o outcome) ok() bool { return o.status >= 200 && o.status <= 299 }

// Work makes one attempt. Success ends the job; a failure is returned so River
// retries it, unless the endpoint is gone (410) or turned off, which ends it.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	s := w.s
	var d db.GetWebhookDeliveryForSendRow
	// From the primary: the delivery was committed a moment ago, and on a replica
	// that lags it would look deleted, and the message would be dropped.
	err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		d, err = q.GetWebhookDeliveryForSend(ctx, job.Args.DeliveryID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil // the endpoint was deleted, and its deliveries with it
	}
	if err != nil {
		return fmt.Errorf("load webhook delivery %d: %w", job.Args.DeliveryID, err)
	}
	if !d.Active {
		err := s.st.Primary(ctx, func(q *db.Queries) error {
			return q.CancelWebhookDelivery(ctx, db.CancelWebhookDeliveryParams{ID: d.ID, Reason: "endpoint turned off"})
		})
		if err != nil {
			return fmt.Errorf("cancel webhook delivery %d: %w", d.ID, err)
		}
		return nil
	}

	o := s.send(ctx, d)
	last := job.Attempt >= job.MaxAttempts
	state := "retrying"
	switch {
	case o.ok():
		state = "delivered"
	case last:
		state = "failed"
	}
	var stillActive bool
	err = s.st.InTx(ctx, func(q *db.Queries) error {
		var code *int32
		if o.status != 0 {
			c := int32(o.status)
			code = &c
		}
		if err := q.CreateWebhookAttempt(ctx, db.CreateWebhookAttemptParams{
			DeliveryID: d.ID, EndpointID: d.EndpointID, AttemptedAt: o.at, StatusCode: code,
			LatencyMs: int32(o.latency.Milliseconds()), Error: o.err, ResponseExcerpt: o.excerpt,
		}); err != nil {
			return err
		}
		if o.ok() {
			stillActive = true
			if err := q.WebhookEndpointSucceeded(ctx, d.EndpointID); err != nil {
				return err
			}
		} else {
			gone := o.status == http.StatusGone
			active, err := q.WebhookEndpointFailed(ctx, db.WebhookEndpointFailedParams{
				ID: d.EndpointID, Disable: gone, MaxFailures: int32(s.opts.MaxFailures),
				Reason: "the receiver answered 410 Gone",
			})
			if err != nil {
				return err
			}
			stillActive = active
			if !active {
				state = "failed"
			}
		}
		return q.SetWebhookDeliveryOutcome(ctx, db.SetWebhookDeliveryOutcomeParams{
			ID: d.ID, State: state, LastStatus: code, LastError: o.err, AttemptedAt: o.at,
		})
	})
	if err != nil {
		return fmt.Errorf("record webhook attempt of delivery %d: %w", d.ID, err)
	}
	switch {
	case o.ok():
		return nil
	case !stillActive:
		s.log.WarnContext(ctx, "webhook endpoint turned off", "endpoint_id", d.EndpointID, "last_error", o.err)
		return river.JobCancel(fmt.Errorf("webhook endpoint %d is turned off: %s", d.EndpointID, o.err))
	}
	return fmt.Errorf("webhook delivery %d to endpoint %d: %s", d.ID, d.EndpointID, o.err)
}

// send makes the request and reads at most maxResponse bytes of the answer.
func (s *Service) send(ctx context.Context, d db.GetWebhookDeliveryForSendRow) outcome {
	o := outcome{at: time.Now()}
	ts := o.at.Unix()
	sig, err := Signature(d.MsgID, ts, d.Body, d.Secret, d.PreviousSecret)
	if err != nil {
		o.err = err.Error()
		return o
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Url, bytes.NewReader(d.Body))
	if err != nil {
		o.err = "bad URL: " + err.Error()
		return o
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "stockroom-webhooks/1")
	req.Header.Set("webhook-id", d.MsgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.client.Do(req)
	if err != nil {
		o.latency = time.Since(o.at)
		o.err = describe(err)
		return o
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	o.latency = time.Since(o.at)
	o.status = resp.StatusCode
	o.excerpt = excerpt(body)
	switch {
	case o.ok():
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		o.err = fmt.Sprintf("%s (redirects are not followed; Location: %s)", resp.Status, resp.Header.Get("Location"))
	default:
		o.err = resp.Status
	}
	if readErr != nil && o.ok() {
		// The receiver said yes; a broken body after that does not undo it.
		o.excerpt += " [response body cut: " + describe(readErr) + "]"
	}
	return o
}

// describe turns a transport error into a short message for the log: the refusal
// of a forbidden address says so plainly.
func describe(err error) string {
	if errors.Is(err, ErrForbiddenAddress) {
		// The guard's own error (the outermost that starts with the sentinel's text)
		// names the address and why.
		for e := err; e != nil; e = errors.Unwrap(e) {
			if strings.HasPrefix(e.Error(), ErrForbiddenAddress.Error()) {
				return "refused: " + e.Error()
			}
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") {
		return "timed out"
	}
	return err.Error()
}

// excerpt is the start of a response body as valid UTF-8 text.
func excerpt(b []byte) string {
	if len(b) > excerptBytes {
		b = b[:excerptBytes]
		// Drop a character cut in two at the end rather than show it as garbage.
		for i := 0; i < utf8.UTFMax-1 && len(b) > 0 && !utf8.FullRune(b[lastRuneStart(b):]); i++ {
			b = b[:lastRuneStart(b)]
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// lastRuneStart is the index where the last (possibly partial) UTF-8 sequence of b
// starts.
func lastRuneStart(b []byte) int {
	i := len(b) - 1
	for i > 0 && len(b)-i < utf8.UTFMax && !utf8.RuneStart(b[i]) {
		i--
	}
	return max(i, 0)
}
