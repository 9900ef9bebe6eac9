-- +goose Up
-- A statement that changes categories also notifies stockroom_categories when its
-- transaction commits, so each instance can keep its category tree without reading
-- category_version on every page (catalog.CategoryTreeHandler). The payload is
-- empty: PostgreSQL folds a transaction's identical notifications into one.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION category_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE category_version SET version = version + 1;
    PERFORM pg_notify('stockroom_categories', '');
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION category_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE category_version SET version = version + 1;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
