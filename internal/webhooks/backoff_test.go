package webhooks_test

import (
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/webhooks"
)

// The default retry schedule is what the README and #16 promise: exponential from
// 10 s, capped at 4 hours, ±20% jitter, and the 16 waits between the default 17
// attempts span about a day.
func TestDefaultBackoffSpansADay(t *testing.T) {
	const attempts = 17 // webhooks.Options' default MaxAttempts
	for attempt := 1; attempt < attempts; attempt++ {
		base := min(10*time.Second<<(attempt-1), 4*time.Hour)
		lo, hi := base*8/10, base*12/10
		seen := map[time.Duration]bool{}
		for range 200 {
			d := webhooks.DefaultBackoff(attempt)
			if d < lo || d > hi {
				t.Fatalf("attempt %d: %v, want within ±20%% of %v", attempt, d, base)
			}
			seen[d] = true
		}
		if len(seen) < 100 {
			t.Errorf("attempt %d: %d distinct waits in 200, want jitter", attempt, len(seen))
		}
	}
	var least, most time.Duration
	for attempt := 1; attempt < attempts; attempt++ {
		base := min(10*time.Second<<(attempt-1), 4*time.Hour)
		least += base * 8 / 10
		most += base * 12 / 10
	}
	if least < 18*time.Hour || most > 32*time.Hour {
		t.Errorf("the %d retries wait %v to %v in all, want about a day", attempts-1, least, most)
	}
}
