package webhooks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/webhooks"
)

// A receiver that answers 200 and then a body without end: the delivery reads at
// most 64 KiB of it and is done (it neither waits for the end nor times out), and
// the log keeps the first 1 KiB. The receiver's writes stop once the sender hangs
// up, long before the 1 GiB it would send to a reader that reads everything.
func TestResponseReadIsCapped(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true, Timeout: 5 * time.Second}, true)
	var written atomic.Int64
	chunk := []byte(strings.Repeat("x", 32<<10))
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for written.Load() < 1<<30 {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(rcv.Close)
	ep := e.endpoint(t, rcv.URL+"/hooks")
	began := time.Now()
	if err := e.change(t, audit.TypeStockChanged, []int64{7}, nil); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the delivery is delivered", func() bool {
		return e.scalar(t, "SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'") == 1
	})
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("delivered after %v: the body was read past the cap, up to the timeout", d)
	}
	rcv.CloseClientConnections()
	if n := written.Load(); n > 64<<20 {
		t.Errorf("the receiver wrote %d bytes before the sender hung up, want far less than 1 GiB", n)
	}
	attempts, err := e.svc.Attempts(context.Background(), ep.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 1 || attempts[0].StatusCode == nil || *attempts[0].StatusCode != 200 ||
		len(attempts[0].ResponseExcerpt) != 1024 || attempts[0].Error != "" {
		t.Fatalf("attempts = %+v, want one 200 with a 1 KiB excerpt", attempts)
	}
}
