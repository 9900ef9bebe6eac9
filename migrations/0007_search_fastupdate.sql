-- +goose Up
-- The product search's trigram indexes take new entries straight into the index, not
-- into a pending list. Every stock or price change rewrites its product's row with
-- new index entries (stock_total and price_min_cents are indexed, so the update is
-- not HOT), and with fastupdate each went to the GIN pending list, which every
-- search then scans in full until VACUUM merges it: in make bench, 20 s of stock
-- PATCHes (S3) left 4,433 pending entries per index a second and cut the search (S4)
-- from 246 to 20 requests/s until autovacuum came by. Writes now pay the insert
-- themselves, a few dozen trigram entries.
ALTER INDEX products_name_trgm_idx SET (fastupdate = off);
ALTER INDEX products_skus_trgm_idx SET (fastupdate = off);
-- Entries already pending stay until merged: merge them now.
SELECT gin_clean_pending_list('products_name_trgm_idx'::regclass);
SELECT gin_clean_pending_list('products_skus_trgm_idx'::regclass);

-- +goose Down
ALTER INDEX products_name_trgm_idx RESET (fastupdate);
ALTER INDEX products_skus_trgm_idx RESET (fastupdate);
