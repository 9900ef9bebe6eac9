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
SELECT t.id, t.user_id, t.name, t.scope, u.email, u.name AS user_name, u.is_superuser, t.expires_at,
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

-- name: GetAPIToken :one
-- GetAPIToken returns one token with its owner's email.
SELECT t.id, t.user_id, u.email, t.name, t.prefix, t.scope, t.expires_at, t.last_used_at,
       t.revoked_at, t.created_at, t.version
FROM api_tokens t
JOIN users u ON u.id = t.user_id
WHERE t.id = @id;

-- name: SearchAPITokens :many
-- SearchAPITokens returns one page of the admin's token list in keyset order on (sort
-- key, id): @sort picks the key (name, user, expires, last_used, created; text that
-- sorts like the column), and the page starts after (@after_key, @after_id) when
-- @has_after. @search matches the token's name or its owner's email; @state is
-- active, expired or revoked, by the database's clock. Staff tokens are few (a
-- handful per user), so this is one generic statement, not an index per order.
-- Callers ask for one row more than they show.
SELECT t.id, t.user_id, u.email, t.name, t.prefix, t.scope, t.expires_at, t.last_used_at,
       t.revoked_at, t.created_at, s.state::text AS state, k.sort_key::text AS sort_key
FROM api_tokens t
JOIN users u ON u.id = t.user_id
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN t.revoked_at IS NOT NULL THEN 'revoked'
        WHEN t.expires_at <= now() THEN 'expired'
        ELSE 'active'
    END AS state
) s
CROSS JOIN LATERAL (
    SELECT CASE @sort::text
        WHEN 'name' THEN lower(t.name)
        WHEN 'user' THEN lower(u.email::text)
        -- never expiring sorts after every date
        WHEN 'expires' THEN coalesce(to_char(t.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '9999')
        WHEN 'last_used' THEN coalesce(to_char(t.last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '')
        ELSE to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
    END AS sort_key
) k
WHERE (sqlc.narg(search)::text IS NULL OR t.name ILIKE sqlc.narg(search)::text OR u.email::text ILIKE sqlc.narg(search)::text)
  AND (sqlc.narg(scope)::text IS NULL OR t.scope = sqlc.narg(scope)::text)
  AND (sqlc.narg(state)::text IS NULL OR s.state = sqlc.narg(state)::text)
  AND (NOT @has_after::bool
       OR (NOT @descending::bool AND (k.sort_key, t.id) > (@after_key::text, @after_id::bigint))
       OR (@descending::bool AND (k.sort_key, t.id) < (@after_key::text, @after_id::bigint)))
ORDER BY
    CASE WHEN NOT @descending::bool THEN k.sort_key END ASC,
    CASE WHEN NOT @descending::bool THEN t.id END ASC,
    CASE WHEN @descending::bool THEN k.sort_key END DESC,
    CASE WHEN @descending::bool THEN t.id END DESC
LIMIT @row_limit;

-- name: CountAPITokens :one
-- CountAPITokens counts the tokens SearchAPITokens would page through with the same
-- search and filters.
SELECT count(*)
FROM api_tokens t
JOIN users u ON u.id = t.user_id
WHERE (sqlc.narg(search)::text IS NULL OR t.name ILIKE sqlc.narg(search)::text OR u.email::text ILIKE sqlc.narg(search)::text)
  AND (sqlc.narg(scope)::text IS NULL OR t.scope = sqlc.narg(scope)::text)
  AND (sqlc.narg(state)::text IS NULL OR sqlc.narg(state)::text = CASE
        WHEN t.revoked_at IS NOT NULL THEN 'revoked'
        WHEN t.expires_at <= now() THEN 'expired'
        ELSE 'active'
      END);

-- name: ListTokenOwners :many
-- ListTokenOwners returns the active staff users a token can be made for, by email:
-- the choices a superuser gets on the admin's token form.
SELECT id, email, name FROM users WHERE is_active ORDER BY email;
