package jobs_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/store/jobs"
)

type failArgs struct{}

func (failArgs) Kind() string { return "test_fail" }

// failWorker fails every attempt, counting them.
type failWorker struct {
	river.WorkerDefaults[failArgs]
	runs *atomic.Int64
}

func (w *failWorker) Work(context.Context, *river.Job[failArgs]) error {
	w.runs.Add(1)
	return errors.New("the receiver is down")
}

// A job that fails for good is listed as discarded with its error and attempts;
// retry runs it again; cancel stops a scheduled one; the metrics count it all.
func TestInspectRetryCancelAndMetrics(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t)
	reg := prometheus.NewRegistry()
	q := jobs.New(st, testLog(), jobs.Options{Work: true, PollInterval: 50 * time.Millisecond, Metrics: reg})
	var runs atomic.Int64
	jobs.AddWorker(q, &failWorker{runs: &runs})
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(ctx)
	if err := q.Insert(ctx, failArgs{}, &river.InsertOpts{MaxAttempts: 1}); err != nil {
		t.Fatal(err)
	}
	discarded := func() []*rivertype.JobRow {
		p, err := q.List(ctx, jobs.Filter{State: rivertype.JobStateDiscarded, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return p.Jobs
	}
	waitUntil(t, "the job is discarded", func() bool { return len(discarded()) == 1 })
	j := discarded()[0]
	if j.Attempt != 1 || len(j.Errors) != 1 || !strings.Contains(j.Errors[0].Error, "the receiver is down") {
		t.Errorf("discarded job: attempt %d, errors %+v", j.Attempt, j.Errors)
	}
	if err := q.Retry(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the retried job ran", func() bool { return runs.Load() == 2 })
	waitUntil(t, "the retried job is discarded again", func() bool {
		d := discarded()
		return len(d) == 1 && d[0].Attempt == 2
	})
	if err := q.Retry(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Retry(unknown) = %v, want ErrNotFound", err)
	}

	if err := q.Insert(ctx, failArgs{}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	p, err := q.List(ctx, jobs.Filter{State: rivertype.JobStateScheduled, Kind: "test_fail", Limit: 10})
	if err != nil || len(p.Jobs) != 1 {
		t.Fatalf("scheduled jobs = %v, %v", p.Jobs, err)
	}
	if err := q.Cancel(ctx, p.Jobs[0].ID); err != nil {
		t.Fatal(err)
	}
	counts, err := q.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[rivertype.JobStateCancelled] != 1 || counts[rivertype.JobStateDiscarded] != 1 {
		t.Errorf("counts = %v, want one cancelled and one discarded", counts)
	}

	if got := testutil.ToFloat64(mustCounter(t, reg, "stockroom_jobs_worked_total", "kind", "test_fail", "outcome", "failed")); got != 2 {
		t.Errorf("stockroom_jobs_worked_total{test_fail,failed} = %v, want 2", got)
	}
	if n, err := testutil.GatherAndCount(reg, "stockroom_jobs", "stockroom_job_duration_seconds"); err != nil || n < 2 {
		t.Errorf("gathered %d series of stockroom_jobs and the duration histogram (%v)", n, err)
	}
}

// mustCounter finds the counter with the given labels in reg.
func mustCounter(t *testing.T, reg *prometheus.Registry, name string, labels ...string) prometheus.Collector {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metric
				}
			}
			c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
			c.Add(m.GetCounter().GetValue())
			return c
		}
	}
	t.Fatalf("no %s%v in the registry", name, labels)
	return nil
}
