-- +goose Up
-- The events table no longer notifies from inside the writing transaction: a
-- transaction that called pg_notify holds a cluster-wide lock from its commit until
-- its commit record is flushed, so every transaction that wrote an event committed
-- one at a time. The process that committed sends the NOTIFY afterwards
-- (internal/store/announce.go), and each hub polls as well for writers that could not.
DROP TRIGGER events_notify ON events;
DROP FUNCTION events_notify();

-- +goose Down
-- +goose StatementBegin
CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('stockroom_events', (SELECT max(id)::text FROM new_events));
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER events_notify AFTER INSERT ON events REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify();
