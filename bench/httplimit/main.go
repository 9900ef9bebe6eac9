// Command httplimit is the bench's HTTP limit: a bare net/http handler that answers
// every request with the same small JSON. No server on this stack can be faster on
// this machine with this load generator, so it bounds every scenario from above.
// It listens on HTTPLIMIT_ADDR.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// body is about the size of a small API answer (GET /api/v1/me).
var body = []byte(`{"id":1,"email":"bench@example.com","name":"Bench","scope":"write","is_superuser":true}` + "\n")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{
		Addr:              os.Getenv("HTTPLIMIT_ADDR"),
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", "application/json")
			h.Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body)
		}),
	}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "httplimit:", err)
		os.Exit(1)
	}
}
