-- +goose Up
-- Staff users. auth_version rises whenever a user's credentials or standing change
-- (password, deactivation): a session remembers the version it signed in with, so
-- bumping it ends every other session at once.
CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         citext      NOT NULL,
    name          text        NOT NULL DEFAULT '',
    password_hash text        NOT NULL,
    is_active     boolean     NOT NULL DEFAULT true,
    is_superuser  boolean     NOT NULL DEFAULT false,
    auth_version  integer     NOT NULL DEFAULT 1,
    last_login_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    version       integer     NOT NULL DEFAULT 1,
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_check CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 254),
    CONSTRAINT users_name_check CHECK (length(name) <= 200)
);
CREATE INDEX users_search_idx ON users USING gin ((email::text || ' ' || name) gin_trgm_ops);
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

CREATE TABLE groups (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       citext      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version    integer     NOT NULL DEFAULT 1,
    CONSTRAINT groups_name_key UNIQUE (name),
    CONSTRAINT groups_name_check CHECK (length(name) BETWEEN 1 AND 150)
);
CREATE TRIGGER groups_touch BEFORE UPDATE ON groups FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- Permissions are codenames resource.action. Later migrations add their resources'
-- rows (and custom actions such as orders.fulfil) the same way.
CREATE TABLE permissions (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    codename text NOT NULL,
    name     text NOT NULL,
    CONSTRAINT permissions_codename_key UNIQUE (codename),
    CONSTRAINT permissions_codename_check CHECK (codename ~ '^[a-z_]+\.[a-z_]+$')
);
INSERT INTO permissions (codename, name)
SELECT r || '.' || a, initcap(a) || ' ' || replace(r, '_', ' ')
FROM unnest(ARRAY['users', 'groups']) AS r,
     unnest(ARRAY['view', 'add', 'change', 'delete']) AS a;

CREATE TABLE user_groups (
    user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX user_groups_group_idx ON user_groups (group_id);

CREATE TABLE group_permissions (
    group_id      bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    permission_id bigint NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, permission_id)
);

CREATE TABLE user_permissions (
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permission_id bigint NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, permission_id)
);

-- The scs pgxstore table: sessions live in PostgreSQL so any instance serves any user.
CREATE TABLE sessions (
    token  text PRIMARY KEY,
    data   bytea       NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- Failed sign-ins, counted per email and per client address over a window, so the
-- throttle holds across instances. A success deletes the email's failures.
CREATE TABLE login_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email        citext      NOT NULL,
    client_addr  text        NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_email_idx ON login_attempts (email, attempted_at);
CREATE INDEX login_attempts_addr_idx ON login_attempts (client_addr, attempted_at);

-- +goose Down
DROP TABLE login_attempts;
DROP TABLE sessions;
DROP TABLE user_permissions;
DROP TABLE group_permissions;
DROP TABLE user_groups;
DROP TABLE permissions;
DROP TABLE groups;
DROP TABLE users;
