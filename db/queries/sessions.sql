-- name: DeleteExpiredSessions :execrows
-- DeleteExpiredSessions removes sessions past their expiry; the sessions' own
-- cleanup goroutine runs it (pgxstore's is racy to stop, see session.Manager).
DELETE FROM sessions WHERE expiry < now();
