-- +goose Up
-- committed: the handler's own write transaction committed (set in that transaction by
-- the API's store.BeforeCommit hook). A claim left in flight with committed set was
-- applied but its response was lost: it is never claimed afresh while the key is kept.
ALTER TABLE idempotency_keys ADD COLUMN committed boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE idempotency_keys DROP COLUMN committed;
