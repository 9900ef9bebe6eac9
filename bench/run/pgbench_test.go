package main

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/seed"
	"github.com/stockroom-dev/stockroom/internal/store"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// The pgbench scripts are copies of the statements stockroom runs
// (bench/pgbench/README.md), so the database limit measures stockroom's SQL: each
// must be sqlc's generated text, but for the parameters, which are pgbench
// variables, NULL for an optional filter left out, or {{...}} for the harness. A
// query changed in db/queries and not here fails this test.
func TestPgbenchScriptsAreTheGeneratedQueries(t *testing.T) {
	tests := []struct {
		script string   // in bench/pgbench
		file   string   // in internal/db
		query  string   // the generated query's constant
		params []string // what the script has for $1, $2, ...
	}{
		{"token.sql", "api_tokens.sql.go", "authenticateAPIToken", []string{":tokenhash::bytea"}},
		{"list.sql", "products.sql.go", "listProductsByNameAsc", []string{
			"NULL", "NULL", "NULL", "NULL", "NULL", // status, category_ids, stock_min, stock_max, updated_since
			"NULL", "NULL", "NULL", "false", ":row_limit"}}, // pattern, after_id, after_value, match_first
		{"s4.sql", "products.sql.go", "searchProductWordsByNameAsc", []string{
			":max_words", "NULL", "NULL", ":row_limit", "{{pattern}}"}}, // after_id, after_value: a first page
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			generated := generatedQuery(t, filepath.Join("..", "..", "internal", "db", tt.file), tt.query)
			_, generated, _ = strings.Cut(generated, "\n") // sqlc's "-- name: X :many"
			for i := len(tt.params); i >= 1; i-- {         // $10 before $1
				generated = strings.ReplaceAll(generated, "$"+strconv.Itoa(i), tt.params[i-1])
			}
			if strings.Contains(generated, "$") {
				t.Fatalf("%s has more parameters than the %d the test knows", tt.query, len(tt.params))
			}
			data, err := os.ReadFile(filepath.Join("..", "pgbench", tt.script))
			if err != nil {
				t.Fatal(err)
			}
			got := strings.TrimSuffix(strings.TrimSpace(string(data)), ";")
			want := strings.TrimSpace(generated)
			if got != want {
				gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
				for i := range max(len(gl), len(wl)) {
					g, w := "(none)", "(none)"
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Fatalf("bench/pgbench/%s is not %s (internal/db/%s) with its parameters filled in: line %d is\n%s\nwant\n%s\nthe whole statement:\n%s;",
							tt.script, tt.query, tt.file, i+1, g, w, want)
					}
				}
			}
		})
	}
}

// generatedQuery returns the string constant name of the Go file path.
func generatedQuery(t *testing.T, path, name string) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			if len(v.Names) != 1 || v.Names[0].Name != name || len(v.Values) != 1 {
				continue
			}
			lit, ok := v.Values[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Fatalf("%s in %s is not a string literal", name, path)
			}
			q, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			return q
		}
	}
	t.Fatalf("no constant %s in %s", name, path)
	return ""
}

// S4's database limit runs, per word, the token lookup and the one statement
// stockroom runs for a search of one word (SearchProductWordsByNameAsc), and pgbench
// runs every script; a word stockroom would search another way (not one word, or in
// catalog.MaxWords words or more) is an error rather than a wrong reference.
func TestPgbenchScriptsS4(t *testing.T) {
	if err := lookPgbench(t); err != nil {
		t.Fatal(err)
	}
	url := dbtest.NewURL(t)
	ctx := context.Background()
	b := &bench{cfg: config{threads: 1}, out: io.Discard, scratch: t.TempDir(), dbURL: url,
		notes: map[int][]string{}, in: inputs{pmin: 1, pmax: 1, vmin: 1, words: seed.SearchWords()}}
	t.Chdir(filepath.Join("..", ".."))

	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close) // before the database is dropped: cleanups run last-in, first-out
	st := store.New(pool)
	if _, err := seed.Run(ctx, st, seed.Options{Products: 200}); err != nil {
		t.Fatal(err)
	}
	scripts, err := b.pgbenchScripts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts["S4"]) != len(b.in.words) {
		t.Fatalf("%d S4 scripts, want one per word, %d", len(scripts["S4"]), len(b.in.words))
	}
	for i, p := range scripts["S4"] {
		data, err := os.ReadFile(strings.TrimSuffix(p, "@1"))
		if err != nil {
			t.Fatal(err)
		}
		body := string(data)
		if n := strings.Count(body, ";"); n != 2 || strings.Contains(body, "EXPLAIN") || strings.Contains(body, "{{") ||
			!strings.Contains(body, "FROM product_words x") || !strings.Contains(body, fmt.Sprintf("lower(:pattern_%d::text)", i)) {
			t.Errorf("%s: want the token lookup and SearchProductWordsByNameAsc for :pattern_%d, no EXPLAIN:\n%s", p, i, body)
		}
	}
	// Each transaction picks a script at random: 400 run most of them, once
	// extended (the budget pass), once prepared (the measured windows).
	for _, run := range []struct {
		mode         string
		window       time.Duration
		transactions int
	}{{"extended", 0, 400}, {"prepared", time.Second, 0}} {
		r, err := b.pgbench(ctx, scripts["S4"], b.pgbenchVars(), 1, run.window, run.transactions)
		if err != nil || r.failed != 0 || r.transactions == 0 {
			t.Errorf("pgbench -M %s: %d transactions, %d failed, %v", run.mode, r.transactions, r.failed, err)
		}
	}

	b.in.words = []string{"Candle Holder"}
	if _, err := b.pgbenchScripts(ctx); err == nil || !strings.Contains(err.Error(), "not one word") {
		t.Errorf("two words: error %v, want one saying not one word", err)
	}
	for i := range 70 { // "qzx" is in 70 words: overflow
		if _, err := st.Pool().Exec(ctx, "INSERT INTO search_words (word) VALUES ($1)", fmt.Sprintf("qzx%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	b.in.words = []string{"Oak", "Qzx"}
	if _, err := b.pgbenchScripts(ctx); err == nil || !strings.Contains(err.Error(), `"Qzx" is in 64 words`) {
		t.Errorf("a word in 70 words: error %v, want one saying it is in 64 words or more", err)
	}
}

// lookPgbench finds pgbench on PATH or with the server binaries, and puts it on PATH.
func lookPgbench(t *testing.T) error {
	if _, err := exec.LookPath("pgbench"); err == nil {
		return nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if len(found) == 0 {
		return errors.New("pgbench is neither on PATH nor in /usr/lib/postgresql/*/bin: install the package postgresql")
	}
	t.Setenv("PATH", filepath.Dir(found[len(found)-1])+string(os.PathListSeparator)+os.Getenv("PATH"))
	return nil
}
