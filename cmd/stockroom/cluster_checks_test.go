package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The checks of TestCluster beyond the fault loads: the admin's flows, orders and
// stock under a SIGKILL, the rate limit and a stopped replica, all through haproxy.

// apiCall sends one API request with token; key "" sends no Idempotency-Key.
func apiCall(t *testing.T, token, method, u, body string, header ...string) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// apiOK is apiCall for a request that must succeed: a status of 300 or more fails
// the test. It returns the body.
func apiOK(t *testing.T, token, method, u, body string, header ...string) []byte {
	t.Helper()
	code, b, _ := apiCall(t, token, method, u, body, header...)
	if code >= 300 {
		t.Fatalf("%s %s = %d %s", method, u, code, b)
	}
	return b
}

// stockItem is a product of one variant made for the order load.
type stockItem struct {
	product, variant int64
	sku              string
	initial          int
}

// newStockItem creates an active product with one variant of stock units.
func newStockItem(t *testing.T, front, token, sku string, stock int) stockItem {
	t.Helper()
	body := fmt.Sprintf(`{"name": %q, "slug": %q, "status": "active", "variants": [{"sku": %q, "title": "One", "price_cents": 1250, "stock": %d}]}`,
		"Item "+sku, strings.ToLower(sku), sku, stock)
	code, b, _ := apiCall(t, token, "POST", front+"/api/v1/products", body)
	if code != http.StatusCreated {
		t.Fatalf("create product %s: %d %s", sku, code, b)
	}
	var p struct {
		ID       int64 `json:"id"`
		Variants []struct {
			ID int64 `json:"id"`
		} `json:"variants"`
	}
	if err := json.Unmarshal(b, &p); err != nil || len(p.Variants) != 1 {
		t.Fatalf("create product %s: %v %s", sku, err, b)
	}
	return stockItem{product: p.ID, variant: p.Variants[0].ID, sku: sku, initial: stock}
}

// startOrders places orders of one or two units of a random item through the front,
// each with its own Idempotency-Key and a customer of its own named by the key (so
// the database tells which key each stored order came from). An order the stock
// cannot fill (409 naming the stock) is a final answer: nothing was written.
func startOrders(front, token string, workers int, items []stockItem) *load {
	return startLoad(front, token, workers, true, func(w, n int) request {
		key := fmt.Sprintf("order-%d-%d", w, n)
		it := items[rand.IntN(len(items))]
		return request{method: "POST", path: "/api/v1/orders", key: key,
			body: fmt.Sprintf(`{"customer": {"email": "%s@example.com", "name": %q}, "lines": [{"variant_id": %d, "quantity": %d}]}`,
				key, key, it.variant, 1+rand.IntN(2))}
	}, func(status int, body []byte) verdict {
		if status == http.StatusConflict && strings.Contains(string(body), "Not enough stock") {
			return refused
		}
		return writeVerdict(http.StatusCreated)(status, body)
	})
}

// startRestocks adds 2 units to a random item every 300 ms, as a careful client
// does: it reads the variant and PATCHes its stock with If-Match, so a lost answer
// retried after it was applied, or a race with an order, is a 412 (refused, no blind
// overwrite), never a second restock.
func startRestocks(t *testing.T, front, token string, items []stockItem) *load {
	return startLoad(front, token, 1, true, func(w, n int) request {
		time.Sleep(300 * time.Millisecond)
		it := items[rand.IntN(len(items))]
		path := fmt.Sprintf("/api/v1/products/%d/variants/%d", it.product, it.variant)
		var v struct {
			Stock int `json:"stock"`
		}
		var etag string
		for { // a read that meets the killed copy is read again
			req, _ := http.NewRequest("GET", front+path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK && json.Unmarshal(b, &v) == nil {
					etag = resp.Header.Get("ETag")
					break
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		return request{method: "PATCH", path: path, key: fmt.Sprintf("restock-%d", n),
			header: http.Header{"If-Match": {etag}}, body: fmt.Sprintf(`{"stock": %d}`, v.Stock+2)}
	}, func(status int, body []byte) verdict {
		if status == http.StatusPreconditionFailed {
			return refused
		}
		return writeVerdict(http.StatusOK)(status, body)
	})
}

// checkOrders asserts that every acknowledged order is stored exactly once, and
// that no item was oversold: each one's stock is its initial stock, plus what the
// restocks added (the stock_changed events' after - before, the server's own
// record), minus the units of every stored order line, and never below zero.
func checkOrders(t *testing.T, dbURL string, acked []string, items []stockItem) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT split_part(c.email, '@', 1), count(*) FROM orders o
		JOIN customers c ON c.id = o.customer_id WHERE c.email LIKE 'order-%' GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for rows.Next() {
		var key string
		var n int
		if err := rows.Scan(&key, &n); err != nil {
			t.Fatal(err)
		}
		stored[key] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var bad []string
	for _, k := range acked {
		if stored[k] != 1 {
			bad = append(bad, fmt.Sprintf("%s(%d)", k, stored[k]))
		}
	}
	for k, n := range stored {
		if n > 1 {
			bad = append(bad, fmt.Sprintf("%s stored %d times", k, n))
		}
	}
	if len(bad) > 0 {
		t.Errorf("orders not stored exactly once: %v", bad)
	}
	total := 0
	for _, it := range items {
		var stock, ordered, restocked int
		err := conn.QueryRow(ctx, `SELECT v.stock,
			(SELECT coalesce(sum(quantity), 0) FROM order_lines WHERE variant_id = v.id),
			(SELECT coalesce(sum((e.payload->'changes'->$2->>1)::int - (e.payload->'changes'->$2->>0)::int), 0)
			   FROM events e WHERE e.type = 'variant.stock_changed' AND e.object_id = v.product_id)
			FROM product_variants v WHERE v.id = $1`, it.variant, "variants["+it.sku+"].stock").Scan(&stock, &ordered, &restocked)
		if err != nil {
			t.Fatal(err)
		}
		total += ordered
		t.Logf("%s: initial %d + restocked %d - ordered %d = %d; in stock %d", it.sku, it.initial, restocked, ordered,
			it.initial+restocked-ordered, stock)
		if stock < 0 || stock != it.initial+restocked-ordered {
			t.Errorf("%s oversold or miscounted: in stock %d, want %d + %d - %d", it.sku, stock, it.initial, restocked, ordered)
		}
	}
	t.Logf("orders: %d acknowledged, %d stored, %d units", len(acked), len(stored), total)
}

// adminThroughFront signs in through haproxy and edits a product, archives it with a
// bulk action and exports the list, each request going to whichever copy haproxy
// picks: the session, its flash messages and the CSRF-free form posts work on every
// copy. It checks that every copy served some of the admin's requests.
func adminThroughFront(t *testing.T, c *cluster, front, token, email string) {
	it := newStockItem(t, front, token, "ADMIN-1", 7)
	before := make([]float64, len(c.copies))
	for i, cp := range c.copies {
		before[i] = routeCount(t, cp.addr, `"GET /admin/products/{id}/{$}"`)
	}
	s := adminSession(t, front, email)
	editPath := fmt.Sprintf("%s/admin/products/%d/", front, it.product)
	var form string
	for range 3 { // the edit page, from each copy in turn
		form = s.get(t, editPath)
	}
	field := func(name string) string {
		t.Helper()
		i := strings.Index(form, `name="`+name+`"`)
		if i < 0 {
			t.Fatalf("the edit form has no field %s", name)
		}
		tag := form[strings.LastIndex(form[:i], "<"):]
		tag = tag[:strings.Index(tag, ">")]
		_, v, ok := strings.Cut(tag, `value="`)
		if !ok {
			return ""
		}
		return v[:strings.Index(v, `"`)]
	}
	edit := url.Values{"name": {"Edited through haproxy"}, "slug": {field("slug")}, "status": {"active"},
		"version": {field("version")}, "rows": {"1"},
		"variants[0].id": {field("variants[0].id")}, "variants[0].version": {field("variants[0].version")},
		"variants[0].sku": {"ADMIN-1"}, "variants[0].title": {"One"}, "variants[0].price_cents": {"12.50"},
		"variants[0].stock": {"7"}}
	if resp := s.post(t, editPath, edit); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save the product: %d, want 303", resp.StatusCode)
	}
	if body := s.get(t, editPath); !strings.Contains(body, "Edited through haproxy") {
		t.Error("the edit page after the save lacks the new name")
	}
	back := "/admin/products/?q=haproxy"
	archive := url.Values{"action": {"archive"}, "ids": {fmt.Sprint(it.product)}, "back": {back}}
	resp, err := s.PostForm(front+"/admin/products/actions", archive)
	if err != nil {
		t.Fatal(err)
	}
	confirm, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(confirm), "active → archived") {
		t.Fatalf("the bulk archive's confirmation: %d %.500s", resp.StatusCode, confirm)
	}
	archive.Set("confirm", "1")
	if resp := s.post(t, front+"/admin/products/actions", archive); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm the bulk archive: %d, want 303", resp.StatusCode)
	}
	// The flash was set by one copy and is shown by the next one.
	if body := s.get(t, front+back); !strings.Contains(body, "set to archived") {
		t.Error("the list after the bulk action lacks its message")
	}
	if body := s.get(t, front+back); strings.Contains(body, "set to archived") {
		t.Error("the bulk action's message shows twice")
	}
	csvBody := s.get(t, front+"/admin/products/export.csv?q=haproxy")
	recs, err := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("export: %v, %d records:\n%s", err, len(recs), csvBody)
	}
	if row := strings.Join(recs[1], ","); !strings.Contains(row, "Edited through haproxy") || !strings.Contains(row, "archived") {
		t.Errorf("exported row %q lacks the edit or the archive", row)
	}
	for i, cp := range c.copies {
		if n := routeCount(t, cp.addr, `"GET /admin/products/{id}/{$}"`) - before[i]; n < 1 {
			t.Errorf("copy %d served none of the edit pages: haproxy did not spread the session's requests", i+1)
		}
	}
}

// routeCount is the number of requests copy addr's /metrics counts for route (its
// quoted label value), any status.
func routeCount(t *testing.T, addr, route string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var n float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "stockroom_http_requests_total{") || !strings.Contains(line, "route="+route) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
		if err == nil {
			n += v
		}
	}
	return n
}

// rateLimitAcrossCopies restarts the copies with a limit of perMinute, spends a
// fresh token's burst through haproxy, and then counts what the cluster lets through
// in window once the bucket is empty: the configured rate, within 10%.
func rateLimitAcrossCopies(t *testing.T, c *cluster, front, token string, perMinute int, window time.Duration) {
	c.env = append(c.env, fmt.Sprintf("STOCKROOM_API_RATE_LIMIT=%d", perMinute))
	var wg sync.WaitGroup
	for i := range c.copies {
		wg.Go(func() {
			if err := c.signalCopy(i, syscall.SIGTERM, 30*time.Second); err != nil {
				t.Error(err)
				return
			}
			if err := c.restartCopy(context.Background(), i); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	time.Sleep(1500 * time.Millisecond) // haproxy's rise
	before := make([]float64, len(c.copies))
	for i, cp := range c.copies {
		before[i] = routeCount(t, cp.addr, `"GET /api/v1/me"`)
	}
	type answer struct {
		at     time.Time
		status int
	}
	var (
		mu      sync.Mutex
		answers []answer
		empty   time.Time // the first 429
		stop    = make(chan struct{})
		done    sync.WaitGroup
		client  = &http.Client{Timeout: 10 * time.Second}
		errs    int
		started = time.Now()
	)
	for range 4 {
		done.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				at := time.Now()
				req, _ := http.NewRequest("GET", front+"/api/v1/me", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				mu.Lock()
				if err != nil {
					errs++
				} else {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					answers = append(answers, answer{at, resp.StatusCode})
					if resp.StatusCode == http.StatusTooManyRequests && empty.IsZero() {
						empty = at
					}
				}
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	deadline := time.After(2*time.Minute + window)
	for {
		mu.Lock()
		e := empty
		mu.Unlock()
		if !e.IsZero() && time.Since(e) > window+time.Second {
			break
		}
		select {
		case <-deadline:
			close(stop)
			done.Wait()
			t.Fatalf("the burst of %d was never spent (%d answers)", perMinute, len(answers))
		case <-time.After(100 * time.Millisecond):
		}
	}
	close(stop)
	done.Wait()
	var burst, in, refused, other int
	for _, a := range answers {
		switch {
		case a.status != http.StatusOK && a.status != http.StatusTooManyRequests:
			other++
		case a.at.Before(empty) && a.status == http.StatusOK:
			burst++
		case !a.at.Before(empty) && a.at.Before(empty.Add(window)):
			if a.status == http.StatusOK {
				in++
			} else {
				refused++
			}
		}
	}
	want := float64(perMinute) / 60 * window.Seconds()
	t.Logf("limit %d a minute: burst %d allowed in %s; then in %s: %d allowed (%.1f/s, want %.1f/s), %d refused; %d other answers, %d errors",
		perMinute, burst, empty.Sub(started).Round(time.Millisecond), window, in, float64(in)/window.Seconds(),
		want/window.Seconds(), refused, other, errs)
	if float64(in) < want*0.9 || float64(in) > want*1.1 {
		t.Errorf("%d requests allowed in %s past the burst, want %.0f ± 10%%", in, window, want)
	}
	// The bucket starts full and refills while it is spent.
	if full := float64(perMinute) * (1 + empty.Sub(started).Minutes()); float64(burst) < full*0.9 || float64(burst) > full*1.1 {
		t.Errorf("the burst let %d through, want %.0f (a full bucket and its refill) ± 10%%", burst, full)
	}
	if other+errs > 0 {
		t.Errorf("%d answers neither 200 nor 429, %d errors", other, errs)
	}
	var spread []string
	for i, cp := range c.copies {
		n := routeCount(t, cp.addr, `"GET /api/v1/me"`) - before[i]
		spread = append(spread, fmt.Sprint(n))
		if n < float64(len(answers))/10 {
			t.Errorf("copy %d answered %.0f of %d requests: haproxy did not spread them", i+1, n, len(answers))
		}
	}
	t.Logf("requests per copy: %s", strings.Join(spread, ", "))
}

// replicaStopped stops the replica under the running copies: every read through
// haproxy still answers (from the primary) and shows a write made just before, each
// copy's /readyz says 200 degraded naming the replica, so haproxy keeps them all in.
func replicaStopped(t *testing.T, c *cluster, front, token string) {
	if err := c.replica.Stop(); err != nil {
		t.Fatal(err)
	}
	code, b, _ := apiCall(t, token, "POST", front+"/api/v1/categories", `{"name": "After the replica", "slug": "after-the-replica"}`)
	if code != http.StatusCreated {
		t.Fatalf("write with the replica stopped: %d %s", code, b)
	}
	for i := range 12 {
		code, b, _ := apiCall(t, token, "GET", front+"/api/v1/categories?q=after+the+replica", "")
		if code != http.StatusOK || !strings.Contains(string(b), "after-the-replica") {
			t.Errorf("read %d with the replica stopped: %d %.300s", i, code, b)
		}
	}
	for i, cp := range c.copies {
		deadline := time.Now().Add(15 * time.Second)
		for {
			code, body := get(t, "http://"+cp.addr+"/readyz")
			if code == http.StatusOK && strings.Contains(body, `"status":"degraded"`) && strings.Contains(body, "replica") {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("copy %d's /readyz with the replica stopped: %d %s, want 200 degraded naming the replica", i+1, code, body)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if code, body := get(t, front+"/readyz"); code != http.StatusOK {
		t.Errorf("haproxy's /readyz with the replica stopped: %d %s", code, body)
	}
}

// orphanTakenOver leaves, as a copy killed mid-request would, a claim in flight on
// an Idempotency-Key that names the killed copy's process (its api_instances row,
// no longer written), and sends that request through haproxy until it is answered:
// the key must be taken over once the heartbeat is 5 s old, not after 10 minutes,
// and the category stored once.
func orphanTakenOver(t *testing.T, dbURL, front, token string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var dead uuid.UUID
	var age float64
	if err := conn.QueryRow(ctx, `SELECT id, extract(epoch FROM now() - seen_at) FROM api_instances
		WHERE seen_at < now() - interval '1 second' ORDER BY seen_at DESC LIMIT 1`).Scan(&dead, &age); err != nil {
		t.Fatalf("the killed copy's heartbeat row: %v", err)
	}
	var tokenID int64
	if err := conn.QueryRow(ctx, `SELECT id FROM api_tokens WHERE name = 'load'`).Scan(&tokenID); err != nil {
		t.Fatal(err)
	}
	body := `{"name": "Orphan", "slug": "orphan"}`
	sum := sha256.Sum256([]byte("POST /api/v1/categories\n" + body))
	if _, err := conn.Exec(ctx, `INSERT INTO idempotency_keys (principal, key, request_hash, instance, claim)
		VALUES ($1, 'orphan', $2, $3, gen_random_uuid())`, fmt.Sprintf("token:%d", tokenID), sum[:], dead); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	inFlight := 0
	for {
		code, b, _ := apiCall(t, token, "POST", front+"/api/v1/categories", body, "Idempotency-Key", "orphan")
		if code == http.StatusCreated {
			break
		}
		if code != http.StatusConflict && code < 500 {
			t.Fatalf("the orphaned key: %d %s", code, b)
		}
		if code == http.StatusConflict {
			inFlight++
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("the orphaned key is still not taken over after %s (last %d %s)", time.Since(start), code, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("a claim of the killed copy (heartbeat %.1f s old when it was left) was taken over after %s (%d answers 409 in flight first)",
		age, time.Since(start).Round(time.Millisecond), inFlight)
	if inFlight == 0 {
		t.Error("the orphaned claim was taken over at once: the killed copy's heartbeat was not 5 s old yet")
	}
	if n := countSlug(t, dbURL, "orphan"); n != 1 {
		t.Errorf("the orphaned key's category stored %d times, want 1", n)
	}
}

// cachesDropped checks that what a copy keeps in memory follows a change made
// elsewhere within a second: a token revoked (the principals cache, dropped by
// NOTIFY stockroom_auth) is refused by every copy, and a category created through
// one copy shows in every copy's category tree (its cached tree is keyed by the
// categories' version).
func cachesDropped(t *testing.T, c *cluster, env map[string]string, front, adminToken, email string) {
	ctx := context.Background()
	code, out, stderr := stockroom(ctx, env, "token", "create", "--email", email, "--name", "revokee", "--scope", "write")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, stderr)
	}
	tok := strings.TrimSpace(out)
	for i, cp := range c.copies { // every copy caches the token's principal
		if code, b, _ := apiCall(t, tok, "GET", "http://"+cp.addr+"/api/v1/me", ""); code != http.StatusOK {
			t.Fatalf("copy %d before the revocation: %d %s", i+1, code, b)
		}
	}
	s := adminSession(t, front, email)
	for _, cp := range c.copies { // every copy keeps its category tree
		s.get(t, "http://"+cp.addr+"/admin/categories/")
	}
	var id int64
	conn, err := pgx.Connect(ctx, env["STOCKROOM_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	err = conn.QueryRow(ctx, `SELECT id FROM api_tokens WHERE name = 'revokee'`).Scan(&id)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	within := func(what string, ok func(i int, addr string) bool) {
		t.Helper()
		start := time.Now()
		var took []string
		for i, cp := range c.copies {
			for !ok(i, cp.addr) {
				if time.Since(start) > 5*time.Second {
					t.Fatalf("%s: copy %d still stale after 5 s", what, i+1)
				}
				time.Sleep(20 * time.Millisecond)
			}
			took = append(took, time.Since(start).Round(time.Millisecond).String())
		}
		t.Logf("%s: every copy followed within %s (%s)", what, took[len(took)-1], strings.Join(took, ", "))
		if time.Since(start) > time.Second {
			t.Errorf("%s took %s, want within a second", what, time.Since(start))
		}
	}
	if code, _, stderr := stockroom(ctx, env, "token", "revoke", fmt.Sprint(id)); code != 0 {
		t.Fatalf("token revoke: %d %s", code, stderr)
	}
	within("a revoked token refused", func(_ int, addr string) bool {
		code, _, _ := apiCall(t, tok, "GET", "http://"+addr+"/api/v1/me", "")
		return code == http.StatusUnauthorized
	})
	if code, b, _ := apiCall(t, adminToken, "POST", "http://"+c.copies[0].addr+"/api/v1/categories", `{"name": "Fresh", "slug": "fresh-tree"}`); code != http.StatusCreated {
		t.Fatalf("create a category on copy 1: %d %s", code, b)
	}
	within("a new category in the tree", func(_ int, addr string) bool {
		return strings.Contains(s.get(t, "http://"+addr+"/admin/categories/"), "<code>fresh-tree</code>")
	})
}
