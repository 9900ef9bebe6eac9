-- name: LockCatalogForSeed :exec
-- LockCatalogForSeed keeps other writers out of products and variants until the
-- transaction ends, so that the id blocks the seed reserves are not handed out under
-- it. Readers are not blocked.
LOCK TABLE products, product_variants IN EXCLUSIVE MODE;

-- name: NextProductID :one
-- NextProductID takes the next id from the products sequence: the first of a block
-- the seed reserves (see SkipProductIDs).
SELECT nextval(pg_get_serial_sequence('products', 'id'))::bigint AS id;

-- name: SkipProductIDs :exec
-- SkipProductIDs moves the products sequence on to @last_id, so that the block from
-- NextProductID to @last_id is the seed's alone: it loads those rows with COPY. Call
-- both under LockCatalogForSeed, so that no insert takes an id in between.
SELECT setval(pg_get_serial_sequence('products', 'id'), @last_id::bigint);

-- name: NextVariantID :one
-- NextVariantID is NextProductID for product_variants.
SELECT nextval(pg_get_serial_sequence('product_variants', 'id'))::bigint AS id;

-- name: SkipVariantIDs :exec
-- SkipVariantIDs is SkipProductIDs for product_variants.
SELECT setval(pg_get_serial_sequence('product_variants', 'id'), @last_id::bigint);

-- name: CountAllProducts :one
-- CountAllProducts counts every product exactly. Only the seed and dev setup call it
-- (to find an empty catalog); pages use CountProducts, which stops early.
SELECT count(*) FROM products;

-- name: CopyProducts :copyfrom
-- CopyProducts loads products with COPY, ids and summaries included.
INSERT INTO products (id, name, slug, description, status, category_id, price_min_cents,
                      price_max_cents, stock_total, variant_count, first_sku, skus, created_at, updated_at)
VALUES (@id, @name, @slug, @description, @status, @category_id, @price_min_cents,
        @price_max_cents, @stock_total, @variant_count, @first_sku, @skus, @created_at, @updated_at);

-- name: CopyVariants :copyfrom
-- CopyVariants loads variants with COPY, ids included.
INSERT INTO product_variants (id, product_id, sku, title, option_values, price_cents,
                              compare_at_price_cents, cost_cents, stock, position,
                              created_at, updated_at)
VALUES (@id, @product_id, @sku, @title, @option_values, @price_cents,
        @compare_at_price_cents, @cost_cents, @stock, @position, @created_at, @updated_at);

-- name: VacuumCatalog :exec
-- VacuumCatalog refreshes the planner's statistics of the catalog tables after a bulk
-- load, rather than waiting for autovacuum to notice, and marks the new rows visible
-- to all (hint bits, visibility map), so that the first reads do not each write the
-- pages they read. It cannot run inside a transaction.
VACUUM (ANALYZE) categories, products, product_variants, product_search;

-- name: DeferCatalogIndexes :exec
-- DeferCatalogIndexes drops the secondary indexes of products and variants for the
-- rest of a bulk load into an empty catalog (see the function in 0003_catalog.sql).
SELECT catalog_defer_indexes();

-- name: RestoreCatalogIndexes :exec
-- RestoreCatalogIndexes builds the indexes DeferCatalogIndexes dropped, in the same
-- transaction.
SELECT catalog_restore_indexes();

-- name: RaiseMaintenanceMemory :exec
-- RaiseMaintenanceMemory lets index builds in this transaction sort in memory.
SELECT set_config('maintenance_work_mem', '256MB', true);
