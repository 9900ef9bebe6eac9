-- +goose Up
-- API tokens. The secret (srk_ + 32 random bytes, base64url) is shown once and never
-- stored: token_hash is its SHA-256, which is enough to look a token up and useless
-- to whoever reads the table. prefix is the secret's first characters, so people can
-- tell their tokens apart. last_used_at is written at most once a minute per token.
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint      NOT NULL CONSTRAINT api_tokens_user_fkey REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    token_hash   bytea       NOT NULL,
    prefix       text        NOT NULL,
    scope        text        NOT NULL DEFAULT 'read',
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    version      integer     NOT NULL DEFAULT 1,
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT api_tokens_token_hash_check CHECK (length(token_hash) = 32),
    CONSTRAINT api_tokens_scope_check CHECK (scope IN ('read', 'write')),
    CONSTRAINT api_tokens_name_check CHECK (length(name) BETWEEN 1 AND 100)
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- Idempotency keys for API POSTs, per principal ('token:<id>' or 'user:<id>' for a
-- session), kept 24 hours. A request claims its key (state in_flight) before it runs
-- and stores its response (done) after, so a retry replays the first response.
CREATE TABLE idempotency_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    principal    text        NOT NULL,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    state        text        NOT NULL DEFAULT 'in_flight',
    status       integer,
    headers      jsonb,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_principal_key_key UNIQUE (principal, key),
    CONSTRAINT idempotency_keys_key_check CHECK (length(key) BETWEEN 1 AND 255),
    CONSTRAINT idempotency_keys_state_check CHECK (state IN ('in_flight', 'done')),
    CONSTRAINT idempotency_keys_response_check
        CHECK (state = 'in_flight' OR (status IS NOT NULL AND headers IS NOT NULL AND body IS NOT NULL))
);
-- For the sweep that deletes keys older than 24 hours.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Secrets the instances share, created on first use from Go's crypto/rand (no
-- extension needed): 'cursor_hmac' signs the API's pagination cursors, so a cursor
-- issued by one instance is accepted by all of them.
CREATE TABLE app_secrets (
    name       text PRIMARY KEY,
    value      bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT app_secrets_value_check CHECK (length(value) >= 32)
);

INSERT INTO permissions (codename, name)
SELECT 'tokens.' || a, initcap(a) || ' tokens'
FROM unnest(ARRAY['view', 'add', 'change', 'delete']) AS a;

-- +goose Down
DELETE FROM permissions WHERE codename LIKE 'tokens.%';
DROP TABLE app_secrets;
DROP TABLE idempotency_keys;
DROP TABLE api_tokens;
