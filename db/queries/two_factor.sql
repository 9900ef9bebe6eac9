-- name: GetTOTP :one
-- GetTOTP returns a user's authenticator app, confirmed or waiting for its first code.
SELECT * FROM user_totp WHERE user_id = @user_id;

-- name: StartTOTP :exec
-- StartTOTP stores a new sealed secret waiting for confirmation, replacing one that
-- was waiting; a confirmed one is left alone (the WHERE), so enrolment never
-- silently replaces a working authenticator.
INSERT INTO user_totp (user_id, secret) VALUES (@user_id, @secret)
ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret, created_at = now(), last_step = 0
WHERE user_totp.confirmed_at IS NULL;

-- name: ConfirmTOTP :execrows
-- ConfirmTOTP switches a waiting authenticator on with the step of the code that
-- confirmed it (so that code cannot sign in afterwards).
UPDATE user_totp SET confirmed_at = now(), last_step = @step
WHERE user_id = @user_id AND confirmed_at IS NULL AND last_step < @step;

-- name: UseTOTPStep :execrows
-- UseTOTPStep records that the code of @step was used: it affects no row when a code
-- of that step or a later one was used already (a replay), which holds under
-- concurrent sign-ins too.
UPDATE user_totp SET last_step = @step
WHERE user_id = @user_id AND confirmed_at IS NOT NULL AND last_step < @step;

-- name: DeleteTOTP :execrows
-- DeleteTOTP removes a user's authenticator app, confirmed or not.
DELETE FROM user_totp WHERE user_id = @user_id;

-- name: DeleteRecoveryCodes :exec
-- DeleteRecoveryCodes removes every recovery code of a user, used or not.
DELETE FROM recovery_codes WHERE user_id = @user_id;

-- name: CreateRecoveryCodes :copyfrom
-- CreateRecoveryCodes stores a new set of hashed codes.
INSERT INTO recovery_codes (user_id, code_hash) VALUES (@user_id, @code_hash);

-- name: UseRecoveryCode :execrows
-- UseRecoveryCode spends an unused code: it affects no row for a wrong or spent one.
UPDATE recovery_codes SET used_at = now()
WHERE user_id = @user_id AND code_hash = @code_hash AND used_at IS NULL;

-- name: CountRecoveryCodes :one
-- CountRecoveryCodes says how many recovery codes a user has left.
SELECT count(*) FILTER (WHERE used_at IS NULL)::int AS unused, count(*)::int AS total
FROM recovery_codes WHERE user_id = @user_id;

-- name: SetPasswordHash :exec
-- SetPasswordHash stores a password rehashed with the current parameters at the
-- password step of a sign-in that waits for a second factor (same password: no
-- version moves, no session ends).
UPDATE users SET password_hash = @password_hash WHERE id = @id;

-- name: BumpAuthVersion :one
-- BumpAuthVersion ends every session of a user (they carry the old auth_version)
-- and returns the user's email.
UPDATE users SET auth_version = auth_version + 1 WHERE id = @id RETURNING email;

-- name: LastRecoveryCodeUse :one
-- LastRecoveryCodeUse is when a user's latest recovery code was used at or after
-- @since (their previous sign-in); none is ErrNoRows. The next sign-in tells them.
SELECT used_at FROM recovery_codes
WHERE user_id = @user_id AND used_at >= @since
ORDER BY used_at DESC LIMIT 1;
