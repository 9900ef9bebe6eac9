-- +goose Up
-- A change to a session row (new data, a pushed deadline, a sign-out, a password
-- change ending a user's sessions) notifies stockroom_sessions when its transaction
-- commits, so each instance may keep the rows it read for a few seconds
-- (session.rowCache) and forget a changed one at once. The payload is the token's
-- SHA-256, never the token: any database user may LISTEN. Expired rows going (the
-- cleanup job) notify nothing: no instance serves a row past its expiry. TRUNCATE
-- sends an empty payload: forget every row.
-- +goose StatementBegin
CREATE FUNCTION sessions_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('stockroom_sessions', '');
    ELSIF OLD.expiry >= now() THEN
        PERFORM pg_notify('stockroom_sessions', encode(sha256(convert_to(OLD.token, 'UTF8')), 'hex'));
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER sessions_changed AFTER UPDATE OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION sessions_notify();
CREATE TRIGGER sessions_truncated AFTER TRUNCATE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION sessions_notify();

-- +goose Down
DROP TRIGGER sessions_truncated ON sessions;
DROP TRIGGER sessions_changed ON sessions;
DROP FUNCTION sessions_notify();
