-- +goose Up
-- category_version counts the statements that changed categories, so that a process
-- can keep the category tree in memory and check that it is current with a
-- one-row read instead of building it again (catalog.CategoryTree): the product list
-- shows it as a filter on every page view, and building it (a recursive query with a
-- window over every category) cost more of the database's time than the page of
-- products itself (make bench, S5). It is bumped in the changing transaction, so it
-- commits or rolls back with the change, and a reader never sees a new number
-- before the new tree.
CREATE TABLE category_version (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version bigint NOT NULL
);
INSERT INTO category_version (version) VALUES (1);

-- +goose StatementBegin
CREATE FUNCTION category_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE category_version SET version = version + 1;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER categories_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON categories
    FOR EACH STATEMENT EXECUTE FUNCTION category_version_bump();

-- +goose Down
DROP TRIGGER categories_version ON categories;
DROP FUNCTION category_version_bump();
DROP TABLE category_version;
