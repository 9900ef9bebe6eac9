package admin

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/seed"
)

// The export is exactly the filtered, ordered list, quoted by encoding/csv, with
// every cell a spreadsheet would run as a formula defused.
func TestExportCSV(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cat := a.category("Tricky", 0)
	// The catalog trims names, so a leading tab or carriage return is tested on
	// safeCells alone (TestSafeCells).
	want := map[string]string{ // name → its cell
		`=HYPERLINK("http://evil.example","click")`: `'=HYPERLINK("http://evil.example","click")`,
		"+1+2": "'+1+2", "-3": "'-3", "@SUM(A1:A9)": "'@SUM(A1:A9)",
		`Comma, "quoted"`: `Comma, "quoted"`, "Line\nbreak": "Line\nbreak", "Plain lamp": "Plain lamp",
	}
	i := 0
	for n := range want {
		a.product(n, cat, fmt.Sprintf("TR-%d", i))
		i++
	}
	a.product("Elsewhere", 0, "=SKU")
	c := a.signedIn(viewEmail)
	r := c.get(fmt.Sprintf("/admin/products/export.csv?category=%d&sort=-name", cat))
	must(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || !strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("headers: %v", r.header)
	}
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, r.body)
	}
	if got := strings.Join(rows[0], ","); got != "id,name,slug,status,category,sku,variants,price_min (EUR),price_max (EUR),stock,updated_at" {
		t.Errorf("header %q", got)
	}
	var got []string
	for _, row := range rows[1:] {
		got = append(got, row[1])
		if row[4] != "Tricky" || row[7] != "10.00" || row[9] != "10" {
			t.Errorf("row %q", row)
		}
	}
	// The rows are the list's, in its order (by name, descending), each cell as wanted.
	list := rowsOf(t, c.get(fmt.Sprintf("/admin/products/?category=%d&sort=-name", cat)).body)
	if len(got) != len(list) || len(list) != len(want) {
		t.Fatalf("export has %d rows, the list %d, want %d", len(got), len(list), len(want))
	}
	for i := range list {
		if got[i] != want[list[i]] {
			t.Errorf("row %d: export %q, want %q (the list's %q)", i, got[i], want[list[i]], list[i])
		}
	}
	// A SKU cell is defused too; a search narrows the export like the list.
	r = c.get("/admin/products/export.csv?q=elsewhere")
	if rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll(); err != nil || len(rows) != 2 || rows[1][5] != "'=SKU" {
		t.Errorf("search export: %q (%v)", rows, err)
	}
	// Nothing matches: the header alone.
	if r := c.get("/admin/products/export.csv?q=nothing-at-all"); strings.Count(r.body, "\n") != 1 {
		t.Errorf("empty export: %q", r.body)
	}
}

// gate is a pgx tracer that holds the nth statement containing match until the
// test releases it: the export's second batch waits while the test reads the first.
type gate struct {
	match   string
	nth     int
	mu      sync.Mutex
	seen    int
	reached chan struct{}
	release chan struct{}
	expired atomic.Bool // the guard let the statement go: nobody released it
}

func (g *gate) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if !strings.Contains(d.SQL, g.match) {
		return ctx
	}
	g.mu.Lock()
	g.seen++
	n := g.seen
	g.mu.Unlock()
	if n == g.nth {
		close(g.reached)
		select {
		case <-g.release:
		case <-time.After(time.Minute): // a deadlock guard, not a timing: the test fails on expired
			g.expired.Store(true)
		}
	}
	return ctx
}

func (*gate) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// The export streams: the first batch reaches the client while the second is not
// even asked for (the gate holds its statement), so nothing is buffered whole.
// Memory is one batch (keyset.ExportBatch rows) by construction.
func TestExportStreams(t *testing.T) {
	t.Parallel()
	g := &gate{match: "ListProductsByNameAsc", nth: 2, reached: make(chan struct{}), release: make(chan struct{})}
	a := newTestAppWith(t, auth.Options{}, g)
	if _, err := seed.Run(context.Background(), a.st, seed.Options{Products: 2500, Categories: 5}); err != nil {
		t.Fatal(err)
	}
	c := a.signedIn(viewEmail)
	resp, err := c.c.Get(a.srv.URL + "/admin/products/export.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength != -1 {
		t.Fatalf("status %d, length %d; want 200 and a stream of unknown length", resp.StatusCode, resp.ContentLength)
	}
	br := bufio.NewReader(resp.Body)
	cr := csv.NewReader(br)
	for i := range 1001 { // the header and the first batch
		if _, err := cr.Read(); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	// Had the handler buffered the file, the first rows could only have come once
	// the held statement went on, which nobody but the guard lets it do.
	if g.expired.Load() {
		t.Fatal("the first batch arrived only after the export went on: it is buffered, not streamed")
	}
	<-g.reached
	close(g.release)
	rest, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 1500 {
		t.Errorf("%d more rows after the first batch, want 1500", len(rest))
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Error(err)
	}
}

func TestSafeCells(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"=1+2", "'=1+2"}, {"+1", "'+1"}, {"-1", "'-1"}, {"@A1", "'@A1"}, {"\tx", "'\tx"}, {"\rx", "'\rx"},
		{"", ""}, {"plain", "plain"}, {"a=b", "a=b"}, {" =x", " =x"}, {"12.50", "12.50"},
	}
	for _, tt := range tests {
		if got := safeCells(tt.in)[0]; got != tt.want {
			t.Errorf("safeCells(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
