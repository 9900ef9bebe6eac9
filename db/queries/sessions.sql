-- name: DeleteExpiredSessions :execrows
-- DeleteExpiredSessions removes sessions past their expiry; the sessions' own
-- cleanup goroutine runs it (pgxstore's is racy to stop, see session.Manager).
DELETE FROM sessions WHERE expiry < now();

-- name: FindSession :one
-- FindSession is pgxstore's Find with the row's expiry, which a kept row needs to
-- stop being served in time (session.rowCache).
SELECT data, expiry FROM sessions WHERE token = $1 AND current_timestamp < expiry;
