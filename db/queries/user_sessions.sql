-- name: CreateUserSession :exec
-- CreateUserSession records a sign-in's session under its new token.
INSERT INTO user_sessions (token, user_id, client_addr, user_agent, auth_version)
VALUES (@token, @user_id, @client_addr, left(@user_agent::text, 500), @auth_version)
ON CONFLICT (token) DO NOTHING;

-- name: RenameUserSession :exec
-- RenameUserSession follows a session to its renewed token and the auth_version it
-- now holds.
UPDATE user_sessions SET token = @new_token, auth_version = @auth_version WHERE token = @old_token;

-- name: ListUserSessions :many
-- ListUserSessions returns a user's live sessions, newest sign-in first, with the
-- idle deadline (sessions.expiry) that tells when each was last used.
SELECT us.id, us.token, us.client_addr, us.user_agent, us.signed_in_at, s.expiry
FROM user_sessions us JOIN sessions s ON s.token = us.token
WHERE us.user_id = @user_id AND s.expiry > now()
ORDER BY us.signed_in_at DESC, us.id DESC;

-- name: PruneUserSessions :exec
-- PruneUserSessions forgets a user's rows whose session has ended or is void (signed
-- in under an older auth_version).
DELETE FROM user_sessions us
WHERE us.user_id = @user_id
  AND (NOT EXISTS (SELECT 1 FROM sessions s WHERE s.token = us.token AND s.expiry > now())
       OR us.auth_version <> (SELECT u.auth_version FROM users u WHERE u.id = us.user_id));

-- name: EndUserSession :one
-- EndUserSession signs one of a user's sessions out: its session row goes, so its
-- next request is anonymous. It returns what the audit log names it by.
WITH gone AS (
    DELETE FROM user_sessions WHERE id = @id AND user_id = @user_id
    RETURNING token, client_addr, user_agent
), ended AS (
    DELETE FROM sessions WHERE token IN (SELECT token FROM gone)
)
SELECT client_addr, user_agent FROM gone;

-- name: EndOtherUserSessions :many
-- EndOtherUserSessions signs out every session of a user but the one with @keep.
WITH gone AS (
    DELETE FROM user_sessions WHERE user_id = @user_id AND token <> @keep::text
    RETURNING token, client_addr
), ended AS (
    DELETE FROM sessions WHERE token IN (SELECT token FROM gone)
)
SELECT client_addr FROM gone;
