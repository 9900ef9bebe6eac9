-- +goose Up
-- Every change to who may do what — a token, a user, a group, a permission or a
-- membership — sends a notification on stockroom_auth when its transaction commits,
-- so each instance's cache of principals (auth.PrincipalCache) forgets what it holds
-- at once. Writes that change nothing a principal is made of do not: a token's
-- last_used_at (written once a minute per token in use) and a user's last_login_at
-- (with the updated_at its touch trigger moves).
-- The payload is always empty, so PostgreSQL sends one notification per transaction
-- however many rows and tables it changed (identical notifications are folded).

-- +goose StatementBegin
CREATE FUNCTION notify_auth_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('stockroom_auth', '');
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER api_tokens_auth_change AFTER INSERT OR DELETE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();
CREATE TRIGGER api_tokens_auth_update AFTER UPDATE ON api_tokens FOR EACH ROW
    WHEN (to_jsonb(OLD) - 'last_used_at' IS DISTINCT FROM to_jsonb(NEW) - 'last_used_at')
    EXECUTE FUNCTION notify_auth_change();
CREATE TRIGGER users_auth_change AFTER INSERT OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();
CREATE TRIGGER users_auth_update AFTER UPDATE ON users FOR EACH ROW
    WHEN (to_jsonb(OLD) - '{last_login_at,updated_at}'::text[] IS DISTINCT FROM to_jsonb(NEW) - '{last_login_at,updated_at}'::text[])
    EXECUTE FUNCTION notify_auth_change();
CREATE TRIGGER groups_auth_change AFTER INSERT OR UPDATE OR DELETE ON groups
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();
CREATE TRIGGER permissions_auth_change AFTER INSERT OR UPDATE OR DELETE ON permissions
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();
CREATE TRIGGER user_groups_auth_change AFTER INSERT OR UPDATE OR DELETE ON user_groups
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();
CREATE TRIGGER group_permissions_auth_change AFTER INSERT OR UPDATE OR DELETE ON group_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();
CREATE TRIGGER user_permissions_auth_change AFTER INSERT OR UPDATE OR DELETE ON user_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();

-- +goose Down
DROP TRIGGER user_permissions_auth_change ON user_permissions;
DROP TRIGGER group_permissions_auth_change ON group_permissions;
DROP TRIGGER user_groups_auth_change ON user_groups;
DROP TRIGGER permissions_auth_change ON permissions;
DROP TRIGGER groups_auth_change ON groups;
DROP TRIGGER users_auth_update ON users;
DROP TRIGGER users_auth_change ON users;
DROP TRIGGER api_tokens_auth_update ON api_tokens;
DROP TRIGGER api_tokens_auth_change ON api_tokens;
DROP FUNCTION notify_auth_change();
