package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/stockroom-dev/stockroom/internal/store"
)

// Middleware wraps the whole handler tree: request id, access log and metrics,
// panic recovery, security headers and the request size limits, outermost first.
func Middleware(log *slog.Logger, m *Metrics, next http.Handler) http.Handler {
	return withRequestID(observe(log, m, recoverPanics(log, securityHeaders(withLimits(readsMayLag(next))))))
}

// readsMayLag lets a GET or HEAD read from the read replica (store.MayLag); every
// other request reads the primary.
func readsMayLag(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			r = r.WithContext(store.MayLag(r.Context()))
		}
		next.ServeHTTP(w, r)
	})
}

// recorder remembers the status and size of a response. Unwrap lets
// http.ResponseController reach the real writer (Flush for streams, deadlines).
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush passes through, so streams work without a ResponseController too.
func (r *recorder) Flush() {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	http.NewResponseController(r.ResponseWriter).Flush()
}

// observe writes one access line per request and feeds the request metrics.
func observe(log *slog.Logger, m *Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		switch {
		case rec.status == 0 && r.Context().Err() != nil:
			rec.status = StatusClientClosed // the handler saw the client go and wrote nothing
		case rec.status == 0:
			rec.status = http.StatusOK
		}
		elapsed := time.Since(start)
		route := RouteOf(r.Context())
		if route == "" {
			route = "unmatched" // one label for every unknown path: no label explosion
		}
		if m != nil {
			m.observe(route, rec.status, elapsed)
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", RequestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", route),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", elapsed),
		)
	})
}

// recoverPanics turns a panic into a logged stack and a 500 that names the request
// id, instead of a dropped connection.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v) // the server's own signal to drop the connection quietly
			}
			id := RequestID(r.Context())
			log.ErrorContext(r.Context(), "panic", "request_id", id, "route", RouteOf(r.Context()),
				"err", fmt.Sprint(v), "stack", string(debug.Stack()))
			if rec, ok := w.(*recorder); ok && rec.status != 0 {
				return // the response has started; all we can do is stop writing
			}
			InternalError(w, r)
		}()
		next.ServeHTTP(w, r)
	})
}

// InternalError writes the one 500 a client ever sees: "internal error" and the
// request id, never the cause. JSON clients get problem+json, the rest plain text.
func InternalError(w http.ResponseWriter, r *http.Request) {
	id := RequestID(r.Context())
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"internal error","request_id":%s}`,
			strconv.Quote(id))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, "internal error (request id %s)\n", id)
}

func wantsJSON(r *http.Request) bool {
	if len(r.URL.Path) >= 5 && r.URL.Path[:5] == "/api/" {
		return true
	}
	return r.Header.Get("Accept") == "application/json"
}

// securityHeaders sets the headers every response carries. The CSP allows no inline
// script and no framing.
func securityHeaders(next http.Handler) http.Handler {
	const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}
