package admin

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/imports"
)

// uploadImport posts file as the import form does.
func (c *client) uploadImport(name string, file []byte) response {
	c.a.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		c.a.t.Fatal(err)
	}
	fw.Write(file)
	mw.Close()
	req, err := http.NewRequest("POST", c.a.srv.URL+"/admin/products/import", &body)
	if err != nil {
		c.a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// work does what the import job would: runs every unfinished import to its end
// (the job itself, on River, is tested in internal/imports).
func (a *testApp) work() {
	a.t.Helper()
	ctx := context.Background()
	ids, err := a.imp.Unfinished(ctx)
	if err != nil {
		a.t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := a.imp.Run(ctx, id); err != nil {
			a.t.Fatalf("run import %d: %v", id, err)
		}
	}
}

// worker runs work every 100 ms until the test ends, as a working queue would.
func (a *testApp) worker() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	a.t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if ids, err := a.imp.Unfinished(ctx); err == nil {
				for _, id := range ids {
					a.imp.Run(ctx, id)
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
}

// TestImportRoundTrip: the product list's own export, edited as in a spreadsheet,
// uploaded through the form: the preview shows exactly the edits, the apply makes
// exactly them, the product list shows them, and the file again changes nothing.
func TestImportRoundTrip(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cat := a.category("Chairs", 0)
	for i := range 12 {
		a.product(fmt.Sprintf("Chair %02d", i), cat, fmt.Sprintf("CH-%02d", i))
	}
	a.product("Two-seat bench", 0, "BE-1", "BE-2")
	c := a.signedIn(superEmail)
	r := c.get("/admin/products/export.csv?sort=name")
	must(t, r, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows[1:] {
		switch row[5] {
		case "CH-03":
			row[7], row[8] = "12.34", "12.34"
		case "CH-07":
			row[9] = "0"
		}
	}
	var edited bytes.Buffer
	w := csv.NewWriter(&edited)
	w.WriteAll(rows)

	r = c.uploadImport("products.csv", edited.Bytes())
	must(t, r, http.StatusSeeOther)
	page := r.header.Get("Location")
	if !strings.HasPrefix(page, "/admin/imports/") {
		t.Fatalf("upload went to %q", page)
	}
	must(t, c.get(page), http.StatusOK, "Preparing the preview", `hx-trigger="every 1s"`)
	a.work()
	r = c.get(page)
	must(t, r, http.StatusOK, "<strong>0</strong> to create, <strong>2</strong> to update, <strong>11</strong> unchanged, <strong>0</strong> with errors",
		"price: 10.00 → 12.34", "stock: 10 → 0", "Apply: 0 to create, 2 to update")

	must(t, c.post(page+"confirm", url.Values{}), http.StatusSeeOther)
	a.work()
	must(t, c.get(page), http.StatusOK, "Applied: 2 rows written, 0 conflicts left alone, 0 failed.")
	must(t, c.get("/admin/products/?q=CH-03"), http.StatusOK, "12.34")
	must(t, c.get("/admin/imports/"), http.StatusOK, "products.csv", "applied", superEmail)

	r = c.uploadImport("again.csv", edited.Bytes())
	must(t, r, http.StatusSeeOther)
	a.work()
	must(t, c.get(r.header.Get("Location")), http.StatusOK, "Nothing to change: every row matches what is stored.")
}

// TestImportBadInput: a file refused as a whole shows the form again with the
// reason (422, or 413 over the limit) and stores nothing; rows with errors show on
// the preview, download as CSV, and cannot be applied.
func TestImportBadInput(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.product("Chair", 0, "CH-1")
	c := a.signedIn(superEmail)
	must(t, c.get("/admin/products/import"), http.StatusOK, `enctype="multipart/form-data"`, "price_min (EUR)")
	must(t, c.uploadImport("x.xlsx", []byte("PK\x03\x04rest")), http.StatusUnprocessableEntity, "is a zip archive")
	must(t, c.uploadImport("x.csv", []byte("sku,colour\nCH-1,red\n")), http.StatusUnprocessableEntity, "column 2 &#34;colour&#34; is not a column of the product export")
	must(t, c.uploadImport("big.csv", bytes.Repeat([]byte("a"), imports.MaxFileSize+1)), http.StatusRequestEntityTooLarge, "larger than 50 MiB")
	if got := a.count(`SELECT count(*) FROM imports`); got != 0 {
		t.Errorf("%d imports stored from refused files", got)
	}

	r := c.uploadImport("bad.csv", []byte("sku,stock\nCH-1,-4\nCH-1,5\n"))
	must(t, r, http.StatusSeeOther)
	page := r.header.Get("Location")
	a.work()
	must(t, c.get(page), http.StatusOK, "2 rows have errors, so this file cannot be applied", "must be zero or more", "is also on row 2")
	r = c.get(page + "errors.csv")
	must(t, r, http.StatusOK, "row,column,message,cell\n2,stock,must be zero or more,'-4\n")
	if strings.Contains(c.get(page).body, "confirm-import") {
		t.Error("a preview with errors offers to apply it")
	}
	must(t, c.post(page+"confirm", url.Values{}), http.StatusSeeOther)
	a.work()
	if got := a.count(`SELECT count(*) FROM product_variants WHERE stock <> 10`); got != 0 {
		t.Errorf("%d variants changed by a file with errors", got)
	}

	// Only who may change products may import; a viewer sees the preview but no button.
	v := a.signedIn(viewEmail)
	must(t, v.get(page), http.StatusOK)
	if r := v.uploadImport("x.csv", []byte("sku,stock\nCH-1,1\n")); r.status != http.StatusForbidden {
		t.Errorf("viewer upload: status %d, want 403", r.status)
	}
	if r := v.post(page+"cancel", url.Values{}); r.status != http.StatusForbidden {
		t.Errorf("viewer cancel: status %d, want 403", r.status)
	}
}

func (a *testApp) count(sql string, args ...any) int {
	a.t.Helper()
	var n int
	if err := a.st.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// TestImportPreviewPages: the preview shows 50 changes a page, with a link to the
// next, and the history lists the import.
func TestImportPreviewPages(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	var b strings.Builder
	b.WriteString("sku,stock\n")
	for i := range 60 {
		a.product(fmt.Sprintf("Cup %02d", i), 0, fmt.Sprintf("CU-%02d", i))
		fmt.Fprintf(&b, "CU-%02d,%d\n", i, 100+i) // every one a change
	}
	c := a.signedIn(superEmail)
	r := c.uploadImport("cups.csv", []byte(b.String()))
	must(t, r, http.StatusSeeOther)
	page := r.header.Get("Location")
	a.work()
	r = c.get(page)
	must(t, r, http.StatusOK, "CU-49", "More changes")
	if strings.Contains(r.body, "CU-50") {
		t.Error("the first page shows more than 50 changes")
	}
	i := strings.Index(r.body, `<a href="`+page+`?changes_after=`)
	if i < 0 {
		t.Fatal("no link to the next page")
	}
	next := r.body[i+len(`<a href="`):]
	next = strings.ReplaceAll(next[:strings.Index(next, `"`)], "&amp;", "&")
	r = c.get(next)
	must(t, r, http.StatusOK, "CU-50", "CU-59")
	if strings.Contains(r.body, "CU-49") || strings.Contains(r.body, "More changes") {
		t.Error("the second page repeats the first or offers a third")
	}
	must(t, c.get("/admin/imports/"), http.StatusOK, "cups.csv", "planned")

	// The whole table of changes downloads as CSV, one line per field, as the issue
	// asks of both tables.
	must(t, c.get(page), http.StatusOK, `href="`+page+`changes.csv"`)
	r = c.get(page + "changes.csv")
	must(t, r, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 61 || strings.Join(rows[0], ",") != "row,sku,product,kind,field,old,new,outcome,message" {
		t.Fatalf("changes.csv: %d lines, header %v; want a header and 60 changes", len(rows), rows[0])
	}
	if got := strings.Join(rows[60][:5], ","); got != "61,CU-59,Cup 59,update,stock" || rows[60][6] != "159" {
		t.Errorf("changes.csv's last line %v, want row 61's stock change to 159", rows[60])
	}
}

// While an import is under way its page, and the progress fragment that replaces
// itself, listen to the event stream for the import's own events (and the stream's
// reopening) and poll only every 10 s besides.
func TestImportProgressListensToTheStream(t *testing.T) {
	t.Parallel()
	a := newLiveApp(t)
	a.product("Cup", 0, "CU-1")
	c := a.signedIn(superEmail)
	r := c.uploadImport("cups.csv", []byte("sku,stock\nCU-1,5\n"))
	must(t, r, http.StatusSeeOther)
	page := r.header.Get("Location")
	id := strings.TrimSuffix(strings.TrimPrefix(page, "/admin/imports/"), "/")
	want := `hx-trigger="sse:imports-` + id + `, htmx:sseOpen from:closest main, every 10s"`
	must(t, c.get(page), http.StatusOK, want, `sse-connect="/admin/events`)
	must(t, c.get(page+"progress?seen=queued"), http.StatusOK, want)
}
