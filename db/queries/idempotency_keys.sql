-- name: ClaimIdempotencyKey :one
-- ClaimIdempotencyKey claims a key for a request about to run. It returns no row when
-- the key is already held. A key older than 24 hours is claimed afresh, and so is
-- one left in flight for 10 minutes (its process died before it could finish) unless
-- its handler's write transaction committed.
INSERT INTO idempotency_keys (principal, key, request_hash)
VALUES (@principal, @key, @request_hash)
ON CONFLICT (principal, key) DO UPDATE
SET request_hash = excluded.request_hash, state = 'in_flight', status = NULL, headers = NULL,
    body = NULL, committed = false, created_at = now()
WHERE idempotency_keys.created_at < now() - interval '24 hours'
   OR (idempotency_keys.state = 'in_flight' AND NOT idempotency_keys.committed
       AND idempotency_keys.created_at < now() - interval '10 minutes')
RETURNING id;

-- name: GetIdempotencyKey :one
-- GetIdempotencyKey returns a held key: its request hash, and the stored response
-- once the first request is done; lost is set for a claim in flight for 10 minutes
-- whose handler committed (the process died before storing the response).
SELECT id, request_hash, state, status, headers, body,
       (committed AND state = 'in_flight' AND created_at < now() - interval '10 minutes')::boolean AS lost
FROM idempotency_keys
WHERE principal = @principal AND key = @key;

-- name: CompleteIdempotencyKey :exec
-- CompleteIdempotencyKey stores the response of the request that claimed the key.
UPDATE idempotency_keys SET state = 'done', status = @status, headers = @headers, body = @body
WHERE id = @id;

-- name: ReleaseIdempotencyKey :exec
-- ReleaseIdempotencyKey gives up a claim whose request failed, so a retry can run.
-- A claim whose handler committed a write is kept: running it again would apply it twice.
DELETE FROM idempotency_keys WHERE id = @id AND state = 'in_flight' AND NOT committed;

-- name: MarkIdempotencyKeyCommitted :exec
-- MarkIdempotencyKeyCommitted runs at the end of a handler's transaction (a
-- store.BeforeCommit hook) and marks its claim committed, in that same transaction,
-- when the transaction wrote something (has a transaction id).
UPDATE idempotency_keys SET committed = true
WHERE id = @id AND NOT committed AND pg_current_xact_id_if_assigned() IS NOT NULL;
