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
-- index descent and a few dozen rows at any depth. The placed_at index also carries
-- status and total_cents, so that the dashboard's per-day sums over 30 days are an
-- index-only scan that never visits the table.
CREATE INDEX orders_placed_idx ON orders (placed_at, id) INCLUDE (status, total_cents);
CREATE INDEX orders_status_placed_idx ON orders (status, placed_at, id);
CREATE INDEX orders_customer_placed_idx ON orders (customer_id, placed_at, id);
-- A total range (and the list sorted by total) reads this one.
CREATE INDEX orders_total_idx ON orders (total_cents, id);
-- Substring search on the number ("10042" finds SR-10042).
CREATE INDEX orders_number_trgm_idx ON orders USING gin (number gin_trgm_ops);

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
DROP VIEW order_listings;
DROP TABLE order_events;
DROP TABLE order_lines;
DROP TABLE orders;
DROP TABLE customers;
