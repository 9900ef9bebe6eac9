-- name: CreateImport :one
-- CreateImport records an uploaded file, queued for planning.
INSERT INTO imports (file_name, file_size, file_sha256, actor_user_id, actor_token_id, actor_label,
                     can_create, apply_requested)
VALUES (@file_name, @file_size, @file_sha256, @actor_user_id, @actor_token_id, @actor_label,
        @can_create, @apply_requested)
RETURNING *;

-- name: CreateImportFile :exec
-- CreateImportFile stores an import's file.
INSERT INTO import_files (import_id, data) VALUES (@import_id, @data);

-- name: GetImportFile :one
-- GetImportFile returns an import's file.
SELECT data FROM import_files WHERE import_id = @import_id;

-- name: GetImport :one
-- GetImport returns one import.
SELECT * FROM imports WHERE id = @id;

-- name: ListImports :many
-- ListImports returns imports before @before_id, newest first.
SELECT * FROM imports WHERE id < @before_id ORDER BY id DESC LIMIT @row_limit;

-- name: StartImportPhase :one
-- StartImportPhase moves an import from @from_status to @to_status and resets the
-- progress; no row means another worker took it, or it was cancelled.
UPDATE imports
SET status = @to_status, rows_total = @rows_total, rows_done = 0, phase_started_at = now()
WHERE id = @id AND status = @from_status AND NOT cancel_requested
RETURNING *;

-- name: SetImportProgress :exec
-- SetImportProgress records how far the phase under way has come.
UPDATE imports SET rows_done = @rows_done WHERE id = @id;

-- name: FinishImportPlan :one
-- FinishImportPlan stores the preview's counts and makes the import planned, or
-- cancelled when someone cancelled it while it was being planned.
UPDATE imports
SET status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'planned' END,
    finished_at = CASE WHEN cancel_requested THEN now() END,
    planned_at = now(), rows_done = rows_total, columns = @columns,
    to_create = @to_create, to_update = @to_update, unchanged = @unchanged, error_rows = @error_rows,
    errors_total = @errors_total, errors_capped = @errors_capped
WHERE id = @id AND status = 'planning'
RETURNING *;

-- name: FinishImport :one
-- FinishImport ends an import in @status (applied, failed or cancelled), with
-- @failure saying why when it failed.
UPDATE imports SET status = @status, failure = @failure, finished_at = now()
WHERE id = @id AND status NOT IN ('applied', 'failed', 'cancelled')
RETURNING *;

-- name: RequestImportApply :one
-- RequestImportApply confirms an import: it is applied once planned. Only an import
-- not yet applying and with nothing in error can be confirmed.
UPDATE imports SET apply_requested = true
WHERE id = @id AND status IN ('queued', 'planning', 'planned') AND error_rows = 0 AND NOT cancel_requested
RETURNING *;

-- name: RequestImportCancel :one
-- RequestImportCancel asks the worker to stop an import after its current batch; an
-- import that has not started applying is cancelled at once.
UPDATE imports
SET cancel_requested = true,
    status = CASE WHEN status IN ('queued', 'planned') THEN 'cancelled' ELSE status END,
    finished_at = CASE WHEN status IN ('queued', 'planned') THEN now() ELSE finished_at END
WHERE id = @id AND status IN ('queued', 'planning', 'planned', 'applying')
RETURNING *;

-- name: ImportCancelRequested :one
-- ImportCancelRequested says whether someone asked to stop the import.
SELECT cancel_requested FROM imports WHERE id = @id;

-- name: ListUnfinishedImports :many
-- ListUnfinishedImports returns the imports a worker should pick up: queued, planning
-- (a planner that died), or applying (an apply that died), oldest first.
SELECT id FROM imports WHERE status IN ('queued', 'planning', 'applying')
   OR (status = 'planned' AND apply_requested)
ORDER BY id;

-- name: ResetImportPlan :exec
-- ResetImportPlan deletes what a planner that died left behind, before planning again.
WITH c AS (DELETE FROM import_changes WHERE import_changes.import_id = @import_id)
DELETE FROM import_errors WHERE import_errors.import_id = @import_id;

-- name: CopyImportChanges :copyfrom
-- CopyImportChanges stores a batch of the plan.
INSERT INTO import_changes (import_id, row_number, group_key, kind, sku, product_id, variant_id,
                            product_version, variant_version, repr, fields, changes)
VALUES (@import_id, @row_number, @group_key, @kind, @sku, @product_id, @variant_id,
        @product_version, @variant_version, @repr, @fields, @changes);

-- name: CopyImportErrors :copyfrom
-- CopyImportErrors stores a batch of row errors.
INSERT INTO import_errors (import_id, seq, row_number, col, message, cell)
VALUES (@import_id, @seq, @row_number, @col, @message, @cell);

-- name: ListImportChanges :many
-- ListImportChanges returns an import's planned changes after row @after_row, in row
-- order.
SELECT * FROM import_changes
WHERE import_id = @import_id AND row_number > @after_row
ORDER BY row_number LIMIT @row_limit;

-- name: ListImportErrors :many
-- ListImportErrors returns an import's row errors after @after_seq, in file order.
SELECT * FROM import_errors
WHERE import_id = @import_id AND seq > @after_seq
ORDER BY seq LIMIT @row_limit;

-- name: ListImportTargets :many
-- ListImportTargets returns the variants whose SKU is one of @skus (lower case) with
-- their product's own fields and summary: what the plan compares a file row with.
SELECT v.id AS variant_id, v.sku, v.price_cents, v.stock, v.version AS variant_version,
       p.id AS product_id, p.name, p.slug, p.status, p.category_id, p.version AS product_version,
       p.variant_count, p.price_min_cents, p.price_max_cents, p.stock_total
FROM product_variants v
JOIN products p ON p.id = v.product_id
WHERE lower(v.sku) = ANY (@skus::text[]);

-- name: ListTakenSlugs :many
-- ListTakenSlugs returns which of @slugs products use, with the product using each.
SELECT id, slug FROM products WHERE slug = ANY (@slugs::text[]);

-- name: ListCategoryNames :many
-- ListCategoryNames returns every category's id and name: an import names categories
-- by name, as the export writes them.
SELECT id, name FROM categories ORDER BY id;

-- name: ListPendingImportChanges :many
-- ListPendingImportChanges returns the pending changes of the next @group_limit
-- products (groups) of an import, in group then row order: one apply batch.
SELECT ic.* FROM import_changes ic
WHERE ic.import_id = @import_id AND ic.outcome = 'pending'
  AND ic.group_key IN (SELECT DISTINCT c.group_key FROM import_changes c
                       WHERE c.import_id = @import_id AND c.outcome = 'pending'
                       ORDER BY c.group_key LIMIT @group_limit)
ORDER BY ic.group_key, ic.row_number;

-- name: LockImportProducts :many
-- LockImportProducts locks the products an apply batch changes, in id order (the
-- order every bulk writer takes them in, so writers never deadlock), and returns them.
SELECT * FROM products WHERE id = ANY (@ids::bigint[]) ORDER BY id FOR NO KEY UPDATE;

-- name: ListVariantVersions :many
-- ListVariantVersions returns the product and version of the listed variants.
SELECT id, product_id, version FROM product_variants WHERE id = ANY (@ids::bigint[]);

-- name: UpdateImportedProducts :exec
-- UpdateImportedProducts rewrites the own fields of the listed products (the arrays
-- run in step; category 0 is none) and bumps their versions.
UPDATE products p
SET name = u.name, slug = u.slug, status = u.status, category_id = nullif(u.category_id, 0),
    version = p.version + 1
FROM (SELECT unnest(@ids::bigint[]) AS id,
             unnest(@names::text[]) AS name,
             unnest(@slugs::text[]) AS slug,
             unnest(@statuses::text[]) AS status,
             unnest(@category_ids::bigint[]) AS category_id) AS u -- the unnests run in step
WHERE p.id = u.id;

-- name: UpdateImportedVariants :exec
-- UpdateImportedVariants sets the price and stock of the listed variants (-1: leave
-- it) and bumps their versions.
UPDATE product_variants v
SET price_cents = CASE WHEN u.price_cents < 0 THEN v.price_cents ELSE u.price_cents END,
    stock = CASE WHEN u.stock < 0 THEN v.stock ELSE u.stock END,
    version = v.version + 1
FROM (SELECT unnest(@ids::bigint[]) AS id,
             unnest(@price_cents::bigint[]) AS price_cents,
             unnest(@stocks::integer[]) AS stock) AS u -- the unnests run in step
WHERE v.id = u.id;

-- name: CreateImportedProducts :many
-- CreateImportedProducts inserts new products (category 0 is none) and returns their
-- ids with their slugs, which are unique, to tell them apart.
INSERT INTO products (name, slug, status, category_id)
SELECT u.name, u.slug, u.status, nullif(u.category_id, 0)
FROM (SELECT unnest(@names::text[]) AS name,
             unnest(@slugs::text[]) AS slug,
             unnest(@statuses::text[]) AS status,
             unnest(@category_ids::bigint[]) AS category_id) AS u -- the unnests run in step
RETURNING id, slug;

-- name: CreateImportedVariants :exec
-- CreateImportedVariants inserts the variants of new products.
INSERT INTO product_variants (product_id, sku, price_cents, stock, position)
SELECT unnest(@product_ids::bigint[]), unnest(@skus::text[]), unnest(@price_cents::bigint[]),
       unnest(@stocks::integer[]), unnest(@positions::integer[]); -- the unnests run in step

-- name: RefreshProductSummaries :exec
-- RefreshProductSummaries is RefreshProductSummary for many products in one
-- statement.
UPDATE products p
SET price_min_cents = s.price_min, price_max_cents = s.price_max, stock_total = s.stock_total,
    variant_count = s.variant_count, first_sku = s.first_sku, skus = s.skus
FROM (
    SELECT v.product_id,
           min(v.price_cents)::bigint AS price_min,
           max(v.price_cents)::bigint AS price_max,
           sum(v.stock)::bigint AS stock_total,
           count(*)::integer AS variant_count,
           (array_agg(v.sku ORDER BY v.position, v.id))[1]::text AS first_sku,
           string_agg(v.sku, ' ' ORDER BY v.position, v.id)::text AS skus
    FROM product_variants v WHERE v.product_id = ANY (@ids::bigint[])
    GROUP BY v.product_id
) AS s
WHERE p.id = s.product_id;

-- name: MarkImportChanges :exec
-- MarkImportChanges records the outcome of applied rows (the arrays run in step).
UPDATE import_changes c
SET outcome = u.outcome, message = u.message,
    product_id = CASE WHEN u.product_id = 0 THEN c.product_id ELSE u.product_id END
FROM (SELECT unnest(@row_numbers::integer[]) AS row_number,
             unnest(@outcomes::text[]) AS outcome,
             unnest(@messages::text[]) AS message,
             unnest(@product_ids::bigint[]) AS product_id) AS u -- the unnests run in step
WHERE c.import_id = @import_id AND c.row_number = u.row_number;

-- name: AddImportApplied :exec
-- AddImportApplied adds an apply batch's counts to its import, in the batch's
-- transaction: after a crash the counts say exactly what was written.
UPDATE imports
SET applied = applied + @applied, conflicts = conflicts + @conflicts, failed = failed + @failed,
    rows_done = rows_done + @done
WHERE id = @id;

-- name: LockImport :one
-- LockImport locks an import's row until the transaction ends: apply batches of one
-- import take it first, so two workers on one import (a job rescued while its first
-- run still goes) write one batch after the other, each seeing what the other did.
SELECT status FROM imports WHERE id = @id FOR UPDATE;
