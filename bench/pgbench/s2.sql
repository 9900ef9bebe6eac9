\set pid random(:pmin, :pmax)
SELECT id, name, slug, description, status, category_id, category_name, price_min_cents, price_max_cents, stock_total, variant_count, first_sku, skus, created_at, updated_at, version FROM product_listings WHERE id = :pid;
SELECT id, product_id, sku, title, option_values, price_cents, compare_at_price_cents, cost_cents, stock, position, created_at, updated_at, version FROM product_variants WHERE product_id = :pid ORDER BY position, id;
SELECT id, product_id, sha256, content_type, width, height, bytes, alt, position, created_at, updated_at, version FROM product_images WHERE product_id = :pid ORDER BY position, id;
