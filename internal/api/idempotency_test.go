package api

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// The process dies (SIGKILL) after the handler's transaction committed and before
// its response was stored: the claim stays in flight. The handler's transaction
// marked the claim committed, so past the 10-minute window a retry gets a 409
// saying the request was applied and its response lost - not a second product.
func TestIdempotencyLostResponseNeverRunsTwice(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok, _ := h.editor(t)
	body := `{"name":"Killed","variants":[{"sku":"KILL-1","price_cents":100}]}`
	h.call(t, "POST", "/api/v1/products", tok, body, "Idempotency-Key", "kill").want(t, 201)
	var committed bool
	if err := h.st.Pool().QueryRow(context.Background(),
		`SELECT committed FROM idempotency_keys WHERE key = 'kill'`).Scan(&committed); err != nil {
		t.Fatal(err)
	}
	if !committed {
		t.Fatal("the handler's transaction did not mark its claim committed")
	}
	// The kill: the response never got stored, and the claim is past the window.
	h.exec(t, `UPDATE idempotency_keys SET state = 'in_flight', status = NULL, headers = NULL, body = NULL,
		created_at = now() - interval '11 minutes' WHERE key = 'kill'`)
	r := h.call(t, "POST", "/api/v1/products", tok, body, "Idempotency-Key", "kill").want(t, 409)
	if p := r.problem(t); !strings.Contains(p.Detail, "applied but its response was lost") {
		t.Errorf("problem: %+v", p)
	}
	var n int
	if err := h.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM products`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d products stored, want exactly one", n)
	}
	// Within the window it is the usual 409 to retry shortly.
	h.exec(t, `UPDATE idempotency_keys SET created_at = now() WHERE key = 'kill'`)
	r = h.call(t, "POST", "/api/v1/products", tok, body, "Idempotency-Key", "kill").want(t, 409)
	if r.header.Get("Retry-After") == "" {
		t.Error("in-flight 409 without Retry-After")
	}
}

// Only a transaction that commits a write marks the claim; a stale claim whose handler
// never committed one is claimed afresh, as before, and a committed one is neither
// released (the 5xx path) nor claimed afresh.
func TestIdempotencyOnlyWritesMarkTheClaim(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	s := &Server{st: h.st, log: slog.Default()}
	claim := func() (int64, error) {
		var id int64
		err := h.st.InTx(ctx, func(q *db.Queries) error {
			var err error
			id, err = q.ClaimIdempotencyKey(ctx, db.ClaimIdempotencyKeyParams{Principal: "test", Key: "k", RequestHash: []byte{0}})
			return err
		})
		return id, err
	}
	id, err := claim()
	if err != nil {
		t.Fatal(err)
	}
	h.exec(t, `INSERT INTO idempotency_keys (principal, key, request_hash) VALUES ('test', 'other', '\x00')`)
	claimed := context.WithValue(ctx, claimCtxKey{}, id)
	held := func() db.GetIdempotencyKeyRow {
		row, err := s.heldKey(ctx, "test", "k")
		if err != nil {
			t.Fatal(err)
		}
		return row
	}
	committed := func() bool {
		var c bool
		if err := h.st.Pool().QueryRow(ctx, `SELECT committed FROM idempotency_keys WHERE key = 'k'`).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	// A read-only transaction does not mark it, and the stale claim is claimed afresh.
	if err := h.st.InTx(claimed, func(q *db.Queries) error {
		_, err := q.GetIdempotencyKey(claimed, db.GetIdempotencyKeyParams{Principal: "test", Key: "k"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if committed() {
		t.Fatal("a read-only transaction marked the claim committed")
	}
	h.exec(t, `UPDATE idempotency_keys SET created_at = now() - interval '11 minutes' WHERE key = 'k'`)
	if held().Lost {
		t.Error("an uncommitted stale claim reads as lost")
	}
	if id, err = claim(); err != nil {
		t.Fatalf("an uncommitted stale claim was not claimed afresh: %v", err)
	}
	claimed = context.WithValue(ctx, claimCtxKey{}, id)
	// A transaction that writes marks it; then the 5xx path does not release it.
	if err := h.st.InTx(claimed, func(q *db.Queries) error {
		return q.ReleaseIdempotencyKey(claimed, -1) // deletes nothing: still no write
	}); err != nil {
		t.Fatal(err)
	}
	if committed() {
		t.Fatal("a transaction that wrote nothing marked the claim committed")
	}
	var other int64
	if err := h.st.Pool().QueryRow(ctx, `SELECT id FROM idempotency_keys WHERE key = 'other'`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	if err := h.st.InTx(claimed, func(q *db.Queries) error {
		return q.ReleaseIdempotencyKey(claimed, other) // a write
	}); err != nil {
		t.Fatal(err)
	}
	if !committed() {
		t.Fatal("a transaction that wrote did not mark the claim committed")
	}
	s.releaseKey(ctx, id)
	if row := held(); row.ID != id || row.State != "in_flight" {
		t.Fatalf("committed claim released: %+v", row)
	}
	h.exec(t, `UPDATE idempotency_keys SET created_at = now() - interval '11 minutes' WHERE key = 'k'`)
	if _, err := claim(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a committed stale claim was claimed afresh: %v", err)
	}
	if !held().Lost {
		t.Error("a committed stale claim does not read as lost")
	}
}
