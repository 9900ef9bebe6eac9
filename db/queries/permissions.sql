-- name: ListPermissions :many
-- ListPermissions returns every permission by codename, for the grouped checkboxes.
SELECT * FROM permissions ORDER BY codename;
