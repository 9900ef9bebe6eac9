package api

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/imports"
)

// importer is a token of a user who may view, change and add products.
func (h *harness) importer(t testing.TB, scope string) string {
	t.Helper()
	id := h.user(t, fmt.Sprintf("importer%d@example.com", h.seq.Add(1)), "products.view", "products.change", "products.add")
	return h.token(t, id, scope)
}

// run does what the import job would.
func (h *harness) run(t testing.TB, id int64) {
	t.Helper()
	if _, err := h.imports.Run(context.Background(), id); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) firstStock(t testing.TB, id int64) int32 {
	t.Helper()
	p, err := h.catalog.Product(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p.Variants[0].Stock
}

// TestImportAPI: a dry run sent as text/csv, then applied; a multipart upload with
// dry_run=false applied at once; errors paginated; each refusal a problem.
func TestImportAPI(t *testing.T) {
	h := newHarness(t)
	p, err := h.catalog.CreateProduct(context.Background(), audit.System, catalog.ProductInput{Name: "Chair", Status: "active",
		Variants: []catalog.VariantInput{{SKU: "CH-1", PriceCents: 1000, Stock: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	tok := h.importer(t, auth.ScopeWrite)
	csvType := []string{"Content-Type", "text/csv"}

	// A dry run: planned, nothing written, then applied on request.
	r := h.call(t, "POST", "/api/v1/imports?file_name=stock.csv", tok, "sku,stock\nch-1,9\n", csvType...).want(t, http.StatusAccepted)
	var imp importJSON
	r.decode(t, &imp)
	if imp.Status != imports.StatusQueued || !imp.DryRun || r.header.Get("Location") != fmt.Sprintf("/api/v1/imports/%d", imp.ID) || imp.FileName != "stock.csv" {
		t.Fatalf("created %+v, Location %q", imp, r.header.Get("Location"))
	}
	h.run(t, imp.ID)
	h.call(t, "GET", fmt.Sprintf("/api/v1/imports/%d", imp.ID), tok, "").want(t, http.StatusOK).decode(t, &imp)
	if imp.Status != imports.StatusPlanned || imp.Counts.Update != 1 || h.firstStock(t, p.ID) != 5 {
		t.Fatalf("dry run: %+v, stock %d", imp, h.firstStock(t, p.ID))
	}
	h.call(t, "POST", fmt.Sprintf("/api/v1/imports/%d/apply", imp.ID), tok, "").want(t, http.StatusAccepted)
	h.run(t, imp.ID)
	h.call(t, "GET", fmt.Sprintf("/api/v1/imports/%d", imp.ID), tok, "").want(t, http.StatusOK).decode(t, &imp)
	if imp.Status != imports.StatusApplied || imp.Counts.Applied != 1 || h.firstStock(t, p.ID) != 9 || imp.Progress.RowsDone != 1 {
		t.Fatalf("applied: %+v, stock %d", imp, h.firstStock(t, p.ID))
	}
	if pr := h.call(t, "POST", fmt.Sprintf("/api/v1/imports/%d/apply", imp.ID), tok, "").want(t, http.StatusConflict).problem(t); !strings.Contains(pr.Detail, "cannot be applied") {
		t.Errorf("second apply: %+v", pr)
	}

	// multipart, applied at once.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "warehouse.csv")
	fw.Write([]byte("\ufeffsku;stock\nCH-1;12\n"))
	mw.Close()
	h.call(t, "POST", "/api/v1/imports?dry_run=false", tok, body.String(), "Content-Type", mw.FormDataContentType()).want(t, http.StatusAccepted).decode(t, &imp)
	h.run(t, imp.ID)
	h.call(t, "GET", fmt.Sprintf("/api/v1/imports/%d", imp.ID), tok, "").want(t, http.StatusOK).decode(t, &imp)
	if imp.Status != imports.StatusApplied || imp.FileName != "warehouse.csv" || h.firstStock(t, p.ID) != 12 {
		t.Fatalf("multipart: %+v, stock %d", imp, h.firstStock(t, p.ID))
	}

	// Rows with errors: dry_run=false fails with nothing written; errors page by page.
	h.call(t, "POST", "/api/v1/imports?dry_run=false", tok, "sku,stock\nCH-1,-1\nCH-1,3\nNOPE 1,4\n", csvType...).want(t, http.StatusAccepted).decode(t, &imp)
	h.run(t, imp.ID)
	h.call(t, "GET", fmt.Sprintf("/api/v1/imports/%d?limit=2", imp.ID), tok, "").want(t, http.StatusOK).decode(t, &imp)
	if imp.Status != imports.StatusFailed || imp.Counts.Errors != 3 || len(imp.Errors) != 2 || imp.NextErrorsCursor == nil ||
		imp.Errors[0] != (importErrorJSON{Row: 2, Column: "stock", Message: "must be zero or more", Cell: "-1"}) {
		t.Fatalf("errors: %+v", imp)
	}
	var rest importJSON
	h.call(t, "GET", fmt.Sprintf("/api/v1/imports/%d?limit=2&cursor=%s", imp.ID, *imp.NextErrorsCursor), tok, "").want(t, http.StatusOK).decode(t, &rest)
	// Row 4 has three errors (SKU with a space, no price, no name column): two here, one on the last page.
	if len(rest.Errors) != 2 || rest.Errors[0].Row != 4 || rest.NextErrorsCursor == nil || imp.ErrorsTotal != 5 {
		t.Errorf("second page: %+v, %d errors in all", rest.Errors, imp.ErrorsTotal)
	}
	if h.firstStock(t, p.ID) != 12 {
		t.Error("a file with errors was written")
	}

	// Refusals.
	tests := []struct {
		name, path, body, ctype string
		status                  int
		contains                string
	}{
		{"JSON body", "/api/v1/imports", `{"a":1}`, "application/json", http.StatusUnsupportedMediaType, "text/csv"},
		{"bad dry_run", "/api/v1/imports?dry_run=maybe", "sku,stock\n", "text/csv", http.StatusBadRequest, "dry_run"},
		{"unknown parameter", "/api/v1/imports?apply=1", "sku,stock\n", "text/csv", http.StatusBadRequest, "apply"},
		{"unknown column", "/api/v1/imports", "sku,colour\nCH-1,red\n", "text/csv", http.StatusUnprocessableEntity, `column 2 "colour" is not a column`},
		{"binary", "/api/v1/imports", "PK\x03\x04rest", "text/csv", http.StatusUnprocessableEntity, "zip archive"},
		{"too large", "/api/v1/imports", strings.Repeat("a", imports.MaxFileSize+65<<10), "text/csv", http.StatusRequestEntityTooLarge, "larger than 50 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr := h.call(t, "POST", tt.path, tok, tt.body, "Content-Type", tt.ctype).want(t, tt.status).problem(t)
			text := pr.Detail
			for _, e := range pr.Errors {
				text += " " + e.Field + ": " + e.Message
			}
			if !strings.Contains(text, tt.contains) {
				t.Errorf("problem %+v, want it to mention %q", pr, tt.contains)
			}
		})
	}
	h.call(t, "GET", "/api/v1/imports/999999", tok, "").want(t, http.StatusNotFound)
	h.call(t, "POST", "/api/v1/imports", h.importer(t, auth.ScopeRead), "sku,stock\nCH-1,1\n", csvType...).want(t, http.StatusForbidden)
}
