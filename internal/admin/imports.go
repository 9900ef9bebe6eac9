package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/imports"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/validator"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// CSV import of products and stock (internal/imports): an upload form, then the
// import's page, which is in turn its progress (planning), its preview (planned:
// counts, the changes and the errors, a button to apply), its progress again
// (applying, with a cancel button) and its outcome. While work is under way the page
// fetches a small progress fragment whenever the event stream (/admin/events) brings
// the import's event (import.progressed, one per batch and per phase, frame
// "imports-ID"), and once when the stream (re)opens, to catch up on what it missed;
// it polls every 10 s besides, so a page whose stream is down still gets to the end
// (every second on a server with no event hub). It reloads itself when the phase
// changes; without JavaScript a reload shows the current state.

const importsPath = "/admin/imports/"

// importFormPage is the upload form.
type importFormPage struct {
	Layout
	Error    string
	Columns  string
	Currency string
	CanAdd   bool
}

func (s *Server) importFormPage(r *http.Request, msg string) *importFormPage {
	cur := s.money.code
	return &importFormPage{Layout: Layout{Title: "Import products"}, Error: msg, Currency: cur,
		CanAdd:  auth.FromContext(r.Context()).Can("products.add"),
		Columns: "id, name, slug, status, category, sku, variants, price_min (" + cur + "), price_max (" + cur + "), stock, updated_at"}
}

// importForm is GET /admin/products/import.
func (s *Server) importForm(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "imports/new", s.importFormPage(r, ""))
}

// createImport is POST /admin/products/import: a multipart form with the file. The
// file is read whole (at most imports.MaxFileSize) and checked as a whole here; its
// rows are planned by the import's job. A file that is refused stores nothing and
// shows the form again with the reason.
func (s *Server) createImport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	fail := func(status int, msg string) error {
		return s.render(w, r, status, "imports/new", s.importFormPage(r, msg))
	}
	tooBig := fmt.Sprintf("The file is larger than %d MiB: split it into smaller files.", imports.MaxFileSize>>20)
	if r.ContentLength > imports.MaxFileSize+64<<10 {
		w.Header().Set("Connection", "close") // the body stays unread
		return fail(http.StatusRequestEntityTooLarge, tooBig)
	}
	r.Body = http.MaxBytesReader(w, r.Body, imports.MaxFileSize+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		return fmt.Errorf("%w: %w", web.ErrBadRequest, err)
	}
	for {
		part, err := mr.NextPart()
		switch {
		case errors.As(err, new(*http.MaxBytesError)):
			return fail(http.StatusRequestEntityTooLarge, tooBig)
		case err == io.EOF:
			return fail(http.StatusUnprocessableEntity, "No file was chosen: choose a CSV file to import.")
		case err != nil:
			return fmt.Errorf("%w: %w", web.ErrBadRequest, err)
		}
		if part.FormName() != "file" || part.FileName() == "" {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, imports.MaxFileSize+1))
		if errors.As(err, new(*http.MaxBytesError)) || len(data) > imports.MaxFileSize {
			return fail(http.StatusRequestEntityTooLarge, tooBig)
		}
		if err != nil {
			return fmt.Errorf("%w: %w", web.ErrBadRequest, err)
		}
		p := auth.FromContext(ctx)
		imp, err := s.imports.Create(ctx, imports.Upload{FileName: part.FileName(), Data: data,
			Actor: p.Actor(), CanCreate: p.Can("products.add")})
		var ve validator.Errors
		if errors.As(err, &ve) {
			status := http.StatusUnprocessableEntity
			if len(data) > imports.MaxFileSize {
				status = http.StatusRequestEntityTooLarge
			}
			return fail(status, "The file "+ve["file"]+".")
		}
		if err != nil {
			return err
		}
		return s.redirect(w, r, importURL(imp.ID), "The file was uploaded. Nothing changes until you have seen the preview and confirmed it.")
	}
}

func importURL(id int64) string { return importsPath + strconv.FormatInt(id, 10) + "/" }

// importView is an import as its pages show it.
type importView struct {
	db.Import
	URL       string
	Percent   int
	ETA       string
	Working   bool // planning or applying: the page polls
	Applying  bool // confirmed: applying, or about to
	CanCancel bool
	Outcome   string // a sentence for the end
	Uploaded  string
}

func viewOf(imp db.Import, now time.Time) importView {
	v := importView{Import: imp, URL: importURL(imp.ID), Uploaded: imp.CreatedAt.UTC().Format("2006-01-02 15:04 UTC")}
	switch imp.Status {
	case imports.StatusQueued, imports.StatusPlanning, imports.StatusApplying:
		v.Working = true
	case imports.StatusPlanned: // confirmed, waiting for the job to start applying
		v.Working = imp.ApplyRequested && imp.ErrorRows == 0 && !imp.CancelRequested
		v.Applying = v.Working
	}
	v.Applying = v.Applying || imp.Status == imports.StatusApplying
	v.CanCancel = v.Working || imp.Status == imports.StatusPlanned
	if imp.RowsTotal > 0 {
		v.Percent = int(min(100, int64(imp.RowsDone)*100/int64(imp.RowsTotal)))
	}
	if !v.Working && imp.Status != imports.StatusQueued {
		v.Percent = 100
	}
	if eta := imports.ETA(imp, now); eta > 0 {
		v.ETA = "about " + eta.Round(time.Second).String() + " left"
	}
	switch imp.Status {
	case imports.StatusApplied:
		v.Outcome = fmt.Sprintf("Applied: %d rows written, %d conflicts left alone, %d failed.", imp.Applied, imp.Conflicts, imp.Failed)
	case imports.StatusCancelled:
		v.Outcome = fmt.Sprintf("Cancelled: %d rows had been written (each product wholly), %d were not.", imp.Applied, imp.ToCreate+imp.ToUpdate-imp.Applied-imp.Conflicts-imp.Failed)
	case imports.StatusFailed:
		v.Outcome = "Failed: " + imp.Failure
	}
	return v
}

// importChangeView is one planned change: its fields as old → new text.
type importChangeView struct {
	db.ImportChange
	Fields []fieldChange
}

type fieldChange struct{ Field, Old, New string }

// importPage is an import's page.
type importPage struct {
	Layout
	Imp        importView
	Changes    []importChangeView
	Errors     []db.ImportError
	NextChange string // the next page of changes, or ""
	NextError  string
	CanChange  bool
}

// showImport is GET /admin/imports/{id}/: the preview, the progress or the outcome.
// ?changes_after=ROW and ?errors_after=N page through the changes and errors.
func (s *Server) showImport(w http.ResponseWriter, r *http.Request) error {
	imp, err := byPathID(r, s.imports.Get)
	if err != nil {
		return err
	}
	ctx := r.Context()
	q := r.URL.Query()
	afterRow, _ := strconv.Atoi(q.Get("changes_after"))
	afterErr, _ := strconv.Atoi(q.Get("errors_after"))
	pg := &importPage{Layout: Layout{Title: "Import " + imp.FileName}, Imp: viewOf(imp, time.Now()),
		CanChange: auth.FromContext(ctx).Can("products.change")}
	if imp.Status != imports.StatusQueued && imp.Status != imports.StatusPlanning {
		changes, err := s.imports.Changes(ctx, imp.ID, afterRow, keyset.DefaultLimit+1)
		if err != nil {
			return err
		}
		if len(changes) > keyset.DefaultLimit {
			changes = changes[:keyset.DefaultLimit]
			pg.NextChange = fmt.Sprintf("%s?changes_after=%d&errors_after=%d#changes", pg.Imp.URL, changes[len(changes)-1].RowNumber, afterErr)
		}
		names, err := s.imports.CategoryNames(ctx)
		if err != nil {
			return err
		}
		for _, c := range changes {
			pg.Changes = append(pg.Changes, importChangeView{ImportChange: c, Fields: s.fieldChanges(c.Changes, names)})
		}
		errs, err := s.imports.Errors(ctx, imp.ID, afterErr, keyset.DefaultLimit+1)
		if err != nil {
			return err
		}
		if len(errs) > keyset.DefaultLimit {
			errs = errs[:keyset.DefaultLimit]
			pg.NextError = fmt.Sprintf("%s?changes_after=%d&errors_after=%d#errors", pg.Imp.URL, afterRow, errs[len(errs)-1].Seq)
		}
		pg.Errors = errs
	}
	return s.render(w, r, http.StatusOK, "imports/show", pg)
}

// importProgress is GET /admin/imports/{id}/progress: the progress fragment the
// page fetches on the import's events (or polls). When the import has left the status the page was drawn in (?seen=),
// htmx is told to reload the page, which then shows the next phase.
func (s *Server) importProgress(w http.ResponseWriter, r *http.Request) error {
	imp, err := byPathID(r, s.imports.Get)
	if err != nil {
		return err
	}
	if seen := r.URL.Query().Get("seen"); seen != "" && seen != imp.Status {
		w.Header().Set("HX-Refresh", "true")
	}
	pg := &importPage{Imp: viewOf(imp, time.Now())}
	pg.Live = s.live(auth.FromContext(r.Context())) // render is not called: the fragment keeps listening
	return s.renderFragment(w, "imports/show", "progress", pg)
}

// renderFragment writes the named template of page alone: what an htmx poll swaps
// in, without the layout.
func (s *Server) renderFragment(w http.ResponseWriter, page, name string, data any) error {
	t, ok := s.pages[page]
	if !ok {
		return fmt.Errorf("no page %q", page)
	}
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer putPageBuffer(buf)
	if err := t.ExecuteTemplate(buf, name, data); err != nil {
		return fmt.Errorf("render %s of %s: %w", name, page, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, err := w.Write(buf.Bytes())
	return err
}

// fieldChanges shows a change's fields as text: money as money, a category by name.
func (s *Server) fieldChanges(raw json.RawMessage, categories map[int64]string) []fieldChange {
	var m map[string][2]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return []fieldChange{{Field: "?", New: string(raw)}}
	}
	show := func(field string, v any) string {
		f, isNum := v.(float64)
		switch {
		case v == nil && field == "category_id":
			return "(none)"
		case v == nil:
			return ""
		case field == "price_cents" && isNum:
			return s.money.format(int64(f))
		case field == "category_id" && isNum:
			if n, ok := categories[int64(f)]; ok {
				return n
			}
			return fmt.Sprint(int64(f))
		case isNum:
			return strconv.FormatInt(int64(f), 10)
		}
		return fmt.Sprint(v)
	}
	labels := map[string]string{"price_cents": "price", "category_id": "category"}
	out := make([]fieldChange, 0, len(m))
	for f, c := range m {
		label := f
		if l, ok := labels[f]; ok {
			label = l
		}
		out = append(out, fieldChange{Field: label, Old: show(f, c[0]), New: show(f, c[1])})
	}
	slices.SortFunc(out, func(a, b fieldChange) int {
		switch {
		case a.Field < b.Field:
			return -1
		case a.Field > b.Field:
			return 1
		}
		return 0
	})
	return out
}

// confirmImport is POST /admin/imports/{id}/confirm: apply the import.
func (s *Server) confirmImport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	if _, err := s.imports.Confirm(r.Context(), id); err != nil {
		if errors.Is(err, imports.ErrNotConfirmable) {
			return s.redirect(w, r, importURL(id), "This import cannot be applied: it has errors, or it was applied or cancelled already.")
		}
		return err
	}
	return s.redirect(w, r, importURL(id), "The import is being applied. You may close this page: it goes on without you.")
}

// cancelImport is POST /admin/imports/{id}/cancel: discard a preview, or stop an
// apply after the batch under way.
func (s *Server) cancelImport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	imp, err := s.imports.Cancel(r.Context(), id)
	if errors.Is(err, imports.ErrNotCancellable) {
		return s.redirect(w, r, importURL(id), "This import has ended already.")
	}
	if err != nil {
		return err
	}
	msg := "The import was cancelled. Nothing was written."
	if imp.Status == imports.StatusApplying {
		msg = "The import stops after the batch under way; what was written stays, each product whole."
	}
	return s.redirect(w, r, importURL(id), msg)
}

// importErrorsCSV is GET /admin/imports/{id}/errors.csv: every kept error, to fix
// the file beside it.
func (s *Server) importErrorsCSV(w http.ResponseWriter, r *http.Request) error {
	imp, err := byPathID(r, s.imports.Get)
	if err != nil {
		return err
	}
	ctx := r.Context()
	name := fmt.Sprintf("import-%d-errors.csv", imp.ID)
	return s.streamCSV(w, r, name, []string{"row", "column", "message", "cell"}, func(write func(...[]string) error) error {
		after := 0
		for {
			errs, err := s.imports.Errors(ctx, imp.ID, after, 1000)
			if err != nil || len(errs) == 0 {
				return err
			}
			rows := make([][]string, len(errs))
			for i, e := range errs {
				rows[i] = safeCells(strconv.Itoa(int(e.RowNumber)), e.Col, e.Message, e.Cell)
			}
			if err := write(rows...); err != nil {
				return err
			}
			after = int(errs[len(errs)-1].Seq)
		}
	})
}

// importChangesCSV is GET /admin/imports/{id}/changes.csv: the preview's table of
// changes, one line per field (SKU, field: old → new) with each row's outcome once
// applied, to check a large import in a spreadsheet rather than page by page.
func (s *Server) importChangesCSV(w http.ResponseWriter, r *http.Request) error {
	imp, err := byPathID(r, s.imports.Get)
	if err != nil {
		return err
	}
	ctx := r.Context()
	names, err := s.imports.CategoryNames(ctx)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("import-%d-changes.csv", imp.ID)
	header := []string{"row", "sku", "product", "kind", "field", "old", "new", "outcome", "message"}
	return s.streamCSV(w, r, name, header, func(write func(...[]string) error) error {
		after := 0
		for {
			changes, err := s.imports.Changes(ctx, imp.ID, after, 1000)
			if err != nil || len(changes) == 0 {
				return err
			}
			var rows [][]string
			for _, c := range changes {
				for _, f := range s.fieldChanges(c.Changes, names) {
					rows = append(rows, safeCells(strconv.Itoa(int(c.RowNumber)), c.Sku, c.Repr, c.Kind, f.Field, f.Old, f.New,
						c.Outcome, c.Message))
				}
			}
			if err := write(rows...); err != nil {
				return err
			}
			after = int(changes[len(changes)-1].RowNumber)
		}
	})
}

// importsPage is the history of imports.
type importsPage struct {
	Layout
	Imports []importView
	Older   string
	CanAdd  bool
}

// listImports is GET /admin/imports/: past imports, newest first, 50 a page
// (?before=ID for older ones).
func (s *Server) listImports(w http.ResponseWriter, r *http.Request) error {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	rows, err := s.imports.List(r.Context(), before, keyset.DefaultLimit+1)
	if err != nil {
		return err
	}
	pg := &importsPage{Layout: Layout{Title: "Imports"}, CanAdd: auth.FromContext(r.Context()).Can("products.change")}
	if len(rows) > keyset.DefaultLimit {
		rows = rows[:keyset.DefaultLimit]
		pg.Older = fmt.Sprintf("%s?before=%d", importsPath, rows[len(rows)-1].ID)
	}
	now := time.Now()
	for _, imp := range rows {
		pg.Imports = append(pg.Imports, viewOf(imp, now))
	}
	return s.render(w, r, http.StatusOK, "imports/list", pg)
}
