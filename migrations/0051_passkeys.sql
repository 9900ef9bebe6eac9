-- +goose Up
-- Passkeys (WebAuthn credentials) of staff users, each named by its owner. credential
-- is the library's record of it (public key, signature counter, flags, transports),
-- as JSON; credential_id is its id, unique across all users, which a passwordless
-- sign-in looks the owner up by. passwordless is the owner's opt-in to sign in with
-- this passkey alone (it must then verify the user: a PIN or biometric); otherwise it
-- is a second factor after the password.
CREATE TABLE passkeys (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text        NOT NULL,
    credential_id bytea       NOT NULL,
    credential    jsonb       NOT NULL,
    passwordless  boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    CONSTRAINT passkeys_credential_id_key UNIQUE (credential_id),
    CONSTRAINT passkeys_user_name_key UNIQUE (user_id, name),
    CONSTRAINT passkeys_name_check CHECK (length(name) BETWEEN 1 AND 100),
    CONSTRAINT passkeys_credential_check CHECK (jsonb_typeof(credential) = 'object')
);

-- A passkey is a second factor (see 0050): adding or removing one changes the
-- principal. Using one (counter, last_used_at) or renaming it does not.
CREATE TRIGGER passkeys_auth_change AFTER INSERT OR DELETE ON passkeys
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();

-- +goose Down
DROP TABLE passkeys;
