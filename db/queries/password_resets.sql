-- name: CreatePasswordReset :one
-- CreatePasswordReset stores a new link for a user, valid for an hour under their
-- current auth_version, and returns its expiry.
INSERT INTO password_resets (user_id, token_hash, auth_version, created_by, expires_at)
SELECT u.id, @token_hash, u.auth_version, sqlc.narg(created_by), now() + interval '1 hour'
FROM users u WHERE u.id = @user_id
RETURNING expires_at;

-- name: DeleteUnusedPasswordResets :exec
-- DeleteUnusedPasswordResets voids a user's links not used yet: a new link replaces
-- them.
DELETE FROM password_resets WHERE user_id = @user_id AND used_at IS NULL;

-- name: GetValidPasswordReset :one
-- GetValidPasswordReset finds the link of a token hash while it still works: unused,
-- unexpired, made under the user's current auth_version, for an active user.
SELECT pr.id, pr.user_id, pr.auth_version, u.email, u.name
FROM password_resets pr JOIN users u ON u.id = pr.user_id
WHERE pr.token_hash = @token_hash AND pr.used_at IS NULL AND pr.expires_at > now()
  AND pr.auth_version = u.auth_version AND u.is_active;

-- name: UsePasswordReset :execrows
-- UsePasswordReset spends a link: no row when it was spent (or voided) meanwhile.
UPDATE password_resets pr SET used_at = now()
FROM users u
WHERE pr.id = @id AND u.id = pr.user_id AND pr.used_at IS NULL AND pr.expires_at > now()
  AND pr.auth_version = u.auth_version;
