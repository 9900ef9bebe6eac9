-- +goose Up
-- Outbound webhooks (internal/webhooks). An endpoint receives the events whose type
-- it lists ('*': all), signed per the Standard Webhooks specification with its
-- secret. The secret must be readable to sign, so it is stored as issued
-- ('whsec_' + base64 of 24 random bytes); it is shown once, at creation or rotation.
-- A rotation keeps the previous secret signing too (a second signature) until
-- previous_secret_expires_at, so receivers can switch without losing a message.
CREATE TABLE webhook_endpoints (
    id                         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url                        text        NOT NULL,
    description                text        NOT NULL DEFAULT '',
    event_types                text[]      NOT NULL DEFAULT '{*}',
    active                     boolean     NOT NULL DEFAULT true,
    secret                     text        NOT NULL,
    previous_secret            text,
    previous_secret_expires_at timestamptz,
    -- Failed attempts in a row (any delivery); a success resets it. At the limit
    -- the endpoint is deactivated with disabled_reason set.
    consecutive_failures       integer     NOT NULL DEFAULT 0,
    disabled_reason            text        NOT NULL DEFAULT '',
    disabled_at                timestamptz,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    version                    integer     NOT NULL DEFAULT 1,
    CONSTRAINT webhook_endpoints_url_check CHECK (url ~ '^https?://' AND length(url) <= 2000),
    CONSTRAINT webhook_endpoints_description_check CHECK (length(description) <= 500),
    CONSTRAINT webhook_endpoints_event_types_check CHECK (cardinality(event_types) BETWEEN 1 AND 100),
    CONSTRAINT webhook_endpoints_secret_check CHECK (secret LIKE 'whsec_%')
);
-- The enqueue hook looks up the active endpoints at the end of every writing
-- transaction: a partial index keeps that one small scan.
CREATE INDEX webhook_endpoints_active_idx ON webhook_endpoints (id) WHERE active;

-- One message to one endpoint: the event it carries (none for a test message), the
-- exact body sent (built when enqueued, so retention of events cannot change it),
-- and where it stands. msg_id is the webhook-id header: 'evt_<event id>' for an
-- event, the same for every endpoint and every attempt, so receivers dedupe by it.
CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id     bigint      NOT NULL CONSTRAINT webhook_deliveries_endpoint_fkey
                                REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        bigint,
    event_type      text        NOT NULL,
    msg_id          text        NOT NULL,
    body            jsonb       NOT NULL,
    state           text        NOT NULL DEFAULT 'pending',
    attempts        integer     NOT NULL DEFAULT 0,
    last_status     integer,
    last_error      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    delivered_at    timestamptz,
    CONSTRAINT webhook_deliveries_state_check
        CHECK (state IN ('pending', 'retrying', 'delivered', 'failed', 'cancelled'))
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id);

-- Every attempt of every delivery: the log the endpoint's page shows.
CREATE TABLE webhook_attempts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id      bigint      NOT NULL CONSTRAINT webhook_attempts_delivery_fkey
                                 REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    endpoint_id      bigint      NOT NULL,
    attempted_at     timestamptz NOT NULL DEFAULT now(),
    status_code      integer,
    latency_ms       integer     NOT NULL,
    error            text        NOT NULL DEFAULT '',
    response_excerpt text        NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);

INSERT INTO permissions (codename, name)
SELECT 'webhooks.' || a, initcap(a) || ' webhooks'
FROM unnest(ARRAY['view', 'add', 'change', 'delete']) AS a;

-- +goose Down
DELETE FROM permissions WHERE codename LIKE 'webhooks.%';
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
