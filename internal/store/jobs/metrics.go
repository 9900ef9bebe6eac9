package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// metrics are the queue's Prometheus series: jobs worked by this process, by kind
// and outcome, with their run time and how long they waited; and (collected at
// scrape time, for the whole cluster) how many jobs are in each state.
type metrics struct {
	river.MiddlewareDefaults
	worked   *prometheus.CounterVec
	duration *prometheus.HistogramVec
	wait     *prometheus.HistogramVec
}

func newMetrics(q *Queue, reg prometheus.Registerer) *metrics {
	m := &metrics{
		worked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockroom_jobs_worked_total",
			Help: "Job attempts this process ran, by kind and outcome: completed, retried (failed, will run again) or failed (given up or cancelled).",
		}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stockroom_job_duration_seconds",
			Help:    "How long one attempt of a job ran, by kind.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"kind"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stockroom_job_wait_seconds",
			Help:    "How long a job waited between being due and starting, by kind: the queue's latency.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"kind"}),
	}
	reg.MustRegister(m.worked, m.duration, m.wait, &stateCollector{q: q})
	return m
}

// Work is River's worker middleware: it times every attempt and counts its outcome.
func (m *metrics) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	start := time.Now()
	if job.AttemptedAt != nil {
		m.wait.WithLabelValues(job.Kind).Observe(max(job.AttemptedAt.Sub(job.ScheduledAt), 0).Seconds())
	}
	err := doInner(ctx)
	m.duration.WithLabelValues(job.Kind).Observe(time.Since(start).Seconds())
	outcome := "completed"
	var cancel *rivertype.JobCancelError
	switch {
	case err == nil:
	case errors.As(err, &cancel) || job.Attempt >= job.MaxAttempts:
		outcome = "failed"
	default:
		outcome = "retried"
	}
	m.worked.WithLabelValues(job.Kind, outcome).Inc()
	return err
}

// stateCollector reports how many jobs of the cluster are in each state when
// Prometheus scrapes: one grouped count over river_job, which River's cleaner keeps
// short (finished jobs go after a day).
type stateCollector struct{ q *Queue }

var stateDesc = prometheus.NewDesc("stockroom_jobs", "Jobs in the queue (all processes), by state.", []string{"state"}, nil)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- stateDesc }

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.q.Counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(stateDesc, err)
		return
	}
	for _, s := range States {
		ch <- prometheus.MustNewConstMetric(stateDesc, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
}
