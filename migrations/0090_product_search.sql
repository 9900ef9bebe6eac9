-- +goose Up
-- A narrow copy of what the product search matches (name, SKUs), for searches that
-- match first: a BitmapOr of the trigram indexes, then a visit to every match's row
-- for its name, to sort the matches and keep a page. On products that visit reads a
-- 230-byte row on nearly every heap page (a word that starts names, "Heritage",
-- matches 4,189 of 100,000 products on 2,288 of their 2,944 pages); here rows are
-- about 70 bytes, the table a third of the size (100,000 products: 8.4 MB against
-- 23 MB; a million: 82 MB against 232 MB, which no longer fits 128 MB of shared
-- buffers), and the page's other columns are read for the page's rows only
-- (catalog.list, SearchProductsByNameAsc). Database CPU per search, one client,
-- steady state: 100,000 products, "Heritage" 10.4 -> 6.5 ms, "Stoneware" (matched
-- first) 10.0 -> 6.1 ms; a million, "Heritage" 214 -> 61 ms, every word that starts
-- names 210-313 -> 45-75 ms.
--
-- Triggers keep it the same as products in the same transaction, so a search reads
-- both tables in one snapshot and finds the name the list shows. Only a change of
-- name or SKUs rewrites a row: a stock or price write (S3) never touches this table.
CREATE TABLE product_search (
    id   bigint PRIMARY KEY CONSTRAINT product_search_id_fkey REFERENCES products (id) ON DELETE CASCADE,
    name text NOT NULL,
    skus text NOT NULL
);
INSERT INTO product_search (id, name, skus) SELECT id, name, skus FROM products;
CREATE INDEX product_search_name_trgm_idx ON product_search USING gin (name gin_trgm_ops);
CREATE INDEX product_search_skus_trgm_idx ON product_search USING gin (skus gin_trgm_ops);

-- Inserts are copied a statement at a time, so a seed's COPY of 20,000 products is
-- one INSERT here rather than 20,000.
-- +goose StatementBegin
CREATE FUNCTION product_search_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO product_search (id, name, skus) SELECT n.id, n.name, n.skus FROM inserted n;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER products_search_insert AFTER INSERT ON products
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION product_search_insert();

-- +goose StatementBegin
CREATE FUNCTION product_search_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE product_search SET name = NEW.name, skus = NEW.skus WHERE id = NEW.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- RefreshProductSummary sets skus on every variant write, mostly to what it was:
-- the WHEN clause skips those.
CREATE TRIGGER products_search_update AFTER UPDATE OF name, skus ON products
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.skus IS DISTINCT FROM NEW.skus)
    EXECUTE FUNCTION product_search_update();

-- A bulk load (stockroom seed) defers product_search's foreign key and trigram
-- indexes with those of products and product_variants: 0003's function, with the
-- new table in its two lists.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION catalog_defer_indexes() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    d record;
BEGIN
    CREATE TEMPORARY TABLE catalog_deferred (n serial, def text NOT NULL) ON COMMIT DROP;
    -- Foreign keys first (a unique key may not go while one depends on it), then
    -- unique keys, then plain indexes; they come back in the opposite order.
    FOR d IN
        SELECT c.conrelid::regclass AS tbl, c.conname, pg_get_constraintdef(c.oid) AS def
        FROM pg_constraint c
        WHERE c.conrelid IN ('products'::regclass, 'product_variants'::regclass, 'product_search'::regclass)
          AND c.contype IN ('f', 'u')
        ORDER BY c.contype, c.conname
    LOOP
        INSERT INTO catalog_deferred (def) VALUES (format('ALTER TABLE %s ADD CONSTRAINT %I %s', d.tbl, d.conname, d.def));
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', d.tbl, d.conname);
    END LOOP;
    FOR d IN
        SELECT i.indexrelid::regclass AS name, pg_get_indexdef(i.indexrelid) AS def
        FROM pg_index i
        WHERE i.indrelid IN ('products'::regclass, 'product_variants'::regclass, 'product_search'::regclass)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    LOOP
        INSERT INTO catalog_deferred (def) VALUES (d.def);
        EXECUTE format('DROP INDEX %s', d.name);
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION catalog_defer_indexes() RETURNS void LANGUAGE plpgsql AS $$
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
DROP TRIGGER products_search_update ON products;
DROP FUNCTION product_search_update();
DROP TRIGGER products_search_insert ON products;
DROP FUNCTION product_search_insert();
DROP TABLE product_search;
