package store

import "time"

// SetAnnounceEvery sets the least time between two of s's NOTIFYs (announceEvery).
// Call it before s runs any transaction.
func SetAnnounceEvery(s *Store, every time.Duration) { s.ann.every = every }
