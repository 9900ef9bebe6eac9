-- name: GetGroup :one
-- GetGroup returns one group by id.
SELECT * FROM groups WHERE id = @id;

-- name: CreateGroup :one
-- CreateGroup inserts a group; a taken name fails on groups_name_key.
INSERT INTO groups (name) VALUES (@name) RETURNING *;

-- name: UpdateGroup :one
-- UpdateGroup renames a group if nobody saved since @version was read.
UPDATE groups SET name = @name, version = version + 1
WHERE id = @id AND version = @version
RETURNING *;

-- name: DeleteGroup :execrows
-- DeleteGroup removes a group; its memberships and permissions go with it (cascade).
DELETE FROM groups WHERE id = @id;

-- name: AllGroups :many
-- AllGroups lists every group by name, for the membership checkboxes of the user form.
SELECT id, name FROM groups ORDER BY name;

-- name: ListGroups :many
-- ListGroups returns one page of groups in keyset order on (sort key, id), like
-- ListUsers, with each group's member and permission counts.
SELECT g.id, g.name, g.created_at, k.sort_key::text AS sort_key,
    (SELECT count(*) FROM user_groups ug WHERE ug.group_id = g.id) AS members,
    (SELECT count(*) FROM group_permissions gp WHERE gp.group_id = g.id) AS permissions
FROM groups g
CROSS JOIN LATERAL (
    SELECT CASE @sort::text
        WHEN 'created' THEN to_char(g.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
        ELSE lower(g.name::text)
    END AS sort_key
) k
WHERE (sqlc.narg(search)::text IS NULL OR g.name::text ILIKE sqlc.narg(search)::text)
  AND (NOT @has_after::bool
       OR (NOT @descending::bool AND (k.sort_key, g.id) > (@after_key::text, @after_id::bigint))
       OR (@descending::bool AND (k.sort_key, g.id) < (@after_key::text, @after_id::bigint)))
ORDER BY
    CASE WHEN NOT @descending::bool THEN k.sort_key END ASC,
    CASE WHEN NOT @descending::bool THEN g.id END ASC,
    CASE WHEN @descending::bool THEN k.sort_key END DESC,
    CASE WHEN @descending::bool THEN g.id END DESC
LIMIT @row_limit;

-- name: CountGroups :one
-- CountGroups counts the groups ListGroups would page through.
SELECT count(*) FROM groups g
WHERE (sqlc.narg(search)::text IS NULL OR g.name::text ILIKE sqlc.narg(search)::text);

-- name: GroupPermissionIDs :many
-- GroupPermissionIDs returns the ids of a group's permissions.
SELECT permission_id FROM group_permissions WHERE group_id = @group_id ORDER BY permission_id;

-- name: ClearGroupPermissions :exec
-- ClearGroupPermissions removes every permission from a group.
DELETE FROM group_permissions WHERE group_id = @group_id;

-- name: AddGroupPermissions :exec
-- AddGroupPermissions grants every permission in @permission_ids to a group.
INSERT INTO group_permissions (group_id, permission_id)
SELECT @group_id, p FROM unnest(@permission_ids::bigint[]) AS p;

-- name: GroupsPermissionCodenames :many
-- GroupsPermissionCodenames returns every permission the given groups hold, so that
-- placing a user in a group is checked like granting those permissions directly.
SELECT DISTINCT p.codename FROM permissions p
JOIN group_permissions gp ON gp.permission_id = p.id
WHERE gp.group_id = ANY(@group_ids::bigint[])
ORDER BY p.codename;
