package store

import "time"

// PoolStats is a snapshot of the connection pool for metrics, in plain types so the
// packages that export it never import pgx.
type PoolStats struct {
	Total    int32 // connections open
	Idle     int32 // open and unused
	Acquired int32 // in use
	Max      int32 // the pool's size limit

	Acquires  int64         // connections acquired, ever
	Waits     int64         // acquires that had to wait for a connection
	WaitTotal time.Duration // time spent in those waits
}

// PoolStats reads the pool's statistics now.
func (s *Store) PoolStats() PoolStats {
	st := s.pool.Stat()
	return PoolStats{
		Total:     st.TotalConns(),
		Idle:      st.IdleConns(),
		Acquired:  st.AcquiredConns(),
		Max:       st.MaxConns(),
		Acquires:  st.AcquireCount(),
		Waits:     st.EmptyAcquireCount(),
		WaitTotal: st.EmptyAcquireWaitTime(),
	}
}
