package api

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/stockroom-dev/stockroom/internal/db"
)

// beatEvery is how often a process writes its row of api_instances; a process not
// seen for 5 seconds (see ClaimIdempotencyKey) is taken for dead.
const beatEvery = time.Second

// heartbeat is this process's row of api_instances, which its idempotency claims
// name: while it is written every second, the other processes know the claims are
// alive; once it stops, they take the keys over within seconds.
type heartbeat struct {
	id      uuid.UUID
	beating atomic.Bool // a beat has succeeded: claims may name this process
}

// instance is what a new claim records as its process: this one once it beats, else
// NULL (the claim is then dead only after 10 minutes).
func (h *heartbeat) instance() uuid.NullUUID {
	if h == nil || !h.beating.Load() {
		return uuid.NullUUID{}
	}
	return uuid.NullUUID{UUID: h.id, Valid: true}
}

// RunHeartbeat writes this process's row of api_instances every second until ctx
// ends, then deletes it (serve runs it once the HTTP server has finished its
// requests, so no claim of this process is left in flight). Once a minute it also
// deletes the rows of processes gone for an hour. A process that runs no heartbeat
// (tests, tools) keeps to the 10-minute rule.
func (s *Server) RunHeartbeat(ctx context.Context) {
	h := &heartbeat{id: uuid.New()} // random (version 4, crypto/rand)
	s.heart.Store(h)
	tick := time.NewTicker(beatEvery)
	defer tick.Stop()
	var swept time.Time
	for {
		bctx, cancel := context.WithTimeout(ctx, beatEvery)
		err := s.st.InTx(bctx, func(q *db.Queries) error { return q.BeatAPIInstance(bctx, h.id) })
		cancel()
		if err == nil {
			h.beating.Store(true)
		} else if ctx.Err() == nil {
			s.log.WarnContext(ctx, "idempotency heartbeat", "err", err)
		}
		if time.Since(swept) > time.Minute {
			swept = time.Now()
			s.st.InTx(ctx, func(q *db.Queries) error {
				_, err := q.DeleteStaleAPIInstances(ctx)
				return err
			})
		}
		select {
		case <-ctx.Done():
			h.beating.Store(false)
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := s.st.InTx(dctx, func(q *db.Queries) error { return q.DeleteAPIInstance(dctx, h.id) }); err != nil {
				s.log.WarnContext(dctx, "forget this process in api_instances", "err", err)
			}
			return
		case <-tick.C:
		}
	}
}
