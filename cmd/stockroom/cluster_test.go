package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stockroom-dev/stockroom/internal/dbtest"
)

// clusterEnv opts in to TestCluster (make test-cluster): it builds the binary and
// runs a whole local cluster (primary, replica, pgbouncer, three copies, haproxy),
// a minute or two of a machine's time that `make test` does not spend.
const clusterEnv = "STOCKROOM_TEST_CLUSTER"

// TestCluster runs the checks through haproxy in front of three serve
// copies (behind pgbouncer, with a replica):
//   - state shared by the copies: idempotency keys, cursors, sign-in throttling;
//   - the admin through haproxy: sign in, edit a product, a bulk action, an export;
//   - caches (principals, the category tree) follow a change on every copy within a
//     second;
//   - SIGKILL of a copy under a steady write load (categories, orders, stock PATCHes)
//     whose client retries with the same Idempotency-Key: every acknowledged write is
//     in the database, exactly once, and no stock is oversold;
//   - a rolling restart (SIGTERM one copy at a time, start it again) under read and
//     write load: the client sees no failed request;
//   - the API rate limit, spread over the copies, at its configured rate ±10%;
//   - the replica stopped: the copies read from the primary, /readyz says degraded.
func TestCluster(t *testing.T) {
	if os.Getenv(clusterEnv) == "" {
		t.Skipf("set %s=1 (make test-cluster) to run the local cluster's fault checks", clusterEnv)
	}
	ctx := context.Background()
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil { // the servers run as postgres when root
			t.Fatal(err)
		}
	}
	bin := filepath.Join(base, "stockroom")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var logs dbtest.LogBuffer
	addr := freeAddr(t)
	c, err := startCluster(ctx, bin, filepath.Join(base, "cluster"), addr, 3, nil, &logs, nil)
	if err != nil {
		t.Fatalf("start the cluster: %v\n%s", err, logs.String())
	}
	defer c.stop()
	defer func() {
		if t.Failed() {
			t.Logf("cluster log (last 60 lines):\n%s", lastLines([]byte(logs.String()), 60))
		}
	}()
	direct := c.primary.URL("stockroom")
	env := map[string]string{"STOCKROOM_DATABASE_URL": direct}
	for _, email := range []string{"ada@example.com", "bob@example.com"} {
		if code, _, stderr := stockroomIn(ctx, env, "a long enough password 1\n", "createsuperuser",
			"--email", email, "--password-stdin"); code != 0 {
			t.Fatalf("createsuperuser %s: %d %s", email, code, stderr)
		}
	}
	code, out, stderr := stockroom(ctx, env, "token", "create", "--email", "ada@example.com", "--name", "load", "--scope", "write")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, stderr)
	}
	token := strings.TrimSpace(out)
	front := "http://" + addr

	t.Run("state is shared by the copies", func(t *testing.T) {
		copyURL := func(i int) string { return "http://" + c.copies[i].addr }
		api := func(method, u, key, body string) (int, string) {
			t.Helper()
			req, _ := http.NewRequest(method, u, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if key != "" {
				req.Header.Set("Idempotency-Key", key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		// One Idempotency-Key sent to two copies at once: one write.
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i := range 2 {
			wg.Go(func() {
				statuses[i], _ = api("POST", copyURL(i)+"/api/v1/categories", "same-key", `{"name": "Twice", "slug": "twice"}`)
			})
		}
		wg.Wait()
		for _, st := range statuses {
			if st != http.StatusCreated && st != http.StatusConflict {
				t.Errorf("same key on two copies: statuses %v, want 201 and 201 (replay) or 409", statuses)
			}
		}
		if n := countSlug(t, direct, "twice"); n != 1 {
			t.Errorf("same key on two copies stored %d categories, want 1", n)
		}
		// A cursor made by one copy is accepted by another.
		for i := range 3 {
			api("POST", front+"/api/v1/categories", "", fmt.Sprintf(`{"name": "Page %d", "slug": "page-%d"}`, i, i))
		}
		code, body := api("GET", copyURL(0)+"/api/v1/categories?limit=1", "", "")
		var page struct {
			NextCursor *string `json:"next_cursor"`
		}
		if err := json.Unmarshal([]byte(body), &page); code != 200 || err != nil || page.NextCursor == nil {
			t.Fatalf("first page from copy 1: %d %v %.200s", code, err, body)
		}
		if code, body := api("GET", copyURL(1)+"/api/v1/categories?limit=1&cursor="+url.QueryEscape(*page.NextCursor), "", ""); code != 200 {
			t.Errorf("copy 1's cursor on copy 2: %d %.300s", code, body)
		}
		// Sign-in failures count across copies: five wrong passwords spread over
		// the three, then the right one on another is refused.
		for i := range 5 {
			resp, err := http.PostForm(copyURL(i%3)+"/admin/login", url.Values{"email": {"ada@example.com"}, "password": {"wrong password 123"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noRedirect.PostForm(copyURL(2)+"/admin/login", url.Values{"email": {"ada@example.com"}, "password": {"a long enough password 1"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("right password after 5 failures on other copies: %d, want 429", resp.StatusCode)
		}
	})

	t.Run("the admin works through haproxy", func(t *testing.T) {
		adminThroughFront(t, c, front, token, "bob@example.com") // ada's sign-in is throttled by now
	})

	t.Run("caches follow a change on every copy within a second", func(t *testing.T) {
		cachesDropped(t, c, env, front, token, "bob@example.com")
	})

	t.Run("SIGKILL under write load loses no acknowledged write", func(t *testing.T) {
		var items []stockItem
		for i := range 3 {
			items = append(items, newStockItem(t, front, token, fmt.Sprintf("KILL-%d", i), 5))
		}
		load := startWrites(front, token, "kill", 2, true)
		orders := startOrders(front, token, 3, items)
		restocks := startRestocks(t, front, token, items)
		time.Sleep(2 * time.Second)
		if err := c.signalCopy(0, syscall.SIGKILL, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		orphanTakenOver(t, direct, front, token)
		if err := c.restartCopy(ctx, 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		acked, stats := load.stop()
		ordered, ostats := orders.stop()
		_, rstats := restocks.stop()
		t.Logf("orders acknowledged %d, refused for stock %d, retried %d, given up %d (%s); restocks %d, refused (412) %d, retried %d, given up %d (%s)",
			len(ordered), ostats.refused, ostats.retried, ostats.failed, ostats.first,
			rstats.ok, rstats.refused, rstats.retried, rstats.failed, rstats.first)
		if ostats.failed+rstats.failed > 0 {
			t.Errorf("%d orders and %d restocks were never answered", ostats.failed, rstats.failed)
		}
		if len(ordered) == 0 || rstats.ok == 0 || ostats.refused == 0 {
			t.Error("the order or restock load did not run, or the stock never ran out")
		}
		// A key whose write the killed copy committed and never answered: the retry
		// is told so (409) instead of running it again; it is stored exactly once.
		if len(orders.lost) > 0 {
			t.Logf("orders applied by the killed copy, answers lost: %v", orders.lost)
		}
		checkOrders(t, direct, append(ordered, orders.lost...), items)
		if len(load.lost) > 0 {
			t.Logf("categories applied by the killed copy, answers lost: %v", load.lost)
		}
		acked = append(acked, load.lost...)
		t.Logf("writes acknowledged %d; attempts that failed and were retried %d; given up %d (%s)", len(acked), stats.retried, stats.failed, stats.first)
		t.Logf("keys found in flight (409) and then acknowledged: %d categories, %d orders; the longest wait %s "+
			"(a killed copy's claims are taken over 5 s after its last heartbeat)", stats.waited, ostats.waited,
			max(stats.longestWait, ostats.longestWait).Round(time.Millisecond))
		if stats.failed > 0 {
			t.Errorf("%d writes were never acknowledged; first: %s", stats.failed, stats.first)
		}
		if len(acked) == 0 {
			t.Fatal("no write was acknowledged")
		}
		checkWrites(t, direct, "kill", acked)
	})

	t.Run("rolling SIGTERM restart fails no request", func(t *testing.T) {
		writes := startWrites(front, token, "roll", 2, false)
		reads := startReads(front, token, 2)
		for i := range c.copies {
			if err := c.signalCopy(i, syscall.SIGTERM, 30*time.Second); err != nil {
				t.Fatal(err)
			}
			if err := c.restartCopy(ctx, i); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond) // haproxy's rise: 2 checks 500 ms apart
		}
		acked, ws := writes.stop()
		_, rs := reads.stop()
		t.Logf("writes %d (failed %d), reads %d (failed %d)", len(acked), ws.failed, rs.ok, rs.failed)
		if ws.failed+rs.failed > 0 {
			t.Errorf("%d writes and %d reads failed during the rolling restart, want none; first: %s %s",
				ws.failed, rs.failed, ws.first, rs.first)
		}
		if rs.ok == 0 || len(acked) == 0 {
			t.Error("the load did not run")
		}
		checkWrites(t, direct, "roll", acked)
	})

	t.Run("the rate limit holds across the copies", func(t *testing.T) {
		code, out, stderr := stockroom(ctx, env, "token", "create", "--email", "ada@example.com", "--name", "limited", "--scope", "read")
		if code != 0 {
			t.Fatalf("token create: %d %s", code, stderr)
		}
		rateLimitAcrossCopies(t, c, front, strings.TrimSpace(out), 1200, 10*time.Second)
	})

	t.Run("with the replica stopped the copies read from the primary", func(t *testing.T) {
		replicaStopped(t, c, front, token)
	})
}

type loadStats struct {
	ok, failed, retried int64
	refused             int64 // final answers that wrote nothing
	waited              int64 // writes acknowledged after a 409 "still being processed"
	longestWait         time.Duration
	first               string // the first failure
}

type load struct {
	stopped atomic.Bool
	wg      sync.WaitGroup
	mu      sync.Mutex
	acked   []string
	lost    []string // keys whose write was applied by a killed copy, its answer lost
	stats   loadStats
}

func (l *load) fail(what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats.failed++
	if l.stats.first == "" {
		l.stats.first = what
	}
}

func (l *load) stop() ([]string, loadStats) {
	l.stopped.Store(true)
	l.wg.Wait()
	return l.acked, l.stats
}

// request is one logical write of a load, sent again with the same key and body
// after a lost answer.
type request struct {
	method, path, body string
	header             http.Header // besides the token, the key and the content type
	key                string      // the Idempotency-Key, also the name of what it writes
}

// verdict is what a load makes of one answer.
type verdict int

const (
	acked       verdict = iota // the write is done: count it
	refused                    // a final answer that writes nothing (out of stock, a stale If-Match)
	again                      // no answer, a 5xx or a 409 (the key in flight): send it again
	appliedLost                // 409: the first attempt was applied, its answer lost (its copy died)
	wrong                      // the test's mistake
)

// writeVerdict judges a write whose success is want: a lost answer, a 5xx or a 409
// (the same key in flight) is worth sending again; anything else is the test's
// mistake.
func writeVerdict(want int) func(status int, body []byte) verdict {
	return func(status int, body []byte) verdict {
		switch {
		case status == want:
			return acked
		case status == http.StatusConflict && strings.Contains(string(body), "applied but its response was lost"):
			return appliedLost
		case status == 0 || status >= 500 || status == http.StatusConflict:
			return again
		}
		return wrong
	}
}

// startLoad runs workers that each send next(worker, n) for n = 0, 1, ... through
// the front until stopped. With retry, an answer judged again is sent again with the
// same key and body until it is judged otherwise; without, it counts as failed.
// Acknowledged keys are kept.
func startLoad(front, token string, workers int, retry bool, next func(w, n int) request,
	judge func(status int, body []byte) verdict) *load {
	l := &load{}
	client := &http.Client{Timeout: 30 * time.Second}
	for w := range workers {
		l.wg.Go(func() {
			for n := 0; !l.stopped.Load(); n++ {
				r := next(w, n)
				var waited time.Time // when a 409 "still being processed" first came
				for began := time.Now(); ; {
					req, _ := http.NewRequest(r.method, front+r.path, strings.NewReader(r.body))
					maps.Copy(req.Header, r.header)
					req.Header.Set("Authorization", "Bearer "+token)
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Idempotency-Key", r.key)
					resp, err := client.Do(req)
					status, body := 0, []byte(nil)
					if err == nil {
						body, _ = io.ReadAll(resp.Body)
						resp.Body.Close()
						status = resp.StatusCode
					}
					v := judge(status, body)
					if status == http.StatusConflict && strings.Contains(string(body), "still being processed") && waited.IsZero() {
						waited = time.Now() // a claim in flight, perhaps of a killed copy
					}
					if v == acked {
						l.mu.Lock()
						l.acked = append(l.acked, r.key)
						l.stats.ok++
						if !waited.IsZero() {
							l.stats.waited++
							l.stats.longestWait = max(l.stats.longestWait, time.Since(waited))
						}
						l.mu.Unlock()
						break
					}
					if v == refused {
						l.mu.Lock()
						l.stats.refused++
						l.mu.Unlock()
						break
					}
					if v == appliedLost {
						// The killed copy committed the write and died before
						// answering: the key says so instead of running it again.
						l.mu.Lock()
						l.lost = append(l.lost, r.key)
						l.mu.Unlock()
						break
					}
					if retry && time.Since(began) > 30*time.Second {
						// A killed copy's claim is taken over 5 s after its last
						// heartbeat (internal/api/idempotency.go): 30 s is far past it.
						l.fail(fmt.Sprintf("%s %s (%s): still %d after 30 s of retries: %.200s", r.method, r.path, r.key, status, body))
						break
					}
					if !retry || v == wrong {
						l.fail(fmt.Sprintf("%s %s (%s): %d %v %.200s", r.method, r.path, r.key, status, err, body))
						break
					}
					l.mu.Lock()
					l.stats.retried++
					l.mu.Unlock()
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	return l
}

// startWrites creates categories through the front, each with its own
// Idempotency-Key (its slug).
func startWrites(front, token, prefix string, workers int, retry bool) *load {
	return startLoad(front, token, workers, retry, func(w, n int) request {
		slug := fmt.Sprintf("%s-%d-%d", prefix, w, n)
		return request{method: "POST", path: "/api/v1/categories", key: slug,
			body: fmt.Sprintf(`{"name": %q, "slug": %q}`, slug, slug)}
	}, writeVerdict(http.StatusCreated))
}

// startReads reads the category list and the product list through the front.
func startReads(front, token string, workers int) *load {
	l := &load{}
	client := &http.Client{Timeout: 30 * time.Second}
	for range workers {
		l.wg.Go(func() {
			for i := 0; !l.stopped.Load(); i++ {
				path := []string{"/api/v1/categories?limit=20", "/api/v1/products?limit=20"}[i%2]
				req, _ := http.NewRequest("GET", front+path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					l.fail(fmt.Sprintf("GET %s: %v", path, err))
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					l.fail(fmt.Sprintf("GET %s: %d", path, resp.StatusCode))
					continue
				}
				l.mu.Lock()
				l.stats.ok++
				l.mu.Unlock()
			}
		})
	}
	return l
}

// checkWrites asserts that every acknowledged slug is in the database once, and
// that nothing under prefix was written that the client did not ask for.
func checkWrites(t *testing.T, url, prefix string, acked []string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT slug FROM categories WHERE slug LIKE $1 || '-%'", prefix)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]int{}
	for _, s := range stored {
		have[s]++
	}
	var lost bytes.Buffer
	for _, s := range acked {
		if have[s] != 1 {
			fmt.Fprintf(&lost, " %s(%d)", s, have[s])
		}
	}
	if lost.Len() > 0 {
		t.Errorf("acknowledged writes not stored exactly once:%s", lost.String())
	}
	t.Logf("%s: %d acknowledged, %d stored (a write whose answer was lost and whose retry did not come is stored unacknowledged)", prefix, len(acked), len(stored))
}

// lastLines returns the last n lines of out.
func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func countSlug(t *testing.T, dbURL, slug string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM categories WHERE slug = $1", slug).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
