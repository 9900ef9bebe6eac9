package web

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Health answers 200 while the process is up (GET /healthz). It touches nothing else,
// so a database outage never gets the process restarted.
func Health() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// Ready answers 200 when check passes and 503 with its reason otherwise
// (GET /readyz). A check that passes with a reason is degraded: still 200, so a
// load balancer keeps the copy, with status "degraded" and the reason for
// operators (a read replica bypassed). check gets a short deadline: a load balancer
// should not wait.
func Ready(check func(ctx context.Context) (reason string, ok bool)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		reason, ok := check(ctx)
		switch {
		case !ok:
			w.Header().Set("Retry-After", "5")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
		case reason != "":
			writeJSON(w, http.StatusOK, map[string]string{"status": "degraded", "reason": reason})
		default:
			writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
