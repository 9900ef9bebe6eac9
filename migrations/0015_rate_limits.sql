-- +goose Up
-- rate_limits holds the API rate limit's token buckets, one row per token (or
-- signed-in user), shared by every instance so that the limit holds for the whole
-- cluster. Instances do not write a row per request: each leases a slice of the
-- bucket (a tenth of a second's allowance) and spends it in memory (api.limiter).
-- UNLOGGED: a bucket is worth no WAL; after a crash the table is empty and every
-- bucket starts full, which is also what a bucket unused for a minute is. Never read
-- on a replica (unlogged tables are not replicated).
CREATE UNLOGGED TABLE rate_limits (
    key text PRIMARY KEY,
    tokens double precision NOT NULL,
    at timestamptz NOT NULL -- when tokens was computed
);

-- +goose Down
DROP TABLE rate_limits;
