-- name: LoginThrottle :one
-- LoginThrottle says how many seconds sign-ins must wait, for the email and for the
-- client address: 0 while fewer than the limit failed within the window, else until
-- the limit-th most recent failure leaves the window (@email_skip and @addr_skip are
-- the limits less one). Each uses its own index.
SELECT
    coalesce((
        SELECT ceil(extract(epoch FROM a.attempted_at + make_interval(0, 0, 0, 0, 0, 0, @window_secs::float8) - now()))::int
        FROM login_attempts a
        WHERE a.email = @email AND a.attempted_at > now() - make_interval(0, 0, 0, 0, 0, 0, @window_secs::float8)
        ORDER BY a.attempted_at DESC
        OFFSET @email_skip::int LIMIT 1
    ), 0)::int AS email_wait_secs,
    coalesce((
        SELECT ceil(extract(epoch FROM a.attempted_at + make_interval(0, 0, 0, 0, 0, 0, @window_secs::float8) - now()))::int
        FROM login_attempts a
        WHERE a.client_addr = @client_addr AND a.attempted_at > now() - make_interval(0, 0, 0, 0, 0, 0, @window_secs::float8)
        ORDER BY a.attempted_at DESC
        OFFSET @addr_skip::int LIMIT 1
    ), 0)::int AS addr_wait_secs;

-- name: RecordLoginFailure :exec
-- RecordLoginFailure counts one failed sign-in for an email from a client address.
INSERT INTO login_attempts (email, client_addr) VALUES (@email, @client_addr);

-- name: ClearLoginFailures :exec
-- ClearLoginFailures forgets an email's failures after a successful sign-in.
DELETE FROM login_attempts WHERE email = @email;

-- name: DeleteOldLoginAttempts :execrows
-- DeleteOldLoginAttempts forgets failures older than a day: the throttle looks back
-- 15 minutes, so older rows only make the table grow.
DELETE FROM login_attempts WHERE attempted_at < now() - interval '1 day';
