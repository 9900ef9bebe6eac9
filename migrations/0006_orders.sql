-- +goose Up
-- Orders and customers: who bought what, for how much, and what happened to it since.
-- Money is integer minor units (cents) throughout; the order's currency says which.

-- Customers. The default shipping and billing addresses live on the customer as jsonb
-- (see customers_address_check) rather than in a customer_addresses table: an address
-- is always read and written whole, together with the customer, on one form under the
-- customer's one version; nothing queries inside it; and an order copies it as the
-- same jsonb snapshot. A table would add a second version to check and a join on
-- every read for no query that needs it.
CREATE TABLE customers (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email            citext      NOT NULL,
    name             text        NOT NULL DEFAULT '',
    phone            text        NOT NULL DEFAULT '',
    notes            text        NOT NULL DEFAULT '',
    shipping_address jsonb       NOT NULL DEFAULT '{}',
    billing_address  jsonb       NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    version          integer     NOT NULL DEFAULT 1,
    CONSTRAINT customers_email_key UNIQUE (email),
    CONSTRAINT customers_email_check CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 254),
    CONSTRAINT customers_name_check CHECK (length(name) <= 200),
    CONSTRAINT customers_phone_check CHECK (length(phone) <= 50),
    CONSTRAINT customers_notes_check CHECK (length(notes) <= 20000),
    CONSTRAINT customers_address_check CHECK (jsonb_typeof(shipping_address) = 'object'
                                              AND jsonb_typeof(billing_address) = 'object')
);
-- Substring search over email and name in one trigram index: the customer list's
-- search box and the orders list's "customer" search both use it.
CREATE INDEX customers_search_idx ON customers USING gin ((email::text || ' ' || name) gin_trgm_ops);
CREATE TRIGGER customers_touch BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- Order numbers are what people read out on the phone: SR-10001, SR-10002, ... A
-- sequence never hands out a number twice, but a rolled-back order leaves a gap.
CREATE SEQUENCE order_number_seq START 10001;

-- Orders. total_cents is stored (lists sort and filter on it) and held to the sum of
-- its parts by orders_total_check. restocked_at is set by the one transaction that
-- put a cancelled or refunded order's units back: the guard that makes restocking
-- happen exactly once.
CREATE TABLE orders (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number           text        NOT NULL DEFAULT 'SR-' || nextval('order_number_seq'),
    customer_id      bigint      NOT NULL CONSTRAINT orders_customer_id_fkey
                                 REFERENCES customers (id) ON DELETE RESTRICT,
    status           text        NOT NULL DEFAULT 'pending',
    subtotal_cents   bigint      NOT NULL,
    shipping_cents   bigint      NOT NULL DEFAULT 0,
    tax_cents        bigint      NOT NULL DEFAULT 0,
    total_cents      bigint      NOT NULL,
    currency         char(3)     NOT NULL,
    shipping_address jsonb       NOT NULL DEFAULT '{}',
    billing_address  jsonb       NOT NULL DEFAULT '{}',
    placed_at        timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    version          integer     NOT NULL DEFAULT 1,
    restocked_at     timestamptz,
    CONSTRAINT orders_number_key UNIQUE (number),
    CONSTRAINT orders_status_check CHECK (status IN ('pending', 'paid', 'fulfilled', 'delivered', 'cancelled', 'refunded')),
    CONSTRAINT orders_money_check CHECK (subtotal_cents >= 0 AND shipping_cents >= 0 AND tax_cents >= 0),
    CONSTRAINT orders_total_check CHECK (total_cents = subtotal_cents + shipping_cents + tax_cents),
    CONSTRAINT orders_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT orders_address_check CHECK (jsonb_typeof(shipping_address) = 'object'
                                           AND jsonb_typeof(billing_address) = 'object'),
    CONSTRAINT orders_restocked_check CHECK (restocked_at IS NULL OR status IN ('cancelled', 'refunded'))
);
ALTER SEQUENCE order_number_seq OWNED BY orders.number;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- The list reads newest first on (placed_at, id), with or without a status or a
-- customer, so each of those has an index that ends in (placed_at, id): a page is an
-- index descent and a few dozen rows at any depth.
CREATE INDEX orders_placed_idx ON orders (placed_at, id);
CREATE INDEX orders_status_placed_idx ON orders (status, placed_at, id);
CREATE INDEX orders_customer_placed_idx ON orders (customer_id, placed_at, id);
-- A total range (and the list sorted by total) reads this one.
CREATE INDEX orders_total_idx ON orders (total_cents, id);
-- Substring search on the number ("10042" finds SR-10042).
CREATE INDEX orders_number_trgm_idx ON orders USING gin (number gin_trgm_ops);

-- The dashboard's figures per day come from order_stats, not from the orders: at a
-- million orders, summing the 330,000 of the last 30 days takes 25 ms as an
-- index-only scan and 170 ms grouped by day in a time zone (EXPLAIN ANALYZE,
-- 2026-11-25), on every page view. order_stats holds the count and revenue of the
-- orders placed in each 15-minute bucket, which any time zone's days are made of
-- (every zone's offset is a multiple of 15 minutes), so 30 days are at most 2,880
-- buckets whatever the number of orders.
--
-- A trigger keeps it, so no write path (the app, the seed, a fix by hand) can let it
-- drift. It is a deferred constraint trigger: it runs at commit, so the bucket's row
-- is locked only for the moment of the commit, and concurrent transactions add to
-- one of eight rows of the bucket (by backend), so they rarely wait for each other.
-- The figures are sums over all of a bucket's rows; one row alone may be negative
-- (an order counted in one and cancelled through another).

-- order_revenue is what an order adds to the revenue: its total while the shop has
-- the money (paid, fulfilled, delivered); nothing while pending, cancelled or
-- refunded.
CREATE FUNCTION order_revenue(status text, total_cents bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN status IN ('paid', 'fulfilled', 'delivered') THEN total_cents ELSE 0 END;

CREATE TABLE order_stats (
    bucket        timestamptz NOT NULL, -- start of the 15 minutes the orders were placed in
    shard         smallint    NOT NULL,
    orders        bigint      NOT NULL,
    revenue_cents bigint      NOT NULL,
    CONSTRAINT order_stats_pkey PRIMARY KEY (bucket, shard)
);

-- +goose StatementBegin
CREATE FUNCTION order_stats_add(placed_at timestamptz, orders bigint, revenue_cents bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO order_stats (bucket, shard, orders, revenue_cents)
    VALUES (date_bin('15 minutes', placed_at, 'epoch'), pg_backend_pid() % 8, orders, revenue_cents)
    ON CONFLICT ON CONSTRAINT order_stats_pkey DO UPDATE
    SET orders = order_stats.orders + EXCLUDED.orders,
        revenue_cents = order_stats.revenue_cents + EXCLUDED.revenue_cents;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION order_stats_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.placed_at = NEW.placed_at
       AND order_revenue(OLD.status, OLD.total_cents) = order_revenue(NEW.status, NEW.total_cents) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM order_stats_add(OLD.placed_at, -1, -order_revenue(OLD.status, OLD.total_cents));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM order_stats_add(NEW.placed_at, 1, order_revenue(NEW.status, NEW.total_cents));
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER orders_stats AFTER INSERT OR DELETE OR UPDATE OF placed_at, status, total_cents
    ON orders DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION order_stats_track();

-- Order lines keep a snapshot of what was sold, at what price: the variant may change
-- price or be deleted later (then variant_id becomes NULL and the snapshot remains).
CREATE TABLE order_lines (
    id               bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id         bigint  NOT NULL CONSTRAINT order_lines_order_id_fkey
                             REFERENCES orders (id) ON DELETE CASCADE,
    variant_id       bigint  CONSTRAINT order_lines_variant_id_fkey
                             REFERENCES product_variants (id) ON DELETE SET NULL,
    sku              text    NOT NULL,
    name             text    NOT NULL, -- the product's name at the time
    title            text    NOT NULL DEFAULT '', -- the variant's title ("Large")
    unit_price_cents bigint  NOT NULL,
    quantity         integer NOT NULL,
    line_total_cents bigint  NOT NULL,
    position         integer NOT NULL DEFAULT 0,
    CONSTRAINT order_lines_quantity_check CHECK (quantity > 0),
    CONSTRAINT order_lines_price_check CHECK (unit_price_cents >= 0),
    CONSTRAINT order_lines_total_check CHECK (line_total_cents = unit_price_cents * quantity)
);
CREATE INDEX order_lines_order_idx ON order_lines (order_id, position, id);
-- For ON DELETE SET NULL when a variant goes, and "orders with this variant".
CREATE INDEX order_lines_variant_idx ON order_lines (variant_id);

-- The timeline of an order: who did what, when. Like audit_log, the actor is copied
-- (ids and a label) rather than referenced, so the timeline outlives the user.
CREATE TABLE order_events (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id       bigint      NOT NULL CONSTRAINT order_events_order_id_fkey
                               REFERENCES orders (id) ON DELETE CASCADE,
    at             timestamptz NOT NULL DEFAULT now(),
    actor_user_id  bigint,
    actor_token_id bigint,
    actor_label    text        NOT NULL DEFAULT '',
    kind           text        NOT NULL,
    note           text        NOT NULL DEFAULT '',
    CONSTRAINT order_events_kind_check CHECK (kind IN ('created', 'paid', 'fulfilled', 'delivered', 'cancelled', 'refunded', 'note')),
    CONSTRAINT order_events_note_check CHECK (length(note) <= 5000)
);
CREATE INDEX order_events_order_idx ON order_events (order_id, at, id);

-- One shape for every order list and export: the order's own columns a list shows,
-- with its customer's email and name, so all the list queries return one Go type.
CREATE VIEW order_listings AS
SELECT o.id, o.number, o.status, o.customer_id, c.email AS customer_email, c.name AS customer_name,
       o.subtotal_cents, o.shipping_cents, o.tax_cents, o.total_cents, o.currency,
       o.placed_at, o.updated_at, o.version
FROM orders o
JOIN customers c ON c.id = o.customer_id;

-- Bulk loads (stockroom seed) into empty tables are several times faster without the
-- secondary indexes, unique constraints and foreign keys, built once at the end
-- instead of row by row. bulk_defer_indexes drops those of the given tables (not the
-- primary keys) and remembers their definitions in a temporary table;
-- bulk_restore_indexes creates them again, checking every row as it does. Both run in
-- the loading transaction, so a failure in between rolls the drop back too, and what
-- comes back is exactly what the migrations defined. (catalog_defer_indexes is the
-- same for the catalog's two tables.)
-- +goose StatementBegin
CREATE FUNCTION bulk_defer_indexes(VARIADIC tables regclass[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    d record;
BEGIN
    CREATE TEMPORARY TABLE IF NOT EXISTS bulk_deferred (n serial, def text NOT NULL) ON COMMIT DROP;
    -- Foreign keys first (a unique key may not go while one depends on it), then
    -- unique keys, then plain indexes; they come back in the opposite order.
    FOR d IN
        SELECT c.conrelid::regclass AS tbl, c.conname, pg_get_constraintdef(c.oid) AS def
        FROM pg_constraint c
        WHERE c.conrelid = ANY (tables) AND c.contype IN ('f', 'u')
        ORDER BY c.contype, c.conname
    LOOP
        INSERT INTO bulk_deferred (def) VALUES (format('ALTER TABLE %s ADD CONSTRAINT %I %s', d.tbl, d.conname, d.def));
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', d.tbl, d.conname);
    END LOOP;
    FOR d IN
        SELECT i.indexrelid::regclass AS name, pg_get_indexdef(i.indexrelid) AS def
        FROM pg_index i
        WHERE i.indrelid = ANY (tables)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    LOOP
        INSERT INTO bulk_deferred (def) VALUES (d.def);
        EXECUTE format('DROP INDEX %s', d.name);
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION bulk_restore_indexes() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    d record;
BEGIN
    FOR d IN SELECT def FROM bulk_deferred ORDER BY n DESC LOOP
        EXECUTE d.def;
    END LOOP;
    DROP TABLE bulk_deferred;
END
$$;
-- +goose StatementEnd

INSERT INTO permissions (codename, name)
SELECT r || '.' || a, initcap(a) || ' ' || r
FROM unnest(ARRAY['orders', 'customers']) AS r,
     unnest(ARRAY['view', 'add', 'change', 'delete']) AS a;
INSERT INTO permissions (codename, name) VALUES
    ('orders.fulfil', 'Fulfil and deliver orders'),
    ('orders.refund', 'Refund orders'),
    ('orders.cancel', 'Cancel orders');

-- +goose Down
DELETE FROM permissions WHERE codename LIKE 'orders.%' OR codename LIKE 'customers.%';
DROP FUNCTION bulk_restore_indexes();
DROP FUNCTION bulk_defer_indexes(regclass[]);
DROP VIEW order_listings;
DROP TABLE order_events;
DROP TABLE order_lines;
DROP TABLE orders;
DROP FUNCTION order_stats_track();
DROP FUNCTION order_stats_add(timestamptz, bigint, bigint);
DROP TABLE order_stats;
DROP FUNCTION order_revenue(text, bigint);
DROP TABLE customers;
