package admin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/seed"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/web/session"
)

// benchEmail is the user the benchmark signs in as. On a database of its own
// (STOCKROOM_BENCH_DATABASE_URL) it is created, or its password reset, first.
const benchEmail = "bench@example.com"

// Acceptance 4: the product list page through the real handler, signed in: the
// first page, a deep keyset page (the one before the last), a search (a common
// word, and a phrase) and a category filter, each with its count. Against STOCKROOM_BENCH_DATABASE_URL when
// set (a database seeded with `stockroom seed --products 1000000`), else a small
// seeded test database. Each scenario logs its count line once, which says
// "about N" when the planner's estimate was used.
//
//	STOCKROOM_BENCH_DATABASE_URL=postgres://... go test ./internal/admin -run '^$' -bench ProductList -count 5
func BenchmarkProductList(b *testing.B) {
	ctx := context.Background()
	w, get := benchAdmin(b, func(st *store.Store) error {
		_, err := seed.Run(ctx, st, seed.Options{Products: 5000, Categories: 20})
		return err
	})

	tree, err := w.cat.CategoryTree(ctx)
	if err != nil || len(tree) == 0 {
		b.Fatalf("categories: %d (%v)", len(tree), err)
	}
	last := get("/admin/products/?last=1")
	deep := extractHref(b, last, `rel="prev"`)
	scenarios := []struct{ name, path string }{
		{"first", "/admin/products/"},
		{"first-100", "/admin/products/?size=100"}, // make bench's S5
		{"deep", deep},
		{"search", "/admin/products/?q=walnut"},          // one word: 1 product in 30
		{"search-phrase", "/admin/products/?q=oak+lamp"}, // two words: 1 in 1,200
		{"category", fmt.Sprintf("/admin/products/?category=%d", tree[0].ID)},
	}
	for _, sc := range scenarios {
		b.Run(sc.name, func(b *testing.B) {
			body := get(sc.path)
			b.Logf("%s: %s, %d rows", sc.path, countOf(body), strings.Count(body, `<td class="name">`))
			cpu := processCPU(b)
			for b.Loop() {
				get(sc.path)
			}
			b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// benchAdmin is the admin wired for a benchmark on STOCKROOM_BENCH_DATABASE_URL when
// set, else on a test database that fill seeds, with the bench superuser signed in.
// get fetches a page as them through the handler and fails on anything but 200.
// The orders' clock is the real one: seeded orders are placed before now.
func benchAdmin(b *testing.B, fill func(*store.Store) error) (wired, func(path string) string) {
	ctx := context.Background()
	var st *store.Store
	if url := os.Getenv("STOCKROOM_BENCH_DATABASE_URL"); url != "" {
		var err error
		if st, err = store.Open(ctx, url, store.Options{}); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(st.Close)
	} else {
		st = store.New(dbtest.NewWithConfig(b, func(c *pgxpool.Config) { store.Tune(c) }))
		if err := fill(st); err != nil {
			b.Fatal(err)
		}
	}
	w := wireWith(b, st, slog.New(slog.NewTextHandler(io.Discard, nil)), auth.Options{}, nil)
	if _, err := w.auth.CreateUser(ctx, nil, auth.UserInput{Email: benchEmail, Password: password, Active: true, Superuser: true}); err != nil {
		if fieldErrors(err) == nil {
			b.Fatal(err)
		}
		if err := w.auth.SetPasswordByEmail(ctx, benchEmail, password); err != nil {
			b.Fatal(err)
		}
	}
	cookie := benchSignIn(b, w.handler)
	return w, func(path string) string {
		req := httptest.NewRequest("GET", path, nil)
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		w.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d\n%.500s", path, rec.Code, rec.Body.String())
		}
		return rec.Body.String()
	}
}

// benchSignIn signs the bench user in through the handler and returns the session
// cookie.
func benchSignIn(b *testing.B, h http.Handler) *http.Cookie {
	b.Helper()
	form := url.Values{"email": {benchEmail}, "password": {password}}
	req := httptest.NewRequest("POST", "/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == session.CookieName {
			return c
		}
	}
	b.Fatalf("sign in: %d, no session cookie", rec.Code)
	return nil
}

// processCPU is the CPU time this process has used, user and system: the server's
// work for a page without PostgreSQL's (another process) and without the time spent
// waiting for it, which ns/op includes and which a loaded machine inflates.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// countOf is a list page's count line.
func countOf(body string) string {
	const open = `<p class="count" id="list-count">`
	i := strings.Index(body, open)
	if i < 0 {
		return "(no count)"
	}
	rest := body[i+len(open):]
	return rest[:strings.Index(rest, "<")]
}
