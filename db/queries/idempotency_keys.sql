-- name: ClaimIdempotencyKey :one
-- ClaimIdempotencyKey claims a key for a request about to run in process @instance
-- (NULL: one without a heartbeat), with a claim token of its own. It returns no row
-- when the key is already held. A key older than 24 hours is claimed afresh, and so
-- is one left in flight (its process died before it could finish) unless its
-- handler's write transaction committed: after 10 minutes, or as soon as its process
-- has not been seen in api_instances for 5 seconds.
INSERT INTO idempotency_keys (principal, key, request_hash, instance, claim)
VALUES (@principal, @key, @request_hash, sqlc.narg('instance'), gen_random_uuid())
ON CONFLICT (principal, key) DO UPDATE
SET request_hash = excluded.request_hash, state = 'in_flight', status = NULL, headers = NULL,
    body = NULL, committed = false, created_at = now(), instance = excluded.instance, claim = excluded.claim
WHERE idempotency_keys.created_at < now() - interval '24 hours'
   OR (idempotency_keys.state = 'in_flight' AND NOT idempotency_keys.committed
       AND (idempotency_keys.created_at < now() - interval '10 minutes'
            OR (idempotency_keys.instance IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM api_instances i
                WHERE i.id = idempotency_keys.instance AND i.seen_at > now() - interval '5 seconds'))))
RETURNING id, claim;

-- name: GetIdempotencyKey :one
-- GetIdempotencyKey returns a held key: its request hash, and the stored response
-- once the first request is done; lost is set for a claim in flight whose handler
-- committed and whose process died before storing the response (10 minutes passed,
-- or the process has not been seen for 5 seconds).
SELECT id, request_hash, state, status, headers, body,
       (committed AND state = 'in_flight' AND (created_at < now() - interval '10 minutes'
           OR (instance IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM api_instances i
               WHERE i.id = idempotency_keys.instance AND i.seen_at > now() - interval '5 seconds'))))::boolean AS lost
FROM idempotency_keys
WHERE principal = @principal AND key = @key;

-- name: CompleteIdempotencyKey :exec
-- CompleteIdempotencyKey stores the response of the request that claimed the key,
-- unless its claim was taken over.
UPDATE idempotency_keys SET state = 'done', status = @status, headers = @headers, body = @body
WHERE id = @id AND claim IS NOT DISTINCT FROM @claim;

-- name: ReleaseIdempotencyKey :exec
-- ReleaseIdempotencyKey gives up a claim whose request failed, so a retry can run.
-- A claim whose handler committed a write is kept: running it again would apply it twice.
-- A claim taken over is not the caller's to release.
DELETE FROM idempotency_keys
WHERE id = @id AND claim IS NOT DISTINCT FROM @claim AND state = 'in_flight' AND NOT committed;

-- name: MarkIdempotencyKeyCommitted :one
-- MarkIdempotencyKeyCommitted runs at the end of a handler's transaction (a
-- store.BeforeCommit hook) and marks its claim committed, in that same transaction,
-- when the transaction wrote something (has a transaction id). wrote says whether it
-- did; ours whether the claim is still this request's (marked now or before). A
-- transaction that wrote for a claim no longer its own must roll back: another
-- request took the key over, believing this one's process dead. The row lock the
-- update takes makes a takeover wait for this transaction, and then see it committed.
WITH marked AS (
    UPDATE idempotency_keys m SET committed = true
    WHERE m.id = @id AND m.claim IS NOT DISTINCT FROM @claim AND NOT m.committed
      AND pg_current_xact_id_if_assigned() IS NOT NULL
    RETURNING m.id
)
SELECT (pg_current_xact_id_if_assigned() IS NOT NULL)::boolean AS wrote,
       (EXISTS (SELECT 1 FROM marked) OR EXISTS (
           SELECT 1 FROM idempotency_keys k
           WHERE k.id = @id AND k.claim IS NOT DISTINCT FROM @claim AND k.committed))::boolean AS ours;

-- name: BeatAPIInstance :exec
-- BeatAPIInstance records that process @id is alive (every second while it runs).
INSERT INTO api_instances (id) VALUES (@id)
ON CONFLICT (id) DO UPDATE SET seen_at = now();

-- name: DeleteAPIInstance :exec
-- DeleteAPIInstance forgets a process that stopped cleanly.
DELETE FROM api_instances WHERE id = @id;

-- name: DeleteStaleAPIInstances :execrows
-- DeleteStaleAPIInstances forgets processes not seen for an hour (they died).
DELETE FROM api_instances WHERE seen_at < now() - interval '1 hour';
