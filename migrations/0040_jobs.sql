-- +goose Up
-- The job queue's own tables come from River's migrations (see store.Migrator).
-- This one only serves the periodic cleanup of internal/jobs: old sign-in failures
-- are found by time, which neither index of login_attempts leads with.
CREATE INDEX login_attempts_attempted_idx ON login_attempts (attempted_at);

-- +goose Down
DROP INDEX login_attempts_attempted_idx;
