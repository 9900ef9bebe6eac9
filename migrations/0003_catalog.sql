-- +goose Up
-- The catalog: a category tree, products with their variants and images, and the
-- append-only audit log every write path records into.

-- Categories form a tree through parent_id. RESTRICT: a category that still has
-- subcategories cannot be deleted (the domain says so first, with counts; the key is
-- the last line of defence against a race). Cycles are refused by the domain under a
-- lock (a CHECK cannot see other rows); categories_parent_check catches the trivial one.
CREATE TABLE categories (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent_id   bigint CONSTRAINT categories_parent_id_fkey REFERENCES categories (id) ON DELETE RESTRICT,
    name        text        NOT NULL,
    slug        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    position    integer     NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer     NOT NULL DEFAULT 1,
    CONSTRAINT categories_slug_key UNIQUE (slug),
    CONSTRAINT categories_name_check CHECK (length(name) BETWEEN 1 AND 200),
    CONSTRAINT categories_slug_check CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 200),
    CONSTRAINT categories_description_check CHECK (length(description) <= 20000),
    CONSTRAINT categories_parent_check CHECK (parent_id <> id)
);
CREATE INDEX categories_parent_idx ON categories (parent_id, position, id);
CREATE INDEX categories_name_trgm_idx ON categories USING gin (name gin_trgm_ops);
CREATE TRIGGER categories_touch BEFORE UPDATE ON categories FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- Products. The summary columns (price_min_cents .. skus) are derived from the
-- variants and rewritten in the same transaction as every variant write, so lists
-- sort and filter on plain indexed columns instead of aggregating a million variants.
-- They do not bump version: version guards what an editor typed (the product's own
-- fields); each variant has its own version, so a stock change made through the API
-- while a form is open is still caught when that form saves the variant.
CREATE TABLE products (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text        NOT NULL,
    slug            text        NOT NULL,
    description     text        NOT NULL DEFAULT '',
    status          text        NOT NULL DEFAULT 'draft',
    category_id     bigint CONSTRAINT products_category_id_fkey REFERENCES categories (id) ON DELETE RESTRICT,
    price_min_cents bigint      NOT NULL DEFAULT 0,
    price_max_cents bigint      NOT NULL DEFAULT 0,
    stock_total     bigint      NOT NULL DEFAULT 0,
    variant_count   integer     NOT NULL DEFAULT 0,
    first_sku       text        NOT NULL DEFAULT '', -- the first variant's SKU (by position), for lists
    skus            text        NOT NULL DEFAULT '', -- every variant's SKU, space-separated, for search
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer     NOT NULL DEFAULT 1,
    CONSTRAINT products_slug_key UNIQUE (slug),
    CONSTRAINT products_status_check CHECK (status IN ('draft', 'active', 'archived')),
    CONSTRAINT products_name_check CHECK (length(name) BETWEEN 1 AND 200),
    CONSTRAINT products_slug_check CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 200),
    CONSTRAINT products_description_check CHECK (length(description) <= 20000)
);
CREATE TRIGGER products_touch BEFORE UPDATE ON products FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- Every list ordering is keyset-paginated on (key, id): one index per sortable key,
-- read forwards for ascending and backwards for descending, so the first page, the
-- last page and page 40,000 all cost an index descent and 26 rows. A filter on a
-- non-selective column (status) rides the ordering index and skips rows; a selective
-- one (a small category, out of stock, a search) is read through its own index and
-- the few matches sorted. The planner chooses per query (see force_custom_plan in
-- store.Open): both kinds of index are here so it has the choice.
CREATE INDEX products_name_idx ON products (name, id);
CREATE INDEX products_updated_at_idx ON products (updated_at, id);
CREATE INDEX products_price_idx ON products (price_min_cents, id);
CREATE INDEX products_stock_idx ON products (stock_total, id);
CREATE INDEX products_category_idx ON products (category_id, id);
CREATE INDEX products_status_idx ON products (status, id);
-- Substring search (ILIKE '%q%', any case) on the name and on the SKUs. The SKUs are
-- searched through products.skus rather than through product_variants: the search is
-- then "name ILIKE q OR skus ILIKE q" on one table, which the planner can answer
-- either way round: by reading the list's ordering index and filtering (a common
-- word: the first page fills after a few thousand rows), or by a BitmapOr of these
-- two indexes and a sort of the few matches (a rare word, an exact SKU). A match
-- against variants (IN or EXISTS under the optional-filter OR) can only be a subplan
-- filter on the ordered scan, which reads the whole table when little matches.
CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);
CREATE INDEX products_skus_trgm_idx ON products USING gin (skus gin_trgm_ops);

-- Variants: what is sold and stocked. A SKU is unique whatever its case, through the
-- unique index on lower(sku) (reported as product_variants_sku_key on a clash).
CREATE TABLE product_variants (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id             bigint      NOT NULL CONSTRAINT product_variants_product_id_fkey
                                       REFERENCES products (id) ON DELETE CASCADE,
    sku                    text        NOT NULL,
    title                  text        NOT NULL DEFAULT '',
    option_values          jsonb       NOT NULL DEFAULT '{}',
    price_cents            bigint      NOT NULL,
    compare_at_price_cents bigint,
    cost_cents             bigint,
    stock                  integer     NOT NULL DEFAULT 0,
    position               integer     NOT NULL DEFAULT 0,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    version                integer     NOT NULL DEFAULT 1,
    CONSTRAINT product_variants_stock_check CHECK (stock >= 0),
    CONSTRAINT product_variants_price_cents_check CHECK (price_cents >= 0),
    CONSTRAINT product_variants_compare_at_price_cents_check CHECK (compare_at_price_cents >= 0),
    CONSTRAINT product_variants_cost_cents_check CHECK (cost_cents >= 0),
    CONSTRAINT product_variants_sku_check CHECK (length(sku) BETWEEN 1 AND 64),
    CONSTRAINT product_variants_title_check CHECK (length(title) <= 200),
    CONSTRAINT product_variants_option_values_check CHECK (jsonb_typeof(option_values) = 'object')
);
CREATE UNIQUE INDEX product_variants_sku_key ON product_variants (lower(sku));
CREATE INDEX product_variants_product_idx ON product_variants (product_id, position, id);
CREATE TRIGGER product_variants_touch BEFORE UPDATE ON product_variants FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- Images are files under the media directory named by the SHA-256 of their content,
-- so an image uploaded twice is stored once; a file is removed when the last row
-- naming its hash goes. The type is what decoding found, never the upload's name.
CREATE TABLE product_images (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id   bigint      NOT NULL CONSTRAINT product_images_product_id_fkey
                             REFERENCES products (id) ON DELETE CASCADE,
    sha256       text        NOT NULL,
    content_type text        NOT NULL,
    width        integer     NOT NULL,
    height       integer     NOT NULL,
    bytes        bigint      NOT NULL,
    alt          text        NOT NULL DEFAULT '',
    position     integer     NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    version      integer     NOT NULL DEFAULT 1,
    CONSTRAINT product_images_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT product_images_content_type_check CHECK (content_type IN ('image/png', 'image/jpeg', 'image/gif')),
    CONSTRAINT product_images_size_check CHECK (width > 0 AND height > 0 AND bytes > 0),
    CONSTRAINT product_images_alt_check CHECK (length(alt) <= 500)
);
CREATE INDEX product_images_product_idx ON product_images (product_id, position, id);
CREATE INDEX product_images_sha256_idx ON product_images (sha256);
CREATE TRIGGER product_images_touch BEFORE UPDATE ON product_images FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- One row per change, written in the same transaction as the change. Append-only: the
-- trigger below refuses UPDATE, DELETE and TRUNCATE (REVOKE would not do: the app
-- connects as the owner). So the actor columns are plain numbers with a label copied
-- at the time (email, token name), not foreign keys: ON DELETE SET NULL would be an
-- UPDATE, and the label keeps the history readable after the user is gone.
-- changes is {"field": [before, after]} for the fields that changed; note is free text
-- (the reason given for a stock adjustment, the bulk action that did it).
CREATE TABLE audit_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor_user_id  bigint,
    actor_token_id bigint,
    actor_label    text        NOT NULL DEFAULT '',
    action         text        NOT NULL,
    resource       text        NOT NULL,
    object_id      bigint      NOT NULL,
    object_repr    text        NOT NULL DEFAULT '',
    changes        jsonb       NOT NULL DEFAULT '{}',
    note           text        NOT NULL DEFAULT '',
    CONSTRAINT audit_log_action_check CHECK (action ~ '^[a-z_]+$'),
    CONSTRAINT audit_log_resource_check CHECK (resource ~ '^[a-z_]+$'),
    CONSTRAINT audit_log_changes_check CHECK (jsonb_typeof(changes) = 'object')
);
-- History of one object, the global list newest first, and the list by one user; each
-- ends in id so that (at, id) keyset pages read straight off the index.
CREATE INDEX audit_log_object_idx ON audit_log (resource, object_id, at, id);
CREATE INDEX audit_log_at_idx ON audit_log (at, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, at, id);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- One shape for every product list, detail and export: the product and its category's
-- name (empty without a category), so all the list queries return one Go type.
CREATE VIEW product_listings AS
SELECT p.id, p.name, p.slug, p.description, p.status, p.category_id,
       coalesce(c.name, '') AS category_name,
       p.price_min_cents, p.price_max_cents, p.stock_total, p.variant_count, p.first_sku, p.skus,
       p.created_at, p.updated_at, p.version
FROM products p
LEFT JOIN categories c ON c.id = p.category_id;

-- Bulk loading (stockroom seed) into an empty catalog is several times faster when
-- indexes and constraint checks run once over the loaded rows than once per row:
-- random-order B-tree and trigram inserts thrash the buffer cache and the WAL, and a
-- foreign key checks each row on its own. catalog_defer_indexes drops the indexes,
-- unique constraints and foreign keys of products and product_variants (not the
-- primary keys) and remembers their definitions in a temporary table;
-- catalog_restore_indexes creates them again from those definitions, checking every
-- row as it does. Both run in the loading transaction, so a failure in between rolls
-- the drop back too, and what comes back is exactly what the migrations defined,
-- whatever later migrations change.
-- +goose StatementBegin
CREATE FUNCTION catalog_defer_indexes() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    d record;
BEGIN
    CREATE TEMPORARY TABLE catalog_deferred (n serial, def text NOT NULL) ON COMMIT DROP;
    -- Foreign keys first (a unique key may not go while one depends on it), then
    -- unique keys, then plain indexes; they come back in the opposite order.
    FOR d IN
        SELECT c.conrelid::regclass AS tbl, c.conname, pg_get_constraintdef(c.oid) AS def
        FROM pg_constraint c
        WHERE c.conrelid IN ('products'::regclass, 'product_variants'::regclass) AND c.contype IN ('f', 'u')
        ORDER BY c.contype, c.conname
    LOOP
        INSERT INTO catalog_deferred (def) VALUES (format('ALTER TABLE %s ADD CONSTRAINT %I %s', d.tbl, d.conname, d.def));
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', d.tbl, d.conname);
    END LOOP;
    FOR d IN
        SELECT i.indexrelid::regclass AS name, pg_get_indexdef(i.indexrelid) AS def
        FROM pg_index i
        WHERE i.indrelid IN ('products'::regclass, 'product_variants'::regclass)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    LOOP
        INSERT INTO catalog_deferred (def) VALUES (d.def);
        EXECUTE format('DROP INDEX %s', d.name);
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION catalog_restore_indexes() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    d record;
BEGIN
    FOR d IN SELECT def FROM catalog_deferred ORDER BY n DESC LOOP
        EXECUTE d.def;
    END LOOP;
    DROP TABLE catalog_deferred;
END
$$;
-- +goose StatementEnd

INSERT INTO permissions (codename, name)
SELECT r || '.' || a, initcap(a) || ' ' || replace(r, '_', ' ')
FROM unnest(ARRAY['products', 'categories']) AS r,
     unnest(ARRAY['view', 'add', 'change', 'delete']) AS a;
INSERT INTO permissions (codename, name) VALUES ('audit.view', 'View audit');

-- +goose Down
DELETE FROM permissions WHERE codename LIKE 'products.%' OR codename LIKE 'categories.%' OR codename = 'audit.view';
DROP FUNCTION catalog_restore_indexes();
DROP FUNCTION catalog_defer_indexes();
DROP VIEW product_listings;
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE product_images;
DROP TABLE product_variants;
DROP TABLE products;
DROP TABLE categories;
