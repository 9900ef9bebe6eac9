package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// webhookScenario is the name of S3's second window with one webhook endpoint
// subscribed to its events (issue #16), selected with WEBHOOK in BENCH_SCENARIOS.
const webhookScenario = "S3 + webhook"

// receiver is the webhook endpoint the harness subscribes: a bare HTTP server on
// 127.0.0.1 that answers 204 and counts the POSTs it gets.
type receiver struct {
	srv         *http.Server
	url         string
	mu          sync.Mutex
	n           int64
	first, last time.Time
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + ln.Addr().String() + "/hook"}
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		now := time.Now()
		r.mu.Lock()
		if r.n == 0 {
			r.first = now
		}
		r.n++
		r.last = now
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}), ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *receiver) count() (int64, time.Time, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n, r.first, r.last
}

// webhookWindow runs S3 again with one endpoint subscribed to variant.stock_changed,
// pointing at a receiver on 127.0.0.1 (stockroom runs with
// STOCKROOM_WEBHOOKS_ALLOW_PRIVATE=true), and records the window as webhookScenario.
// After the window it waits for the deliveries to drain (up to two minutes) and notes
// the deliveries a second the receiver saw, first to last.
func (b *bench) webhookWindow(ctx context.Context, conns int) {
	s3 := scenarioByName("S3")
	rec, err := startReceiver()
	if err != nil {
		b.record(&measurement{target: targetStockroom, scenario: webhookScenario, conns: conns, note: "receiver: " + err.Error(), socketErr: -1})
		return
	}
	defer rec.srv.Close()
	body := fmt.Sprintf(`{"url": %q, "description": "bench receiver", "event_types": ["variant.stock_changed"]}`, rec.url)
	status, out, err := b.sendJSON(ctx, "POST", "/api/v1/webhooks", body)
	var hook struct {
		ID int64 `json:"id"`
	}
	if err == nil && status != http.StatusCreated && status != http.StatusOK {
		err = fmt.Errorf("POST /api/v1/webhooks: %d %s", status, shorten(out, 200))
	}
	if err == nil {
		err = json.Unmarshal([]byte(out), &hook)
	}
	if err != nil {
		b.record(&measurement{target: targetStockroom, scenario: webhookScenario, conns: conns, note: err.Error(), socketErr: -1})
		return
	}
	defer func() {
		if st, out, err := b.sendJSON(context.WithoutCancel(ctx), "DELETE", fmt.Sprintf("/api/v1/webhooks/%d", hook.ID), ""); err != nil || st/100 != 2 {
			b.logf("delete the bench webhook: %d %s %v", st, shorten(out, 200), err)
		}
	}()
	m := b.wrkWindow(ctx, targetStockroom, b.stockroom, s3, conns)
	m.scenario = webhookScenario
	atEnd, _, _ := rec.count()
	// Drain: until no delivery of the endpoint is pending or retrying, at most two
	// minutes (a failed attempt waits 10 s and more before its retry).
	var created, delivered, waiting, failed int64
	deadline := time.Now().Add(2 * time.Minute)
	if conn, err := pgx.Connect(ctx, b.dbURL); err == nil {
		for ctx.Err() == nil {
			err := conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'delivered'),
				count(*) FILTER (WHERE state IN ('pending', 'retrying')), count(*) FILTER (WHERE state IN ('failed', 'cancelled'))
				FROM webhook_deliveries WHERE endpoint_id = $1`, hook.ID).Scan(&created, &delivered, &waiting, &failed)
			if err != nil || waiting == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Second)
		}
		conn.Close(context.WithoutCancel(ctx))
	}
	n, first, last := rec.count()
	rate := 0.0
	if span := last.Sub(first).Seconds(); span > 0 {
		rate = float64(n) / span
	}
	writes := m.requests // the measured window's PATCHes; the warm-up's also deliver
	note := fmt.Sprintf("%s: the receiver on 127.0.0.1 got %s deliveries, %.0f/s from first to last (%s); %s by the end of the wrk windows; "+
		"the warm-up and measured windows made %s deliveries (measured window: %s stock changes): %s delivered, %s still pending or retrying, %s failed",
		webhookScenario, thousands(n), rate, last.Sub(first).Round(time.Millisecond), thousands(atEnd),
		thousands(created), thousands(writes), thousands(delivered), thousands(waiting), thousands(failed))
	m.webhookRate, m.webhookN = rate, n
	b.logf("%s", note)
	b.notes[conns] = append(b.notes[conns], note)
	b.record(m)
}

// sendJSON makes one API request with the bench token.
func (b *bench) sendJSON(ctx context.Context, method, path, body string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, b.stockroom.base+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out), err
}
