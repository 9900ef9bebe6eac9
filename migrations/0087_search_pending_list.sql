-- +goose Up
-- The product search's trigram indexes take new entries into a small pending list
-- again (0007 had turned it off), one whose size is bounded at the smallest
-- gin_pending_list_limit PostgreSQL allows, 64 kB.
--
-- Every stock or price change rewrites its product's row (stock_total,
-- price_min_cents and updated_at are indexed, so the update is never HOT), and
-- without a pending list each rewrite walks both trigram trees for a few dozen
-- entries: on 100,000 seeded products that made a product's UPDATE cost twice the
-- CPU it costs without the trigram indexes, and half of a stock PATCH's (S3) time
-- in PostgreSQL. With a pending list an update appends one tuple per index instead,
-- and the writer whose append fills the list's 64 kB (about 130 updated products)
-- merges it into the trees in one sorted pass. A search scans the pending list in
-- full, but that list is never more than 64 kB: 0007's trouble was the default
-- 4 MB, which 20 s of stock PATCHes filled with thousands of entries per second
-- that every search then read until VACUUM came by.
ALTER INDEX products_name_trgm_idx SET (fastupdate = on, gin_pending_list_limit = 64);
ALTER INDEX products_skus_trgm_idx SET (fastupdate = on, gin_pending_list_limit = 64);

-- +goose Down
ALTER INDEX products_name_trgm_idx SET (fastupdate = off);
ALTER INDEX products_skus_trgm_idx SET (fastupdate = off);
ALTER INDEX products_name_trgm_idx RESET (gin_pending_list_limit);
ALTER INDEX products_skus_trgm_idx RESET (gin_pending_list_limit);
SELECT gin_clean_pending_list('products_name_trgm_idx'::regclass);
SELECT gin_clean_pending_list('products_skus_trgm_idx'::regclass);
