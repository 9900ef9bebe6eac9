SELECT t.id, t.user_id, t.name, t.scope, u.email, u.name AS user_name, u.is_superuser, t.expires_at,
       (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')::boolean AS touch_due,
       ARRAY(
           SELECT p.codename FROM permissions p
           WHERE p.id IN (
               SELECT up.permission_id FROM user_permissions up WHERE up.user_id = t.user_id
               UNION
               SELECT gp.permission_id FROM group_permissions gp
               JOIN user_groups ug ON ug.group_id = gp.group_id
               WHERE ug.user_id = t.user_id
           )
           ORDER BY p.codename
       )::text[] AS permissions
FROM api_tokens t
JOIN users u ON u.id = t.user_id
WHERE t.token_hash = :tokenhash::bytea
  AND t.revoked_at IS NULL
  AND (t.expires_at IS NULL OR t.expires_at > now())
  AND u.is_active;
