-- name: DatabaseNow :one
-- DatabaseNow returns the server's clock; readiness uses it as its round trip.
SELECT now()::timestamptz AS now;
