// Package jobs is stockroom's background work: a River queue (github.com/riverqueue/
// river) whose jobs live in PostgreSQL, next to the data they are about. A job is
// inserted in the transaction of the change that asks for it (Queue.InsertTx), so it
// commits with the change or vanishes with it, and once committed it survives any
// crash: a worker that dies mid-job leaves it to River's rescuer, which runs it again.
//
// Every process builds one Queue and registers every worker on it (AddWorker), so
// that any process can insert any kind of job; only processes started with work
// enabled (serve and dev unless --no-workers, and `stockroom worker`) also fetch and
// run them. Periodic jobs (the cleanups in cleanup.go) run on one process of the
// cluster at a time: River elects a leader among the working ones.
//
// Usage, from a package that has work to do in the background:
//
//	type ImportArgs struct{ ImportID int64 `json:"import_id"` }
//	func (ImportArgs) Kind() string { return "import" }
//
//	type ImportWorker struct{ river.WorkerDefaults[ImportArgs]; ... }
//	func (w *ImportWorker) Work(ctx context.Context, j *river.Job[ImportArgs]) error { ... }
//
//	jobs.AddWorker(q, &ImportWorker{...})          // while wiring, before q.Start
//	st.Transact(ctx, func(tx *store.Tx) error {    // in the change's transaction
//		... tx.Q.CreateImport(...) ...
//		return q.InsertTx(ctx, tx, ImportArgs{ImportID: id}, nil)
//	})
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/stockroom-dev/stockroom/internal/store"
)

// QueueDefault is River's default queue, the one every job goes to unless its
// InsertOpts say otherwise.
const QueueDefault = river.QueueDefault

// ErrNotStarted: a job was inserted before Start built the client.
var ErrNotStarted = errors.New("jobs: the queue is not started")

// Options tune a Queue. The zero value is stockroom's defaults.
type Options struct {
	// Work makes this process fetch and run jobs (and take part in electing the
	// process that schedules periodic jobs). Without it the process only inserts.
	Work bool
	// MaxWorkers is how many jobs of the default queue run at once in this
	// process (default 10).
	MaxWorkers int
	// JobTimeout bounds a job's Work unless its worker says otherwise with Timeout
	// (default 1 minute).
	JobTimeout time.Duration
	// StopTimeout is how long Stop lets running jobs finish before it cancels
	// them; a cancelled job goes back to the queue to be retried (default 10 s).
	StopTimeout time.Duration
	// PollInterval is how often a working process looks for jobs it was not told
	// about through LISTEN (River's default, 1 s, when 0). Tests shorten it.
	PollInterval time.Duration
	// Cleanup adds the periodic cleanups of cleanup.go (on by default in serve,
	// dev and worker; tests that watch the queue turn it off).
	Cleanup bool
	// CleanupEvery is how often the cleanups run (default 10 minutes).
	CleanupEvery time.Duration
	// EventRetention is how long the cleanup keeps events (default 7 days).
	EventRetention time.Duration
	// Metrics, when set, gets the queue's Prometheus series (see metrics.go).
	Metrics prometheus.Registerer
}

// Queue is the process's job queue: the workers it knows, and the River client once
// Start has built it.
type Queue struct {
	st       *store.Store
	log      *slog.Logger
	opts     Options
	workers  *river.Workers
	periodic []*river.PeriodicJob
	queues   map[string]int // extra queues and their workers per process
	client   *river.Client[pgx.Tx]
	started  bool // Start started the client's workers (opts.Work)
	metrics  *metrics
}

// New returns a queue on st's database. Register workers with AddWorker, then Start.
func New(st *store.Store, log *slog.Logger, opts Options) *Queue {
	if opts.MaxWorkers <= 0 {
		opts.MaxWorkers = 10
	}
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = time.Minute
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 10 * time.Second
	}
	if opts.CleanupEvery <= 0 {
		opts.CleanupEvery = 10 * time.Minute
	}
	q := &Queue{st: st, log: log, opts: opts, workers: river.NewWorkers()}
	if opts.Cleanup {
		q.addCleanup()
	}
	if opts.Metrics != nil {
		q.metrics = newMetrics(q, opts.Metrics)
	}
	return q
}

// AddWorker registers w for its job kind on q. Call it while wiring the program,
// before q.Start; every process registers every worker, since River refuses to
// insert a kind no worker is registered for. A kind registered twice panics.
func AddWorker[T river.JobArgs](q *Queue, w river.Worker[T]) {
	river.AddWorker(q.workers, w)
}

// AddPeriodic schedules a job made by construct every interval, on the one process
// of the cluster that River elected leader. Call it before q.Start.
func (q *Queue) AddPeriodic(every time.Duration, construct func() (river.JobArgs, *river.InsertOpts), runOnStart bool) {
	q.periodic = append(q.periodic, river.NewPeriodicJob(river.PeriodicInterval(every),
		construct, &river.PeriodicJobOpts{RunOnStart: runOnStart}))
}

// AddQueue adds a queue of its own, worked maxWorkers jobs at a time per process, so
// that one kind of work (webhook deliveries waiting on slow receivers, say) cannot
// hold up the others. Jobs go to it with InsertOpts.Queue. Call it before q.Start.
func (q *Queue) AddQueue(name string, maxWorkers int) {
	if q.queues == nil {
		q.queues = map[string]int{}
	}
	q.queues[name] = maxWorkers
}

// Start builds the River client and, with Options.Work, starts fetching and running
// jobs. The client runs until Stop, whatever happens to ctx afterwards: stopping is
// Stop's job, so that running jobs get their grace period.
func (q *Queue) Start(ctx context.Context) error {
	cfg := &river.Config{
		Workers:         q.workers,
		Logger:          q.log.With("component", "jobs"),
		JobTimeout:      q.opts.JobTimeout,
		SoftStopTimeout: q.opts.StopTimeout,
		// A job stuck "running" for this long belonged to a process that died (a
		// worker's own timeout is far shorter): River's rescuer makes it available
		// again, which is what at-least-once needs after a SIGKILL.
		RescueStuckJobsAfter: max(q.opts.JobTimeout+time.Minute, 5*time.Minute),
		ErrorHandler:         &errorLogger{log: q.log},
	}
	if q.metrics != nil {
		cfg.Middleware = []rivertype.Middleware{q.metrics}
	}
	if q.opts.Work {
		cfg.Queues = map[string]river.QueueConfig{QueueDefault: {MaxWorkers: q.opts.MaxWorkers}}
		for name, n := range q.queues {
			cfg.Queues[name] = river.QueueConfig{MaxWorkers: n}
		}
		cfg.PeriodicJobs = q.periodic
		cfg.FetchPollInterval = q.opts.PollInterval
		if cfg.FetchPollInterval > 0 {
			cfg.FetchCooldown = min(cfg.FetchPollInterval, 100*time.Millisecond)
		}
	}
	// River LISTENs for new jobs on a connection it keeps: that needs PostgreSQL
	// itself, not a transaction-mode pooler (store.Direct). With only a pooler it
	// polls instead.
	cfg.PollOnly = q.st.PooledWithoutDirect()
	client, err := river.NewClient(riverpgxv5.New(q.st.Direct()), cfg)
	if err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	q.client = client
	if !q.opts.Work {
		return nil
	}
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	q.started = true
	return nil
}

// Stop stops fetching jobs and waits for the running ones to finish; after
// Options.StopTimeout they are cancelled, and River puts a cancelled job back in
// the queue (retryable), so none is lost. It returns when every job has returned
// or ctx is done.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.started {
		return nil
	}
	if err := q.client.Stop(ctx); err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// Client is the River client, for what this package does not wrap (the jobs page
// lists, retries and cancels jobs with it). Nil before Start.
func (q *Queue) Client() *river.Client[pgx.Tx] { return q.client }

// InsertTx enqueues a job in tx, the transaction of the change that asks for it: the
// job becomes visible to workers when tx commits and never exists if it rolls back.
func (q *Queue) InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	if q.client == nil {
		return ErrNotStarted
	}
	if _, err := q.client.InsertTx(ctx, tx.Pgx(), args, opts); err != nil {
		return fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return nil
}

// InsertManyTx is InsertTx for many jobs, in one round trip (COPY for many rows).
func (q *Queue) InsertManyTx(ctx context.Context, tx *store.Tx, params []river.InsertManyParams) error {
	if q.client == nil {
		return ErrNotStarted
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := q.client.InsertManyFastTx(ctx, tx.Pgx(), params); err != nil {
		return fmt.Errorf("enqueue %d jobs: %w", len(params), err)
	}
	return nil
}

// Insert enqueues a job in a transaction of its own, for work that no change in the
// database asks for (a "send test event" button, say).
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	return q.st.Transact(ctx, func(tx *store.Tx) error { return q.InsertTx(ctx, tx, args, opts) })
}

// errorLogger logs every failed attempt at warn (the job will be retried) and every
// panic at error, with the job's kind, id and attempt: never its arguments, which
// may hold what does not belong in a log.
type errorLogger struct{ log *slog.Logger }

func (h *errorLogger) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	h.log.WarnContext(ctx, "job failed", "kind", job.Kind, "job_id", job.ID, "attempt", job.Attempt,
		"max_attempts", job.MaxAttempts, "err", err)
	return nil
}

func (h *errorLogger) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	h.log.ErrorContext(ctx, "job panicked", "kind", job.Kind, "job_id", job.ID, "attempt", job.Attempt,
		"panic", fmt.Sprint(panicVal), "trace", trace)
	return nil
}
