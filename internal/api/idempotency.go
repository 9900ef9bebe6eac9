package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// replayedHeaders are the response headers stored with an idempotency key and sent
// again on a replay.
var replayedHeaders = []string{"Content-Type", "Location", "ETag"}

// idempotent runs the POST handler h at most once per Idempotency-Key and principal.
// Without the header, h simply runs.
//
// The key is claimed (INSERT ... ON CONFLICT DO NOTHING, state in_flight) in a short
// transaction of its own before h runs, and h's response is stored after. Then:
// the same key with the same request replays the stored response; with another
// request it is a 422; while the first is still running, a 409. A response of 500 or
// more (or none: the client left) releases the claim, so a retry runs afresh.
//
// h runs with the claim in its request context, and every transaction of h that
// commits a write also marks the claim committed, in that same transaction
// (markCommitted, a store.BeforeCommit hook). So if the process dies between h's
// commit and storing the response, the claim stays in flight but committed:
// retries get 409 "still being processed", then a 409 saying the request was
// applied and its response lost (look the resource up) - never a second run. A
// claim whose h never committed a write is claimed afresh, and a committed claim is
// not released by a 5xx either.
//
// When is a claim in flight dead? A claim records its process (RunHeartbeat: each
// serve process writes its row of api_instances every second): once that process
// has not been seen for 5 seconds, its claims are dead at once; a claim of a process
// without a heartbeat is dead after 10 minutes. A claim taken over gets a new claim
// token, and the old request can then neither mark (its write transaction fails and
// rolls back), complete nor release it, so a process wrongly thought dead (a long
// pause) cannot make a second write either.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, p *auth.Principal, h http.Handler) error {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		h.ServeHTTP(w, r)
		return nil
	}
	if len(key) > 255 || !printable(key) {
		return badParam("Idempotency-Key", "must be 1 to 255 printable ASCII characters")
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("read body: %w", err) // over 1 MiB: 413
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	sum := requestHash(r, raw)
	owner := principalKey(p)
	ctx := r.Context()
	for range 3 { // a claim released between our INSERT and SELECT: try again
		id, claimed, err := s.claimKey(ctx, owner, key, sum)
		if err != nil {
			return err
		}
		if claimed {
			return s.runClaimed(w, r, h, id)
		}
		held, err := s.heldKey(ctx, owner, key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if !bytes.Equal(held.RequestHash, sum) {
			reused := validator.Errors{"Idempotency-Key": "was used for a different request"}
			return &clientError{kind: reused, fields: reused,
				detail: "This Idempotency-Key was first used with a different request; use a new key for a new request."}
		}
		if held.Lost {
			return &clientError{kind: store.ErrConflict,
				detail: "The original request with this Idempotency-Key was applied but its response was lost; look the resource up instead of retrying."}
		}
		if held.State == "in_flight" {
			w.Header().Set("Retry-After", "1")
			return &clientError{kind: store.ErrConflict,
				detail: "A request with this Idempotency-Key is still being processed: retry shortly."}
		}
		return replay(w, held)
	}
	return &clientError{kind: store.ErrConflict, detail: "This Idempotency-Key is busy: retry shortly."}
}

// requestHash identifies a request for its key: method, path and query, and body.
func requestHash(r *http.Request, raw []byte) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", r.Method, r.URL.RequestURI())
	h.Write(raw)
	return h.Sum(nil)
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}

// runClaimed runs h for the claim id and stores its response, or releases the claim
// when h failed on our side. The response goes out either way.
func (s *Server) runClaimed(w http.ResponseWriter, r *http.Request, h http.Handler, id claimRef) error {
	ctx := context.WithoutCancel(r.Context()) // the bookkeeping outlives a client that left
	rec := &capture{header: w.Header().Clone()}
	done := false
	defer func() {
		if !done { // h panicked: let the retry run
			s.releaseKey(ctx, id)
		}
	}()
	h.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), claimCtxKey{}, id)))
	done = true
	if rec.status == 0 || rec.status >= 500 {
		s.releaseKey(ctx, id)
	} else if err := s.completeKey(ctx, id, rec); err != nil {
		// The claim stays in flight (see idempotent): a retry gets 409, not a double.
		s.log.ErrorContext(ctx, "store idempotent response", "err", err)
	}
	rec.send(w)
	return nil
}

// claimCtxKey carries the idempotency claim (a claimRef) of the request h serves.
type claimCtxKey struct{}

// claimRef is one claim of a key: its row and its claim token.
type claimRef struct {
	id    int64
	claim uuid.NullUUID
}

// errClaimTakenOver fails a write transaction whose idempotency claim another request
// took over, believing this process dead: the write must not happen twice.
var errClaimTakenOver = errors.New("idempotency claim taken over by another request")

// markCommitted is the store.BeforeCommit hook: a transaction run for a request with
// an idempotency claim marks the claim committed when it wrote something (the query
// checks the transaction has an id), in the same transaction.
func markCommitted(ctx context.Context, tx *store.Tx) error {
	c, ok := ctx.Value(claimCtxKey{}).(claimRef)
	if !ok {
		return nil
	}
	row, err := tx.Q.MarkIdempotencyKeyCommitted(ctx, db.MarkIdempotencyKeyCommittedParams{ID: c.id, Claim: c.claim})
	if err != nil {
		return fmt.Errorf("mark idempotency key committed: %w", err)
	}
	if row.Wrote && !row.Ours {
		return errClaimTakenOver
	}
	return nil
}

func (s *Server) claimKey(ctx context.Context, owner, key string, sum []byte) (claimRef, bool, error) {
	var row db.ClaimIdempotencyKeyRow
	err := s.st.InTx(ctx, func(q *db.Queries) error {
		var err error
		row, err = q.ClaimIdempotencyKey(ctx, db.ClaimIdempotencyKeyParams{Principal: owner, Key: key, RequestHash: sum,
			Instance: s.heart.Load().instance()})
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return claimRef{}, false, nil // held by an earlier request
	}
	if err != nil {
		return claimRef{}, false, fmt.Errorf("claim idempotency key: %w", err)
	}
	return claimRef{id: row.ID, claim: row.Claim}, true, nil
}

func (s *Server) heldKey(ctx context.Context, owner, key string) (db.GetIdempotencyKeyRow, error) {
	var held db.GetIdempotencyKeyRow
	err := s.st.Read(ctx, func(q *db.Queries) error {
		var err error
		held, err = q.GetIdempotencyKey(ctx, db.GetIdempotencyKeyParams{Principal: owner, Key: key})
		return err
	})
	if err != nil {
		return held, fmt.Errorf("load idempotency key: %w", err)
	}
	return held, nil
}

func (s *Server) completeKey(ctx context.Context, id claimRef, rec *capture) error {
	headers := map[string]string{}
	for _, k := range replayedHeaders {
		if v := rec.header.Get(k); v != "" {
			headers[k] = v
		}
	}
	hj, err := json.Marshal(headers)
	if err != nil {
		return err
	}
	return s.st.InTx(ctx, func(q *db.Queries) error {
		return q.CompleteIdempotencyKey(ctx, db.CompleteIdempotencyKeyParams{
			ID: id.id, Claim: id.claim, Status: ptr(int32(rec.status)), Headers: hj, Body: rec.body.Bytes(),
		})
	})
}

func (s *Server) releaseKey(ctx context.Context, id claimRef) {
	err := s.st.InTx(ctx, func(q *db.Queries) error {
		return q.ReleaseIdempotencyKey(ctx, db.ReleaseIdempotencyKeyParams{ID: id.id, Claim: id.claim})
	})
	if err != nil {
		s.log.ErrorContext(ctx, "release idempotency key", "err", err, "id", id.id)
	}
}

// replay sends the stored response of the first request with this key.
func replay(w http.ResponseWriter, held db.GetIdempotencyKeyRow) error {
	var headers map[string]string
	if err := json.Unmarshal(held.Headers, &headers); err != nil {
		return fmt.Errorf("stored idempotent headers: %w", err)
	}
	h := w.Header()
	for k, v := range headers {
		h.Set(k, v)
	}
	h.Set("Idempotent-Replayed", "true")
	h.Set("Content-Length", strconv.Itoa(len(held.Body)))
	w.WriteHeader(int(*held.Status))
	w.Write(held.Body)
	return nil
}

// capture holds a response in memory, so it can be stored before it is sent.
type capture struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *capture) Header() http.Header { return c.header }

func (c *capture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}

// send writes the captured response to w. Nothing captured (the client left) sends
// nothing.
func (c *capture) send(w http.ResponseWriter) {
	if c.status == 0 {
		return
	}
	h := w.Header()
	clear(h)
	for k, v := range c.header {
		h[k] = v
	}
	w.WriteHeader(c.status)
	w.Write(c.body.Bytes())
}

func ptr[T any](v T) *T { return &v }
