-- name: JoinPresence :exec
-- JoinPresence records that stream @stream_id shows @object to a user.
INSERT INTO presence (stream_id, object, user_id, label) VALUES (@stream_id, @object, @user_id, @label)
ON CONFLICT (stream_id) DO UPDATE SET seen_at = now();

-- name: TouchPresence :exec
-- TouchPresence keeps the streams' rows fresh (every 10 s).
UPDATE presence SET seen_at = now() WHERE stream_id = ANY(@stream_ids::text[]);

-- name: LeavePresence :exec
-- LeavePresence removes a stream's row when it ends.
DELETE FROM presence WHERE stream_id = @stream_id;

-- name: ListPresence :many
-- ListPresence returns who has @object open now: one row per user, from rows
-- refreshed in the last 30 s.
SELECT user_id, min(label)::text AS label FROM presence
WHERE object = @object AND seen_at > now() - interval '30 seconds'
GROUP BY user_id ORDER BY min(label);

-- name: DeleteStalePresence :exec
-- DeleteStalePresence removes rows of streams whose instance stopped refreshing them.
DELETE FROM presence WHERE seen_at < now() - interval '1 minute';
