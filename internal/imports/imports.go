// Package imports reads CSV files of products and stock back in: the product
// export edited in a spreadsheet, or a warehouse's two-column "sku,stock" file.
//
// An import is planned before anything is written (the dry run): the file is
// parsed, each row matched to a stored variant by SKU (in any case), validated by
// the catalog's own rules (catalog.ProductInput.Validate, the form's and the API's),
// and compared with what is stored. The plan (what to create, what to update from
// which value to which, which rows are wrong and why) is stored, so a person can
// review it page by page. Only a confirmed import is applied: in batches, one
// transaction each, every product version-checked against what the plan saw (a
// product changed since is a conflict, left alone), with an audit row (and its
// event) per product. Each batch records its outcome and counts in its own
// transaction, so an apply that dies resumes where it stopped, and every product is
// either wholly updated or untouched.
//
// Upload stores the file; Plan and Apply do the work (a background worker calls
// them through Run); Confirm and Cancel are what a person asks for.
package imports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/money"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// The statuses of an import.
const (
	StatusQueued    = "queued"
	StatusPlanning  = "planning"
	StatusPlanned   = "planned"
	StatusApplying  = "applying"
	StatusApplied   = "applied"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// Config is what imports take from the configuration.
type Config struct {
	Currency string // STOCKROOM_CURRENCY: the currency of the price columns
}

// Service plans and applies imports on one database.
type Service struct {
	st       *store.Store
	queue    Queue
	currency string
	digits   int
}

// New returns the imports of st. Uploads and confirmations put a job on queue that
// does the work (Run); with a nil queue nothing runs by itself, and the caller calls
// Run (tests, the benchmark).
func New(st *store.Store, cfg Config, queue Queue) *Service {
	cur := cfg.Currency
	if cur == "" {
		cur = "EUR"
	}
	return &Service{st: st, queue: queue, currency: cur, digits: money.Digits(cur)}
}

// enqueue puts import id's job on the queue in tx, when there is a queue.
func (s *Service) enqueue(ctx context.Context, tx *store.Tx, id int64) error {
	if s.queue == nil {
		return nil
	}
	return s.queue.InsertTx(ctx, tx, Args{ImportID: id}, nil)
}

// Currency is the currency of the price columns.
func (s *Service) Currency() string { return s.currency }

// Upload is a new import: a file, who sent it, and whether they may create products.
type Upload struct {
	FileName  string
	Data      []byte
	Actor     audit.Actor
	CanCreate bool
	Apply     bool // apply as soon as planned if the plan has no errors (the API without dry_run)
}

// Create checks that u is a CSV file with a usable header and stores it as a new
// import, queued for planning. What is wrong with the file as a whole (empty, too
// big, binary, not UTF-8 in the header, unknown or missing columns) comes back as
// validator.Errors on "file", and nothing is stored; what is wrong with rows is the
// plan's to report.
func (s *Service) Create(ctx context.Context, u Upload) (db.Import, error) {
	if err := checkFile(u.Data); err != nil {
		return db.Import{}, err
	}
	r, comma := newReader(u.Data)
	if _, err := readHeader(r, comma, s.currency); err != nil {
		return db.Import{}, err
	}
	name := u.FileName
	if name == "" {
		name = "upload.csv"
	}
	if len(name) > 255 {
		name = name[:255]
	}
	sum := sha256.Sum256(u.Data)
	var imp db.Import
	err := s.st.Transact(ctx, func(tx *store.Tx) (err error) {
		q := tx.Q
		imp, err = q.CreateImport(ctx, db.CreateImportParams{
			FileName: name, FileSize: int64(len(u.Data)), FileSha256: hex.EncodeToString(sum[:]),
			ActorUserID: idOrNil(u.Actor.UserID), ActorTokenID: idOrNil(u.Actor.TokenID),
			ActorLabel: u.Actor.Label, CanCreate: u.CanCreate, ApplyRequested: u.Apply,
		})
		if err != nil {
			return err
		}
		if err := q.CreateImportFile(ctx, db.CreateImportFileParams{ImportID: imp.ID, Data: u.Data}); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, imp.ID)
	})
	if err != nil {
		return db.Import{}, fmt.Errorf("create import: %w", err)
	}
	return imp, nil
}

// Get returns import id.
func (s *Service) Get(ctx context.Context, id int64) (db.Import, error) {
	var imp db.Import
	err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		imp, err = q.GetImport(ctx, id)
		return err
	})
	if err != nil {
		return db.Import{}, fmt.Errorf("import %d: %w", id, err)
	}
	return imp, nil
}

// List returns up to limit imports older than beforeID (0: the newest), newest first.
func (s *Service) List(ctx context.Context, beforeID int64, limit int) ([]db.Import, error) {
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	var rows []db.Import
	err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		rows, err = q.ListImports(ctx, db.ListImportsParams{BeforeID: beforeID, RowLimit: int32(limit)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list imports: %w", err)
	}
	return rows, nil
}

// Changes returns up to limit planned changes of import id after file row afterRow.
func (s *Service) Changes(ctx context.Context, id int64, afterRow, limit int) ([]db.ImportChange, error) {
	var rows []db.ImportChange
	err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		rows, err = q.ListImportChanges(ctx, db.ListImportChangesParams{ImportID: id, AfterRow: int32(afterRow), RowLimit: int32(limit)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("changes of import %d: %w", id, err)
	}
	return rows, nil
}

// Unfinished lists the imports a worker should take up, oldest first: queued, being
// planned or applied (by a worker that may have died), or confirmed and planned.
func (s *Service) Unfinished(ctx context.Context) ([]int64, error) {
	var ids []int64
	err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		ids, err = q.ListUnfinishedImports(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("unfinished imports: %w", err)
	}
	return ids, nil
}

// CategoryNames maps every category's id to its name, for showing planned changes.
func (s *Service) CategoryNames(ctx context.Context) (map[int64]string, error) {
	var rows []db.ListCategoryNamesRow
	err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		rows, err = q.ListCategoryNames(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("category names: %w", err)
	}
	m := make(map[int64]string, len(rows))
	for _, r := range rows {
		m[r.ID] = r.Name
	}
	return m, nil
}

// Errors returns up to limit row errors of import id after error number afterSeq.
func (s *Service) Errors(ctx context.Context, id int64, afterSeq, limit int) ([]db.ImportError, error) {
	var rows []db.ImportError
	err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		rows, err = q.ListImportErrors(ctx, db.ListImportErrorsParams{ImportID: id, AfterSeq: int32(afterSeq), RowLimit: int32(limit)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("errors of import %d: %w", id, err)
	}
	return rows, nil
}

// ErrNotConfirmable says an import cannot be confirmed: it has errors, is being or
// has been applied, or was cancelled. It wraps store.ErrConflict (409).
var ErrNotConfirmable = fmt.Errorf("%w: this import cannot be applied: it has errors, or is applied, cancelled or under way", store.ErrConflict)

// Confirm asks for import id to be applied once planned.
func (s *Service) Confirm(ctx context.Context, id int64) (db.Import, error) {
	var imp db.Import
	err := s.st.Transact(ctx, func(tx *store.Tx) (err error) {
		if imp, err = tx.Q.RequestImportApply(ctx, id); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, id)
	})
	if store.IsNotFound(err) {
		if _, gerr := s.Get(ctx, id); gerr != nil {
			return db.Import{}, gerr
		}
		return db.Import{}, ErrNotConfirmable
	}
	if err != nil {
		return db.Import{}, fmt.Errorf("confirm import %d: %w", id, err)
	}
	return imp, nil
}

// ErrNotCancellable says an import has already ended. It wraps store.ErrConflict.
var ErrNotCancellable = fmt.Errorf("%w: this import has ended", store.ErrConflict)

// Cancel stops import id: at once if it is not applying, else after the batch under
// way (what was applied stays, each product whole).
func (s *Service) Cancel(ctx context.Context, id int64) (db.Import, error) {
	var imp db.Import
	err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		imp, err = q.RequestImportCancel(ctx, id)
		return err
	})
	if store.IsNotFound(err) {
		if _, gerr := s.Get(ctx, id); gerr != nil {
			return db.Import{}, gerr
		}
		return db.Import{}, ErrNotCancellable
	}
	if err != nil {
		return db.Import{}, fmt.Errorf("cancel import %d: %w", id, err)
	}
	return imp, nil
}

// Plan makes the dry run of import id: reads its file, plans every row, stores the
// changes and errors, and makes the import planned. An import found planning (a
// planner that died) is planned again from the start. A file-level problem ends the
// import failed, with the reason.
func (s *Service) Plan(ctx context.Context, id int64) (db.Import, error) {
	imp, err := s.Get(ctx, id)
	if err != nil {
		return db.Import{}, err
	}
	if imp.Status != StatusQueued && imp.Status != StatusPlanning {
		return imp, nil
	}
	if imp.CancelRequested { // cancelled while a planner that died was at it
		return s.finish(ctx, id, StatusCancelled, "")
	}
	var data []byte
	var cats []db.ListCategoryNamesRow
	err = s.st.InTx(ctx, func(q *db.Queries) error {
		if _, err := q.StartImportPhase(ctx, db.StartImportPhaseParams{ID: id, FromStatus: imp.Status,
			ToStatus: StatusPlanning, RowsTotal: 0}); err != nil {
			return err
		}
		if err := q.ResetImportPlan(ctx, id); err != nil {
			return err
		}
		if err := progressed(ctx, q, id); err != nil {
			return err
		}
		if data, err = q.GetImportFile(ctx, id); err != nil {
			return err
		}
		cats, err = q.ListCategoryNames(ctx)
		return err
	})
	if store.IsNotFound(err) {
		return s.Get(ctx, id) // taken by another worker, or cancelled
	}
	if err != nil {
		return db.Import{}, fmt.Errorf("start planning import %d: %w", id, err)
	}
	if err := checkFile(data); err != nil {
		return s.fail(ctx, id, err)
	}
	r, comma := newReader(data)
	h, err := readHeader(r, comma, s.currency)
	if err != nil {
		return s.fail(ctx, id, err)
	}
	// The total is an estimate from the file's lines, for the progress bar only.
	if err := s.st.Primary(ctx, func(q *db.Queries) error {
		_, err := q.StartImportPhase(ctx, db.StartImportPhaseParams{ID: id, FromStatus: StatusPlanning,
			ToStatus: StatusPlanning, RowsTotal: int32(countLines(data) - 1)})
		return err
	}); err != nil {
		return db.Import{}, fmt.Errorf("start planning import %d: %w", id, err)
	}
	p := newPlanner(h, s.digits, imp.CanCreate, cats)
	if err := p.run(ctx, r, lineOf(bytes.TrimPrefix(data, utf8BOM)), &dbPlanStore{s: s, id: id}); err != nil {
		return db.Import{}, fmt.Errorf("plan import %d: %w", id, err)
	}
	err = s.st.Primary(ctx, func(q *db.Queries) (err error) {
		imp, err = q.FinishImportPlan(ctx, db.FinishImportPlanParams{ID: id, Columns: h.names,
			ToCreate: int32(p.counts.Create), ToUpdate: int32(p.counts.Update), Unchanged: int32(p.counts.Unchanged),
			ErrorRows: int32(p.counts.Errors), ErrorsTotal: int32(p.errTotal), ErrorsCapped: p.errTotal > len(p.errs)})
		if err != nil {
			return err
		}
		return progressed(ctx, q, id)
	})
	if err != nil {
		return db.Import{}, fmt.Errorf("finish planning import %d: %w", id, err)
	}
	return imp, nil
}

// fail ends import id failed with cause's message.
func (s *Service) fail(ctx context.Context, id int64, cause error) (db.Import, error) {
	msg := cause.Error()
	var ve validator.Errors
	if errors.As(cause, &ve) {
		msg = "the file " + ve["file"]
	}
	var imp db.Import
	err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		if imp, err = q.FinishImport(ctx, db.FinishImportParams{ID: id, Status: StatusFailed, Failure: msg}); err != nil {
			return err
		}
		return progressed(ctx, q, id)
	})
	if err != nil {
		return db.Import{}, fmt.Errorf("fail import %d: %w", id, err)
	}
	return imp, nil
}

// dbPlanStore is the planner's database.
type dbPlanStore struct {
	s  *Service
	id int64
}

func (d *dbPlanStore) targets(ctx context.Context, skus []string) ([]target, error) {
	var rows []target
	err := d.s.st.Read(ctx, func(q *db.Queries) (err error) {
		rows, err = q.ListImportTargets(ctx, skus)
		return err
	})
	return rows, err
}

func (d *dbPlanStore) takenSlugs(ctx context.Context, slugs []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(slugs) == 0 {
		return out, nil
	}
	err := d.s.st.Read(ctx, func(q *db.Queries) error {
		rows, err := q.ListTakenSlugs(ctx, slugs)
		for _, r := range rows {
			out[r.Slug] = r.ID
		}
		return err
	})
	return out, err
}

func (d *dbPlanStore) save(ctx context.Context, changes []Change, errs []RowError, errSeq, rowsDone int) error {
	return d.s.st.InTx(ctx, func(q *db.Queries) error {
		if len(changes) > 0 {
			rows := make([]db.CopyImportChangesParams, len(changes))
			for i, c := range changes {
				rows[i] = db.CopyImportChangesParams{ImportID: d.id, RowNumber: int32(c.Row), GroupKey: c.GroupKey,
					Kind: c.Kind, Sku: c.SKU, ProductID: idOrNil(c.ProductID), VariantID: idOrNil(c.VariantID),
					ProductVersion: c.ProductVersion, VariantVersion: c.VariantVersion, Repr: c.Repr,
					Fields: encodeJSON(c.Fields), Changes: encodeJSON(c.Changes)}
			}
			if _, err := q.CopyImportChanges(ctx, rows); err != nil {
				return err
			}
		}
		if len(errs) > 0 {
			rows := make([]db.CopyImportErrorsParams, len(errs))
			for i, e := range errs {
				rows[i] = db.CopyImportErrorsParams{ImportID: d.id, Seq: int32(errSeq + i + 1), RowNumber: int32(e.Row),
					Col: e.Column, Message: e.Message, Cell: truncate(e.Cell, 200)}
			}
			if _, err := q.CopyImportErrors(ctx, rows); err != nil {
				return err
			}
		}
		if err := q.SetImportProgress(ctx, db.SetImportProgressParams{ID: d.id, RowsDone: int32(rowsDone)}); err != nil {
			return err
		}
		return progressed(ctx, q, d.id)
	})
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

func countLines(data []byte) int {
	n := 0
	for _, b := range data {
		if b == '\n' {
			n++
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return n
}

func idOrNil(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// ETA estimates when the phase under way ends, from its pace so far; zero when it
// cannot tell yet.
func ETA(imp db.Import, now time.Time) time.Duration {
	if imp.PhaseStartedAt == nil || imp.RowsDone <= 0 || imp.RowsTotal <= imp.RowsDone {
		return 0
	}
	spent := now.Sub(*imp.PhaseStartedAt)
	return time.Duration(float64(spent) / float64(imp.RowsDone) * float64(imp.RowsTotal-imp.RowsDone))
}

// ResourceImports is the resource of an import's own events.
const ResourceImports = "imports"

// progressed records import id's progress (audit.TypeImportProgressed: its status
// and counts) in q's transaction, the one that moved it: a batch planned or
// applied, or a phase begun or ended. The import's page follows these over the
// event stream instead of polling. They go through audit.Append like every event
// (events name their audit row), so the audit log keeps one line per batch of an
// import: when it moved and how far, under the actor who uploaded it.
func progressed(ctx context.Context, q *db.Queries, id int64) error {
	imp, err := q.GetImport(ctx, id)
	if err != nil {
		return err
	}
	actor := audit.Actor{Label: imp.ActorLabel}
	if imp.ActorUserID != nil {
		actor.UserID = *imp.ActorUserID
	}
	if imp.ActorTokenID != nil {
		actor.TokenID = *imp.ActorTokenID
	}
	return audit.Append(ctx, q, actor, audit.Event{Action: audit.ActionProgress, Resource: ResourceImports,
		ObjectID: imp.ID, Repr: imp.FileName, Type: audit.TypeImportProgressed,
		Note: fmt.Sprintf("%s: %d of %d rows", imp.Status, imp.RowsDone, imp.RowsTotal),
		Changes: audit.Changes{"status": {nil, imp.Status}, "rows_done": {nil, imp.RowsDone},
			"rows_total": {nil, imp.RowsTotal}, "applied": {nil, imp.Applied},
			"conflicts": {nil, imp.Conflicts}, "failed": {nil, imp.Failed}}})
}
