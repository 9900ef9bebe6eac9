package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Request size limits. The server itself reads request lines and headers up to
// http.DefaultMaxHeaderBytes (1 MiB, see NewServer), so that a request between these
// limits and that one reaches withLimits and gets an answer in the format of the
// part of the site it asked (problem+json under /api/) instead of Go's own
// plain-text 431. Past 1 MiB Go still answers 431 itself, before any handler.
const (
	// MaxURI is the longest request target (path and query string) served: longer
	// is 414 URI Too Long.
	MaxURI = 8 << 10
	// MaxHeader is the most header bytes (names, values, ": " and CRLF, as on the
	// wire) served: more is 431 Request Header Fields Too Large.
	MaxHeader = 64 << 10
)

// withLimits answers 414 and 431 for requests over MaxURI and MaxHeader.
func withLimits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := len(r.RequestURI); n > MaxURI {
			Refuse(w, r, http.StatusRequestURITooLong, fmt.Sprintf(
				"The request target is %d bytes; at most %d are served. Send long filters in fewer or shorter parameters.", n, MaxURI))
			return
		}
		if n := headerBytes(r); n > MaxHeader {
			Refuse(w, r, http.StatusRequestHeaderFieldsTooLarge, fmt.Sprintf(
				"The request headers are %d bytes; at most %d are served.", n, MaxHeader))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// headerBytes is the size of r's header section as sent: each field's name, ": ",
// value and CRLF. Host travels apart from the others in net/http.
func headerBytes(r *http.Request) int {
	n := len("Host: \r\n") + len(r.Host)
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + len(v) + 4
		}
	}
	return n
}

// Refuse answers a request the server will not serve, before or instead of its
// route, with status and detail: application/problem+json under /api/ (and for
// clients that ask for JSON), plain text elsewhere. The connection is closed after
// it, as Go does for its own refusals: the client may still be sending.
func Refuse(w http.ResponseWriter, r *http.Request, status int, detail string) {
	h := w.Header()
	h.Set("Connection", "close")
	h.Set("Cache-Control", "no-store")
	if wantsJSON(r) {
		b := fmt.Appendf(nil, `{"type":"about:blank","title":%s,"status":%d,"detail":%s,"request_id":%s}`+"\n",
			strconv.Quote(http.StatusText(status)), status, strconv.Quote(detail), strconv.Quote(RequestID(r.Context())))
		h.Set("Content-Type", "application/problem+json")
		h.Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(status)
		w.Write(b)
		return
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "%d %s: %s\n", status, http.StatusText(status), strings.TrimSpace(detail))
}
