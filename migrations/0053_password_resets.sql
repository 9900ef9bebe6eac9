-- +goose Up
-- One-time password reset links a superuser makes for a user (no email needed): the
-- link carries a random token, stored here as its SHA-256 only. A link works once,
-- for an hour, and only while the user's auth_version is the one it was made under:
-- any password change (or deactivation, 2FA reset) since voids it.
CREATE TABLE password_resets (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   bytea       NOT NULL,
    auth_version integer     NOT NULL,
    created_by   bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    CONSTRAINT password_resets_token_hash_key UNIQUE (token_hash),
    CONSTRAINT password_resets_token_hash_check CHECK (length(token_hash) = 32)
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);

-- +goose Down
DROP TABLE password_resets;
