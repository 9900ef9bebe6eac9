WITH v AS MATERIALIZED (
    SELECT ARRAY(SELECT word FROM search_words WHERE word LIKE lower({{pattern}}::text) LIMIT :max_words::int) AS words
)
SELECT cardinality((SELECT words FROM v)) >= :max_words::int AS overflow, p.id, p.name, p.slug, p.description, p.status, p.category_id, p.category_name, p.price_min_cents, p.price_max_cents, p.stock_total, p.variant_count, p.first_sku, p.skus, p.created_at, p.updated_at, p.version FROM product_listings p
WHERE p.id = ANY (CASE WHEN cardinality((SELECT words FROM v)) >= :max_words::int THEN ARRAY(SELECT min(id) FROM products) ELSE ARRAY(
    SELECT u.id FROM (
        SELECT m.id, m.name FROM unnest((SELECT words FROM v)) AS w (word)
        CROSS JOIN LATERAL (
            SELECT x.id, x.name FROM product_words x
            WHERE x.word = w.word
              AND (NULL::bigint IS NULL
                   OR (x.name, x.id) > (NULL::text, NULL::bigint))
            ORDER BY x.name, x.id
            LIMIT :row_limit) m
        UNION
        (SELECT s.id, s.name FROM product_search s
         WHERE s.skus ILIKE {{pattern}}::text
           AND (NULL::bigint IS NULL
                OR (s.name, s.id) > (NULL::text, NULL::bigint))
         ORDER BY s.name, s.id
         LIMIT :row_limit)) u
    ORDER BY u.name, u.id
    LIMIT :row_limit) END)
ORDER BY p.name, p.id;
