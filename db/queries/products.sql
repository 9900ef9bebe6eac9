-- name: ListProductsByNameAsc :many
-- ListProductsByNameAsc returns a page of products by name (ascending), then id,
-- after the keyset (@after_value, @after_id) when given.
--
-- The product list is one statement per page: ListProductsBy<Key><Dir>, one query per
-- sortable key and direction, so that each has an ORDER BY its index can serve (an
-- ORDER BY that picked its column from a parameter would defeat every index). They
-- share one shape:
--   - every filter is optional: NULL means "not filtered". The store runs these
--     statements unnamed, planned at each execution with their actual values (see
--     store/plans.go), so a NULL filter folds away instead of leaving a generic plan
--     that has to serve every combination; the unfiltered first page has statements
--     of its own (ListAllProductsByNameAsc, ...) whose plan can be made once;
--   - category_ids is the category and its subcategories, computed first
--     (CategoryDescendantIDs), so the planner sees the actual ids;
--   - pattern is an ILIKE pattern ('%oak%', wildcards in the user's text escaped by
--     the caller) matched against the name OR the SKUs (products.skus: see its
--     index in 0003_catalog.sql for why not product_variants);
--   - the keyset is (after_value, after_id): the sort key and id of the last row
--     shown. after_value travels as text and is cast to the key's type here, which
--     gives all eight queries the same parameter struct;
--   - match_first picks how a search runs. A search that matches few rows is fastest
--     matched first (a BitmapOr of the trigram indexes) and the matches sorted; one
--     that matches many, by reading the ordering's index and filtering until the page
--     is full. The planner judges by how many rows match, assuming they are spread
--     evenly along the ordering, and so reads the index when matches cluster at its
--     far end (every "Vintage ..." name sorts late: 950,000 rows read for 50). So the
--     caller decides from the planner's estimate of the matches (store.Estimate):
--     true replaces the sort key by an equal expression no index has, which leaves
--     matching first as the only plan; false leaves the planner free. It folds away
--     before planning (a custom plan), so the queries otherwise stay the same;
--   - callers ask for one row more than they show, to learn whether there is more.
-- "Previous page" is the opposite direction's query from the first row shown, read
-- back to front; "last page" is the opposite direction's first page.
SELECT p.* FROM product_listings p
WHERE (sqlc.narg(status)::text IS NULL OR p.status = sqlc.narg(status)::text)
  AND (sqlc.narg(category_ids)::bigint[] IS NULL OR p.category_id = ANY (sqlc.narg(category_ids)::bigint[]))
  AND (sqlc.narg(stock_min)::bigint IS NULL OR p.stock_total >= sqlc.narg(stock_min)::bigint)
  AND (sqlc.narg(stock_max)::bigint IS NULL OR p.stock_total <= sqlc.narg(stock_max)::bigint)
  AND (sqlc.narg(updated_since)::timestamptz IS NULL OR p.updated_at >= sqlc.narg(updated_since)::timestamptz)
  AND (sqlc.narg(pattern)::text IS NULL OR p.name ILIKE sqlc.narg(pattern)::text OR p.skus ILIKE sqlc.narg(pattern)::text)
  AND (sqlc.narg(after_id)::bigint IS NULL
       OR (p.name, p.id) > (sqlc.narg(after_value)::text, sqlc.narg(after_id)::bigint))
ORDER BY (CASE WHEN @match_first::boolean THEN p.name || '' ELSE p.name END), p.id
LIMIT @row_limit;

-- name: ListProductsByNameDesc :many
-- ListProductsByNameDesc returns a page of products by name (descending), then id,
-- after the keyset (@after_value, @after_id) when given. See ListProductsByNameAsc.
SELECT p.* FROM product_listings p
WHERE (sqlc.narg(status)::text IS NULL OR p.status = sqlc.narg(status)::text)
  AND (sqlc.narg(category_ids)::bigint[] IS NULL OR p.category_id = ANY (sqlc.narg(category_ids)::bigint[]))
  AND (sqlc.narg(stock_min)::bigint IS NULL OR p.stock_total >= sqlc.narg(stock_min)::bigint)
  AND (sqlc.narg(stock_max)::bigint IS NULL OR p.stock_total <= sqlc.narg(stock_max)::bigint)
  AND (sqlc.narg(updated_since)::timestamptz IS NULL OR p.updated_at >= sqlc.narg(updated_since)::timestamptz)
  AND (sqlc.narg(pattern)::text IS NULL OR p.name ILIKE sqlc.narg(pattern)::text OR p.skus ILIKE sqlc.narg(pattern)::text)
  AND (sqlc.narg(after_id)::bigint IS NULL
       OR (p.name, p.id) < (sqlc.narg(after_value)::text, sqlc.narg(after_id)::bigint))
ORDER BY (CASE WHEN @match_first::boolean THEN p.name || '' ELSE p.name END) DESC, p.id DESC
LIMIT @row_limit;

-- name: ListProductsByUpdatedAtAsc :many
-- ListProductsByUpdatedAtAsc returns a page of products by updated at (ascending), then id,
-- after the keyset (@after_value, @after_id) when given. See ListProductsByNameAsc.
SELECT p.* FROM product_listings p
WHERE (sqlc.narg(status)::text IS NULL OR p.status = sqlc.narg(status)::text)
  AND (sqlc.narg(category_ids)::bigint[] IS NULL OR p.category_id = ANY (sqlc.narg(category_ids)::bigint[]))
  AND (sqlc.narg(stock_min)::bigint IS NULL OR p.stock_total >= sqlc.narg(stock_min)::bigint)
  AND (sqlc.narg(stock_max)::bigint IS NULL OR p.stock_total <= sqlc.narg(stock_max)::bigint)
  AND (sqlc.narg(updated_since)::timestamptz IS NULL OR p.updated_at >= sqlc.narg(updated_since)::timestamptz)
  AND (sqlc.narg(pattern)::text IS NULL OR p.name ILIKE sqlc.narg(pattern)::text OR p.skus ILIKE sqlc.narg(pattern)::text)
  AND (sqlc.narg(after_id)::bigint IS NULL
       OR (p.updated_at, p.id) > (sqlc.narg(after_value)::text::timestamptz, sqlc.narg(after_id)::bigint))
ORDER BY (CASE WHEN @match_first::boolean THEN p.updated_at + interval '0' ELSE p.updated_at END), p.id
LIMIT @row_limit;

-- name: ListProductsByUpdatedAtDesc :many
-- ListProductsByUpdatedAtDesc returns a page of products by updated at (descending), then id,
-- after the keyset (@after_value, @after_id) when given. See ListProductsByNameAsc.
SELECT p.* FROM product_listings p
WHERE (sqlc.narg(status)::text IS NULL OR p.status = sqlc.narg(status)::text)
  AND (sqlc.narg(category_ids)::bigint[] IS NULL OR p.category_id = ANY (sqlc.narg(category_ids)::bigint[]))
  AND (sqlc.narg(stock_min)::bigint IS NULL OR p.stock_total >= sqlc.narg(stock_min)::bigint)
  AND (sqlc.narg(stock_max)::bigint IS NULL OR p.stock_total <= sqlc.narg(stock_max)::bigint)
  AND (sqlc.narg(updated_since)::timestamptz IS NULL OR p.updated_at >= sqlc.narg(updated_since)::timestamptz)
  AND (sqlc.narg(pattern)::text IS NULL OR p.name ILIKE sqlc.narg(pattern)::text OR p.skus ILIKE sqlc.narg(pattern)::text)
  AND (sqlc.narg(after_id)::bigint IS NULL
       OR (p.updated_at, p.id) < (sqlc.narg(after_value)::text::timestamptz, sqlc.narg(after_id)::bigint))
ORDER BY (CASE WHEN @match_first::boolean THEN p.updated_at + interval '0' ELSE p.updated_at END) DESC, p.id DESC
LIMIT @row_limit;

-- name: ListProductsByPriceAsc :many
-- ListProductsByPriceAsc returns a page of products by lowest variant price (ascending), then id,
-- after the keyset (@after_value, @after_id) when given. See ListProductsByNameAsc.
SELECT p.* FROM product_listings p
WHERE (sqlc.narg(status)::text IS NULL OR p.status = sqlc.narg(status)::text)
  AND (sqlc.narg(category_ids)::bigint[] IS NULL OR p.category_id = ANY (sqlc.narg(category_ids)::bigint[]))
  AND (sqlc.narg(stock_min)::bigint IS NULL OR p.stock_total >= sqlc.narg(stock_min)::bigint)
  AND (sqlc.narg(stock_max)::bigint IS NULL OR p.stock_total <= sqlc.narg(stock_max)::bigint)
  AND (sqlc.narg(updated_since)::timestamptz IS NULL OR p.updated_at >= sqlc.narg(updated_since)::timestamptz)
  AND (sqlc.narg(pattern)::text IS NULL OR p.name ILIKE sqlc.narg(pattern)::text OR p.skus ILIKE sqlc.narg(pattern)::text)
  AND (sqlc.narg(after_id)::bigint IS NULL
       OR (p.price_min_cents, p.id) > (sqlc.narg(after_value)::text::bigint, sqlc.narg(after_id)::bigint))
ORDER BY (CASE WHEN @match_first::boolean THEN p.price_min_cents + 0 ELSE p.price_min_cents END), p.id
LIMIT @row_limit;

-- name: ListProductsByPriceDesc :many
-- ListProductsByPriceDesc returns a page of products by lowest variant price (descending), then id,
-- after the keyset (@after_value, @after_id) when given. See ListProductsByNameAsc.
SELECT p.* FROM product_listings p
WHERE (sqlc.narg(status)::text IS NULL OR p.status = sqlc.narg(status)::text)
  AND (sqlc.narg(category_ids)::bigint[] IS NULL OR p.category_id = ANY (sqlc.narg(category_ids)::bigint[]))
  AND (sqlc.narg(stock_min)::bigint IS NULL OR p.stock_total >= sqlc.narg(stock_min)::bigint)
  AND (sqlc.narg(stock_max)::bigint IS NULL OR p.stock_total <= sqlc.narg(stock_max)::bigint)
  AND (sqlc.narg(updated_since)::timestamptz IS NULL OR p.updated_at >= sqlc.narg(updated_since)::timestamptz)
  AND (sqlc.narg(pattern)::text IS NULL OR p.name ILIKE sqlc.narg(pattern)::text OR p.skus ILIKE sqlc.narg(pattern)::text)
  AND (sqlc.narg(after_id)::bigint IS NULL
       OR (p.price_min_cents, p.id) < (sqlc.narg(after_value)::text::bigint, sqlc.narg(after_id)::bigint))
ORDER BY (CASE WHEN @match_first::boolean THEN p.price_min_cents + 0 ELSE p.price_min_cents END) DESC, p.id DESC
LIMIT @row_limit;

-- name: ListProductsByStockAsc :many
-- ListProductsByStockAsc returns a page of products by total stock (ascending), then id,
-- after the keyset (@after_value, @after_id) when given. See ListProductsByNameAsc.
SELECT p.* FROM product_listings p
WHERE (sqlc.narg(status)::text IS NULL OR p.status = sqlc.narg(status)::text)
  AND (sqlc.narg(category_ids)::bigint[] IS NULL OR p.category_id = ANY (sqlc.narg(category_ids)::bigint[]))
  AND (sqlc.narg(stock_min)::bigint IS NULL OR p.stock_total >= sqlc.narg(stock_min)::bigint)
  AND (sqlc.narg(stock_max)::bigint IS NULL OR p.stock_total <= sqlc.narg(stock_max)::bigint)
  AND (sqlc.narg(updated_since)::timestamptz IS NULL OR p.updated_at >= sqlc.narg(updated_since)::timestamptz)
  AND (sqlc.narg(pattern)::text IS NULL OR p.name ILIKE sqlc.narg(pattern)::text OR p.skus ILIKE sqlc.narg(pattern)::text)
  AND (sqlc.narg(after_id)::bigint IS NULL
       OR (p.stock_total, p.id) > (sqlc.narg(after_value)::text::bigint, sqlc.narg(after_id)::bigint))
ORDER BY (CASE WHEN @match_first::boolean THEN p.stock_total + 0 ELSE p.stock_total END), p.id
LIMIT @row_limit;

-- name: ListProductsByStockDesc :many
-- ListProductsByStockDesc returns a page of products by total stock (descending), then id,
-- after the keyset (@after_value, @after_id) when given. See ListProductsByNameAsc.
SELECT p.* FROM product_listings p
WHERE (sqlc.narg(status)::text IS NULL OR p.status = sqlc.narg(status)::text)
  AND (sqlc.narg(category_ids)::bigint[] IS NULL OR p.category_id = ANY (sqlc.narg(category_ids)::bigint[]))
  AND (sqlc.narg(stock_min)::bigint IS NULL OR p.stock_total >= sqlc.narg(stock_min)::bigint)
  AND (sqlc.narg(stock_max)::bigint IS NULL OR p.stock_total <= sqlc.narg(stock_max)::bigint)
  AND (sqlc.narg(updated_since)::timestamptz IS NULL OR p.updated_at >= sqlc.narg(updated_since)::timestamptz)
  AND (sqlc.narg(pattern)::text IS NULL OR p.name ILIKE sqlc.narg(pattern)::text OR p.skus ILIKE sqlc.narg(pattern)::text)
  AND (sqlc.narg(after_id)::bigint IS NULL
       OR (p.stock_total, p.id) < (sqlc.narg(after_value)::text::bigint, sqlc.narg(after_id)::bigint))
ORDER BY (CASE WHEN @match_first::boolean THEN p.stock_total + 0 ELSE p.stock_total END) DESC, p.id DESC
LIMIT @row_limit;

-- name: SearchProductsByNameAsc :many
-- SearchProductsByNameAsc is ListProductsByNameAsc for a search and nothing else,
-- matching first (match_first true): the same rows in the same order, after the
-- keyset (@after_value, @after_id) when given. It matches and sorts on
-- product_search, the narrow copy of the names and SKUs (see 0090_product_search.sql),
-- and reads the page's @row_limit products whole only then: matching first visits
-- every match's row, and on product_search that row is a third the size. Its name
-- is the product's in every snapshot (the triggers write both in one transaction).
SELECT p.* FROM product_listings p
WHERE p.id = ANY (ARRAY(
    SELECT s.id FROM product_search s
    WHERE (s.name ILIKE @pattern::text OR s.skus ILIKE @pattern::text)
      AND (sqlc.narg(after_id)::bigint IS NULL
           OR (s.name, s.id) > (sqlc.narg(after_value)::text, sqlc.narg(after_id)::bigint))
    ORDER BY s.name, s.id
    LIMIT @row_limit))
ORDER BY p.name, p.id;

-- name: SearchProductsByNameDesc :many
-- SearchProductsByNameDesc is SearchProductsByNameAsc by name (descending), then id:
-- ListProductsByNameDesc for a search and nothing else, matching first.
SELECT p.* FROM product_listings p
WHERE p.id = ANY (ARRAY(
    SELECT s.id FROM product_search s
    WHERE (s.name ILIKE @pattern::text OR s.skus ILIKE @pattern::text)
      AND (sqlc.narg(after_id)::bigint IS NULL
           OR (s.name, s.id) < (sqlc.narg(after_value)::text, sqlc.narg(after_id)::bigint))
    ORDER BY s.name DESC, s.id DESC
    LIMIT @row_limit))
ORDER BY p.name DESC, p.id DESC;

-- name: SearchProductWordsByNameAsc :many
-- SearchProductWordsByNameAsc is SearchProductsByNameAsc for a search of one word
-- (catalog.OneWord): the same rows in the same order, after the keyset
-- (@after_value, @after_id) when given, read through the words' postings (see
-- 0091_product_words.sql). The words are those of search_words LIKE the pattern
-- lowered, as ILIKE lowers it; the names come from each word's postings in name
-- order, @row_limit of them at most, and the SKUs that match (a SKU is not a word)
-- from product_search; the page is the first @row_limit of those. So a page costs an
-- index range scan per word, however many products match.
--
-- When the pattern is in @max_words words or more, reading their postings could cost
-- as much as matching first: the statement then reads none and returns one row with
-- overflow set and any product (none when there are none, and then no search matches
-- anything either), for the caller to search the way it did before.
WITH v AS MATERIALIZED (
    SELECT ARRAY(SELECT word FROM search_words WHERE word LIKE lower(@pattern::text) LIMIT @max_words::int) AS words
)
SELECT cardinality((SELECT words FROM v)) >= @max_words::int AS overflow, sqlc.embed(p) FROM product_listings p
WHERE p.id = ANY (CASE WHEN cardinality((SELECT words FROM v)) >= @max_words::int THEN ARRAY(SELECT min(id) FROM products) ELSE ARRAY(
    SELECT u.id FROM (
        SELECT m.id, m.name FROM unnest((SELECT words FROM v)) AS w (word)
        CROSS JOIN LATERAL (
            SELECT x.id, x.name FROM product_words x
            WHERE x.word = w.word
              AND (sqlc.narg(after_id)::bigint IS NULL
                   OR (x.name, x.id) > (sqlc.narg(after_value)::text, sqlc.narg(after_id)::bigint))
            ORDER BY x.name, x.id
            LIMIT @row_limit) m
        UNION
        (SELECT s.id, s.name FROM product_search s
         WHERE s.skus ILIKE @pattern::text
           AND (sqlc.narg(after_id)::bigint IS NULL
                OR (s.name, s.id) > (sqlc.narg(after_value)::text, sqlc.narg(after_id)::bigint))
         ORDER BY s.name, s.id
         LIMIT @row_limit)) u
    ORDER BY u.name, u.id
    LIMIT @row_limit) END)
ORDER BY p.name, p.id;

-- name: SearchProductWordsByNameDesc :many
-- SearchProductWordsByNameDesc is SearchProductWordsByNameAsc by name (descending),
-- then id: SearchProductsByNameDesc through the words' postings.
WITH v AS MATERIALIZED (
    SELECT ARRAY(SELECT word FROM search_words WHERE word LIKE lower(@pattern::text) LIMIT @max_words::int) AS words
)
SELECT cardinality((SELECT words FROM v)) >= @max_words::int AS overflow, sqlc.embed(p) FROM product_listings p
WHERE p.id = ANY (CASE WHEN cardinality((SELECT words FROM v)) >= @max_words::int THEN ARRAY(SELECT min(id) FROM products) ELSE ARRAY(
    SELECT u.id FROM (
        SELECT m.id, m.name FROM unnest((SELECT words FROM v)) AS w (word)
        CROSS JOIN LATERAL (
            SELECT x.id, x.name FROM product_words x
            WHERE x.word = w.word
              AND (sqlc.narg(after_id)::bigint IS NULL
                   OR (x.name, x.id) < (sqlc.narg(after_value)::text, sqlc.narg(after_id)::bigint))
            ORDER BY x.name DESC, x.id DESC
            LIMIT @row_limit) m
        UNION
        (SELECT s.id, s.name FROM product_search s
         WHERE s.skus ILIKE @pattern::text
           AND (sqlc.narg(after_id)::bigint IS NULL
                OR (s.name, s.id) < (sqlc.narg(after_value)::text, sqlc.narg(after_id)::bigint))
         ORDER BY s.name DESC, s.id DESC
         LIMIT @row_limit)) u
    ORDER BY u.name DESC, u.id DESC
    LIMIT @row_limit) END)
ORDER BY p.name DESC, p.id DESC;

-- name: WalkProductsByNameAsc :many
-- WalkProductsByNameAsc returns a page of the products whose name or SKUs match @pattern, by
-- name (ascending), then id, after the keyset (@after_value, @after_id) when given,
-- found by walking the ordering's index: it reads at most @scan_limit products that
-- pass the other filters, in order, and keeps those that match. The caller walks a
-- search whose matches are common enough that a page is near the index's start
-- (see catalog.WalkCap), reading a few hundred rows for a page where matching first
-- (ListProductsByNameAsc's match_first) reads and sorts every match: at a million
-- products, "lamp" matches 49,630 products on 24,551 of 29,700 heap pages, 670 ms
-- matched first against 1.9 ms walked. A page that comes back short may only mean
-- that the matches cluster beyond @scan_limit rows; the caller then matches first.
-- The filters and keyset are ListProductsByNameAsc's; these statements stay
-- custom-planned (store/plans.go), so NULL filters fold away.
SELECT w.* FROM (
    SELECT p.* FROM product_listings p
    WHERE (sqlc.narg(status)::text IS NULL OR p.status = sqlc.narg(status)::text)
      AND (sqlc.narg(category_ids)::bigint[] IS NULL OR p.category_id = ANY (sqlc.narg(category_ids)::bigint[]))
      AND (sqlc.narg(stock_min)::bigint IS NULL OR p.stock_total >= sqlc.narg(stock_min)::bigint)
      AND (sqlc.narg(stock_max)::bigint IS NULL OR p.stock_total <= sqlc.narg(stock_max)::bigint)
      AND (sqlc.narg(updated_since)::timestamptz IS NULL OR p.updated_at >= sqlc.narg(updated_since)::timestamptz)
      AND (sqlc.narg(after_id)::bigint IS NULL
           OR (p.name, p.id) > (sqlc.narg(after_value)::text, sqlc.narg(after_id)::bigint))
    ORDER BY p.name, p.id
    LIMIT @scan_limit
) w
WHERE w.name ILIKE @pattern::text OR w.skus ILIKE @pattern::text
ORDER BY w.name, w.id
LIMIT @row_limit;

-- name: WalkProductsByNameDesc :many
-- WalkProductsByNameDesc returns a page of the products whose name or SKUs match @pattern, by
-- name (descending), then id, walking at most @scan_limit rows of the ordering's
-- index. See WalkProductsByNameAsc.
SELECT w.* FROM (
    SELECT p.* FROM product_listings p
    WHERE (sqlc.narg(status)::text IS NULL OR p.status = sqlc.narg(status)::text)
      AND (sqlc.narg(category_ids)::bigint[] IS NULL OR p.category_id = ANY (sqlc.narg(category_ids)::bigint[]))
      AND (sqlc.narg(stock_min)::bigint IS NULL OR p.stock_total >= sqlc.narg(stock_min)::bigint)
      AND (sqlc.narg(stock_max)::bigint IS NULL OR p.stock_total <= sqlc.narg(stock_max)::bigint)
      AND (sqlc.narg(updated_since)::timestamptz IS NULL OR p.updated_at >= sqlc.narg(updated_since)::timestamptz)
      AND (sqlc.narg(after_id)::bigint IS NULL
           OR (p.name, p.id) < (sqlc.narg(after_value)::text, sqlc.narg(after_id)::bigint))
    ORDER BY p.name DESC, p.id DESC
    LIMIT @scan_limit
) w
WHERE w.name ILIKE @pattern::text OR w.skus ILIKE @pattern::text
ORDER BY w.name DESC, w.id DESC
LIMIT @row_limit;

-- name: WalkProductsByUpdatedAtAsc :many
-- WalkProductsByUpdatedAtAsc returns a page of the products whose name or SKUs match @pattern, by
-- updated at (ascending), then id, walking at most @scan_limit rows of the ordering's
-- index. See WalkProductsByNameAsc.
SELECT w.* FROM (
    SELECT p.* FROM product_listings p
    WHERE (sqlc.narg(status)::text IS NULL OR p.status = sqlc.narg(status)::text)
      AND (sqlc.narg(category_ids)::bigint[] IS NULL OR p.category_id = ANY (sqlc.narg(category_ids)::bigint[]))
      AND (sqlc.narg(stock_min)::bigint IS NULL OR p.stock_total >= sqlc.narg(stock_min)::bigint)
      AND (sqlc.narg(stock_max)::bigint IS NULL OR p.stock_total <= sqlc.narg(stock_max)::bigint)
      AND (sqlc.narg(updated_since)::timestamptz IS NULL OR p.updated_at >= sqlc.narg(updated_since)::timestamptz)
      AND (sqlc.narg(after_id)::bigint IS NULL
           OR (p.updated_at, p.id) > (sqlc.narg(after_value)::text::timestamptz, sqlc.narg(after_id)::bigint))
    ORDER BY p.updated_at, p.id
    LIMIT @scan_limit
) w
WHERE w.name ILIKE @pattern::text OR w.skus ILIKE @pattern::text
ORDER BY w.updated_at, w.id
LIMIT @row_limit;

-- name: WalkProductsByUpdatedAtDesc :many
-- WalkProductsByUpdatedAtDesc returns a page of the products whose name or SKUs match @pattern, by
-- updated at (descending), then id, walking at most @scan_limit rows of the ordering's
-- index. See WalkProductsByNameAsc.
SELECT w.* FROM (
    SELECT p.* FROM product_listings p
    WHERE (sqlc.narg(status)::text IS NULL OR p.status = sqlc.narg(status)::text)
      AND (sqlc.narg(category_ids)::bigint[] IS NULL OR p.category_id = ANY (sqlc.narg(category_ids)::bigint[]))
      AND (sqlc.narg(stock_min)::bigint IS NULL OR p.stock_total >= sqlc.narg(stock_min)::bigint)
      AND (sqlc.narg(stock_max)::bigint IS NULL OR p.stock_total <= sqlc.narg(stock_max)::bigint)
      AND (sqlc.narg(updated_since)::timestamptz IS NULL OR p.updated_at >= sqlc.narg(updated_since)::timestamptz)
      AND (sqlc.narg(after_id)::bigint IS NULL
           OR (p.updated_at, p.id) < (sqlc.narg(after_value)::text::timestamptz, sqlc.narg(after_id)::bigint))
    ORDER BY p.updated_at DESC, p.id DESC
    LIMIT @scan_limit
) w
WHERE w.name ILIKE @pattern::text OR w.skus ILIKE @pattern::text
ORDER BY w.updated_at DESC, w.id DESC
LIMIT @row_limit;

-- name: WalkProductsByPriceAsc :many
-- WalkProductsByPriceAsc returns a page of the products whose name or SKUs match @pattern, by
-- lowest variant price (ascending), then id, walking at most @scan_limit rows of the ordering's
-- index. See WalkProductsByNameAsc.
SELECT w.* FROM (
    SELECT p.* FROM product_listings p
    WHERE (sqlc.narg(status)::text IS NULL OR p.status = sqlc.narg(status)::text)
      AND (sqlc.narg(category_ids)::bigint[] IS NULL OR p.category_id = ANY (sqlc.narg(category_ids)::bigint[]))
      AND (sqlc.narg(stock_min)::bigint IS NULL OR p.stock_total >= sqlc.narg(stock_min)::bigint)
      AND (sqlc.narg(stock_max)::bigint IS NULL OR p.stock_total <= sqlc.narg(stock_max)::bigint)
      AND (sqlc.narg(updated_since)::timestamptz IS NULL OR p.updated_at >= sqlc.narg(updated_since)::timestamptz)
      AND (sqlc.narg(after_id)::bigint IS NULL
           OR (p.price_min_cents, p.id) > (sqlc.narg(after_value)::text::bigint, sqlc.narg(after_id)::bigint))
    ORDER BY p.price_min_cents, p.id
    LIMIT @scan_limit
) w
WHERE w.name ILIKE @pattern::text OR w.skus ILIKE @pattern::text
ORDER BY w.price_min_cents, w.id
LIMIT @row_limit;

-- name: WalkProductsByPriceDesc :many
-- WalkProductsByPriceDesc returns a page of the products whose name or SKUs match @pattern, by
-- lowest variant price (descending), then id, walking at most @scan_limit rows of the ordering's
-- index. See WalkProductsByNameAsc.
SELECT w.* FROM (
    SELECT p.* FROM product_listings p
    WHERE (sqlc.narg(status)::text IS NULL OR p.status = sqlc.narg(status)::text)
      AND (sqlc.narg(category_ids)::bigint[] IS NULL OR p.category_id = ANY (sqlc.narg(category_ids)::bigint[]))
      AND (sqlc.narg(stock_min)::bigint IS NULL OR p.stock_total >= sqlc.narg(stock_min)::bigint)
      AND (sqlc.narg(stock_max)::bigint IS NULL OR p.stock_total <= sqlc.narg(stock_max)::bigint)
      AND (sqlc.narg(updated_since)::timestamptz IS NULL OR p.updated_at >= sqlc.narg(updated_since)::timestamptz)
      AND (sqlc.narg(after_id)::bigint IS NULL
           OR (p.price_min_cents, p.id) < (sqlc.narg(after_value)::text::bigint, sqlc.narg(after_id)::bigint))
    ORDER BY p.price_min_cents DESC, p.id DESC
    LIMIT @scan_limit
) w
WHERE w.name ILIKE @pattern::text OR w.skus ILIKE @pattern::text
ORDER BY w.price_min_cents DESC, w.id DESC
LIMIT @row_limit;

-- name: WalkProductsByStockAsc :many
-- WalkProductsByStockAsc returns a page of the products whose name or SKUs match @pattern, by
-- total stock (ascending), then id, walking at most @scan_limit rows of the ordering's
-- index. See WalkProductsByNameAsc.
SELECT w.* FROM (
    SELECT p.* FROM product_listings p
    WHERE (sqlc.narg(status)::text IS NULL OR p.status = sqlc.narg(status)::text)
      AND (sqlc.narg(category_ids)::bigint[] IS NULL OR p.category_id = ANY (sqlc.narg(category_ids)::bigint[]))
      AND (sqlc.narg(stock_min)::bigint IS NULL OR p.stock_total >= sqlc.narg(stock_min)::bigint)
      AND (sqlc.narg(stock_max)::bigint IS NULL OR p.stock_total <= sqlc.narg(stock_max)::bigint)
      AND (sqlc.narg(updated_since)::timestamptz IS NULL OR p.updated_at >= sqlc.narg(updated_since)::timestamptz)
      AND (sqlc.narg(after_id)::bigint IS NULL
           OR (p.stock_total, p.id) > (sqlc.narg(after_value)::text::bigint, sqlc.narg(after_id)::bigint))
    ORDER BY p.stock_total, p.id
    LIMIT @scan_limit
) w
WHERE w.name ILIKE @pattern::text OR w.skus ILIKE @pattern::text
ORDER BY w.stock_total, w.id
LIMIT @row_limit;

-- name: WalkProductsByStockDesc :many
-- WalkProductsByStockDesc returns a page of the products whose name or SKUs match @pattern, by
-- total stock (descending), then id, walking at most @scan_limit rows of the ordering's
-- index. See WalkProductsByNameAsc.
SELECT w.* FROM (
    SELECT p.* FROM product_listings p
    WHERE (sqlc.narg(status)::text IS NULL OR p.status = sqlc.narg(status)::text)
      AND (sqlc.narg(category_ids)::bigint[] IS NULL OR p.category_id = ANY (sqlc.narg(category_ids)::bigint[]))
      AND (sqlc.narg(stock_min)::bigint IS NULL OR p.stock_total >= sqlc.narg(stock_min)::bigint)
      AND (sqlc.narg(stock_max)::bigint IS NULL OR p.stock_total <= sqlc.narg(stock_max)::bigint)
      AND (sqlc.narg(updated_since)::timestamptz IS NULL OR p.updated_at >= sqlc.narg(updated_since)::timestamptz)
      AND (sqlc.narg(after_id)::bigint IS NULL
           OR (p.stock_total, p.id) < (sqlc.narg(after_value)::text::bigint, sqlc.narg(after_id)::bigint))
    ORDER BY p.stock_total DESC, p.id DESC
    LIMIT @scan_limit
) w
WHERE w.name ILIKE @pattern::text OR w.skus ILIKE @pattern::text
ORDER BY w.stock_total DESC, w.id DESC
LIMIT @row_limit;

-- name: ListAllProductsByNameAsc :many
-- ListAllProductsByNameAsc is the first page of the whole catalog by name
-- (ascending), then id: ListProductsByNameAsc without filters or keyset. The
-- unfiltered first page is the list's most common request (the API's default, the
-- admin's first view), and this shape's best plan is the same whatever the limit:
-- read the ordering's index from its start. So it is planned once per connection
-- (store/plans.go lists it), where the filtered statement is planned at every
-- execution.
--
-- The limit is twice over for that plan to be kept. PostgreSQL keeps a generic plan
-- only when it costs no more than the custom ones, and costs LIMIT $1 as a tenth of
-- the rows: on 100,000 products the generic plan cost 1,697 against 17.7, so every
-- execution was planned again (0.4 ms). The inner LIMIT 201 (keyset.MaxLimit and
-- the one row more; TestListAllLimitCoversTheLargestPage checks it) bounds the
-- estimate to a page; the outer @row_limit stops the read at the rows asked for.
SELECT w.* FROM (
    SELECT p.* FROM product_listings p
    ORDER BY p.name, p.id
    LIMIT 201
) w
ORDER BY w.name, w.id
LIMIT @row_limit;

-- name: ListAllProductsByNameDesc :many
-- ListAllProductsByNameDesc is the first page of the whole catalog by name
-- (descending), then id. See ListAllProductsByNameAsc.
SELECT w.* FROM (
    SELECT p.* FROM product_listings p
    ORDER BY p.name DESC, p.id DESC
    LIMIT 201
) w
ORDER BY w.name DESC, w.id DESC
LIMIT @row_limit;

-- name: ListAllProductsByUpdatedAtAsc :many
-- ListAllProductsByUpdatedAtAsc is the first page of the whole catalog by updated at
-- (ascending), then id. See ListAllProductsByNameAsc.
SELECT w.* FROM (
    SELECT p.* FROM product_listings p
    ORDER BY p.updated_at, p.id
    LIMIT 201
) w
ORDER BY w.updated_at, w.id
LIMIT @row_limit;

-- name: ListAllProductsByUpdatedAtDesc :many
-- ListAllProductsByUpdatedAtDesc is the first page of the whole catalog by updated at
-- (descending), then id. See ListAllProductsByNameAsc.
SELECT w.* FROM (
    SELECT p.* FROM product_listings p
    ORDER BY p.updated_at DESC, p.id DESC
    LIMIT 201
) w
ORDER BY w.updated_at DESC, w.id DESC
LIMIT @row_limit;

-- name: ListAllProductsByPriceAsc :many
-- ListAllProductsByPriceAsc is the first page of the whole catalog by lowest variant price
-- (ascending), then id. See ListAllProductsByNameAsc.
SELECT w.* FROM (
    SELECT p.* FROM product_listings p
    ORDER BY p.price_min_cents, p.id
    LIMIT 201
) w
ORDER BY w.price_min_cents, w.id
LIMIT @row_limit;

-- name: ListAllProductsByPriceDesc :many
-- ListAllProductsByPriceDesc is the first page of the whole catalog by lowest variant price
-- (descending), then id. See ListAllProductsByNameAsc.
SELECT w.* FROM (
    SELECT p.* FROM product_listings p
    ORDER BY p.price_min_cents DESC, p.id DESC
    LIMIT 201
) w
ORDER BY w.price_min_cents DESC, w.id DESC
LIMIT @row_limit;

-- name: ListAllProductsByStockAsc :many
-- ListAllProductsByStockAsc is the first page of the whole catalog by total stock
-- (ascending), then id. See ListAllProductsByNameAsc.
SELECT w.* FROM (
    SELECT p.* FROM product_listings p
    ORDER BY p.stock_total, p.id
    LIMIT 201
) w
ORDER BY w.stock_total, w.id
LIMIT @row_limit;

-- name: ListAllProductsByStockDesc :many
-- ListAllProductsByStockDesc is the first page of the whole catalog by total stock
-- (descending), then id. See ListAllProductsByNameAsc.
SELECT w.* FROM (
    SELECT p.* FROM product_listings p
    ORDER BY p.stock_total DESC, p.id DESC
    LIMIT 201
) w
ORDER BY w.stock_total DESC, w.id DESC
LIMIT @row_limit;

-- name: CountProducts :one
-- CountProducts counts the products the list filters match, but stops at @max_count:
-- an exact count is shown only when it is small, so it never scans a million rows.
SELECT count(*) FROM (
    SELECT 1 FROM products p
    WHERE (sqlc.narg(status)::text IS NULL OR p.status = sqlc.narg(status)::text)
      AND (sqlc.narg(category_ids)::bigint[] IS NULL OR p.category_id = ANY (sqlc.narg(category_ids)::bigint[]))
      AND (sqlc.narg(stock_min)::bigint IS NULL OR p.stock_total >= sqlc.narg(stock_min)::bigint)
      AND (sqlc.narg(stock_max)::bigint IS NULL OR p.stock_total <= sqlc.narg(stock_max)::bigint)
      AND (sqlc.narg(updated_since)::timestamptz IS NULL OR p.updated_at >= sqlc.narg(updated_since)::timestamptz)
      AND (sqlc.narg(pattern)::text IS NULL OR p.name ILIKE sqlc.narg(pattern)::text OR p.skus ILIKE sqlc.narg(pattern)::text)
    LIMIT @max_count
) AS matched;

-- name: GetProductDetail :one
-- GetProductDetail returns one product with its category's name, its variants and
-- its images (both in position, id order) in one statement: a product page is one
-- round trip instead of three. The rows travel as JSON arrays whose keys are the
-- fields of db.ProductVariant and db.ProductImage, so encoding/json fills those
-- structs as the separate queries' rows would be.
SELECT sqlc.embed(p),
       coalesce((SELECT json_agg(json_build_object(
                    'ID', v.id, 'ProductID', v.product_id, 'Sku', v.sku, 'Title', v.title,
                    'OptionValues', v.option_values, 'PriceCents', v.price_cents,
                    'CompareAtPriceCents', v.compare_at_price_cents, 'CostCents', v.cost_cents,
                    'Stock', v.stock, 'Position', v.position, 'CreatedAt', v.created_at,
                    'UpdatedAt', v.updated_at, 'Version', v.version) ORDER BY v.position, v.id)
                 FROM product_variants v WHERE v.product_id = p.id), '[]')::json AS variants,
       coalesce((SELECT json_agg(json_build_object(
                    'ID', i.id, 'ProductID', i.product_id, 'Sha256', i.sha256,
                    'ContentType', i.content_type, 'Width', i.width, 'Height', i.height,
                    'Bytes', i.bytes, 'Alt', i.alt, 'Position', i.position,
                    'CreatedAt', i.created_at, 'UpdatedAt', i.updated_at, 'Version', i.version)
                    ORDER BY i.position, i.id)
                 FROM product_images i WHERE i.product_id = p.id), '[]')::json AS images
FROM product_listings p WHERE p.id = @id;

-- name: GetProductListing :one
-- GetProductListing returns one product with its category's name.
SELECT * FROM product_listings WHERE id = @id;

-- name: ListProductListingsByID :many
-- ListProductListingsByID returns the products with the given ids, in name order:
-- what a bulk action's confirmation page lists.
SELECT * FROM product_listings WHERE id = ANY (@ids::bigint[]) ORDER BY name, id;

-- name: GetProductVersion :one
-- GetProductVersion returns a product's version: after a version-checked write hit no
-- row, it tells "changed since" (a row) from "gone" (ErrNotFound).
SELECT version FROM products WHERE id = @id;

-- name: LockProduct :one
-- LockProduct returns a product and locks it until the transaction ends. Every write
-- to a product's variants or images takes this lock first, so writers of one product
-- queue in one order (product, then its rows) and never deadlock.
SELECT * FROM products WHERE id = @id FOR NO KEY UPDATE;

-- name: LockProductOfVariant :one
-- LockProductOfVariant is LockProduct for the product that owns variant @variant_id.
SELECT p.* FROM products p
WHERE p.id = (SELECT v.product_id FROM product_variants v WHERE v.id = @variant_id)
FOR NO KEY UPDATE;

-- name: LockProductOfImage :one
-- LockProductOfImage is LockProduct for the product that owns image @image_id.
SELECT p.* FROM products p
WHERE p.id = (SELECT i.product_id FROM product_images i WHERE i.id = @image_id)
FOR NO KEY UPDATE;

-- name: FreeProductSlug :one
-- FreeProductSlug returns @base, or else the first of @base-2, @base-3, ... that no
-- product other than @self_id uses. It only picks a candidate: the unique key still
-- decides, and a concurrent writer that takes the same slug first makes the write fail
-- with products_slug_key.
SELECT (CASE WHEN n = 1 THEN @base::text ELSE @base::text || '-' || n END)::text AS slug
FROM generate_series(1, 10000) AS n
WHERE NOT EXISTS (
    SELECT 1 FROM products p
    WHERE p.slug = (CASE WHEN n = 1 THEN @base::text ELSE @base::text || '-' || n END)
      AND p.id <> @self_id
)
LIMIT 1; -- a function scan yields n in order, so the first free candidate is the smallest

-- name: CreateProduct :one
-- CreateProduct inserts a product without variants; the caller adds them and then
-- refreshes the summary in the same transaction.
INSERT INTO products (name, slug, description, status, category_id)
VALUES (@name, @slug, @description, @status, @category_id)
RETURNING *;

-- name: UpdateProduct :one
-- UpdateProduct rewrites a product's own fields if it is still at @version; no row
-- means it is gone or changed since it was read (GetProductVersion tells which).
UPDATE products
SET name = @name, slug = @slug, description = @description, status = @status,
    category_id = @category_id, version = version + 1
WHERE id = @id AND version = @version
RETURNING *;

-- name: DeleteProduct :one
-- DeleteProduct deletes a product (its variants and image rows go with it) if it is
-- at @version, or whatever its version when @version is NULL.
DELETE FROM products
WHERE id = @id AND (sqlc.narg(version)::integer IS NULL OR version = sqlc.narg(version)::integer)
RETURNING *;

-- name: RefreshProductSummary :one
-- RefreshProductSummary recomputes a product's summary columns from its variants.
-- Every variant write calls it in the same transaction, so lists never disagree with
-- the variants. It returns the product.
UPDATE products p
SET price_min_cents = s.price_min, price_max_cents = s.price_max, stock_total = s.stock_total,
    variant_count = s.variant_count, first_sku = s.first_sku, skus = s.skus
FROM (
    SELECT coalesce(min(v.price_cents), 0)::bigint AS price_min,
           coalesce(max(v.price_cents), 0)::bigint AS price_max,
           coalesce(sum(v.stock), 0)::bigint AS stock_total,
           count(*)::integer AS variant_count,
           coalesce((array_agg(v.sku ORDER BY v.position, v.id))[1], '')::text AS first_sku,
           coalesce(string_agg(v.sku, ' ' ORDER BY v.position, v.id), '')::text AS skus
    FROM product_variants v WHERE v.product_id = @id
) AS s
WHERE p.id = @id
RETURNING p.*;

-- name: SetProductsStatus :many
-- SetProductsStatus sets the status of the listed products that do not have it yet,
-- locking them in id order (so two bulk actions cannot deadlock), and returns each
-- changed product with its status before.
UPDATE products p SET status = @status
FROM (
    SELECT o.id, o.status FROM products o
    WHERE o.id = ANY (@ids::bigint[]) AND o.status <> @status
    ORDER BY o.id FOR NO KEY UPDATE
) AS before
WHERE p.id = before.id
RETURNING p.id, p.name, before.status AS old_status;

-- name: MoveProductsToCategory :many
-- MoveProductsToCategory puts the listed products into @category_id (NULL: none),
-- locking them in id order, and returns each moved product with its category before.
UPDATE products p SET category_id = sqlc.narg(category_id)::bigint
FROM (
    SELECT o.id, o.category_id FROM products o
    WHERE o.id = ANY (@ids::bigint[]) AND o.category_id IS DISTINCT FROM sqlc.narg(category_id)::bigint
    ORDER BY o.id FOR NO KEY UPDATE
) AS before
WHERE p.id = before.id
RETURNING p.id, p.name, before.category_id AS old_category_id;

-- name: DeleteProducts :many
-- DeleteProducts deletes the listed products (with their variants and image rows) and
-- returns them.
DELETE FROM products WHERE id = ANY (@ids::bigint[]) RETURNING *;

-- name: ProductsRowEstimate :one
-- ProductsRowEstimate is the planner's count of products, worked out as the planner
-- does: the rows per page VACUUM or ANALYZE last saw (pg_class) times the pages
-- the table has now, so it follows growth between them; 0 before the first.
SELECT (CASE WHEN c.reltuples >= 0 AND c.relpages > 0
             THEN c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::bigint)
             ELSE 0 END)::bigint AS rows
FROM pg_catalog.pg_class c WHERE c.oid = 'products'::regclass;
