-- name: ListEventsAfter :many
-- ListEventsAfter returns the committed events after id @after_id, in id order. Ids
-- missing between them are either in flight or rolled back: EventsFrontier tells
-- which (migration 0030).
SELECT id, type, resource, object_id, actor_user_id, actor_token_id, actor_label,
       payload, created_at
FROM events
WHERE id > @after_id
ORDER BY id
LIMIT @row_limit;

-- name: EventsFrontier :one
-- EventsFrontier says whether a transaction that inserted events is still running
-- (it holds the shared advisory lock of migration 0030), and the last event id
-- handed out (0 before the first), read before the lock (migration 0085). When none
-- is running, every id up to last is final: committed, or rolled back and never to
-- come. Run it before reading the rows, so that what it saw has ended by the time
-- the rows are read.
SELECT f.writing::boolean AS writing, f.last_id::bigint AS last_id FROM events_frontier() f;

-- name: EventExists :one
-- EventExists reports whether event @id is still kept, for a client resuming after it.
SELECT EXISTS (SELECT 1 FROM events WHERE id = @id)::boolean;

-- name: OldestEventID :one
-- OldestEventID is the smallest id retention has left (0 when there are none).
SELECT coalesce(min(id), 0)::bigint FROM events;

-- name: DeleteEventsBefore :execrows
-- DeleteEventsBefore deletes up to @batch events created before @before, lowest ids
-- first (a resuming client's check compares ids with the oldest kept): retention in
-- batches, so no statement holds many row locks or a long transaction.
DELETE FROM events WHERE id IN (
    SELECT old.id FROM events old WHERE old.created_at < @before
    ORDER BY old.id LIMIT @batch);
