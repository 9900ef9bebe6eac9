package dbtest

import (
	"bytes"
	"sync"
)

// LogBuffer is a bytes.Buffer safe to read while a server (or run) writes to it from
// other goroutines: the log sink of the tests that start stockroom on a database
// from New.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *LogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written since the last Reset.
func (s *LogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Reset empties the buffer: benchmarks drop the access log between requests.
func (s *LogBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}
