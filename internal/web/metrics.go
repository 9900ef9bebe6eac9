package web

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/stockroom-dev/stockroom/internal/store"
)

// Metrics are the request metrics, registered on a registry of the process's own
// (no global default registry).
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the request metrics and the Go runtime and process collectors.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockroom_http_requests_total",
			Help: "HTTP requests by route (method and pattern) and status.",
		}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stockroom_http_request_duration_seconds",
			Help:    "HTTP request duration by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) observe(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// poolCollector exports the pool's statistics as gauges and counters at scrape time.
type poolCollector struct {
	stats func() store.PoolStats
	descs map[string]*prometheus.Desc
}

// RegisterPool exports pool statistics (connections total, idle, in use, waits), read
// from stats at each scrape (store.Store.PoolStats).
func RegisterPool(reg prometheus.Registerer, stats func() store.PoolStats) {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("stockroom_db_pool_"+name, help, nil, nil)
	}
	reg.MustRegister(&poolCollector{stats: stats, descs: map[string]*prometheus.Desc{
		"total":     d("connections", "Connections open in the pool."),
		"idle":      d("connections_idle", "Idle connections."),
		"acquired":  d("connections_acquired", "Connections in use."),
		"max":       d("connections_max", "The pool's size limit."),
		"waits":     d("acquire_waits_total", "Acquires that had to wait for a connection."),
		"wait_secs": d("acquire_wait_seconds_total", "Time spent waiting for a connection."),
		"acquires":  d("acquires_total", "Connections acquired."),
	}})
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	g := func(k string, v float64) { ch <- prometheus.MustNewConstMetric(c.descs[k], prometheus.GaugeValue, v) }
	n := func(k string, v float64) { ch <- prometheus.MustNewConstMetric(c.descs[k], prometheus.CounterValue, v) }
	g("total", float64(s.Total))
	g("idle", float64(s.Idle))
	g("acquired", float64(s.Acquired))
	g("max", float64(s.Max))
	n("waits", float64(s.Waits))
	n("wait_secs", s.WaitTotal.Seconds())
	n("acquires", float64(s.Acquires))
}

// RegisterReplica exports the read replica's state (store.Store.ReplicaStatus) at
// each scrape: whether reads may use it, its lag, and where Replica reads ran. Without
// a replica, nothing is exported.
func RegisterReplica(reg prometheus.Registerer, status func() store.ReplicaStatus) {
	if !status().Configured {
		return
	}
	reg.MustRegister(replicaCollector{
		status: status,
		usable: prometheus.NewDesc("stockroom_db_replica_usable",
			"1 when reads may go to the read replica; 0 when it is down or lags past STOCKROOM_REPLICA_MAX_LAG.", nil, nil),
		lag: prometheus.NewDesc("stockroom_db_replica_lag_seconds",
			"How far the read replica's replay is behind the primary, as of the last check.", nil, nil),
		reads: prometheus.NewDesc("stockroom_db_replica_reads_total",
			"Reads that could go to the replica, by the server that answered them.", []string{"server"}, nil),
	})
}

type replicaCollector struct {
	status             func() store.ReplicaStatus
	usable, lag, reads *prometheus.Desc
}

func (c replicaCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.usable
	ch <- c.lag
	ch <- c.reads
}

func (c replicaCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.status()
	usable := 0.0
	if s.Usable {
		usable = 1
	}
	ch <- prometheus.MustNewConstMetric(c.usable, prometheus.GaugeValue, usable)
	ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, s.Lag.Seconds())
	ch <- prometheus.MustNewConstMetric(c.reads, prometheus.CounterValue, float64(s.ReadsReplica), "replica")
	ch <- prometheus.MustNewConstMetric(c.reads, prometheus.CounterValue, float64(s.ReadsPrimary), "primary")
}
