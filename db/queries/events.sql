-- name: ListEventsAfter :many
-- ListEventsAfter returns the events after the position (@after_xid, @after_id) in
-- stream order, each with settled: whether its transaction is older than every
-- transaction still running. Only a settled row may be delivered; the first unsettled
-- one ends what can be delivered now (see migration 0012).
SELECT id, xid::text::bigint AS xid, type, resource, object_id, actor_user_id,
       actor_token_id, actor_label, payload, created_at,
       (xid < pg_snapshot_xmin(pg_current_snapshot()))::boolean AS settled
FROM events
WHERE (xid, id) > (CAST(CAST(sqlc.arg(after_xid)::bigint AS text) AS xid8), sqlc.arg(after_id)::bigint)
ORDER BY xid, id
LIMIT @row_limit;

-- name: EventPosition :one
-- EventPosition returns the stream position of event @id, for a client resuming after it.
SELECT xid::text::bigint AS xid FROM events WHERE id = @id;

-- name: EventsHead :one
-- EventsHead is the position of the last settled event: where a new stream starts.
-- No row when there is none.
SELECT xid::text::bigint AS xid, id FROM events
WHERE xid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY xid DESC, id DESC
LIMIT 1;

-- name: OldestEventID :one
-- OldestEventID is the smallest id retention has left (0 when there are none).
SELECT coalesce(min(id), 0)::bigint FROM events;

-- name: DeleteEventsBefore :execrows
-- DeleteEventsBefore deletes up to @batch events created before @before, oldest first:
-- retention in batches, so no statement holds many row locks or a long transaction.
DELETE FROM events WHERE id IN (
    SELECT old.id FROM events old WHERE old.created_at < @before
    ORDER BY old.created_at LIMIT @batch);
