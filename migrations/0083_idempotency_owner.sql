-- +goose Up
-- api_instances: the serve processes alive, each writing its row every second
-- (internal/api's heartbeat). A claim in flight whose process has not been seen for
-- 5 seconds died with the request: its key is claimed afresh (or, if its write
-- committed, reads as applied with the response lost) at once instead of after 10
-- minutes. Unlogged: a crash of PostgreSQL empties it, and every live process
-- writes its row again within a second.
CREATE UNLOGGED TABLE api_instances (
    id      uuid        PRIMARY KEY,
    seen_at timestamptz NOT NULL DEFAULT now()
);

-- instance: the process running an in-flight claim (NULL: a process without a
-- heartbeat, kept to the 10-minute rule). claim: a token new at every claim, so that a
-- request whose claim was taken over can neither mark, complete nor release the new
-- one (NULL on keys claimed before this migration). Both nullable without a default:
-- adding them rewrites nothing.
ALTER TABLE idempotency_keys ADD COLUMN instance uuid, ADD COLUMN claim uuid;

-- +goose Down
ALTER TABLE idempotency_keys DROP COLUMN instance, DROP COLUMN claim;
DROP TABLE api_instances;
