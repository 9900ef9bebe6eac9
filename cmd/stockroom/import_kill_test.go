package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stockroom-dev/stockroom/internal/seed"
)

// importKillProductsEnv sets how many products TestServeKilledMidImportResumes
// seeds (default 3,000, about 6 batches); the 100,000-row run is
// STOCKROOM_TEST_IMPORT_KILL_PRODUCTS=50000 (seeded products have two variants on
// average, one row each).
const importKillProductsEnv = "STOCKROOM_TEST_IMPORT_KILL_PRODUCTS"

// #17 acceptance 5: a serve process SIGKILLed in the middle of applying an import,
// then restarted. At the kill every product is wholly updated or untouched, and the
// import's applied count is exactly the rows of the updated products; the restarted
// serve resumes the import (the periodic resume job runs when a working process
// starts) and applies the rest, each row once.
func TestServeKilledMidImportResumes(t *testing.T) {
	products := 3000
	if s := os.Getenv(importKillProductsEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a number of products", importKillProductsEnv, s)
		}
		products = n
	}
	ctx := context.Background()
	url, st := withAda(t)
	if _, err := st.Pool().Exec(ctx, "UPDATE users SET is_superuser = true"); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Run(ctx, st, seed.Options{Products: products, Categories: 10}); err != nil {
		t.Fatal(err)
	}
	// The file: every variant's stock raised by 1,000, so that each row changes.
	rows, _ := st.Pool().Query(ctx, "SELECT sku, stock FROM product_variants ORDER BY product_id, id")
	var file strings.Builder
	file.WriteString("sku,stock\n")
	total := 0
	var sku string
	var stock int64
	if _, err := pgx.ForEachRow(rows, []any{&sku, &stock}, func() error {
		fmt.Fprintf(&file, "%s,%d\n", sku, stock+1000)
		total++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, "CREATE TABLE kill_before AS SELECT id, product_id, stock FROM product_variants"); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	env := map[string]string{"STOCKROOM_DATABASE_URL": url, "STOCKROOM_ADDR": addr}
	_, secret, _ := stockroom(ctx, env, "token", "create", "--email", "ada@example.com", "--name", "ci", "--scope", "write")
	token := strings.TrimSpace(secret)
	base := "http://" + addr
	type state struct {
		status         string
		applied, fails int
	}
	importState := func(id int64) state {
		t.Helper()
		var s state
		if err := st.Pool().QueryRow(ctx, "SELECT status, applied, conflicts + failed FROM imports WHERE id = $1", id).
			Scan(&s.status, &s.applied, &s.fails); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// updated counts the products whose variants all carry the file's stock, and
	// fails the test for any product only partly written.
	updated := func() (products, variants int) {
		t.Helper()
		rows, _ := st.Pool().Query(ctx, `SELECT b.product_id, count(*) FILTER (WHERE v.stock = b.stock + 1000), count(*)
			FROM kill_before b JOIN product_variants v ON v.id = b.id GROUP BY b.product_id`)
		var id, done, all int64
		if _, err := pgx.ForEachRow(rows, []any{&id, &done, &all}, func() error {
			switch done {
			case 0:
			case all:
				products++
				variants += int(all)
			default:
				t.Errorf("product %d: %d of its %d variants written, want none or all", id, done, all)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return products, variants
	}

	first := startServe(t, env)
	var imp struct {
		ID     int64
		Status string
		Counts struct{ Update, Errors int }
	}
	if err := json.Unmarshal(apiOK(t, token, "POST", base+"/api/v1/imports?dry_run=true&file_name=stock.csv", file.String(), "Content-Type", "text/csv"), &imp); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for s := importState(imp.ID); s.status != "planned"; s = importState(imp.ID) {
		if s.status == "failed" || time.Now().After(deadline) {
			t.Fatalf("import %d is %s, want planned", imp.ID, s.status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := json.Unmarshal(apiOK(t, token, "GET", fmt.Sprintf("%s/api/v1/imports/%d", base, imp.ID), ""), &imp); err != nil {
		t.Fatal(err)
	}
	if imp.Counts.Update != total || imp.Counts.Errors != 0 {
		t.Fatalf("planned %d updates and %d errors, want %d and none", imp.Counts.Update, imp.Counts.Errors, total)
	}
	began := time.Now()
	apiOK(t, token, "POST", fmt.Sprintf("%s/api/v1/imports/%d/apply", base, imp.ID), "")
	// Kill once the first batch has committed and before the last (the import stays
	// "planned" until a worker takes the apply job).
	deadline = time.Now().Add(5 * time.Minute)
	for s := importState(imp.ID); s.applied == 0; s = importState(imp.ID) {
		if (s.status != "planned" && s.status != "applying") || time.Now().After(deadline) {
			t.Fatalf("import %d is %s with %d applied, want it applying", imp.ID, s.status, s.applied)
		}
		time.Sleep(5 * time.Millisecond)
	}
	first.kill(t)
	at := importState(imp.ID)
	p, v := updated()
	t.Logf("killed %s into the apply: import %s, %d rows applied; %d products (%d variants) written of %d rows",
		time.Since(began).Round(time.Millisecond), at.status, at.applied, p, v, total)
	if at.status != "applying" || at.applied >= total {
		t.Fatalf("at the kill the import is %s with %d of %d applied: the kill came too late to test anything", at.status, at.applied, total)
	}
	if at.applied != v || at.fails != 0 {
		t.Errorf("the import says %d rows applied (%d conflicts or failures), the database holds %d written variants",
			at.applied, at.fails, v)
	}

	startServe(t, env)
	deadline = time.Now().Add(5 * time.Minute)
	for s := importState(imp.ID); s.status != "applied"; s = importState(imp.ID) {
		if s.status == "failed" || s.status == "cancelled" || time.Now().After(deadline) {
			t.Fatalf("after the restart import %d is %s with %d applied, want applied", imp.ID, s.status, s.applied)
		}
		time.Sleep(50 * time.Millisecond)
	}
	end := importState(imp.ID)
	p, v = updated()
	if end.applied != total || end.fails != 0 || v != total {
		t.Errorf("after the restart: %d rows applied, %d conflicts or failures, %d variants written; want all %d",
			end.applied, end.fails, v, total)
	}
	var audited int
	if err := st.Pool().QueryRow(ctx, `SELECT count(DISTINCT object_id) FROM audit_log WHERE resource = 'products'`).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if audited != p {
		t.Errorf("%d products audited, want %d (each written product once, none twice)", audited, p)
	}
	t.Logf("the restarted serve finished the import: %d products, %d rows in %s in all", p, v, time.Since(began).Round(time.Millisecond))
}
