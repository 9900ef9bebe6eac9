-- +goose Up
-- Second factors for staff sign-in (issue 18). A user has at most one authenticator
-- app (TOTP, RFC 6238). Its secret is sealed with AES-GCM under a key derived from
-- STOCKROOM_SECRET_KEY, so a copy of the database alone does not give the codes away.
-- confirmed_at is null while enrolment waits for the first valid code; last_step is
-- the time step of the last code accepted, so no code is accepted twice (replay).
CREATE TABLE user_totp (
    user_id      bigint      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       bytea       NOT NULL,
    confirmed_at timestamptz,
    last_step    bigint      NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_totp_secret_check CHECK (length(secret) BETWEEN 28 AND 200)
);

-- One-time recovery codes: SHA-256 of a code of 80 random bits (like API tokens, a
-- slow hash buys nothing at that entropy). used_at is set once, by the sign-in that
-- spends the code.
CREATE TABLE recovery_codes (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea       NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT recovery_codes_hash_key UNIQUE (user_id, code_hash),
    CONSTRAINT recovery_codes_hash_check CHECK (length(code_hash) = 32)
);

-- Whether a user has a second factor is part of their principal (the 2FA policy
-- reads it), so switching one on or off empties every instance's principal cache
-- (see 0011). Accepting a code (last_step) changes nothing a principal holds.
CREATE TRIGGER user_totp_auth_change AFTER INSERT OR DELETE ON user_totp
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();
CREATE TRIGGER user_totp_auth_update AFTER UPDATE ON user_totp FOR EACH ROW
    WHEN (OLD.confirmed_at IS DISTINCT FROM NEW.confirmed_at)
    EXECUTE FUNCTION notify_auth_change();

-- +goose Down
DROP TABLE recovery_codes;
DROP TABLE user_totp;
