-- name: GetUser :one
-- GetUser returns one staff user by id.
SELECT * FROM users WHERE id = @id;

-- name: GetUserByEmail :one
-- GetUserByEmail returns one staff user by email, case-insensitively.
SELECT * FROM users WHERE email = @email;

-- name: UserPermissionCodenames :many
-- UserPermissionCodenames returns the union of a user's own permissions and those of
-- their groups.
SELECT p.codename FROM permissions p
WHERE p.id IN (
    SELECT up.permission_id FROM user_permissions up WHERE up.user_id = @user_id
    UNION
    SELECT gp.permission_id FROM group_permissions gp
    JOIN user_groups ug ON ug.group_id = gp.group_id
    WHERE ug.user_id = @user_id
)
ORDER BY p.codename;

-- name: CreateUser :one
-- CreateUser inserts a staff user; a taken email fails on users_email_key.
INSERT INTO users (email, name, password_hash, is_active, is_superuser)
VALUES (@email, @name, @password_hash, @is_active, @is_superuser)
RETURNING *;

-- name: GetSessionUser :one
-- GetSessionUser loads what every signed-in request needs in one statement: the
-- user's standing, the auth_version the session must match, and the union of their
-- own and their groups' permission codenames, and whether they have a second factor
-- (the 2FA policy sends those without one to enrolment).
SELECT u.id, u.email, u.name, u.is_active, u.is_superuser, u.auth_version,
    EXISTS (
        SELECT 1 FROM user_totp t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL
        UNION ALL
        SELECT 1 FROM passkeys pk WHERE pk.user_id = u.id
    ) AS has_second_factor,
    ARRAY(
        SELECT p.codename FROM permissions p
        WHERE p.id IN (
            SELECT up.permission_id FROM user_permissions up WHERE up.user_id = u.id
            UNION
            SELECT gp.permission_id FROM group_permissions gp
            JOIN user_groups ug ON ug.group_id = gp.group_id
            WHERE ug.user_id = u.id
        )
        ORDER BY p.codename
    )::text[] AS perms
FROM users u
WHERE u.id = @id;

-- name: RecordLogin :exec
-- RecordLogin stamps a successful sign-in and, when new_hash is given, stores the
-- password rehashed with the current parameters (same password, so auth_version
-- and version stay: no session ends and no open form goes stale).
UPDATE users
SET last_login_at = now(),
    password_hash = coalesce(sqlc.narg(new_hash)::text, password_hash)
WHERE id = @id;

-- name: UpdateUser :one
-- UpdateUser saves a user's editable fields if nobody saved since @version was read.
-- Deactivating bumps auth_version, which ends every session of that user.
UPDATE users
SET email = @email,
    name = @name,
    is_active = @is_active,
    is_superuser = @is_superuser,
    auth_version = auth_version + CASE WHEN is_active AND NOT @is_active::bool THEN 1 ELSE 0 END,
    version = version + 1
WHERE id = @id AND version = @version
RETURNING *;

-- name: SetUserPassword :one
-- SetUserPassword replaces the password hash and bumps auth_version, ending every
-- session signed in with the old password; it returns the new auth_version.
UPDATE users
SET password_hash = @password_hash,
    auth_version = auth_version + 1,
    version = version + 1
WHERE id = @id
RETURNING auth_version;

-- name: DeleteUser :execrows
-- DeleteUser removes a user; memberships and direct permissions go with it (cascade).
DELETE FROM users WHERE id = @id;

-- name: ListUsers :many
-- ListUsers returns one page of users in keyset order on (sort key, id): @sort picks
-- the key (email, name, last_login, created; text that sorts like the column), and the
-- page starts after (@after_key, @after_id) when @has_after. Callers ask for one row
-- more than they show. Users are few; products get index-backed queries of their own.
SELECT u.id, u.email, u.name, u.is_active, u.is_superuser, u.last_login_at, u.created_at,
    k.sort_key::text AS sort_key
FROM users u
CROSS JOIN LATERAL (
    SELECT CASE @sort::text
        WHEN 'name' THEN lower(u.name)
        WHEN 'last_login' THEN coalesce(to_char(u.last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '')
        WHEN 'created' THEN to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
        ELSE lower(u.email::text)
    END AS sort_key
) k
WHERE (sqlc.narg(search)::text IS NULL OR (u.email::text || ' ' || u.name) ILIKE sqlc.narg(search)::text)
  AND (sqlc.narg(active)::bool IS NULL OR u.is_active = sqlc.narg(active)::bool)
  AND (sqlc.narg(superuser)::bool IS NULL OR u.is_superuser = sqlc.narg(superuser)::bool)
  AND (NOT @has_after::bool
       OR (NOT @descending::bool AND (k.sort_key, u.id) > (@after_key::text, @after_id::bigint))
       OR (@descending::bool AND (k.sort_key, u.id) < (@after_key::text, @after_id::bigint)))
ORDER BY
    CASE WHEN NOT @descending::bool THEN k.sort_key END ASC,
    CASE WHEN NOT @descending::bool THEN u.id END ASC,
    CASE WHEN @descending::bool THEN k.sort_key END DESC,
    CASE WHEN @descending::bool THEN u.id END DESC
LIMIT @row_limit;

-- name: CountUsers :one
-- CountUsers counts the users ListUsers would page through with the same filters.
SELECT count(*) FROM users u
WHERE (sqlc.narg(search)::text IS NULL OR (u.email::text || ' ' || u.name) ILIKE sqlc.narg(search)::text)
  AND (sqlc.narg(active)::bool IS NULL OR u.is_active = sqlc.narg(active)::bool)
  AND (sqlc.narg(superuser)::bool IS NULL OR u.is_superuser = sqlc.narg(superuser)::bool);

-- name: UserGroupIDs :many
-- UserGroupIDs returns the ids of the groups a user belongs to.
SELECT group_id FROM user_groups WHERE user_id = @user_id ORDER BY group_id;

-- name: UserPermissionIDs :many
-- UserPermissionIDs returns the ids of a user's direct permissions (not their groups').
SELECT permission_id FROM user_permissions WHERE user_id = @user_id ORDER BY permission_id;

-- name: ClearUserGroups :exec
-- ClearUserGroups removes a user from every group, before SetUserGroups adds the new set.
DELETE FROM user_groups WHERE user_id = @user_id;

-- name: AddUserGroups :exec
-- AddUserGroups adds a user to every group in @group_ids in one statement; an unknown
-- id fails on the foreign key.
INSERT INTO user_groups (user_id, group_id)
SELECT @user_id, g FROM unnest(@group_ids::bigint[]) AS g;

-- name: ClearUserPermissions :exec
-- ClearUserPermissions removes a user's direct permissions.
DELETE FROM user_permissions WHERE user_id = @user_id;

-- name: AddUserPermissions :exec
-- AddUserPermissions grants every permission in @permission_ids directly.
INSERT INTO user_permissions (user_id, permission_id)
SELECT @user_id, p FROM unnest(@permission_ids::bigint[]) AS p;
