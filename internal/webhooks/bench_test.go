package webhooks_test

import (
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/webhooks"
)

// Delivery throughput: each iteration commits 200 events in one transaction and
// waits until a local receiver (127.0.0.1, answering 200 at once) has them all,
// sent by one working process (10 deliveries at a time). Reports deliveries/s.
func BenchmarkDeliveryThroughput(b *testing.B) {
	e := newEnv(b, webhooks.Options{AllowPrivate: true}, true)
	rcv := newReceiver(b, 200)
	e.endpoint(b, rcv.URL)
	const batch = 200
	ids := make([]int64, batch)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	sent := 0
	start := time.Now()
	for b.Loop() {
		if err := e.change(b, audit.TypeStockChanged, ids, nil); err != nil {
			b.Fatal(err)
		}
		sent += batch
		waitUntil(b, "the batch is delivered", func() bool {
			return e.scalar(b, "SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'") == sent
		})
	}
	b.ReportMetric(float64(sent)/time.Since(start).Seconds(), "deliveries/s")
}

// The cost the enqueue hook adds to a write: one transaction writing one stock
// change event (its audit row and event), without the hook (as before webhooks),
// with it and no endpoint (the hook's one
// statement finds nothing) and with one subscribed endpoint (a delivery row and a
// River job in the same transaction). Nothing is sent: the queue only inserts.
func BenchmarkEnqueueOnStockChange(b *testing.B) {
	for _, tt := range []struct {
		name      string
		hook      bool
		endpoints int
	}{{"no hook", false, 0}, {"no endpoint", true, 0}, {"one endpoint", true, 1}} {
		b.Run(tt.name, func(b *testing.B) {
			e := newEnvHooked(b, webhooks.Options{AllowPrivate: true}, false, tt.hook)
			for range tt.endpoints {
				e.endpoint(b, "http://127.0.0.1:9/hooks", audit.TypeStockChanged)
			}
			id := []int64{1}
			for b.Loop() {
				if err := e.change(b, audit.TypeStockChanged, id, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
