package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawServer serves Middleware around a handler that answers 200 "ok" on every path,
// with NewServer's settings, on a loopback port.
func rawServer(t *testing.T) string {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	srv := NewServer(Middleware(log, nil, ok), log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, srv, ln, Stop{Grace: time.Second}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return ln.Addr().String()
}

// rawGet sends a GET for target with the extra header lines over a fresh TCP
// connection, as written, and reads the response.
func rawGet(t *testing.T, addr, target string, headers ...string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET " + target + " HTTP/1.1\r\nHost: shop.example\r\n"
	for _, h := range headers {
		req += h + "\r\n"
	}
	go io.WriteString(c, req+"\r\n") // the server may answer before it has read everything
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// Requests too large to serve get 414 or 431 in the format of the part of the site
// they asked: problem+json under /api/ (with the request id), plain text
// elsewhere. 100 KB (the size a hostile or broken client sends) stays below the
// server's own limit, so Go's plain-text 431 never answers them.
func TestOversizeRequests(t *testing.T) {
	addr := rawServer(t)
	long := strings.Repeat("a", 100_000)
	tests := []struct {
		name, target string
		headers      []string
		status       int
		json         bool
	}{
		{"API, 100 KB query", "/api/v1/products?q=" + long, nil, 414, true},
		{"API, 100 KB header", "/api/v1/products", []string{"X-Filler: " + long}, 431, true},
		{"API, many headers", "/api/v1/products", manyHeaders(2000, 40), 431, true},
		{"admin, 100 KB query", "/admin/products/?q=" + long, nil, 414, false},
		{"admin, 100 KB header", "/admin/products/", []string{"Cookie: x=" + long}, 431, false},
		{"API, at the URI limit", "/api/v1/products?q=" + strings.Repeat("a", MaxURI-len("/api/v1/products?q=")), nil, 200, false},
		{"API, headers at the limit", "/api/v1/products", []string{"X-Filler: " + strings.Repeat("a", MaxHeader-len("Host: shop.example\r\n")-len("X-Filler: \r\n"))}, 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := rawGet(t, addr, tt.target, tt.headers...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %.300s", resp.StatusCode, tt.status, body)
			}
			ct := resp.Header.Get("Content-Type")
			switch {
			case tt.status == 200:
				if body != "ok" {
					t.Errorf("body %q, want ok", body)
				}
			case tt.json:
				var p struct {
					Type, Title, Detail string
					RequestID           string `json:"request_id"`
					Status              int
				}
				if ct != "application/problem+json" {
					t.Errorf("Content-Type %q, want application/problem+json", ct)
				}
				if err := json.Unmarshal([]byte(body), &p); err != nil {
					t.Fatalf("body %q: %v", body, err)
				}
				if p.Status != tt.status || p.RequestID != resp.Header.Get("X-Request-Id") || p.RequestID == "" {
					t.Errorf("problem %+v, X-Request-Id %q", p, resp.Header.Get("X-Request-Id"))
				}
				if !strings.Contains(body, "at most") {
					t.Errorf("the detail does not say the limit: %s", body)
				}
			default:
				if !strings.HasPrefix(ct, "text/plain") || !strings.Contains(body, fmt.Sprint(tt.status)) {
					t.Errorf("Content-Type %q body %q, want plain text with the status", ct, body)
				}
			}
		})
	}
}

// manyHeaders is n header lines of size bytes each.
func manyHeaders(n, size int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("X-H%d: %s", i, strings.Repeat("v", size))
	}
	return out
}

// The answers net/http writes itself, before any handler (a malformed request, a
// header section past the server's 1 MiB, an unknown transfer coding), are
// problem+json for /api/ too, on a fresh connection or after an earlier answer on
// the same one; elsewhere they stay Go's plain text. (A request pipelined behind
// another, sent before the first answer, may get plain text: see problemConn.)
func TestMalformedRequestsGetProblemJSON(t *testing.T) {
	addr := rawServer(t)
	huge := "X-Filler: " + strings.Repeat("a", 1100_000)
	tests := []struct {
		name    string
		request string
		status  int
		json    bool
	}{
		{"API, a header line without a colon", "GET /api/v1/products HTTP/1.1\r\nHost: shop.example\r\nno colon here\r\n\r\n", 400, true},
		{"API, headers past 1 MiB", "GET /api/v1/products HTTP/1.1\r\nHost: shop.example\r\n" + huge + "\r\n\r\n", 431, true},
		{"API, an unknown transfer coding", "POST /api/v1/products HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: zip\r\n\r\n", 501, true},
		{"API, two Host headers", "GET /api/v1/products HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", 400, true},
		{"API, after a good request on the connection", "GET /api/v1/products HTTP/1.1\r\nHost: shop.example\r\nno colon here\r\n\r\n", 400, true},
		{"admin, a header line without a colon", "GET /admin/ HTTP/1.1\r\nHost: shop.example\r\nno colon here\r\n\r\n", 400, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(c)
			if strings.HasPrefix(tt.name, "API, after") { // a good request first, its answer read
				io.WriteString(c, "GET /admin/ HTTP/1.1\r\nHost: shop.example\r\n\r\n")
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
			}
			go io.WriteString(c, tt.request)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			ct := resp.Header.Get("Content-Type")
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %.200s", resp.StatusCode, tt.status, body)
			}
			if !tt.json {
				if !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("Content-Type %q, want Go's plain text outside /api/", ct)
				}
				return
			}
			var p struct {
				Title, Detail string
				Status        int
				RequestID     string `json:"request_id"`
			}
			if ct != "application/problem+json" || json.Unmarshal(body, &p) != nil || p.Status != tt.status || p.Detail == "" || p.RequestID == "" {
				t.Errorf("Content-Type %q body %q, want a problem with status %d", ct, body, tt.status)
			}
		})
	}
}
