-- name: ListProductVariants :many
-- ListProductVariants returns a product's variants in display order.
SELECT * FROM product_variants WHERE product_id = @product_id ORDER BY position, id;

-- name: GetVariant :one
-- GetVariant returns one variant by id.
SELECT * FROM product_variants WHERE id = @id;

-- name: CreateVariant :one
-- CreateVariant inserts a variant; a SKU taken in any case fails on
-- product_variants_sku_key, a negative stock or price on its check.
INSERT INTO product_variants (product_id, sku, title, option_values, price_cents,
                              compare_at_price_cents, cost_cents, stock, position)
VALUES (@product_id, @sku, @title, @option_values, @price_cents,
        @compare_at_price_cents, @cost_cents, @stock, @position)
RETURNING *;

-- name: UpdateVariant :one
-- UpdateVariant rewrites a variant of @product_id if it is at @version, or whatever
-- its version when @version is NULL, and first locks the product (LockProduct's
-- lock, taken before the variant's row as every writer does), in one statement: a
-- single-variant write (the API's PATCH, the bench's S3) needs no LockProduct of its
-- own, and a caller that holds the lock already (the product form) takes it again
-- at little cost. The lock comes first because the update reaches the variant's row only
-- through the join with the locked product; a variant changed meanwhile is read
-- again at its newest version, whose version then no longer matches. No row: gone,
-- another product's, or changed since it was read.
WITH p AS (
    SELECT lp.id FROM products lp WHERE lp.id = @product_id FOR NO KEY UPDATE
)
UPDATE product_variants v
SET sku = @sku, title = @title, option_values = @option_values, price_cents = @price_cents,
    compare_at_price_cents = @compare_at_price_cents, cost_cents = @cost_cents,
    stock = @stock, position = @position, version = v.version + 1
FROM p
WHERE v.id = @id AND v.product_id = @product_id AND v.product_id = p.id
  AND (sqlc.narg(version)::integer IS NULL OR v.version = sqlc.narg(version)::integer)
RETURNING v.*;

-- name: ParkVariantSKUs :exec
-- ParkVariantSKUs sets the SKUs of variants @ids of @product_id to ' <id>', which
-- no input can be (a SKU has no spaces), without a new version: a save that moves
-- SKUs between its variants parks them first, since the unique index is checked
-- row by row and a swap would clash with itself half way. The save's own updates
-- then give each its new SKU.
UPDATE product_variants
SET sku = ' ' || id::text
WHERE product_id = @product_id AND id = ANY (@ids::bigint[]);

-- name: AdjustVariantStock :one
-- AdjustVariantStock adds @delta (negative: takes away) to a variant's stock unless
-- that would take it below zero: then no row comes back. Concurrent adjustments queue
-- on the row lock and each re-checks the condition on the stock the previous one
-- left, so stock is never oversold.
UPDATE product_variants
SET stock = stock + @delta::integer, version = version + 1
WHERE id = @id AND stock + @delta::integer >= 0
RETURNING *;

-- name: DeleteVariant :one
-- DeleteVariant deletes a variant of @product_id if it is at @version, or whatever its
-- version when @version is NULL, and returns it.
DELETE FROM product_variants
WHERE id = @id AND product_id = @product_id
  AND (sqlc.narg(version)::integer IS NULL OR version = sqlc.narg(version)::integer)
RETURNING *;
