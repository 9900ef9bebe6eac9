-- name: LockProductsOfVariants :many
-- LockProductsOfVariants locks the products that own the given variants, in product
-- id order, until the transaction ends, and returns their ids. Every writer of a
-- variant takes its product's lock first (catalog.LockProduct does too), so two
-- orders, or an order and a catalog edit, queue in one order and never deadlock; and
-- once this returns, no one else can change these variants' stock or prices until
-- we commit.
SELECT p.id FROM products p
WHERE p.id IN (SELECT v.product_id FROM product_variants v WHERE v.id = ANY (@variant_ids::bigint[]))
ORDER BY p.id
FOR NO KEY UPDATE;

-- name: ReserveVariantStock :one
-- ReserveVariantStock takes @quantity units of a variant if that many are in stock,
-- and returns the variant with its product's name and status; no row means the
-- variant is missing or short (GetVariantStock tells which). The condition is
-- checked on the row as it is after any concurrent writer committed, so stock never
-- goes below zero however many orders race for it. It bumps the variant's version:
-- a form opened before the sale must not write back the old stock.
UPDATE product_variants v
SET stock = v.stock - @quantity::integer, version = v.version + 1
FROM products p
WHERE v.id = @id AND p.id = v.product_id AND v.stock >= @quantity::integer
RETURNING v.id, v.product_id, v.sku, v.title, v.price_cents, v.stock,
          p.name AS product_name, p.status AS product_status;

-- name: GetVariantStock :one
-- GetVariantStock returns a variant's SKU and stock: what a short-stock error reports.
SELECT id, sku, stock FROM product_variants WHERE id = @id;

-- name: CreateOrder :one
-- CreateOrder inserts an order; its number comes from order_number_seq.
INSERT INTO orders (customer_id, status, subtotal_cents, shipping_cents, tax_cents, total_cents,
                    currency, shipping_address, billing_address)
VALUES (@customer_id, 'pending', @subtotal_cents, @shipping_cents, @tax_cents, @total_cents,
        @currency, @shipping_address, @billing_address)
RETURNING *;

-- name: CreateOrderLines :many
-- CreateOrderLines inserts an order's lines in one statement and returns them; the
-- arrays run in step (the unnests zip them), one element per line.
INSERT INTO order_lines (order_id, variant_id, sku, name, title, unit_price_cents, quantity,
                         line_total_cents, position)
SELECT @order_id::bigint, unnest(@variant_ids::bigint[]), unnest(@skus::text[]), unnest(@names::text[]),
       unnest(@titles::text[]), unnest(@unit_prices::bigint[]), unnest(@quantities::integer[]),
       unnest(@line_totals::bigint[]), unnest(@positions::integer[])
RETURNING *;

-- name: CreateOrderEvent :one
-- CreateOrderEvent appends an entry to an order's timeline, in the caller's
-- transaction. A missing order fails on order_events_order_id_fkey.
INSERT INTO order_events (order_id, actor_user_id, actor_token_id, actor_label, kind, note)
VALUES (@order_id, @actor_user_id, @actor_token_id, @actor_label, @kind, @note)
RETURNING *;

-- name: LockOrder :one
-- LockOrder returns an order's status, version and restock mark, and locks the row
-- until the transaction ends: a concurrent transition waits here and then sees the
-- status this one leaves.
SELECT id, number, status, version, restocked_at FROM orders WHERE id = @id FOR NO KEY UPDATE;

-- name: TransitionOrder :one
-- TransitionOrder moves an order to @to_status, but only from one of @from_statuses
-- (the statuses that may go there), only at @version when given, and with
-- @restock only if it was never restocked: it marks restocked_at then. No row means
-- one of those conditions failed. The conditions are the guard, whatever the caller
-- checked before: of two concurrent transitions, the second re-checks them on the
-- row the first left.
UPDATE orders
SET status = @to_status::text, version = version + 1,
    restocked_at = CASE WHEN @restock::boolean THEN now() ELSE restocked_at END
WHERE id = @id
  AND status = ANY (@from_statuses::text[])
  AND (sqlc.narg(version)::integer IS NULL OR version = sqlc.narg(version)::integer)
  AND (NOT @restock::boolean OR restocked_at IS NULL)
RETURNING *;

-- name: LockProductsOfOrder :many
-- LockProductsOfOrder is LockProductsOfVariants for the variants an order's lines
-- still point to: restocking takes the same locks in the same order as selling.
SELECT p.id FROM products p
WHERE p.id IN (SELECT v.product_id FROM order_lines l JOIN product_variants v ON v.id = l.variant_id
               WHERE l.order_id = @order_id)
ORDER BY p.id
FOR NO KEY UPDATE;

-- name: RestockOrder :many
-- RestockOrder puts an order's units back into stock, one row per variant that still
-- exists (a deleted variant's units have nowhere to go), and returns what it put
-- back. Callers lock the products first (LockProductsOfOrder), so the order in which
-- this statement locks the variants cannot deadlock with anyone.
UPDATE product_variants v
SET stock = v.stock + l.quantity, version = v.version + 1
FROM (SELECT ol.variant_id, sum(ol.quantity)::integer AS quantity
      FROM order_lines ol
      WHERE ol.order_id = @order_id AND ol.variant_id IS NOT NULL
      GROUP BY ol.variant_id) AS l
WHERE v.id = l.variant_id
RETURNING v.id, v.product_id, v.sku, l.quantity;

-- name: GetOrder :one
-- GetOrder returns an order and its customer.
SELECT sqlc.embed(o), sqlc.embed(c)
FROM orders o JOIN customers c ON c.id = o.customer_id
WHERE o.id = @id;

-- name: ListOrderLines :many
-- ListOrderLines returns an order's lines in the order they were placed.
SELECT * FROM order_lines WHERE order_id = @order_id ORDER BY position, id;

-- name: ListOrderEvents :many
-- ListOrderEvents returns an order's timeline, oldest first.
SELECT * FROM order_events WHERE order_id = @order_id ORDER BY at, id;

-- name: ListOrdersByPlacedDesc :many
-- ListOrdersByPlacedDesc returns a page of orders newest first, then by id, after the
-- keyset (@after_value, @after_id) when given.
--
-- The order list is one statement per page, one query per sort key and direction so
-- that each ORDER BY has an index to read (see ListProductsByNameAsc, which this
-- follows):
--   - every filter is optional, NULL meaning "not filtered"; statements are planned
--     with their actual values, so NULL filters fold away;
--   - the date range is [placed_from, placed_to); the total range is inclusive;
--   - a search is one of two filters, chosen by how many orders it matches (see
--     SearchOrderIDs): ids, the matching orders' ids when they are few, read through
--     the primary key and sorted; or pattern, an ILIKE pattern matched against the
--     number or the customer's email and name row by row while the ordering's index
--     is read, which finds a page quickly when matches are many. (An id IN (subquery)
--     under "pattern IS NULL OR" would do neither: a sublink under OR is not turned
--     into a join, so it becomes a hashed subplan checked against every order, 350 ms
--     at a million.)
--   - the keyset travels as text and is cast to the key's type here, which gives all
--     four queries one parameter struct;
--   - callers ask for one row more than they show.
SELECT o.* FROM order_listings o
WHERE (sqlc.narg(status)::text IS NULL OR o.status = sqlc.narg(status)::text)
  AND (sqlc.narg(customer_id)::bigint IS NULL OR o.customer_id = sqlc.narg(customer_id)::bigint)
  AND (sqlc.narg(placed_from)::timestamptz IS NULL OR o.placed_at >= sqlc.narg(placed_from)::timestamptz)
  AND (sqlc.narg(placed_to)::timestamptz IS NULL OR o.placed_at < sqlc.narg(placed_to)::timestamptz)
  AND (sqlc.narg(total_min)::bigint IS NULL OR o.total_cents >= sqlc.narg(total_min)::bigint)
  AND (sqlc.narg(total_max)::bigint IS NULL OR o.total_cents <= sqlc.narg(total_max)::bigint)
  AND (sqlc.narg(ids)::bigint[] IS NULL OR o.id = ANY (sqlc.narg(ids)::bigint[]))
  AND (sqlc.narg(pattern)::text IS NULL OR o.number ILIKE sqlc.narg(pattern)::text OR EXISTS (
        SELECT 1 FROM customers c
        WHERE c.id = o.customer_id AND (c.email::text || ' ' || c.name) ILIKE sqlc.narg(pattern)::text))
  AND (sqlc.narg(after_id)::bigint IS NULL
       OR (o.placed_at, o.id) < (sqlc.narg(after_value)::text::timestamptz, sqlc.narg(after_id)::bigint))
ORDER BY o.placed_at DESC, o.id DESC
LIMIT @row_limit;

-- name: ListOrdersByPlacedAsc :many
-- ListOrdersByPlacedAsc is ListOrdersByPlacedDesc oldest first.
SELECT o.* FROM order_listings o
WHERE (sqlc.narg(status)::text IS NULL OR o.status = sqlc.narg(status)::text)
  AND (sqlc.narg(customer_id)::bigint IS NULL OR o.customer_id = sqlc.narg(customer_id)::bigint)
  AND (sqlc.narg(placed_from)::timestamptz IS NULL OR o.placed_at >= sqlc.narg(placed_from)::timestamptz)
  AND (sqlc.narg(placed_to)::timestamptz IS NULL OR o.placed_at < sqlc.narg(placed_to)::timestamptz)
  AND (sqlc.narg(total_min)::bigint IS NULL OR o.total_cents >= sqlc.narg(total_min)::bigint)
  AND (sqlc.narg(total_max)::bigint IS NULL OR o.total_cents <= sqlc.narg(total_max)::bigint)
  AND (sqlc.narg(ids)::bigint[] IS NULL OR o.id = ANY (sqlc.narg(ids)::bigint[]))
  AND (sqlc.narg(pattern)::text IS NULL OR o.number ILIKE sqlc.narg(pattern)::text OR EXISTS (
        SELECT 1 FROM customers c
        WHERE c.id = o.customer_id AND (c.email::text || ' ' || c.name) ILIKE sqlc.narg(pattern)::text))
  AND (sqlc.narg(after_id)::bigint IS NULL
       OR (o.placed_at, o.id) > (sqlc.narg(after_value)::text::timestamptz, sqlc.narg(after_id)::bigint))
ORDER BY o.placed_at, o.id
LIMIT @row_limit;

-- name: ListOrdersByTotalDesc :many
-- ListOrdersByTotalDesc is ListOrdersByPlacedDesc by total, largest first.
SELECT o.* FROM order_listings o
WHERE (sqlc.narg(status)::text IS NULL OR o.status = sqlc.narg(status)::text)
  AND (sqlc.narg(customer_id)::bigint IS NULL OR o.customer_id = sqlc.narg(customer_id)::bigint)
  AND (sqlc.narg(placed_from)::timestamptz IS NULL OR o.placed_at >= sqlc.narg(placed_from)::timestamptz)
  AND (sqlc.narg(placed_to)::timestamptz IS NULL OR o.placed_at < sqlc.narg(placed_to)::timestamptz)
  AND (sqlc.narg(total_min)::bigint IS NULL OR o.total_cents >= sqlc.narg(total_min)::bigint)
  AND (sqlc.narg(total_max)::bigint IS NULL OR o.total_cents <= sqlc.narg(total_max)::bigint)
  AND (sqlc.narg(ids)::bigint[] IS NULL OR o.id = ANY (sqlc.narg(ids)::bigint[]))
  AND (sqlc.narg(pattern)::text IS NULL OR o.number ILIKE sqlc.narg(pattern)::text OR EXISTS (
        SELECT 1 FROM customers c
        WHERE c.id = o.customer_id AND (c.email::text || ' ' || c.name) ILIKE sqlc.narg(pattern)::text))
  AND (sqlc.narg(after_id)::bigint IS NULL
       OR (o.total_cents, o.id) < (sqlc.narg(after_value)::text::bigint, sqlc.narg(after_id)::bigint))
ORDER BY o.total_cents DESC, o.id DESC
LIMIT @row_limit;

-- name: ListOrdersByTotalAsc :many
-- ListOrdersByTotalAsc is ListOrdersByPlacedDesc by total, smallest first.
SELECT o.* FROM order_listings o
WHERE (sqlc.narg(status)::text IS NULL OR o.status = sqlc.narg(status)::text)
  AND (sqlc.narg(customer_id)::bigint IS NULL OR o.customer_id = sqlc.narg(customer_id)::bigint)
  AND (sqlc.narg(placed_from)::timestamptz IS NULL OR o.placed_at >= sqlc.narg(placed_from)::timestamptz)
  AND (sqlc.narg(placed_to)::timestamptz IS NULL OR o.placed_at < sqlc.narg(placed_to)::timestamptz)
  AND (sqlc.narg(total_min)::bigint IS NULL OR o.total_cents >= sqlc.narg(total_min)::bigint)
  AND (sqlc.narg(total_max)::bigint IS NULL OR o.total_cents <= sqlc.narg(total_max)::bigint)
  AND (sqlc.narg(ids)::bigint[] IS NULL OR o.id = ANY (sqlc.narg(ids)::bigint[]))
  AND (sqlc.narg(pattern)::text IS NULL OR o.number ILIKE sqlc.narg(pattern)::text OR EXISTS (
        SELECT 1 FROM customers c
        WHERE c.id = o.customer_id AND (c.email::text || ' ' || c.name) ILIKE sqlc.narg(pattern)::text))
  AND (sqlc.narg(after_id)::bigint IS NULL
       OR (o.total_cents, o.id) > (sqlc.narg(after_value)::text::bigint, sqlc.narg(after_id)::bigint))
ORDER BY o.total_cents, o.id
LIMIT @row_limit;

-- name: SearchOrderIDs :many
-- SearchOrderIDs returns the ids of up to @row_limit orders whose number, or whose
-- customer's email or name, matches the ILIKE pattern @pattern, through the two
-- trigram indexes. Callers ask for one more than they can use, to learn whether the
-- search is selective (see ListOrdersByPlacedDesc). UNION ALL, not UNION: the limit
-- then stops the scans early, where UNION would collect every match to remove
-- duplicates first; an order that matches both ways appearing twice is harmless.
SELECT m.id FROM orders m WHERE m.number ILIKE @pattern::text
UNION ALL
SELECT m.id FROM orders m
WHERE m.customer_id IN (SELECT c.id FROM customers c WHERE (c.email::text || ' ' || c.name) ILIKE @pattern::text)
LIMIT @row_limit;

-- name: CountOrders :one
-- CountOrders counts the orders the list filters match, but stops at @max_count: an
-- exact count is shown only when it is small (see CountProducts).
SELECT count(*) FROM (
    SELECT 1 FROM orders o
    WHERE (sqlc.narg(status)::text IS NULL OR o.status = sqlc.narg(status)::text)
      AND (sqlc.narg(customer_id)::bigint IS NULL OR o.customer_id = sqlc.narg(customer_id)::bigint)
      AND (sqlc.narg(placed_from)::timestamptz IS NULL OR o.placed_at >= sqlc.narg(placed_from)::timestamptz)
      AND (sqlc.narg(placed_to)::timestamptz IS NULL OR o.placed_at < sqlc.narg(placed_to)::timestamptz)
      AND (sqlc.narg(total_min)::bigint IS NULL OR o.total_cents >= sqlc.narg(total_min)::bigint)
      AND (sqlc.narg(total_max)::bigint IS NULL OR o.total_cents <= sqlc.narg(total_max)::bigint)
      AND (sqlc.narg(ids)::bigint[] IS NULL OR o.id = ANY (sqlc.narg(ids)::bigint[]))
      AND (sqlc.narg(pattern)::text IS NULL OR o.number ILIKE sqlc.narg(pattern)::text OR EXISTS (
            SELECT 1 FROM customers c
            WHERE c.id = o.customer_id AND (c.email::text || ' ' || c.name) ILIKE sqlc.narg(pattern)::text))
    LIMIT @max_count
) AS matched;

-- name: DailyOrderFigures :many
-- DailyOrderFigures returns, per day in time zone @tz with orders placed in
-- [@since, @until) (both midnights in @tz), the number of orders and the revenue
-- (see order_revenue), from the 15-minute buckets of order_stats. Days without
-- orders have no row.
SELECT date_trunc('day', bucket, @tz::text)::timestamptz AS day,
       sum(orders)::bigint AS orders,
       sum(revenue_cents)::bigint AS revenue_cents
FROM order_stats
WHERE bucket >= @since::timestamptz AND bucket < @until::timestamptz
GROUP BY 1
ORDER BY 1;

-- name: CountOrdersWithStatus :one
-- CountOrdersWithStatus counts the orders in one status (the dashboard's "waiting to
-- be fulfilled" is status paid), from orders_status_placed_idx.
SELECT count(*) FROM orders WHERE status = @status;
