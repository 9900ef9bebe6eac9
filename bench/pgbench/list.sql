SELECT p.id, p.name, p.slug, p.description, p.status, p.category_id, p.category_name, p.price_min_cents, p.price_max_cents, p.stock_total, p.variant_count, p.first_sku, p.skus, p.created_at, p.updated_at, p.version FROM product_listings p
WHERE (NULL::text IS NULL OR p.status = NULL::text)
  AND (NULL::bigint[] IS NULL OR p.category_id = ANY (NULL::bigint[]))
  AND (NULL::bigint IS NULL OR p.stock_total >= NULL::bigint)
  AND (NULL::bigint IS NULL OR p.stock_total <= NULL::bigint)
  AND (NULL::timestamptz IS NULL OR p.updated_at >= NULL::timestamptz)
  AND (NULL::text IS NULL OR p.name ILIKE NULL::text OR p.skus ILIKE NULL::text)
  AND (NULL::bigint IS NULL
       OR (p.name, p.id) > (NULL::text, NULL::bigint))
ORDER BY (CASE WHEN false::boolean THEN p.name || '' ELSE p.name END), p.id
LIMIT :row_limit;
