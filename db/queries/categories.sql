-- name: GetCategory :one
-- GetCategory returns one category by id.
SELECT * FROM categories WHERE id = @id;

-- name: LockCategory :one
-- LockCategory returns a category and locks it until the transaction ends, so that
-- the checks a delete makes (no products, no subcategories) hold until it commits.
SELECT * FROM categories WHERE id = @id FOR UPDATE;

-- name: CategoryTree :many
-- CategoryTree returns every category depth-first, siblings by position then name,
-- with its depth (0 at the top) and its path of names from the root ("Home › Lamps").
WITH RECURSIVE ranked AS (
    SELECT c.id, c.parent_id, c.name,
           row_number() OVER (PARTITION BY c.parent_id ORDER BY c.position, c.name, c.id) AS rank
    FROM categories c
), tree AS (
    SELECT r.id, 0 AS depth, r.name AS path, ARRAY[r.rank] AS sort_key
    FROM ranked r WHERE r.parent_id IS NULL
    UNION ALL
    SELECT r.id, t.depth + 1, t.path || ' › ' || r.name, t.sort_key || r.rank
    FROM ranked r JOIN tree t ON r.parent_id = t.id
)
SELECT sqlc.embed(c), t.depth::integer AS depth, t.path::text AS path
FROM tree t JOIN categories c ON c.id = t.id
ORDER BY t.sort_key;

-- name: SearchCategories :many
-- SearchCategories returns categories whose name contains @q (case-insensitive, on
-- the trigram index) in name order after the keyset (@after_name, @after_id); callers
-- ask for one row more than they show.
SELECT * FROM categories
WHERE (sqlc.narg(q)::text IS NULL OR name ILIKE '%' || sqlc.narg(q) || '%')
  AND (sqlc.narg(after_id)::bigint IS NULL OR (name, id) > (sqlc.narg(after_name)::text, sqlc.narg(after_id)::bigint))
ORDER BY name, id
LIMIT @row_limit;

-- name: CategoryDescendantIDs :many
-- CategoryDescendantIDs returns the ids of a category and of every category below it,
-- for the product list's "in this category, subcategories included" filter. A list
-- passes them to its query as an array, so the planner sees the actual values.
WITH RECURSIVE sub AS (
    SELECT c.id FROM categories c WHERE c.id = @id
    UNION
    SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id
)
SELECT id FROM sub ORDER BY id;

-- name: IsCategoryDescendant :one
-- IsCategoryDescendant reports whether @candidate is @id or lies below it: making
-- such a category the parent of @id would close a cycle.
WITH RECURSIVE sub AS (
    SELECT c.id FROM categories c WHERE c.id = @id
    UNION
    SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id
)
SELECT (count(*) > 0)::boolean AS descendant FROM sub WHERE id = @candidate::bigint;

-- name: LockCategoryTree :exec
-- LockCategoryTree serialises moves within the category tree for the rest of the
-- transaction: two concurrent moves (A under B, B under A) each pass the cycle check
-- alone; taken in turns, the second sees the first.
SELECT pg_advisory_xact_lock(7305182411470594049);

-- name: FreeCategorySlug :one
-- FreeCategorySlug returns @base, or else the first of @base-2, @base-3, ... that no
-- category other than @self_id uses. It only picks a candidate: the unique key still
-- decides, and a concurrent writer that takes the same slug first makes the write fail
-- with categories_slug_key.
SELECT (CASE WHEN n = 1 THEN @base::text ELSE @base::text || '-' || n END)::text AS slug
FROM generate_series(1, 10000) AS n
WHERE NOT EXISTS (
    SELECT 1 FROM categories c
    WHERE c.slug = (CASE WHEN n = 1 THEN @base::text ELSE @base::text || '-' || n END)
      AND c.id <> @self_id
)
LIMIT 1; -- a function scan yields n in order, so the first free candidate is the smallest

-- name: CreateCategory :one
-- CreateCategory inserts a category; a taken slug fails on categories_slug_key, a
-- missing parent on categories_parent_id_fkey.
INSERT INTO categories (parent_id, name, slug, description, position)
VALUES (@parent_id, @name, @slug, @description, @position)
RETURNING *;

-- name: UpdateCategory :one
-- UpdateCategory rewrites a category if it is still at @version; no row means it is
-- gone or changed since it was read.
UPDATE categories
SET parent_id = @parent_id, name = @name, slug = @slug, description = @description,
    position = @position, version = version + 1
WHERE id = @id AND version = @version
RETURNING *;

-- name: DeleteCategory :one
-- DeleteCategory deletes a category and returns it. Products and subcategories still
-- in it make it fail on their foreign keys (RESTRICT).
DELETE FROM categories WHERE id = @id RETURNING *;

-- name: CategoryUsage :one
-- CategoryUsage counts what stops a category from being deleted: its products and its
-- direct subcategories.
SELECT (SELECT count(*) FROM products p WHERE p.category_id = @id::bigint)::bigint AS products,
       (SELECT count(*) FROM categories c WHERE c.parent_id = @id::bigint)::bigint AS subcategories;

-- name: CountCategories :one
-- CountCategories counts all categories (the seed checks for an empty catalog).
SELECT count(*) FROM categories;

-- name: ListCategoryIDs :many
-- ListCategoryIDs returns every category id in id order (the seed spreads products
-- over them).
SELECT id FROM categories ORDER BY id;

-- name: CountCategoriesMatching :one
-- CountCategoriesMatching counts the categories whose name contains @q (the same
-- condition as SearchCategories; NULL: all), for the admin list's count.
SELECT count(*) FROM categories
WHERE (sqlc.narg(q)::text IS NULL OR name ILIKE '%' || sqlc.narg(q) || '%');

-- name: CategoryVersion :one
-- CategoryVersion is the number category changes bump (0008_category_version.sql):
-- the category tree a process keeps is current while it is unchanged.
SELECT version FROM category_version;
