-- +goose Up
-- events_frontier reads the two facts a stream's reader needs (migration 0030) in
-- the one order that makes them safe: the last id handed out first, then whether a
-- transaction that inserts events is running. A writer takes its lock before it is
-- handed an id, so when no writer holds the lock after last_id was read, every id up
-- to last_id belongs to a transaction that has ended.
--
-- The other order, which EventsFrontier's single SELECT of both expressions used,
-- lets a writer lock, take an id and commit between the two reads: the reader then
-- counts a still-running writer's id as rolled back, delivers a later id first, and
-- never delivers the skipped one. A procedural body fixes the order; a SELECT's
-- target list does not promise one.
-- +goose StatementBegin
CREATE FUNCTION events_frontier(OUT last_id bigint, OUT writing boolean)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    last_id := coalesce(pg_sequence_last_value(pg_get_serial_sequence('events', 'id')::regclass), 0);
    writing := events_writing();
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION events_frontier();
