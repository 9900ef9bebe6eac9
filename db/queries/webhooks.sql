-- name: CreateWebhookEndpoint :one
-- CreateWebhookEndpoint stores a new endpoint with its first secret.
INSERT INTO webhook_endpoints (url, description, event_types, active, secret)
VALUES (@url, @description, @event_types::text[], @active, @secret)
RETURNING *;

-- name: GetWebhookEndpoint :one
-- GetWebhookEndpoint returns one endpoint.
SELECT * FROM webhook_endpoints WHERE id = @id;

-- name: LockWebhookEndpoint :one
-- LockWebhookEndpoint returns an endpoint and locks it until the transaction ends.
SELECT * FROM webhook_endpoints WHERE id = @id FOR UPDATE;

-- name: ListWebhookEndpoints :many
-- ListWebhookEndpoints returns endpoints after @after_id in id order, each with how
-- many of its last 100 attempts succeeded (2xx) and how many there were; callers ask
-- for one row more than they show.
SELECT w.*, s.succeeded::bigint AS recent_succeeded, s.attempted::bigint AS recent_attempts
FROM webhook_endpoints w
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE r.status_code BETWEEN 200 AND 299) AS succeeded, count(*) AS attempted
    FROM (SELECT a.status_code FROM webhook_attempts a WHERE a.endpoint_id = w.id
          ORDER BY a.id DESC LIMIT 100) r
) s
WHERE w.id > @after_id
ORDER BY w.id
LIMIT @row_limit;

-- name: UpdateWebhookEndpoint :one
-- UpdateWebhookEndpoint rewrites an endpoint if it is still at @version. Turning it
-- back on clears the failure count and the reason it was turned off.
UPDATE webhook_endpoints
SET url = @url, description = @description, event_types = @event_types::text[], active = @active,
    consecutive_failures = CASE WHEN @active AND NOT active THEN 0 ELSE consecutive_failures END,
    disabled_reason = CASE WHEN @active THEN '' ELSE disabled_reason END,
    disabled_at = CASE WHEN @active THEN NULL ELSE disabled_at END,
    updated_at = now(), version = version + 1
WHERE id = @id AND version = @version
RETURNING *;

-- name: RotateWebhookSecret :one
-- RotateWebhookSecret sets a new secret; the current one keeps signing too until
-- @previous_expires_at.
UPDATE webhook_endpoints
SET previous_secret = secret, previous_secret_expires_at = @previous_expires_at::timestamptz,
    secret = @secret, updated_at = now(), version = version + 1
WHERE id = @id
RETURNING *;

-- name: DeleteWebhookEndpoint :one
-- DeleteWebhookEndpoint deletes an endpoint (its deliveries and attempts go with it).
DELETE FROM webhook_endpoints WHERE id = @id RETURNING *;

-- name: EnqueueEventDeliveries :many
-- EnqueueEventDeliveries creates one delivery per event written by the current
-- transaction and active endpoint subscribed to its type, with the body to send, and
-- returns their ids: the caller enqueues a job for each in the same transaction.
-- Without an assigned transaction id nothing was written, and nothing matches.
-- Changes to the endpoints themselves (resource 'webhooks') are not sent out.
INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, msg_id, body)
SELECT w.id, e.id, e.type, 'evt_' || e.id,
       jsonb_build_object(
           'type', e.type,
           'timestamp', to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           'data', jsonb_build_object('event_id', e.id, 'resource', e.resource, 'object_id', e.object_id,
                                      'actor', e.actor_label) || e.payload)
FROM events e
JOIN webhook_endpoints w ON w.active AND w.event_types && ARRAY['*', e.type]
WHERE e.xid = pg_current_xact_id_if_assigned() AND e.resource <> 'webhooks'
ORDER BY e.id, w.id
RETURNING id;

-- name: CreateWebhookDelivery :one
-- CreateWebhookDelivery creates a delivery that carries no stored event (a test
-- message).
INSERT INTO webhook_deliveries (endpoint_id, event_type, msg_id, body)
VALUES (@endpoint_id, @event_type, @msg_id, @body)
RETURNING id;

-- name: GetWebhookDeliveryForSend :one
-- GetWebhookDeliveryForSend returns what sending a delivery needs: its message and
-- its endpoint's URL, state and secrets (the previous one only while it is valid).
SELECT d.id, d.msg_id, d.body, d.state, d.endpoint_id, w.url, w.active, w.secret,
       coalesce(CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END, '')::text AS previous_secret
FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
WHERE d.id = @id;

-- name: CreateWebhookAttempt :exec
-- CreateWebhookAttempt logs one attempt of a delivery.
INSERT INTO webhook_attempts (delivery_id, endpoint_id, attempted_at, status_code, latency_ms, error, response_excerpt)
VALUES (@delivery_id, @endpoint_id, @attempted_at, @status_code, @latency_ms, @error, @response_excerpt);

-- name: SetWebhookDeliveryOutcome :exec
-- SetWebhookDeliveryOutcome records an attempt's outcome on its delivery.
UPDATE webhook_deliveries
SET state = @state::text, attempts = attempts + 1, last_status = @last_status, last_error = @last_error,
    last_attempt_at = @attempted_at::timestamptz,
    delivered_at = CASE WHEN @state::text = 'delivered' THEN @attempted_at::timestamptz ELSE delivered_at END
WHERE id = @id;

-- name: CancelWebhookDelivery :exec
-- CancelWebhookDelivery marks a delivery whose endpoint is off as cancelled.
UPDATE webhook_deliveries SET state = 'cancelled', last_error = @reason WHERE id = @id;

-- name: WebhookEndpointSucceeded :exec
-- WebhookEndpointSucceeded resets an endpoint's run of failures.
UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = @id AND consecutive_failures <> 0;

-- name: WebhookEndpointFailed :one
-- WebhookEndpointFailed counts a failed attempt, and turns the endpoint off with
-- @reason when @disable is set (410 Gone) or this failure reaches @max_failures in a
-- row. It returns whether the endpoint is still active.
UPDATE webhook_endpoints
SET consecutive_failures = consecutive_failures + 1,
    active = active AND NOT (@disable::boolean OR consecutive_failures + 1 >= @max_failures::int),
    disabled_reason = CASE
        WHEN active AND @disable::boolean THEN @reason::text
        WHEN active AND consecutive_failures + 1 >= @max_failures::int
            THEN (consecutive_failures + 1)::text || ' failed attempts in a row'
        ELSE disabled_reason END,
    disabled_at = CASE
        WHEN active AND (@disable::boolean OR consecutive_failures + 1 >= @max_failures::int) THEN now()
        ELSE disabled_at END
WHERE id = @id
RETURNING active;

-- name: ListWebhookAttempts :many
-- ListWebhookAttempts returns an endpoint's attempts newest first, before @before_id
-- (0: from the newest), with their delivery's message id, type and state.
SELECT a.id, a.delivery_id, a.attempted_at, a.status_code, a.latency_ms, a.error, a.response_excerpt,
       d.msg_id, d.event_type, d.state AS delivery_state
FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
WHERE a.endpoint_id = @endpoint_id AND (@before_id::bigint = 0 OR a.id < @before_id::bigint)
ORDER BY a.id DESC
LIMIT @row_limit;

-- name: ListWebhookDeliveries :many
-- ListWebhookDeliveries returns an endpoint's deliveries newest first, before
-- @before_id (0: from the newest).
SELECT id, event_id, event_type, msg_id, state, attempts, last_status, last_error, created_at,
       last_attempt_at, delivered_at
FROM webhook_deliveries
WHERE endpoint_id = @endpoint_id AND (@before_id::bigint = 0 OR id < @before_id::bigint)
ORDER BY id DESC
LIMIT @row_limit;

-- name: ResendWebhookDelivery :one
-- ResendWebhookDelivery puts a delivery of endpoint @endpoint_id back to pending, for
-- one more job; no row when it is not that endpoint's.
UPDATE webhook_deliveries SET state = 'pending', last_error = ''
WHERE id = @id AND endpoint_id = @endpoint_id
RETURNING id;
