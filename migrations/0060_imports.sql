-- +goose Up
-- CSV imports of products and stock (internal/imports). An import is planned first
-- (the dry run: parse, validate, compare with what is stored) and applied only when
-- someone confirms it. The plan is stored, so the preview, the apply and a resumed
-- apply after a crash all work from the same rows.
--
-- status: queued (uploaded, waiting for the planner) → planning → planned (preview
-- ready) → applying → applied; or failed (the file itself is unusable, or the apply
-- stopped on an error) or cancelled (before or during apply). rows_done/rows_total
-- are the progress of the phase under way (planning: file rows; applying: changes).
CREATE TABLE imports (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_name        text        NOT NULL,
    file_size        bigint      NOT NULL,
    file_sha256      text        NOT NULL,
    actor_user_id    bigint,
    actor_token_id   bigint,
    actor_label      text        NOT NULL DEFAULT '',
    can_create       boolean     NOT NULL DEFAULT false, -- the uploader may add products
    status           text        NOT NULL DEFAULT 'queued',
    apply_requested  boolean     NOT NULL DEFAULT false, -- apply as soon as planned (confirmed, or the API without dry_run)
    cancel_requested boolean     NOT NULL DEFAULT false,
    columns          text[]      NOT NULL DEFAULT '{}',  -- the header as read
    rows_total       integer     NOT NULL DEFAULT 0,
    rows_done        integer     NOT NULL DEFAULT 0,
    to_create        integer     NOT NULL DEFAULT 0,
    to_update        integer     NOT NULL DEFAULT 0,
    unchanged        integer     NOT NULL DEFAULT 0,
    error_rows       integer     NOT NULL DEFAULT 0,
    errors_total     integer     NOT NULL DEFAULT 0,     -- all errors found; import_errors keeps the first ones
    errors_capped    boolean     NOT NULL DEFAULT false,
    applied          integer     NOT NULL DEFAULT 0,     -- changes written
    conflicts        integer     NOT NULL DEFAULT 0,     -- changes left alone: the product changed since the preview
    failed           integer     NOT NULL DEFAULT 0,     -- changes the database refused (a SKU or slug taken meanwhile)
    failure          text        NOT NULL DEFAULT '',    -- why the import failed, for a person
    created_at       timestamptz NOT NULL DEFAULT now(),
    phase_started_at timestamptz,
    planned_at       timestamptz,
    finished_at      timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT imports_status_check CHECK (status IN ('queued', 'planning', 'planned', 'applying', 'applied', 'failed', 'cancelled')),
    CONSTRAINT imports_file_name_check CHECK (length(file_name) BETWEEN 1 AND 255)
);
CREATE INDEX imports_created_idx ON imports (created_at, id);
CREATE TRIGGER imports_touch BEFORE UPDATE ON imports FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- The uploaded file, kept in the database so any instance's worker can plan it.
CREATE TABLE import_files (
    import_id bigint PRIMARY KEY CONSTRAINT import_files_import_id_fkey REFERENCES imports (id) ON DELETE CASCADE,
    data      bytea  NOT NULL
);

-- The plan: one row per file row that changes something. product_version and
-- variant_version are what the preview saw; the apply writes a product only if both
-- still hold (else: conflict). fields holds the values to write ({"name": ..,
-- "price_cents": ..}), changes the preview's {"field": [old, new]}. group_key ties
-- the rows of one product together (its id, or for a new product its first row), so a
-- product is applied in one transaction, wholly or not at all.
CREATE TABLE import_changes (
    import_id       bigint  NOT NULL CONSTRAINT import_changes_import_id_fkey REFERENCES imports (id) ON DELETE CASCADE,
    row_number      integer NOT NULL,
    group_key       bigint  NOT NULL,
    kind            text    NOT NULL,
    sku             text    NOT NULL,
    product_id      bigint,
    variant_id      bigint,
    product_version integer NOT NULL DEFAULT 0,
    variant_version integer NOT NULL DEFAULT 0,
    repr            text    NOT NULL DEFAULT '',
    fields          jsonb   NOT NULL DEFAULT '{}',
    changes         jsonb   NOT NULL DEFAULT '{}',
    outcome         text    NOT NULL DEFAULT 'pending',
    message         text    NOT NULL DEFAULT '',
    PRIMARY KEY (import_id, row_number),
    CONSTRAINT import_changes_kind_check CHECK (kind IN ('create', 'update')),
    CONSTRAINT import_changes_outcome_check CHECK (outcome IN ('pending', 'applied', 'conflict', 'failed'))
);
CREATE INDEX import_changes_pending_idx ON import_changes (import_id, group_key) WHERE outcome = 'pending';

-- Row errors found by the plan, the first ones only (imports.errors_capped says when
-- more were found than kept). row_number 0 is the file as a whole.
CREATE TABLE import_errors (
    import_id  bigint  NOT NULL CONSTRAINT import_errors_import_id_fkey REFERENCES imports (id) ON DELETE CASCADE,
    seq        integer NOT NULL,
    row_number integer NOT NULL,
    col        text    NOT NULL DEFAULT '',
    message    text    NOT NULL,
    cell       text    NOT NULL DEFAULT '',
    PRIMARY KEY (import_id, seq)
);

-- +goose Down
DROP TABLE import_errors;
DROP TABLE import_changes;
DROP TABLE import_files;
DROP TABLE imports;
