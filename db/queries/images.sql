-- name: ListProductImages :many
-- ListProductImages returns a product's images in display order.
SELECT * FROM product_images WHERE product_id = @product_id ORDER BY position, id;

-- name: GetImage :one
-- GetImage returns one image row by id.
SELECT * FROM product_images WHERE id = @id;

-- name: LockImageHash :exec
-- LockImageHash serialises, until the transaction ends, everything that writes or
-- removes the file of one content hash: an upload that puts the file in place and
-- inserts its row, and a clean-up that sees no row left and removes the file, never
-- interleave.
SELECT pg_advisory_xact_lock(hashtextextended('product_images:' || @sha256::text, 0));

-- name: CreateImage :one
-- CreateImage adds an image row after the product's last image.
INSERT INTO product_images (product_id, sha256, content_type, width, height, bytes, alt, position)
VALUES (@product_id, @sha256, @content_type, @width, @height, @bytes, @alt,
        (SELECT coalesce(max(i.position) + 1, 0) FROM product_images i WHERE i.product_id = @product_id))
RETURNING *;

-- name: UpdateImageAlt :one
-- UpdateImageAlt sets an image's alt text if it is at @version, or whatever its version
-- when @version is NULL.
UPDATE product_images SET alt = @alt, version = version + 1
WHERE id = @id AND (sqlc.narg(version)::integer IS NULL OR version = sqlc.narg(version)::integer)
RETURNING *;

-- name: ReorderImages :many
-- ReorderImages gives the product's images listed in @ids the positions 0, 1, 2, ...
-- in that order and returns the rows it changed.
UPDATE product_images i SET position = o.n - 1, version = i.version + 1
FROM unnest(@ids::bigint[]) WITH ORDINALITY AS o(id, n)
WHERE i.id = o.id AND i.product_id = @product_id AND i.position <> o.n - 1
RETURNING i.*;

-- name: DeleteImage :one
-- DeleteImage deletes an image row and returns it; the caller removes the file when
-- no row names its hash any more.
DELETE FROM product_images WHERE id = @id RETURNING *;

-- name: CountImagesWithHash :one
-- CountImagesWithHash counts the rows that name a content hash (the file stays while
-- any does).
SELECT count(*) FROM product_images WHERE sha256 = @sha256;

-- name: ListImageHashesOfProducts :many
-- ListImageHashesOfProducts returns the content hash of every image of the listed
-- products (repeats included), read before they are deleted, so that their files can
-- be removed once nothing else names them.
SELECT sha256 FROM product_images WHERE product_id = ANY (@ids::bigint[]);
