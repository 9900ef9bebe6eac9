package imports

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/stockroom-dev/stockroom/internal/store"
)

// Args is the background job that plans an import, and applies it once confirmed
// (Service.Run). It is inserted in the transaction that uploads or confirms it.
type Args struct {
	ImportID int64 `json:"import_id"`
}

// Kind is the job's kind in River's table.
func (Args) Kind() string { return "import" }

// Queue is where imports put their jobs (a *jobs.Queue): in the caller's
// transaction, so the job exists exactly when the upload or confirmation commits.
type Queue interface {
	InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) error
}

// Worker runs import jobs. Register it on every process's queue
// (jobs.AddWorker(q, &imports.Worker{Imports: svc})).
type Worker struct {
	river.WorkerDefaults[Args]
	Imports *Service
}

// Work plans and applies the import; it is safe to repeat (River runs a job again
// after a crash, and a rerun resumes).
func (w *Worker) Work(ctx context.Context, j *river.Job[Args]) error {
	_, err := w.Imports.Run(ctx, j.Args.ImportID)
	return err
}

// Timeout gives a large file time: a 50 MiB file is about 400,000 rows.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return 30 * time.Minute }

// ResumeArgs is the periodic job that takes up imports no worker is running: after
// a crash or a SIGKILL, the import's own job waits for River's rescuer (minutes);
// this one runs on start and then every ResumeEvery.
type ResumeArgs struct{}

// Kind is the job's kind in River's table.
func (ResumeArgs) Kind() string { return "import_resume" }

// ResumeEvery is how often the resume job runs.
const ResumeEvery = time.Minute

// ResumeWorker runs every unfinished import that no other worker holds (Run skips
// those: see store.Exclusive).
type ResumeWorker struct {
	river.WorkerDefaults[ResumeArgs]
	Imports *Service
}

// Work runs the unfinished imports one after the other.
func (w *ResumeWorker) Work(ctx context.Context, j *river.Job[ResumeArgs]) error {
	ids, err := w.Imports.Unfinished(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := w.Imports.Run(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// Timeout is the import job's: it may run a whole import.
func (w *ResumeWorker) Timeout(*river.Job[ResumeArgs]) time.Duration { return 30 * time.Minute }
