-- +goose Up
-- What a staff user sees of their sessions (/admin/account/sessions): one row per
-- signed-in session, by the scs token it has (sessions.token; kept in step when the
-- token is renewed), with where and in what it signed in. "Last seen" is read from
-- sessions.expiry (the idle deadline, moved on at most once a minute), so requests
-- write nothing here. A session that ended leaves its row until the owner's list is
-- next read or the user is deleted; the list joins sessions, so it never shows one.
-- Pages name a session by id, never by its token: the token is the cookie.
-- auth_version is the user's when the session signed in (or last kept itself signed
-- in): one older than the user's is void (password changed, reset), so not listed.
CREATE TABLE user_sessions (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token        text        NOT NULL,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_addr  text        NOT NULL,
    user_agent   text        NOT NULL,
    auth_version integer     NOT NULL,
    signed_in_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_sessions_token_key UNIQUE (token),
    CONSTRAINT user_sessions_user_agent_check CHECK (length(user_agent) <= 500)
);
CREATE INDEX user_sessions_user_idx ON user_sessions (user_id);

-- +goose Down
DROP TABLE user_sessions;
