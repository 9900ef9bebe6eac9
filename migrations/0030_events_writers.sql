-- +goose Up
-- Streams deliver events in id order (not (xid, id), as 0012 planned): ids are
-- handed out at insert, so a reader may see id 11 committed while id 10 is still in
-- flight, or was rolled back and never comes. To tell the two apart, every statement
-- that inserts events first takes a shared advisory lock, held until its transaction
-- ends (shared locks never wait for each other). When no transaction holds it, every
-- id handed out so far belongs to a transaction that has ended, and a missing one
-- was rolled back: a reader skips it. While one holds it, the reader stops at the
-- first missing id and looks again (the commit notifies; a rollback is found by the
-- next look).
--
-- Unlike 0012's snapshot rule, this waits only for transactions that write events,
-- in this database: a long COPY or migration elsewhere no longer holds every live
-- page back.
--
-- The lock key is 1936877942 ("srev"); internal/events reads pg_locks for it.

-- +goose StatementBegin
CREATE FUNCTION events_writer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1936877942);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER events_writer BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_writer();

-- events_writing reports whether a transaction of this database holds the lock: one
-- that inserted events is still running.
-- +goose StatementBegin
CREATE FUNCTION events_writing() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM pg_locks
        WHERE locktype = 'advisory' AND classid = 0 AND objid = 1936877942 AND objsubid = 1
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))
$$;
-- +goose StatementEnd

-- Readers page by id now; the (xid, id) index only cost every insert.
DROP INDEX events_position_idx;

-- +goose Down
CREATE INDEX events_position_idx ON events (xid, id);
DROP FUNCTION events_writing();
DROP TRIGGER events_writer ON events;
DROP FUNCTION events_writer();
