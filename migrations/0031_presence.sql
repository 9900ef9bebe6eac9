-- +goose Up
-- presence: who has which object's page open right now, on any instance. Each admin
-- event stream opened for an object's page (/admin/events?watch=products-12) holds a
-- row, refreshes seen_at every 10 s and deletes it when it ends; a row not refreshed
-- for 30 s (its instance died) no longer counts and is deleted by the next instance
-- that looks. Inserts and deletes notify stockroom_presence with the object, so every
-- instance tells its own viewers of that object at once.
CREATE UNLOGGED TABLE presence (
    stream_id  text        PRIMARY KEY,
    object     text        NOT NULL,
    user_id    bigint      NOT NULL,
    label      text        NOT NULL,
    seen_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT presence_object_check CHECK (object ~ '^[a-z_]+-[0-9]+$')
);
CREATE INDEX presence_object_idx ON presence (object, seen_at);

-- +goose StatementBegin
CREATE FUNCTION presence_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('stockroom_presence', OLD.object);
    ELSE
        PERFORM pg_notify('stockroom_presence', NEW.object);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER presence_notify AFTER INSERT OR DELETE ON presence
    FOR EACH ROW EXECUTE FUNCTION presence_notify();

-- +goose Down
DROP TABLE presence;
DROP FUNCTION presence_notify();
