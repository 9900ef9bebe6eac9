-- +goose Up
-- events is the record of every change (the transactional outbox): one row per audit
-- row, written by the same statement (audit.Append), so an aborted transaction leaves
-- neither. Live pages, the API's event stream and (later) webhooks all read it.
--
-- Order: ids are handed out when a row is inserted, not when its transaction commits,
-- so a reader that saw id 11 may later see id 10 commit. Streams are therefore ordered
-- by (xid, id), xid being the writing transaction's id, and a reader delivers only rows
-- whose transaction is older than its snapshot's xmin (every transaction below it has
-- ended): the delivered rows then always form a prefix of that order, which grows and
-- never gets a row inserted behind its end. See internal/events.
CREATE TABLE events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid            xid8        NOT NULL DEFAULT pg_current_xact_id(),
    type           text        NOT NULL,
    resource       text        NOT NULL,
    object_id      bigint      NOT NULL,
    actor_user_id  bigint,
    actor_token_id bigint,
    actor_label    text        NOT NULL DEFAULT '',
    audit_id       bigint      NOT NULL,
    payload        jsonb       NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_type_check CHECK (type ~ '^[a-z_]+\.[a-z_]+$'),
    CONSTRAINT events_payload_check CHECK (jsonb_typeof(payload) = 'object')
);
CREATE INDEX events_position_idx ON events (xid, id);
CREATE INDEX events_created_at_idx ON events (created_at);

-- One notification per inserting statement, carrying the highest new id. PostgreSQL
-- delivers it only when (and if) the transaction commits.
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

-- +goose Down
DROP TABLE events;
DROP FUNCTION events_notify();
