-- name: EnsureRateLimit :exec
-- EnsureRateLimit creates a full bucket for key unless it exists.
INSERT INTO rate_limits (key, tokens, at) VALUES (@key, @burst::float8, @now::timestamptz)
ON CONFLICT (key) DO NOTHING;

-- name: LeaseRateLimit :one
-- LeaseRateLimit refills key's bucket to now at per_sec up to burst, takes up to
-- want whole tokens from it, and returns how many it took and what is left. The
-- row is locked by the subquery, so concurrent leases from several instances queue
-- and each sees the others' takings. The bucket's time never goes back, so an
-- instance whose clock is behind gets no refill rather than a double one.
UPDATE rate_limits r
SET tokens = c.level - c.granted, at = greatest(r.at, sqlc.arg(now)::timestamptz)
FROM (
    SELECT l.key, l.level, greatest(0, least(sqlc.arg(want)::int, floor(l.level)))::int AS granted
    FROM (
        SELECT b.key, least(sqlc.arg(burst)::float8, b.tokens + greatest(0::float8,
            date_part('epoch', sqlc.arg(now)::timestamptz - b.at)) * sqlc.arg(per_sec)::float8) AS level
        FROM rate_limits b
        WHERE b.key = sqlc.arg(key)
        FOR UPDATE
    ) l
) c
WHERE r.key = c.key
RETURNING c.granted::int AS granted, r.tokens AS level;
