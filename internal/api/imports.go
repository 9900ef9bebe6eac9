package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/imports"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// CSV imports (internal/imports) through the API: POST /api/v1/imports takes the
// file as the body (text/csv) or as the "file" part of a multipart form, and plans
// it in the background; with dry_run=false it is applied as soon as the plan shows
// no errors. GET /api/v1/imports/{id} says how far it is, its counts and its errors
// (paginated); POST .../apply applies a dry run, POST .../cancel stops one.

// maxImportBody is the body limit of POST /api/v1/imports: the largest file and a
// multipart envelope around it.
const maxImportBody = imports.MaxFileSize + 64<<10

// importJSON is an import as the API shows it.
type importJSON struct {
	ID               int64             `json:"id"`
	FileName         string            `json:"file_name"`
	FileSize         int64             `json:"file_size"`
	Status           string            `json:"status"`
	DryRun           bool              `json:"dry_run"`
	CreatedBy        string            `json:"created_by"`
	Counts           importCountsJSON  `json:"counts"`
	Progress         importProgressRow `json:"progress"`
	Failure          string            `json:"failure"`
	Errors           []importErrorJSON `json:"errors"`
	ErrorsTotal      int32             `json:"errors_total"`
	ErrorsCapped     bool              `json:"errors_capped"`
	NextErrorsCursor *string           `json:"next_errors_cursor"`
	CreatedAt        time.Time         `json:"created_at"`
	PlannedAt        *time.Time        `json:"planned_at"`
	FinishedAt       *time.Time        `json:"finished_at"`
}

type importCountsJSON struct {
	Create    int32 `json:"create"`
	Update    int32 `json:"update"`
	Unchanged int32 `json:"unchanged"`
	Errors    int32 `json:"errors"`
	Applied   int32 `json:"applied"`
	Conflicts int32 `json:"conflicts"`
	Failed    int32 `json:"failed"`
}

type importProgressRow struct {
	RowsDone   int32 `json:"rows_done"`
	RowsTotal  int32 `json:"rows_total"`
	ETASeconds int64 `json:"eta_seconds"`
}

type importErrorJSON struct {
	Row     int32  `json:"row"`
	Column  string `json:"column"`
	Message string `json:"message"`
	Cell    string `json:"cell"`
}

func importOf(imp db.Import, errs []db.ImportError, next *string) importJSON {
	out := importJSON{ID: imp.ID, FileName: imp.FileName, FileSize: imp.FileSize, Status: imp.Status,
		DryRun: !imp.ApplyRequested, CreatedBy: imp.ActorLabel,
		Counts: importCountsJSON{Create: imp.ToCreate, Update: imp.ToUpdate, Unchanged: imp.Unchanged,
			Errors: imp.ErrorRows, Applied: imp.Applied, Conflicts: imp.Conflicts, Failed: imp.Failed},
		Progress: importProgressRow{RowsDone: imp.RowsDone, RowsTotal: imp.RowsTotal,
			ETASeconds: int64(imports.ETA(imp, time.Now()).Round(time.Second) / time.Second)},
		Failure: imp.Failure, Errors: make([]importErrorJSON, len(errs)), ErrorsTotal: imp.ErrorsTotal,
		ErrorsCapped: imp.ErrorsCapped, NextErrorsCursor: next,
		CreatedAt: imp.CreatedAt.UTC(), PlannedAt: utcOrNil(imp.PlannedAt), FinishedAt: utcOrNil(imp.FinishedAt)}
	for i, e := range errs {
		out.Errors[i] = importErrorJSON{Row: e.RowNumber, Column: e.Col, Message: e.Message, Cell: e.Cell}
	}
	return out
}

// createImport answers POST /api/v1/imports: 202 with the import, queued for
// planning. A file refused as a whole is a 422 on "file" and stores nothing.
func (s *Server) createImport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for name := range q {
		if name != "dry_run" && name != "file_name" {
			return badParam(name, "is not a parameter of this route (dry_run, file_name)")
		}
	}
	dryRun := true
	if v := q.Get("dry_run"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return badParam("dry_run", "must be true or false")
		}
		dryRun = b
	}
	name := q.Get("file_name")
	data, partName, err := readImportBody(r)
	if err != nil {
		return err
	}
	if name == "" {
		name = partName
	}
	p := auth.FromContext(r.Context())
	imp, err := s.imports.Create(r.Context(), imports.Upload{FileName: name, Data: data, Actor: actor(r),
		CanCreate: p.Can("products.add"), Apply: !dryRun})
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/imports/%d", imp.ID))
	return writeJSON(w, http.StatusAccepted, importOf(imp, nil, nil))
}

// readImportBody reads the file of POST /api/v1/imports: the body itself for
// text/csv, the "file" part for multipart/form-data. It returns the part's file
// name, if any.
func readImportBody(r *http.Request) ([]byte, string, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mt = ""
	}
	tooLarge := func(err error) error {
		if errors.As(err, new(*http.MaxBytesError)) {
			return &clientError{kind: err, detail: fmt.Sprintf("The file is larger than %d MiB: split it into smaller files.", imports.MaxFileSize>>20)}
		}
		return fmt.Errorf("%w: %w", web.ErrBadRequest, err)
	}
	switch mt {
	case "text/csv", "text/plain", "application/csv":
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, "", tooLarge(err)
		}
		return data, "", nil
	case "multipart/form-data":
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, "", badRequest("The multipart body cannot be read: %s.", err)
		}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return nil, "", badParam("file", "is missing: send the CSV file as the part named \"file\"")
			}
			if err != nil {
				return nil, "", tooLarge(err)
			}
			if part.FormName() != "file" {
				continue
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return nil, "", tooLarge(err)
			}
			return data, part.FileName(), nil
		}
	}
	return nil, "", &clientError{kind: web.ErrUnsupportedMediaType,
		detail: "Send the file as text/csv, or as the part \"file\" of multipart/form-data."}
}

// getImport answers GET /api/v1/imports/{id}: the import with a page of its errors
// (?limit, ?cursor from next_errors_cursor).
func (s *Server) getImport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	for name := range q {
		if name != "limit" && name != "cursor" {
			return badParam(name, "is not a parameter of this route (limit, cursor)")
		}
	}
	limit, err := limitParam(q)
	if err != nil {
		return err
	}
	after := 0
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return badParam("cursor", "is not a cursor this route gave")
		}
		after = n
	}
	imp, err := s.imports.Get(r.Context(), id)
	if err != nil {
		return err
	}
	errs, err := s.imports.Errors(r.Context(), id, after, limit+1)
	if err != nil {
		return err
	}
	var next *string
	if len(errs) > limit {
		errs = errs[:limit]
		c := strconv.Itoa(int(errs[len(errs)-1].Seq))
		next = &c
	}
	return writeJSON(w, http.StatusOK, importOf(imp, errs, next))
}

// applyImport answers POST /api/v1/imports/{id}/apply: apply a dry run. 409 when it
// has errors or has been applied or cancelled.
func (s *Server) applyImport(w http.ResponseWriter, r *http.Request) error {
	return s.importAction(w, r, s.imports.Confirm,
		"This import cannot be applied: it has errors, or it is applied, cancelled or under way already.")
}

// cancelImport answers POST /api/v1/imports/{id}/cancel: discard a dry run, or stop
// an apply after its batch under way. 409 when it has ended.
func (s *Server) cancelImport(w http.ResponseWriter, r *http.Request) error {
	return s.importAction(w, r, s.imports.Cancel, "This import has ended already.")
}

func (s *Server) importAction(w http.ResponseWriter, r *http.Request, act func(ctx context.Context, id int64) (db.Import, error), conflict string) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	imp, err := act(r.Context(), id)
	if errors.Is(err, store.ErrConflict) {
		return &clientError{kind: store.ErrConflict, detail: conflict}
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, importOf(imp, nil, nil))
}
