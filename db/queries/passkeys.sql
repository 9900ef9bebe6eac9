-- name: ListPasskeys :many
-- ListPasskeys returns a user's passkeys, oldest first.
SELECT * FROM passkeys WHERE user_id = @user_id ORDER BY id;

-- name: GetPasskey :one
-- GetPasskey returns one of a user's passkeys: another user's is not found.
SELECT * FROM passkeys WHERE id = @id AND user_id = @user_id;

-- name: GetPasskeyByCredentialID :one
-- GetPasskeyByCredentialID finds a passkey by its WebAuthn credential id.
SELECT * FROM passkeys WHERE credential_id = @credential_id;

-- name: CreatePasskey :one
-- CreatePasskey stores a registered passkey; a name the user already gave another
-- fails on passkeys_user_name_key.
INSERT INTO passkeys (user_id, name, credential_id, credential, passwordless)
VALUES (@user_id, @name, @credential_id, @credential, @passwordless)
RETURNING *;

-- name: UsePasskey :exec
-- UsePasskey stores the credential as updated by a sign-in (its signature counter)
-- and stamps the use.
UPDATE passkeys SET credential = @credential, last_used_at = now() WHERE id = @id;

-- name: UpdatePasskey :one
-- UpdatePasskey renames one of a user's passkeys and sets its passwordless opt-in.
UPDATE passkeys SET name = @name, passwordless = @passwordless
WHERE id = @id AND user_id = @user_id
RETURNING *;

-- name: DeletePasskey :one
-- DeletePasskey removes one of a user's passkeys and returns its name.
DELETE FROM passkeys WHERE id = @id AND user_id = @user_id RETURNING name;

-- name: DeletePasskeys :execrows
-- DeletePasskeys removes every passkey of a user (a superuser's reset).
DELETE FROM passkeys WHERE user_id = @user_id;
