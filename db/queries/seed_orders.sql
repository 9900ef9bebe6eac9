-- name: LockOrdersForSeed :exec
-- LockOrdersForSeed keeps other writers out of customers and orders until the
-- transaction ends, so that the id and number blocks the seed reserves are not handed
-- out under it. Readers are not blocked.
LOCK TABLE customers, orders IN EXCLUSIVE MODE;

-- name: CountAllOrders :one
-- CountAllOrders counts every order exactly. Only the seed and dev setup call it.
SELECT count(*) FROM orders;

-- name: CountAllCustomers :one
-- CountAllCustomers counts every customer exactly. Only the seed calls it.
SELECT count(*) FROM customers;

-- name: NextCustomerID :one
-- NextCustomerID takes the next id from the customers sequence: the first of a block
-- the seed reserves (see SkipCustomerIDs).
SELECT nextval(pg_get_serial_sequence('customers', 'id'))::bigint AS id;

-- name: SkipCustomerIDs :exec
-- SkipCustomerIDs moves the customers sequence on to @last_id, so that the block from
-- NextCustomerID to @last_id is the seed's alone. Call both under LockOrdersForSeed.
SELECT setval(pg_get_serial_sequence('customers', 'id'), @last_id::bigint);

-- name: NextOrderID :one
-- NextOrderID is NextCustomerID for orders.
SELECT nextval(pg_get_serial_sequence('orders', 'id'))::bigint AS id;

-- name: SkipOrderIDs :exec
-- SkipOrderIDs is SkipCustomerIDs for orders.
SELECT setval(pg_get_serial_sequence('orders', 'id'), @last_id::bigint);

-- name: NextOrderNumber :one
-- NextOrderNumber takes the next order number (the digits after SR-): the first of
-- the block SkipOrderNumbers reserves.
SELECT nextval('order_number_seq')::bigint AS n;

-- name: SkipOrderNumbers :exec
-- SkipOrderNumbers moves order_number_seq on to @last, reserving the block.
SELECT setval('order_number_seq', @last::bigint);

-- name: ListSeedVariants :many
-- ListSeedVariants returns up to @row_limit variants of active products, in id order,
-- with what an order line copies of them: what seeded orders are made of.
SELECT v.id, v.sku, v.title, v.price_cents, p.name AS product_name
FROM product_variants v JOIN products p ON p.id = v.product_id
WHERE p.status = 'active'
ORDER BY v.id
LIMIT @row_limit;

-- name: CopyCustomers :copyfrom
-- CopyCustomers loads customers with COPY, ids included.
INSERT INTO customers (id, email, name, phone, shipping_address, billing_address, created_at, updated_at)
VALUES (@id, @email, @name, @phone, @shipping_address, @billing_address, @created_at, @updated_at);

-- name: CopyOrders :copyfrom
-- CopyOrders loads orders with COPY, ids, numbers and history included.
INSERT INTO orders (id, number, customer_id, status, subtotal_cents, shipping_cents, tax_cents, total_cents,
                    currency, shipping_address, billing_address, placed_at, updated_at, version, restocked_at)
VALUES (@id, @number, @customer_id, @status, @subtotal_cents, @shipping_cents, @tax_cents, @total_cents,
        @currency, @shipping_address, @billing_address, @placed_at, @updated_at, @version, @restocked_at);

-- name: CopyOrderLines :copyfrom
-- CopyOrderLines loads order lines with COPY.
INSERT INTO order_lines (order_id, variant_id, sku, name, title, unit_price_cents, quantity, line_total_cents, position)
VALUES (@order_id, @variant_id, @sku, @name, @title, @unit_price_cents, @quantity, @line_total_cents, @position);

-- name: CopyOrderEvents :copyfrom
-- CopyOrderEvents loads timeline entries with COPY.
INSERT INTO order_events (order_id, at, actor_label, kind, note)
VALUES (@order_id, @at, @actor_label, @kind, @note);

-- name: DeferOrderIndexes :exec
-- DeferOrderIndexes drops the secondary indexes and keys of orders, their lines and
-- timelines for the rest of a bulk load into an empty order book (see
-- bulk_defer_indexes in 0006_orders.sql).
SELECT bulk_defer_indexes('orders', 'order_lines', 'order_events');

-- name: DeferCustomerIndexes :exec
-- DeferCustomerIndexes is DeferOrderIndexes for an empty customers table.
SELECT bulk_defer_indexes('customers');

-- name: RestoreDeferredIndexes :exec
-- RestoreDeferredIndexes builds what the Defer queries dropped, in the same
-- transaction.
SELECT bulk_restore_indexes();

-- name: VacuumOrders :exec
-- VacuumOrders marks the loaded pages all-visible (so the dashboard's sums are
-- index-only scans from the start) and refreshes the statistics. It cannot run in a
-- transaction.
VACUUM (ANALYZE) customers, orders, order_lines, order_events;

-- name: PauseOrderStats :exec
-- PauseOrderStats turns off the trigger that keeps order_stats for the rest of the
-- transaction's bulk load (it would queue one deferred call per order); the load
-- adds its orders to the stats in one statement instead (AddOrderStats).
ALTER TABLE orders DISABLE TRIGGER orders_stats;

-- name: ResumeOrderStats :exec
-- ResumeOrderStats turns the trigger back on, in the same transaction.
ALTER TABLE orders ENABLE TRIGGER orders_stats;

-- name: AddOrderStats :exec
-- AddOrderStats adds the orders with ids from @first_id to @last_id to order_stats:
-- what the trigger would have added one by one.
INSERT INTO order_stats (bucket, shard, orders, revenue_cents)
SELECT date_bin('15 minutes', placed_at, 'epoch'), 0, count(*), sum(order_revenue(status, total_cents))
FROM orders
WHERE id BETWEEN @first_id AND @last_id
GROUP BY 1
ON CONFLICT ON CONSTRAINT order_stats_pkey DO UPDATE
SET orders = order_stats.orders + EXCLUDED.orders,
    revenue_cents = order_stats.revenue_cents + EXCLUDED.revenue_cents;
