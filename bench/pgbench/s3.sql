\set pid random(:pmin, :pmax)
\set vid :vmin + 3 * (:pid - :pmin)
\set stock random(0, 1000)
SELECT id, product_id, sku, title, option_values, price_cents, compare_at_price_cents, cost_cents, stock, position, created_at, updated_at, version FROM product_variants WHERE id = :vid;
BEGIN;
SELECT id, name, slug, description, status, category_id, price_min_cents, price_max_cents, stock_total, variant_count, first_sku, skus, created_at, updated_at, version FROM products WHERE id = :pid FOR NO KEY UPDATE;
SELECT id, product_id, sku, title, option_values, price_cents, compare_at_price_cents, cost_cents, stock, position, created_at, updated_at, version FROM product_variants WHERE id = :vid \gset v_
UPDATE product_variants
SET sku = :v_sku, title = :v_title, option_values = :v_option_values, price_cents = :v_price_cents,
    compare_at_price_cents = nullif(:v_compare_at_price_cents, '')::bigint, cost_cents = nullif(:v_cost_cents, '')::bigint,
    stock = :stock, position = :v_position, version = version + 1
WHERE id = :vid AND product_id = :pid
  AND (:v_version::integer IS NULL OR version = :v_version::integer)
RETURNING id, product_id, sku, title, option_values, price_cents, compare_at_price_cents, cost_cents, stock, position, created_at, updated_at, version;
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
    FROM product_variants v WHERE v.product_id = :pid
) AS s
WHERE p.id = :pid
RETURNING p.id, p.name, p.slug, p.description, p.status, p.category_id, p.price_min_cents, p.price_max_cents, p.stock_total, p.variant_count, p.first_sku, p.skus, p.created_at, p.updated_at, p.version;
INSERT INTO audit_log (actor_user_id, actor_token_id, actor_label, action, resource,
                       object_id, object_repr, changes, note)
VALUES (:user_id, :token_id, :actor_label, 'update', 'products',
        :pid, :v_sku, :changes, '');
COMMIT;
