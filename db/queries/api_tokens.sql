-- name: CreateAPIToken :one
-- CreateAPIToken stores a new token's hash (the secret itself is never stored) and
-- returns it with its owner's email, for the audit row. A user who is unknown or
-- deactivated gets no token (no row: their tokens would be refused anyway), checked
-- in the same statement as the insert.
WITH t AS (
    INSERT INTO api_tokens (user_id, name, token_hash, prefix, scope, expires_at)
    SELECT u.id, @name::text, @token_hash::bytea, @prefix::text, @scope::text, sqlc.narg(expires_at)::timestamptz
    FROM users u
    WHERE u.id = @user_id AND u.is_active
    RETURNING *
)
SELECT t.id, t.user_id, u.email, t.name, t.prefix, t.scope, t.expires_at, t.created_at, t.version
FROM t JOIN users u ON u.id = t.user_id;

-- name: AuthenticateAPIToken :one
-- AuthenticateAPIToken finds a usable token by its hash, with its user and the user's
-- permission codenames, in one statement: a revoked or expired token, or one whose
-- user is deactivated, finds nothing. touch_due says last_used_at is more than a
-- minute old (by the database's clock), so the caller writes it only then.
SELECT t.id, t.user_id, t.name, t.scope, u.email, u.name AS user_name, u.is_superuser,
       (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')::boolean AS touch_due,
       ARRAY(
           SELECT p.codename FROM permissions p
           WHERE p.id IN (
               SELECT up.permission_id FROM user_permissions up WHERE up.user_id = t.user_id
               UNION
               SELECT gp.permission_id FROM group_permissions gp
               JOIN user_groups ug ON ug.group_id = gp.group_id
               WHERE ug.user_id = t.user_id
           )
           ORDER BY p.codename
       )::text[] AS permissions
FROM api_tokens t
JOIN users u ON u.id = t.user_id
WHERE t.token_hash = @token_hash
  AND t.revoked_at IS NULL
  AND (t.expires_at IS NULL OR t.expires_at > now())
  AND u.is_active;

-- name: TouchAPIToken :exec
-- TouchAPIToken records a use, at most once a minute: when several requests race,
-- the condition lets only the first write.
UPDATE api_tokens SET last_used_at = now()
WHERE id = @id AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');

-- name: ListAPITokens :many
-- ListAPITokens returns the tokens of one user, or of everyone when user_id is null,
-- newest first, with their owner's email.
SELECT t.id, t.user_id, u.email, t.name, t.prefix, t.scope, t.expires_at, t.last_used_at,
       t.revoked_at, t.created_at, t.version
FROM api_tokens t
JOIN users u ON u.id = t.user_id
WHERE sqlc.narg(user_id)::bigint IS NULL OR t.user_id = sqlc.narg(user_id)
ORDER BY t.id DESC;

-- name: RevokeAPIToken :one
-- RevokeAPIToken revokes a token that is not revoked yet and returns what its audit
-- row names; no row means it is unknown or was revoked before.
UPDATE api_tokens SET revoked_at = now(), version = version + 1
WHERE id = @id AND revoked_at IS NULL
RETURNING id, name, prefix, revoked_at;

-- name: APITokenExists :one
-- APITokenExists tells an unknown token from an already revoked one after a revoke
-- changed nothing.
SELECT EXISTS (SELECT 1 FROM api_tokens WHERE id = @id);

