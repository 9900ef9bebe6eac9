package admin

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The third acceptance check in a real browser: upload a stock and price
// file, see the preview, confirm, watch the progress reach 100%, and see the result
// in the product list.
func TestBrowserImport(t *testing.T) {
	a := newLiveApp(t) // the progress follows the event stream

	for i := range 30 {
		a.product(fmt.Sprintf("Lamp %02d", i), 0, fmt.Sprintf("LA-%02d", i))
	}
	a.worker()
	var b strings.Builder
	b.WriteString("sku;stock;price_min (EUR)\n") // a spreadsheet in a decimal-comma locale writes semicolons
	for i := range 30 {
		fmt.Fprintf(&b, "la-%02d;%d;10.00\n", i, 100+i)
	}
	b.WriteString("LA-07;1;1.00\n") // a duplicate: fixed below
	file := filepath.Join(t.TempDir(), "warehouse.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := newTab(t)
	if err := browserSignIn(ctx, a.srv.URL, superEmail, "/admin/products/"); err != nil {
		t.Fatal(err)
	}
	upload := func() error {
		return chromedp.Do(ctx,
			chromedp.Click(chromedp.ID("import")),
			chromedp.WaitVisible(chromedp.ID("import-form")),
			chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}),
			chromedp.Click(chromedp.CSS("#import-form button[type=submit]")),
			chromedp.WaitVisible(chromedp.ID("import-meta")))
	}
	if err := upload(); err != nil {
		t.Fatal(err)
	}
	// The preview appears by itself once the job has planned the file.
	if err := waitText(ctx, "#error-list", "is also on row 9"); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "import-errors")
	if err := os.WriteFile(file, []byte(strings.TrimSuffix(b.String(), "LA-07;1;1.00\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(a.srv.URL+"/admin/products/")); err != nil {
		t.Fatal(err)
	}
	if err := upload(); err != nil {
		t.Fatal(err)
	}
	if err := waitText(ctx, "#import-counts", "30 to update"); err != nil {
		t.Fatal(err)
	}
	if err := waitText(ctx, "#change-list", "stock: 10 → 107"); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "import-preview")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("confirm-import"))); err != nil {
		t.Fatal(err)
	}
	// While applying, the progress listens to the event stream for the import's own
	// events; the poll besides comes every 10 s, so an outcome well within that came
	// over the stream.
	// (TestImportProgressListensToTheStream checks the fragment's attribute.)
	confirmed := time.Now()
	if err := waitText(ctx, "#import-outcome", "Applied: 30 rows written"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(confirmed); took > 7*time.Second {
		t.Errorf("the outcome showed %v after confirming: the 10 s poll, not the event stream", took)
	}
	pct, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("import-percent")))
	if err != nil || pct != "100%" {
		t.Errorf("progress %q (%v), want 100%%", pct, err)
	}
	screenshot(t, ctx, "import-applied")
	if err := chromedp.Do(ctx, chromedp.Navigate(a.srv.URL+"/admin/products/?q=LA-07")); err != nil {
		t.Fatal(err)
	}
	if err := waitText(ctx, "main", "107"); err != nil {
		t.Fatal(err)
	}
}
