package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/stockroom-dev/stockroom/internal/imports"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/store/jobs"
	"github.com/stockroom-dev/stockroom/internal/webhooks"
)

// defineServing is define for serve and dev: the common settings and --no-workers,
// for a deployment that runs its jobs in separate `stockroom worker` processes.
func defineServing(run runFunc) func(fs *flag.FlagSet) runFunc {
	return func(fs *flag.FlagSet) runFunc {
		noWorkers := fs.Bool("no-workers", false, "serve only: insert background jobs but leave running them to `stockroom worker`")
		return func(ctx context.Context, e *env, args []string) error {
			e.noWorkers = *noWorkers
			return run(ctx, e, args)
		}
	}
}

// newQueue builds the process's job queue, registers every worker on it (any process
// may insert any job) and starts it: working when work is set, inserting only
// otherwise. Stop it with stopQueue. It also returns the webhooks service, whose
// worker it registered and whose enqueue hook now runs in every transaction of st.
// The queue's metrics go to reg when it is not nil.
func newQueue(ctx context.Context, e *env, st *store.Store, log *slog.Logger, work bool, reg prometheus.Registerer) (*jobs.Queue, *webhooks.Service, error) {
	q := jobs.New(st, log, jobs.Options{Work: work, Cleanup: true, StopTimeout: e.cfg.ShutdownGrace,
		EventRetention: e.cfg.EventRetention, Metrics: reg})
	imp := newImports(e, st, q)
	jobs.AddWorker(q, &imports.Worker{Imports: imp})
	jobs.AddWorker(q, &imports.ResumeWorker{Imports: imp})
	q.AddPeriodic(imports.ResumeEvery, func() (river.JobArgs, *river.InsertOpts) { return imports.ResumeArgs{}, nil }, true)
	hooks := webhooks.New(st, q, log, webhooks.Options{AllowPrivate: e.cfg.WebhooksAllowPrivate})
	hooks.EnqueueOnCommit()
	if err := q.Start(ctx); err != nil {
		return nil, nil, err
	}
	if work {
		log.Info("background jobs: working")
	}
	return q, hooks, nil
}

// stopQueue lets running jobs finish for the shutdown grace, then cancels them (they
// go back to the queue), and waits a little longer for them to return.
func stopQueue(e *env, q *jobs.Queue, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.ShutdownGrace+5*time.Second)
	defer cancel()
	if err := q.Stop(ctx); err != nil {
		log.Error("stop background jobs", "err", err)
	}
}

// runWorker is `stockroom worker`: run background jobs, serve nothing, until stopped.
func runWorker(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usagef("worker takes no arguments")
	}
	log := e.cfg.Logger(e.stderr)
	st, err := openStore(ctx, e, e.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	m, err := store.NewMigrator(st.Pool())
	if err != nil {
		return err
	}
	err = m.Check(ctx)
	m.Close()
	if err != nil {
		return err
	}
	q, _, err := newQueue(ctx, e, st, log, true, nil)
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("stopping background jobs", "grace", e.cfg.ShutdownGrace.String())
	stopQueue(e, q, log)
	fmt.Fprintln(e.stdout, "worker stopped")
	return nil
}

// newImports is the CSV import service (internal/imports), whose jobs go on q.
func newImports(e *env, st *store.Store, q *jobs.Queue) *imports.Service {
	return imports.New(st, imports.Config{Currency: e.cfg.Currency}, q)
}
