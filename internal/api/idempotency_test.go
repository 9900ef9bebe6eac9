package api

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

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
	claim := func() (claimRef, error) {
		var row db.ClaimIdempotencyKeyRow
		err := h.st.InTx(ctx, func(q *db.Queries) error {
			var err error
			row, err = q.ClaimIdempotencyKey(ctx, db.ClaimIdempotencyKeyParams{Principal: "test", Key: "k", RequestHash: []byte{0}})
			return err
		})
		return claimRef{id: row.ID, claim: row.Claim}, err
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
		return q.ReleaseIdempotencyKey(claimed, db.ReleaseIdempotencyKeyParams{ID: -1}) // deletes nothing: still no write
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
		return q.ReleaseIdempotencyKey(claimed, db.ReleaseIdempotencyKeyParams{ID: other}) // a write
	}); err != nil {
		t.Fatal(err)
	}
	if !committed() {
		t.Fatal("a transaction that wrote did not mark the claim committed")
	}
	s.releaseKey(ctx, id)
	if row := held(); row.ID != id.id || row.State != "in_flight" {
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

// A claim names its process; once that process has not been seen in api_instances
// for 5 seconds (killed), the key is claimed afresh at once, not after 10 minutes,
// or reads as applied and lost if its write committed. The old request, should its
// process still be running after all (a long pause), can then neither commit a write
// for the key, nor release or complete the new claim.
func TestIdempotencyDeadProcessTakenOver(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	s := &Server{st: h.st, log: slog.Default()}
	alive := uuid.NullUUID{UUID: uuid.UUID{0: 1}, Valid: true}
	h.exec(t, `INSERT INTO api_instances (id) VALUES ($1)`, alive)
	claim := func(key string) (claimRef, error) {
		var row db.ClaimIdempotencyKeyRow
		err := h.st.InTx(ctx, func(q *db.Queries) error {
			var err error
			row, err = q.ClaimIdempotencyKey(ctx, db.ClaimIdempotencyKeyParams{Principal: "test", Key: key,
				RequestHash: []byte{0}, Instance: alive})
			return err
		})
		return claimRef{id: row.ID, claim: row.Claim}, err
	}
	held := func(key string) db.GetIdempotencyKeyRow {
		t.Helper()
		row, err := s.heldKey(ctx, "test", key)
		if err != nil {
			t.Fatal(err)
		}
		return row
	}
	first, err := claim("k")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := claim("k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a claim of a live process was taken over: %v", err)
	}
	h.exec(t, `UPDATE api_instances SET seen_at = now() - interval '6 seconds'`) // the process died
	second, err := claim("k")
	if err != nil {
		t.Fatalf("a claim of a dead process was not taken over: %v", err)
	}
	if second.id != first.id || second.claim == first.claim {
		t.Fatalf("taken over as %+v from %+v: want the same row with a new claim token", second, first)
	}
	h.exec(t, `UPDATE api_instances SET seen_at = now()`) // the new request's process is alive
	// The first request was only paused: its write must not commit, and it cannot
	// release or complete the second's claim.
	wrote := func(c claimRef, slug string) error {
		return h.st.InTx(context.WithValue(ctx, claimCtxKey{}, c), func(q *db.Queries) error {
			_, err := q.CreateCategory(ctx, db.CreateCategoryParams{Name: slug, Slug: slug})
			return err
		})
	}
	if err := wrote(first, "first"); !errors.Is(err, errClaimTakenOver) {
		t.Errorf("the old request's write: %v, want errClaimTakenOver", err)
	}
	s.releaseKey(ctx, first)
	if err := s.completeKey(ctx, first, &capture{status: 201}); err != nil {
		t.Fatal(err)
	}
	if row := held("k"); row.State != "in_flight" {
		t.Fatalf("the old request completed or released the new claim: %+v", row)
	}
	if err := wrote(second, "second"); err != nil {
		t.Fatalf("the new request's write: %v", err)
	}
	var cats []string
	rows, _ := h.st.Pool().Query(ctx, `SELECT slug FROM categories ORDER BY slug`)
	for rows.Next() {
		var c string
		rows.Scan(&c)
		cats = append(cats, c)
	}
	if strings.Join(cats, ",") != "second" {
		t.Errorf("categories %v, want only the new request's", cats)
	}
	// Its process dies too, after the write committed: never claimed afresh, and
	// read as applied with the response lost at once.
	h.exec(t, `UPDATE api_instances SET seen_at = now() - interval '6 seconds'`)
	if _, err := claim("k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a committed claim of a dead process was claimed afresh: %v", err)
	}
	if !held("k").Lost {
		t.Error("a committed claim of a dead process does not read as lost")
	}
}

// A serve process beats while it runs, so its claims name it, and forgets its row
// when it stops.
func TestHeartbeat(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := &Server{st: h.st, log: slog.Default()}
	if s.heart.Load().instance().Valid {
		t.Fatal("claims name a process that runs no heartbeat")
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.RunHeartbeat(ctx); close(done) }()
	count := func() int {
		var n int
		if err := h.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM api_instances WHERE seen_at > now() - interval '5 seconds'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.heart.Load() == nil || !s.heart.Load().instance().Valid {
		if time.Now().After(deadline) {
			t.Fatal("the heartbeat never beat")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := count(); n != 1 {
		t.Errorf("%d live rows in api_instances, want 1", n)
	}
	stop()
	<-done
	if n := count(); n != 0 {
		t.Errorf("%d rows in api_instances after the stop, want 0", n)
	}
	if s.heart.Load().instance().Valid {
		t.Error("claims still name a stopped process")
	}
}
