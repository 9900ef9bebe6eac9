-- name: FindVariantsForOrder :many
-- FindVariantsForOrder returns the variants a hand-made order's lines name: those
-- whose SKU, lower-cased, is one of @skus (through product_variants_sku_key) or
-- whose id is one of @ids, with their product's name and status.
SELECT v.id, v.sku, v.title, v.price_cents, v.stock, p.name AS product_name, p.status AS product_status
FROM product_variants v JOIN products p ON p.id = v.product_id
WHERE lower(v.sku) = ANY (@skus::text[]) OR v.id = ANY (@ids::bigint[]);

-- name: SearchVariantsForOrder :many
-- SearchVariantsForOrder returns up to @row_limit variants whose SKU or product name
-- matches the ILIKE @pattern, in product id order. The product's name and its
-- variants' SKUs (products.skus) carry trigram indexes, so the products are found
-- through them; the variant's own SKU then picks which of their variants match.
SELECT v.id, v.sku, v.title, v.price_cents, v.stock, p.name AS product_name, p.status AS product_status
FROM products p JOIN product_variants v ON v.product_id = p.id
WHERE (p.name ILIKE @pattern::text OR p.skus ILIKE @pattern::text)
  AND (p.name ILIKE @pattern::text OR v.sku ILIKE @pattern::text)
ORDER BY p.id, v.position, v.id
LIMIT @row_limit;
