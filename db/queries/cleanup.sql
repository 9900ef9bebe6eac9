-- Cleanups run by the periodic job of internal/store/jobs, in batches: each statement
-- deletes at most @batch rows, skipping rows another transaction holds, so none
-- holds many row locks or runs long, however far behind the cleanup is.

-- name: DeleteExpiredSessionsBatch :execrows
-- DeleteExpiredSessionsBatch deletes up to @batch sessions past their expiry.
DELETE FROM sessions WHERE token IN (
    SELECT s.token FROM sessions s WHERE s.expiry < now()
    ORDER BY s.expiry LIMIT @batch FOR UPDATE SKIP LOCKED);

-- name: DeleteOldLoginAttemptsBatch :execrows
-- DeleteOldLoginAttemptsBatch deletes up to @batch sign-in failures older than a day:
-- the throttle looks back 15 minutes, so older rows only make the table grow.
DELETE FROM login_attempts WHERE id IN (
    SELECT a.id FROM login_attempts a WHERE a.attempted_at < now() - interval '1 day'
    ORDER BY a.attempted_at LIMIT @batch FOR UPDATE SKIP LOCKED);

-- name: DeleteOldIdempotencyKeysBatch :execrows
-- DeleteOldIdempotencyKeysBatch deletes up to @batch idempotency keys older than 24
-- hours (an older key is claimed afresh anyway: see ClaimIdempotencyKey).
DELETE FROM idempotency_keys WHERE id IN (
    SELECT k.id FROM idempotency_keys k WHERE k.created_at < now() - interval '24 hours'
    ORDER BY k.created_at LIMIT @batch FOR UPDATE SKIP LOCKED);

-- name: DeleteIdleRateLimitsBatch :execrows
-- DeleteIdleRateLimitsBatch deletes up to @batch API rate-limit buckets untouched for
-- an hour: they have refilled, and a missing bucket is a full one.
DELETE FROM rate_limits WHERE key IN (
    SELECT r.key FROM rate_limits r WHERE r.at < now() - interval '1 hour'
    LIMIT @batch FOR UPDATE SKIP LOCKED);
