package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/dbtest"
)

// stockroom runs the command line with env as the whole environment and returns the
// exit status and what it printed.
func stockroom(ctx context.Context, env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errOut dbtest.LogBuffer
	err := run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	code = exitCode(err, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // in the one line on stderr
	}{
		{"no command", nil, nil, "no command"},
		{"unknown command", nil, []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"malformed address", map[string]string{"STOCKROOM_ADDR": "nonsense"}, []string{"serve"}, "STOCKROOM_ADDR"},
		{"malformed flag", nil, []string{"serve", "--log-level", "loud"}, "--log-level"},
		{"migrate without direction", nil, []string{"migrate"}, "up, down, status"},
		{"serve without database", nil, []string{"serve"}, "STOCKROOM_DATABASE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := stockroom(context.Background(), tt.env, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr = %q, want one line containing %q", stderr, tt.want)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"version"}, {"serve", "--help"}} {
		code, out, stderr := stockroom(context.Background(), nil, args...)
		if code != 0 || out+stderr == "" {
			t.Errorf("%v: exit %d, output %q %q", args, code, out, stderr)
		}
	}
}

// The migrations go all the way down and back up, and serve refuses the database
// whenever it is not at the newest version.
func TestMigrateRoundTripAndServeRefusesUnmigrated(t *testing.T) {
	ctx := context.Background()
	env := map[string]string{"STOCKROOM_DATABASE_URL": dbtest.NewURL(t), "STOCKROOM_ADDR": "127.0.0.1:0"}
	for {
		_, out, _ := stockroom(ctx, env, "migrate", "status")
		if !strings.Contains(out, "river 001_") || !strings.Contains(out, "applied") {
			t.Fatalf("migrate status lists no River migration or nothing applied:\n%s", out)
		}
		if !gooseApplied(out) {
			break
		}
		if code, _, stderr := stockroom(ctx, env, "migrate", "down"); code != 0 {
			t.Fatalf("migrate down: exit %d: %s", code, stderr)
		}
		code, _, stderr := stockroom(ctx, env, "serve")
		if code != 1 || !strings.Contains(stderr, "stockroom migrate up") {
			t.Fatalf("serve on a partly migrated database: exit %d, stderr %q", code, stderr)
		}
	}
	code, _, stderr := stockroom(ctx, env, "check")
	if code != 1 || !strings.Contains(stderr, "problem") {
		t.Errorf("check on an empty database: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := stockroom(ctx, env, "migrate", "up"); code != 0 {
		t.Fatalf("migrate up: exit %d: %s", code, stderr)
	}
	if code, out, stderr := stockroom(ctx, env, "check"); code != 0 {
		t.Errorf("check after migrate up: exit %d: %s %s", code, out, stderr)
	}
}

// gooseApplied says whether migrate status lists one of our migrations as applied
// (River's stay applied: migrate down leaves the job queue's tables alone).
func gooseApplied(status string) bool {
	for _, line := range strings.Split(status, "\n") {
		if !strings.HasPrefix(line, "river ") && strings.Contains(line, "applied") {
			return true
		}
	}
	return false
}

func TestCheckDeploy(t *testing.T) {
	env := map[string]string{"STOCKROOM_DATABASE_URL": dbtest.NewURL(t)}
	code, out, _ := stockroom(context.Background(), env, "check", "--deploy")
	if code != 1 || !strings.Contains(out, "STOCKROOM_SECURE_COOKIES") {
		t.Errorf("check --deploy with insecure cookies: exit %d, out %q", code, out)
	}
	env["STOCKROOM_SECURE_COOKIES"] = "true"
	env["STOCKROOM_BASE_URL"] = "https://shop.example"
	if code, out, _ := stockroom(context.Background(), env, "check", "--deploy"); code != 1 || !strings.Contains(out, "STOCKROOM_SECRET_KEY") {
		t.Errorf("check --deploy without a secret key: exit %d, out %q", code, out)
	}
	env["STOCKROOM_SECRET_KEY"] = "a-deploy-test-secret-key-hunter2-and-more"
	if code, out, _ := stockroom(context.Background(), env, "check", "--deploy"); code != 0 || strings.Contains(out, "hunter2") {
		t.Errorf("check --deploy with safe settings: exit %d, out %q", code, out)
	}
}

// serve answers health, readiness and metrics, and exits 0 when told to stop. The
// profiler is served on STOCKROOM_DEBUG_ADDR only, never on the public address. On
// the signal, /readyz fails for the drain delay before the listener closes.
func TestServe(t *testing.T) {
	addr, debugAddr := freeAddr(t), freeAddr(t)
	env := map[string]string{"STOCKROOM_DATABASE_URL": dbtest.NewURL(t), "STOCKROOM_ADDR": addr,
		"STOCKROOM_DEBUG_ADDR": debugAddr, "STOCKROOM_DRAIN_DELAY": "3s"}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr string
	go func() {
		var code int
		code, _, stderr = stockroom(ctx, env, "serve")
		done <- code
	}()
	base := "http://" + addr
	waitFor(t, base+"/healthz")
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, base+path); code != 200 || !strings.Contains(body, `"ok"`) {
			t.Errorf("GET %s = %d %q, want 200 ok", path, code, body)
		}
	}
	_, metrics := get(t, base+"/metrics")
	for _, want := range []string{`stockroom_http_requests_total{route="GET /healthz",status="200"}`, "stockroom_db_pool_connections_max", "stockroom_event_streams", "go_goroutines",
		`stockroom_jobs{state="available"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if code, _ := get(t, base+"/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ on the public address = %d, want 404", code)
	}
	if code, body := get(t, "http://"+debugAddr+"/debug/pprof/goroutine?debug=1"); code != 200 || !strings.Contains(body, "goroutine profile:") {
		t.Errorf("GET /debug/pprof/goroutine on STOCKROOM_DEBUG_ADDR = %d %.100q, want 200 and a profile", code, body)
	}
	stop()
	for {
		code, body := get(t, base+"/readyz")
		if code == http.StatusServiceUnavailable {
			if !strings.Contains(body, "shutting down") {
				t.Errorf("GET /readyz while draining = %d %q, want the reason shutting down", code, body)
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code := <-done; code != 0 {
		t.Errorf("serve exit %d after a clean stop: %s", code, stderr)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitFor(t *testing.T, url string) {
	t.Helper()
	for range 200 {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s never answered", url)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
