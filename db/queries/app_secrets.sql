-- name: CreateAppSecret :exec
-- CreateAppSecret stores a secret unless one of that name exists: the first instance
-- to start creates it, and every other one reads that.
INSERT INTO app_secrets (name, value) VALUES (@name, @value)
ON CONFLICT (name) DO NOTHING;

-- name: GetAppSecret :one
-- GetAppSecret returns a shared secret's value.
SELECT value FROM app_secrets WHERE name = @name;
