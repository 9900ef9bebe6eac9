package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/stockroom-dev/stockroom/internal/db"
)

// cleanupBatch is how many rows one cleanup statement deletes at most.
const cleanupBatch = 1000

// CleanupArgs is the periodic cleanup: expired sessions, sign-in failures older than
// a day, idempotency keys older than 24 hours, idle API rate-limit buckets and events
// older than Options.EventRetention.
type CleanupArgs struct{}

// Kind is the job kind River stores.
func (CleanupArgs) Kind() string { return "cleanup" }

// InsertOpts make a cleanup unique while one is waiting or running: a slow run is not
// joined by the next one, and several processes electing a leader in turn do not
// queue it twice.
func (CleanupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled},
	}}
}

// CleanupWorker runs CleanupArgs.
type CleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	q *Queue
}

// Timeout gives a cleanup that is far behind the time to catch up.
func (w *CleanupWorker) Timeout(*river.Job[CleanupArgs]) time.Duration { return 10 * time.Minute }

// Work deletes in batches of cleanupBatch rows, each its own short statement, until
// a batch comes back short.
func (w *CleanupWorker) Work(ctx context.Context, _ *river.Job[CleanupArgs]) error {
	counts, err := w.q.Cleanup(ctx)
	if n := counts.Sessions + counts.LoginAttempts + counts.IdempotencyKeys + counts.RateLimits + counts.Events; n > 0 {
		w.q.log.InfoContext(ctx, "cleanup", "sessions", counts.Sessions, "login_attempts", counts.LoginAttempts,
			"idempotency_keys", counts.IdempotencyKeys, "rate_limits", counts.RateLimits, "events", counts.Events)
	}
	return err
}

// CleanupCounts says how many rows a cleanup deleted from each table.
type CleanupCounts struct {
	Sessions, LoginAttempts, IdempotencyKeys, RateLimits, Events int64
}

// Cleanup runs every cleanup once, in batches, and returns how many rows each
// deleted.
func (q *Queue) Cleanup(ctx context.Context) (CleanupCounts, error) {
	var c CleanupCounts
	retention := q.opts.EventRetention
	if retention <= 0 {
		retention = 7 * 24 * time.Hour
	}
	steps := []struct {
		name  string
		count *int64
		batch func(q *db.Queries) (int64, error)
	}{
		{"sessions", &c.Sessions, func(q *db.Queries) (int64, error) { return q.DeleteExpiredSessionsBatch(ctx, cleanupBatch) }},
		{"login attempts", &c.LoginAttempts, func(q *db.Queries) (int64, error) { return q.DeleteOldLoginAttemptsBatch(ctx, cleanupBatch) }},
		{"idempotency keys", &c.IdempotencyKeys, func(q *db.Queries) (int64, error) {
			return q.DeleteOldIdempotencyKeysBatch(ctx, cleanupBatch)
		}},
		{"rate limits", &c.RateLimits, func(q *db.Queries) (int64, error) { return q.DeleteIdleRateLimitsBatch(ctx, cleanupBatch) }},
		// A stream resuming after a deleted event is told to reload (package events).
		{"events", &c.Events, func(q *db.Queries) (int64, error) {
			return q.DeleteEventsBefore(ctx, db.DeleteEventsBeforeParams{Before: time.Now().Add(-retention), Batch: cleanupBatch})
		}},
	}
	for _, s := range steps {
		for {
			var n int64
			err := q.st.Primary(ctx, func(dq *db.Queries) (err error) {
				n, err = s.batch(dq)
				return err
			})
			if err != nil {
				return c, fmt.Errorf("clean up %s: %w", s.name, err)
			}
			*s.count += n
			if n < cleanupBatch {
				break
			}
		}
	}
	return c, nil
}

func (q *Queue) addCleanup() {
	AddWorker(q, &CleanupWorker{q: q})
	q.AddPeriodic(q.opts.CleanupEvery, func() (river.JobArgs, *river.InsertOpts) { return CleanupArgs{}, nil }, true)
}
