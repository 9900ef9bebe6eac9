-- name: CreateCustomer :one
-- CreateCustomer inserts a customer; an email taken in any case fails on
-- customers_email_key.
INSERT INTO customers (email, name, phone, notes, shipping_address, billing_address)
VALUES (@email, @name, @phone, @notes, @shipping_address, @billing_address)
RETURNING *;

-- name: CreateCustomerIfNew :one
-- CreateCustomerIfNew inserts a customer unless one has the email already: then no
-- row comes back and the caller reads that one (GetCustomerByEmail). The insert waits
-- for a concurrent one of the same email to commit or roll back, so the read after it
-- always finds the row that won.
INSERT INTO customers (email, name, phone, shipping_address, billing_address)
VALUES (@email, @name, @phone, @shipping_address, @billing_address)
ON CONFLICT ON CONSTRAINT customers_email_key DO NOTHING
RETURNING *;

-- name: GetCustomer :one
-- GetCustomer returns one customer by id.
SELECT * FROM customers WHERE id = @id;

-- name: GetCustomerByEmail :one
-- GetCustomerByEmail returns the customer with an email, compared case-insensitively.
SELECT * FROM customers WHERE email = @email;

-- name: GetCustomerVersion :one
-- GetCustomerVersion returns a customer's version: after a version-checked write hit
-- no row, it tells "changed since" (a row) from "gone" (ErrNotFound).
SELECT version FROM customers WHERE id = @id;

-- name: UpdateCustomer :one
-- UpdateCustomer rewrites a customer if it is at @version, or whatever its version
-- when @version is NULL; no row means it is gone or changed since it was read.
UPDATE customers
SET email = @email, name = @name, phone = @phone, notes = @notes,
    shipping_address = @shipping_address, billing_address = @billing_address,
    version = version + 1
WHERE id = @id AND (sqlc.narg(version)::integer IS NULL OR version = sqlc.narg(version)::integer)
RETURNING *;

-- name: DeleteCustomer :one
-- DeleteCustomer deletes a customer if it is at @version (or whatever its version
-- when NULL) and returns it. One with orders fails on orders_customer_id_fkey.
DELETE FROM customers
WHERE id = @id AND (sqlc.narg(version)::integer IS NULL OR version = sqlc.narg(version)::integer)
RETURNING *;

-- name: CustomerStats :one
-- CustomerStats sums a customer's orders: how many, and the lifetime value — the
-- totals of the orders whose money the shop kept (paid, fulfilled, delivered). A
-- refunded order counts zero: its money went back. Reads orders_customer_placed_idx.
SELECT count(*)::bigint AS orders,
       coalesce(sum(total_cents) FILTER (WHERE status IN ('paid', 'fulfilled', 'delivered')), 0)::bigint AS lifetime_cents,
       coalesce(min(placed_at), 'epoch')::timestamptz AS first_order_at, -- epoch: no orders
       coalesce(max(placed_at), 'epoch')::timestamptz AS last_order_at
FROM orders WHERE customer_id = @customer_id;

-- name: ListCustomers :many
-- ListCustomers returns a page of customers newest first (by id), after @before_id
-- when given, optionally only those whose email or name matches @pattern (an ILIKE
-- pattern, read through customers_search_idx). Callers ask for one row more than they
-- show.
SELECT * FROM customers
WHERE (sqlc.narg(pattern)::text IS NULL OR (email::text || ' ' || name) ILIKE sqlc.narg(pattern)::text)
  AND (sqlc.narg(before_id)::bigint IS NULL OR id < sqlc.narg(before_id)::bigint)
ORDER BY id DESC
LIMIT @row_limit;

-- name: CountCustomers :one
-- CountCustomers counts the customers a search matches, stopping at @max_count.
SELECT count(*) FROM (
    SELECT 1 FROM customers
    WHERE (sqlc.narg(pattern)::text IS NULL OR (email::text || ' ' || name) ILIKE sqlc.narg(pattern)::text)
    LIMIT @max_count
) AS matched;
