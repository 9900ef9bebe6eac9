// Package web holds what the admin and the API share: middleware, the route table
// with its permissions, error-to-status mapping, health and readiness, and the
// server's lifecycle. It imports neither transport.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

type ctxKey int

const infoKey ctxKey = iota

// requestInfo travels in the request's context from the outermost middleware down to
// the route, which fills in its pattern; the outer layers read it when the handler
// returns (the mux sets r.Pattern on its own copy of the request, not ours).
type requestInfo struct {
	id    string
	route string
}

func info(ctx context.Context) *requestInfo {
	i, _ := ctx.Value(infoKey).(*requestInfo)
	return i
}

// RequestID returns the request's id, or "" outside a request.
func RequestID(ctx context.Context) string {
	if i := info(ctx); i != nil {
		return i.id
	}
	return ""
}

// RouteOf returns the pattern of the route that served the request ("" before routing).
func RouteOf(ctx context.Context) string {
	if i := info(ctx); i != nil {
		return i.route
	}
	return ""
}

// withRequestID gives every request an id: the caller's X-Request-Id when it is a
// sane token (a proxy's id keeps logs joined up), else a new random one. It is echoed
// in the response header.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !saneID(id) {
			id = newID()
		}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), infoKey, &requestInfo{id: id})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func newID() string {
	var b [12]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b[:])
}

func saneID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}
