-- +goose Up
-- The words of the product names, each with the names it is in, in name order: a
-- search for one word finds the first page of its matches by name in an index range
-- scan, however many products match, where matching first (0090) reads and sorts
-- every match. A word that starts names ("Heritage") matches 4% of the catalog in one
-- block of the name order, so walking the name index does not help it either: at a
-- million products matching first costs 45-75 ms of database CPU per search, and
-- with 16 clients on 2 cores that is a p50 near 250 ms.
--
-- A word is a run of the lowered name between spaces and hyphens. A search q with
-- neither in it is inside a name exactly when it is inside one of the name's words,
-- and "name ILIKE '%q%'" is "lower(name) LIKE lower('%q%')" (PostgreSQL lowers both
-- for ILIKE in UTF-8), so such a search matches the names in the postings of the
-- words of search_words that are LIKE lower('%q%'): a handful for a real word, which
-- search_words' trigram index finds among the vocabulary (catalog.list,
-- SearchProductWordsByNameAsc). SKUs are not here: they are searched on
-- product_search as before.
CREATE TABLE search_words (
    word text PRIMARY KEY
);
CREATE INDEX search_words_trgm_idx ON search_words USING gin (word gin_trgm_ops);

-- No foreign key: deleting a product would look its postings up by id, which needs
-- a second index as large as the first. The triggers below find them by (word,
-- name, id) instead, the one index there is.
CREATE TABLE product_words (
    word text   NOT NULL,
    name text   NOT NULL,
    id   bigint NOT NULL
);

-- +goose StatementBegin
CREATE FUNCTION product_name_words(name text) RETURNS SETOF text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT w FROM regexp_split_to_table(lower(name), '[ -]+') AS w WHERE w <> ''
$$;
-- +goose StatementEnd

INSERT INTO product_words (word, name, id) SELECT w, p.name, p.id FROM products p, product_name_words(p.name) AS w;
INSERT INTO search_words (word) SELECT DISTINCT word FROM product_words;
CREATE INDEX product_words_word_name_id_idx ON product_words (word, name, id);

-- New words go into search_words in word order, so two transactions adding the same
-- new words wait for each other rather than deadlock. Words no product has any more
-- stay in the vocabulary: they find no postings.
-- +goose StatementBegin
CREATE FUNCTION product_words_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO product_words (word, name, id) SELECT w, n.name, n.id FROM inserted n, product_name_words(n.name) AS w;
    INSERT INTO search_words (word)
    SELECT DISTINCT w FROM inserted n, product_name_words(n.name) AS w ORDER BY 1
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER products_words_insert AFTER INSERT ON products
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION product_words_insert();

-- +goose StatementBegin
CREATE FUNCTION product_words_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM product_words x USING product_name_words(OLD.name) AS w
    WHERE x.word = w AND x.name = OLD.name AND x.id = OLD.id;
    INSERT INTO product_words (word, name, id) SELECT w, NEW.name, NEW.id FROM product_name_words(NEW.name) AS w;
    INSERT INTO search_words (word) SELECT w FROM product_name_words(NEW.name) AS w ORDER BY 1 ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER products_words_update AFTER UPDATE OF name ON products
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION product_words_update();

-- +goose StatementBegin
CREATE FUNCTION product_words_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM product_words x USING deleted d, product_name_words(d.name) AS w
    WHERE x.word = w AND x.name = d.name AND x.id = d.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER products_words_delete AFTER DELETE ON products
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION product_words_delete();

-- +goose StatementBegin
CREATE FUNCTION product_words_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE product_words;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER products_words_truncate AFTER TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION product_words_truncate();

-- A bulk load (stockroom seed) defers product_words' index with the catalog's:
-- 0090's function, with the new table in its index list.
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
        WHERE i.indrelid IN ('products'::regclass, 'product_variants'::regclass, 'product_search'::regclass,
                             'product_words'::regclass)
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
DROP TRIGGER products_words_truncate ON products;
DROP FUNCTION product_words_truncate();
DROP TRIGGER products_words_delete ON products;
DROP FUNCTION product_words_delete();
DROP TRIGGER products_words_update ON products;
DROP FUNCTION product_words_update();
DROP TRIGGER products_words_insert ON products;
DROP FUNCTION product_words_insert();
DROP TABLE product_words;
DROP FUNCTION product_name_words(text);
DROP TABLE search_words;
