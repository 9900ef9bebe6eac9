package web

import (
	"net/http"
	"net/http/pprof"
	"time"
)

// DebugHandler serves Go's profiler under /debug/pprof/ (STOCKROOM_DEBUG_ADDR, a
// loopback address, never the public listener): a CPU profile of the live server
// under load is `go tool pprof http://127.0.0.1:6060/debug/pprof/profile?seconds=20`,
// which is how make bench profiles a scenario (BENCH_PROFILE).
func DebugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index) // heap, goroutine, allocs, block, mutex
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// NewDebugServer is the profiler's server: profiles take as long as asked for, so
// its write timeout is longer than the public server's.
func NewDebugServer() *http.Server {
	return &http.Server{Handler: DebugHandler(), ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 5 * time.Minute}
}
