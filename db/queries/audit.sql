-- name: CreateAuditEntry :exec
-- CreateAuditEntry appends one change to the audit log and its event of type @type to
-- events (the payload: the object's repr, the changes and the note), in one statement
-- of the caller's transaction: the two commit or vanish together.
WITH a AS (
    INSERT INTO audit_log (actor_user_id, actor_token_id, actor_label, action, resource,
                           object_id, object_repr, changes, note)
    VALUES (@actor_user_id, @actor_token_id, @actor_label, @action, @resource,
            @object_id, @object_repr, @changes, @note)
    RETURNING id, actor_user_id, actor_token_id, actor_label, resource, object_id,
              object_repr, changes, note)
INSERT INTO events (type, resource, object_id, actor_user_id, actor_token_id, actor_label,
                    audit_id, payload)
SELECT @type::text, a.resource, a.object_id, a.actor_user_id, a.actor_token_id, a.actor_label,
       a.id, jsonb_build_object('repr', a.object_repr, 'changes', a.changes, 'note', a.note)
FROM a;

-- name: CreateAuditEntries :exec
-- CreateAuditEntries appends one row per listed object, all by one actor with one
-- action and note, and an event of type @type per row: a bulk action's log in one
-- statement.
WITH a AS (
    INSERT INTO audit_log (actor_user_id, actor_token_id, actor_label, action, resource,
                           object_id, object_repr, changes, note)
    SELECT sqlc.narg(actor_user_id)::bigint, sqlc.narg(actor_token_id)::bigint, @actor_label::text,
           @action::text, @resource::text, unnest(@object_ids::bigint[]), unnest(@object_reprs::text[]),
           unnest(@changes::jsonb[]), @note::text -- the unnests run in step, zipping the arrays
    RETURNING id, actor_user_id, actor_token_id, actor_label, resource, object_id,
              object_repr, changes, note)
INSERT INTO events (type, resource, object_id, actor_user_id, actor_token_id, actor_label,
                    audit_id, payload)
SELECT @type::text, a.resource, a.object_id, a.actor_user_id, a.actor_token_id, a.actor_label,
       a.id, jsonb_build_object('repr', a.object_repr, 'changes', a.changes, 'note', a.note)
FROM a
ORDER BY a.id;

-- name: ListObjectHistory :many
-- ListObjectHistory returns the audit rows of one object, newest first, after the
-- keyset (@before_at, @before_id) when given; callers ask for one row more than they
-- show.
SELECT * FROM audit_log
WHERE resource = @resource AND object_id = @object_id
  AND (sqlc.narg(before_id)::bigint IS NULL
       OR (at, id) < (sqlc.narg(before_at)::timestamptz, sqlc.narg(before_id)::bigint))
ORDER BY at DESC, id DESC
LIMIT @row_limit;

-- name: ListAuditLog :many
-- ListAuditLog returns audit rows newest first, filtered by actor, resource and a
-- time range [@since, @until) when given, after the keyset (@before_at, @before_id);
-- callers ask for one row more than they show.
SELECT * FROM audit_log
WHERE (sqlc.narg(actor_user_id)::bigint IS NULL OR actor_user_id = sqlc.narg(actor_user_id)::bigint)
  AND (sqlc.narg(resource)::text IS NULL OR resource = sqlc.narg(resource)::text)
  AND (sqlc.narg(since)::timestamptz IS NULL OR at >= sqlc.narg(since)::timestamptz)
  AND (sqlc.narg(until)::timestamptz IS NULL OR at < sqlc.narg(until)::timestamptz)
  AND (sqlc.narg(before_id)::bigint IS NULL
       OR (at, id) < (sqlc.narg(before_at)::timestamptz, sqlc.narg(before_id)::bigint))
ORDER BY at DESC, id DESC
LIMIT @row_limit;
