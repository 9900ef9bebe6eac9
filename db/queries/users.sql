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
