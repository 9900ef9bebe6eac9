package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"wrapped not found", fmt.Errorf("load product 7: %w", store.ErrNotFound), 404},
		{"field errors", validator.Errors{"sku": "is already used"}, 422},
		{"wrapped field errors", fmt.Errorf("save: %w", validator.Errors{"name": "is required"}), 422},
		{"unique key", fmt.Errorf("%w: products_slug_key", store.ErrConflict), 409},
		{"still referenced", store.ErrReferenced, 409},
		{"stale version", store.ErrStale, 412},
		{"check constraint", store.ErrCheck, 422},
		{"text the database cannot store", fmt.Errorf("search: %w", store.ErrText), 422},
		{"not signed in", ErrUnauthenticated, 401},
		{"forbidden", ErrForbidden, 403},
		{"bad request", ErrBadRequest, 400},
		{"throttled", ErrTooMany, 429},
		{"wrong method", ErrMethodNotAllowed, 405},
		{"not JSON", ErrUnsupportedMediaType, 415},
		{"database down", store.ErrUnavailable, 503},
		{"body too large", &http.MaxBytesError{Limit: 1}, 413},
		{"client gone", context.Canceled, 499},
		// pgx's error when the request's context ends mid-query, as store classifies it
		{"client gone during a query", fmt.Errorf("%w: timeout: context already done: %w", store.ErrUnavailable, context.Canceled), 499},
		{"client gone while writing", &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}, 499},
		{"client reset", fmt.Errorf("render: %w", &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.ECONNRESET)}), 499},
		{"query deadline", fmt.Errorf("%w: %w", store.ErrUnavailable, context.DeadlineExceeded), 503},
		{"anything else", errors.New("disk full"), 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Status(tt.err); got != tt.want {
				t.Errorf("Status(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

// testStack is the real middleware around a route table with the given routes.
func testStack(t *testing.T, logs io.Writer, register func(rt *Routes)) (http.Handler, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	rt := NewRoutes(mux, func(perm string, h http.Handler) http.Handler { return h })
	register(rt)
	if err := rt.Err(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(logs, nil))
	return Middleware(log, NewMetrics(reg), mux), reg
}

func TestRequestID(t *testing.T) {
	h, _ := testStack(t, io.Discard, func(rt *Routes) {
		rt.Handle("GET /x", Public, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, RequestID(r.Context()))
		}))
	})
	tests := []struct {
		name, given string
		keep        bool
	}{
		{"none given", "", false},
		{"sane id kept", "abc-123_X.y", true},
		{"too long replaced", strings.Repeat("a", 65), false},
		{"header injection replaced", "a b\"<script>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/x", nil)
			if tt.given != "" {
				req.Header.Set("X-Request-Id", tt.given)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get("X-Request-Id")
			if got == "" || got != rec.Body.String() {
				t.Fatalf("header %q, handler saw %q: want the same non-empty id", got, rec.Body.String())
			}
			if (got == tt.given) != tt.keep {
				t.Errorf("id = %q, given %q, keep = %v", got, tt.given, tt.keep)
			}
		})
	}
}

func TestPanicBecomes500WithRequestID(t *testing.T) {
	var logs bytes.Buffer
	h, _ := testStack(t, &logs, func(rt *Routes) {
		rt.Handle("GET /boom", Public, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic("kaboom")
		}))
		rt.Handle("GET /api/boom", Public, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic(errors.New("kaboom"))
		}))
	})
	for _, path := range []string{"/boom", "/api/boom"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		id := rec.Header().Get("X-Request-Id")
		if rec.Code != 500 {
			t.Errorf("%s: status %d, want 500", path, rec.Code)
		}
		if !strings.Contains(rec.Body.String(), id) || strings.Contains(rec.Body.String(), "kaboom") {
			t.Errorf("%s: body %q: want the request id and not the cause", path, rec.Body)
		}
	}
	if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("log lacks the panic and its stack:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `route="GET /boom"`) || !strings.Contains(logs.String(), "status=500") {
		t.Errorf("access line lacks route or status:\n%s", logs.String())
	}
}

func TestSecurityHeaders(t *testing.T) {
	h, _ := testStack(t, io.Discard, func(rt *Routes) {
		rt.Handle("GET /x", Public, http.NotFoundHandler())
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP = %q", csp)
	}
}

func TestMetricsCountByRoute(t *testing.T) {
	h, reg := testStack(t, io.Discard, func(rt *Routes) {
		rt.Handle("GET /items/{id}", Public, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	})
	for _, p := range []string{"/items/1", "/items/2", "/nope/1"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	want := `
# HELP stockroom_http_requests_total HTTP requests by route (method and pattern) and status.
# TYPE stockroom_http_requests_total counter
stockroom_http_requests_total{route="GET /items/{id}",status="200"} 2
stockroom_http_requests_total{route="unmatched",status="404"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "stockroom_http_requests_total"); err != nil {
		t.Error(err)
	}
}

// A request whose client went away before anything was written counts as 499 (the
// client closed the request), not as the 200 that nobody sent or as a server error.
func TestClientGoneCountsAs499(t *testing.T) {
	h, reg := testStack(t, io.Discard, func(rt *Routes) {
		rt.Handle("GET /slow", Public, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done() // the handler notices and writes nothing, as fail does for 499
		}))
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/slow", nil).WithContext(ctx))
	want := `
# HELP stockroom_http_requests_total HTTP requests by route (method and pattern) and status.
# TYPE stockroom_http_requests_total counter
stockroom_http_requests_total{route="GET /slow",status="499"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "stockroom_http_requests_total"); err != nil {
		t.Error(err)
	}
}

func TestRoutesWithoutPermissionAreAnError(t *testing.T) {
	rt := NewRoutes(http.NewServeMux(), func(perm string, h http.Handler) http.Handler { return h })
	rt.Handle("GET /a", "", http.NotFoundHandler())
	rt.Handle("GET /b", "products", http.NotFoundHandler())
	rt.Handle("GET /c", "products.view", http.NotFoundHandler())
	err := rt.Err()
	if err == nil || !strings.Contains(err.Error(), "/a") || !strings.Contains(err.Error(), "/b") {
		t.Errorf("Err() = %v, want errors for /a and /b", err)
	}
	if got := rt.List(); len(got) != 1 || got[0].Perm != "products.view" {
		t.Errorf("List() = %v, want only GET /c", got)
	}
}

func TestReady(t *testing.T) {
	for _, tt := range []struct {
		reason     string
		ok         bool
		want       int
		wantStatus string
	}{
		{"", true, 200, `"status":"ok"`},
		{"read replica bypassed: unreachable", true, 200, `"status":"degraded"`},
		{"database unreachable", false, 503, `"status":"unavailable"`},
	} {
		h := Ready(func(ctx context.Context) (string, bool) { return tt.reason, tt.ok })
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		if rec.Code != tt.want {
			t.Errorf("ok=%v: status %d, want %d", tt.ok, rec.Code, tt.want)
		}
		if body := rec.Body.String(); !strings.Contains(body, tt.reason) || !strings.Contains(body, tt.wantStatus) {
			t.Errorf("ok=%v reason %q: body %q, want %s and the reason", tt.ok, tt.reason, body, tt.wantStatus)
		}
	}
}

// A request in flight when the server is told to stop still completes.
func TestServeFinishesInFlightRequests(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, NewServer(h, slog.New(slog.DiscardHandler)), ln, Stop{Grace: 10 * time.Second})
	}()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-started
	stop() // SIGTERM arrives while the request is in flight
	// New connections are refused once shutdown has begun.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepts after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	r := <-got
	if r.err != nil || r.body != "done" {
		t.Errorf("in-flight request: body %q, err %v; want done", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve() = %v, want nil after a clean shutdown", err)
	}
}

// On the signal, a draining server first fails readiness (OnDrain), goes on
// answering new requests with keep-alive off for the drain, then ends streams
// through Stopping and exits cleanly.
func TestServeDrainsBeforeStopping(t *testing.T) {
	streaming := make(chan struct{})
	h := http.NewServeMux()
	h.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		close(streaming)
		<-Stopping(r.Context()) // an event stream ends when the server stops
	})
	h.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	draining := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, NewServer(h, slog.New(slog.DiscardHandler)), ln,
			Stop{Drain: 2 * time.Second, OnDrain: func() { close(draining) }, Grace: time.Minute})
	}()
	base := "http://" + ln.Addr().String()
	stream, err := http.Get(base + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	<-streaming
	stop()
	<-draining
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatalf("request while draining: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" || !resp.Close {
		t.Errorf("while draining: body %q, Connection: close %v; want ok, true", body, resp.Close)
	}
	if _, err := io.ReadAll(stream.Body); err != nil {
		t.Errorf("stream: %v, want a clean end", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve() = %v, want nil after a clean shutdown", err)
	}
}

// A response that took its connection over (Hijack) and goes on after its handler
// returned is held (Hold): Serve's shutdown waits for its release, which http.Server's
// Shutdown alone does not, so its last words reach the client before Serve returns.
func TestServeWaitsForHeldResponses(t *testing.T) {
	finished := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release := Hold(r.Context())
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			release()
			t.Error(err)
			return
		}
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nstarted\n")
		stopping := Stopping(r.Context())
		go func() {
			defer release()
			defer conn.Close()
			<-stopping
			time.Sleep(200 * time.Millisecond) // Shutdown has long returned by now
			io.WriteString(conn, "bye\n")
			close(finished)
		}()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, NewServer(h, slog.New(slog.DiscardHandler)), ln, Stop{Grace: time.Minute})
	}()
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	stop()
	if err := <-served; err != nil {
		t.Fatalf("Serve() = %v, want nil", err)
	}
	select {
	case <-finished:
	default:
		t.Error("Serve returned before the held response was released")
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != "started\nbye\n" {
		t.Errorf("body %q (%v), want the held response's last line before Serve returned", body, err)
	}
}
