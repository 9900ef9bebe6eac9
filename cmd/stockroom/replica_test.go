package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/dbtest"
)

// TestServeWithReplica runs serve with STOCKROOM_DATABASE_READ_URL on a real
// streaming replica: a session reads its own write at once even while the replica
// replays nothing, another session reads the replica's older data until the lag
// bound passes, and with the replica stopped the site works from the primary while
// /readyz and /metrics say the replica is bypassed.
func TestServeWithReplica(t *testing.T) {
	pair := dbtest.NewReplicated(t)
	ctx := context.Background()
	env := map[string]string{"STOCKROOM_DATABASE_URL": pair.PrimaryURL}
	for _, email := range []string{"ada@example.com", "bob@example.com"} {
		if code, _, stderr := stockroomIn(ctx, env, "a long enough password 1\n", "createsuperuser",
			"--email", email, "--password-stdin"); code != 0 {
			t.Fatalf("createsuperuser %s: exit %d: %s", email, code, stderr)
		}
	}
	pair.WaitReplayed()

	addr := freeAddr(t)
	env = map[string]string{"STOCKROOM_DATABASE_URL": pair.PrimaryURL, "STOCKROOM_DATABASE_READ_URL": pair.ReplicaURL,
		"STOCKROOM_REPLICA_MAX_LAG": "2s", "STOCKROOM_ADDR": addr, "STOCKROOM_REQUIRE_2FA": "off",
		"STOCKROOM_DATABASE_MAX_CONNS": "4", "STOCKROOM_SHUTDOWN_GRACE": "5s"}
	serveCtx, stop := context.WithCancel(ctx)
	done := make(chan int, 1)
	go func() {
		code, _, stderr := stockroom(serveCtx, env, "serve")
		if code != 0 {
			t.Errorf("serve exit %d: %s", code, stderr)
		}
		done <- code
	}()
	defer func() { stop(); <-done }()
	base := "http://" + addr
	waitFor(t, base+"/healthz")
	waitReady := func(want string) string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			code, body := get(t, base+"/readyz")
			if code == 200 && strings.Contains(body, want) {
				return body
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz = %d %q, want 200 with %s", code, body, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitReady(`"status":"ok"`)
	ada, bob := adminSession(t, base, "ada@example.com"), adminSession(t, base, "bob@example.com")

	pair.PauseReplay()
	resumed := false
	defer func() {
		if !resumed {
			pair.ResumeReplay()
		}
	}()
	resp := ada.post(t, base+"/admin/categories/new", url.Values{"name": {"Lamps"}, "slug": {"lamps"}, "position": {"0"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /admin/categories/new = %d, want 303", resp.StatusCode)
	}
	// The list shows each slug as <code>; the flash names only the category.
	const lamps, rugs = "<code>lamps</code>", "<code>rugs</code>"
	if body := ada.get(t, base+"/admin/categories/"); !strings.Contains(body, lamps) {
		t.Errorf("the writer's list right after the write lacks it (replica paused):\n%.2000s", body)
	}
	if body := bob.get(t, base+"/admin/categories/"); strings.Contains(body, lamps) {
		t.Error("another session's list within the lag bound shows the write: its read did not go to the paused replica")
	}
	body := waitReady("lagging")
	if !strings.Contains(body, `"status":"degraded"`) {
		t.Errorf("/readyz while lagging = %q, want degraded", body)
	}
	if body := bob.get(t, base+"/admin/categories/"); !strings.Contains(body, lamps) {
		t.Error("another session's list past the lag bound lacks the write: the lagging replica was not bypassed")
	}
	pair.ResumeReplay()
	resumed = true
	waitReady(`"status":"ok"`)

	pair.StopReplica()
	ada.post(t, base+"/admin/categories/new", url.Values{"name": {"Rugs"}, "slug": {"rugs"}, "position": {"0"}})
	if body := bob.get(t, base+"/admin/categories/"); !strings.Contains(body, rugs) {
		t.Error("with the replica stopped, the list lacks a new category")
	}
	body = waitReady("unreachable")
	if !strings.Contains(body, `"status":"degraded"`) || !strings.Contains(body, "replica") {
		t.Errorf("/readyz with the replica stopped = %q, want degraded naming the replica", body)
	}
	if _, metrics := get(t, base+"/metrics"); !strings.Contains(metrics, "stockroom_db_replica_usable 0") ||
		!strings.Contains(metrics, `stockroom_db_replica_reads_total{server="replica"}`) {
		t.Errorf("/metrics lacks the bypassed replica:\n%s", grepLines(metrics, "replica"))
	}
}

// client is one browser: a cookie jar, redirects not followed.
type client struct{ *http.Client }

func adminSession(t *testing.T, base, email string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{&http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
	resp := c.post(t, base+"/admin/login", url.Values{"email": {email}, "password": {"a long enough password 1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d, want 303", email, resp.StatusCode)
	}
	return c
}

func (c *client) post(t *testing.T, u string, form url.Values) *http.Response {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func (c *client) get(t *testing.T, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", u, resp.StatusCode)
	}
	return string(b)
}

func grepLines(s, word string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, word) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
