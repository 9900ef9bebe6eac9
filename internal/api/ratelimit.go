package api

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// limiter is the API rate limit: a token bucket per principal, one for the whole
// cluster. A bucket holds a minute's allowance and refills continuously, so a client
// may spend its minute in one burst and then goes at the steady rate.
//
// The bucket is a row in rate_limits, shared by every instance, but a request does
// not write it: an instance leases a slice of the bucket (lease, a tenth of a
// second's allowance: 100 tokens at the default 60,000 a minute) in one UPDATE and
// spends it in memory, so at full speed an instance writes once per 100 requests of
// a token, not once per request. Leased tokens have left the bucket, so the
// instances together never allow more than the bucket holds; what an instance leased
// and was then not asked for is at most one slice per instance and token, which a
// client that spreads its requests over the instances spends anyway. A denied
// instance does not ask the bucket again until a whole slice could have refilled,
// so a client hammering past its limit costs each instance at most ten writes a
// second. When the database cannot be asked, the request is allowed (and logged):
// the limit stops runaway scripts, it must not turn an outage into more errors.
type limiter struct {
	st     *store.Store
	log    *slog.Logger
	perSec float64
	burst  float64
	lease  int32
	now    func() time.Time

	mu     sync.Mutex
	local  map[string]*allowance
	swept  time.Time
	leases int64 // bucket writes so far, for tests and metrics
}

// allowance is what this instance holds of one principal's bucket.
type allowance struct {
	mu     sync.Mutex // one lease at a time per principal; requests queue behind it
	tokens int32      // leased and not yet spent
	until  time.Time  // when denied: do not ask the bucket again before this
	first  time.Time  // when denied: when the bucket has a token again
	used   time.Time
}

func newLimiter(st *store.Store, log *slog.Logger, perMinute int, now func() time.Time) *limiter {
	perSec := float64(perMinute) / 60
	lease := int32(min(max(perSec/10, 1), float64(perMinute)/10))
	return &limiter{
		st: st, log: log, perSec: perSec, burst: float64(perMinute), lease: max(lease, 1), now: now,
		local: map[string]*allowance{}, swept: now(),
	}
}

// take spends one request of key's allowance. When none is left it returns false and
// how long until one is, rounded up to whole seconds (for Retry-After).
func (l *limiter) take(ctx context.Context, key string) (time.Duration, bool) {
	now := l.now()
	l.mu.Lock()
	l.sweep(now)
	a := l.local[key]
	if a == nil {
		a = &allowance{}
		l.local[key] = a
	}
	a.used = now
	l.mu.Unlock()

	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tokens > 0 {
		a.tokens--
		return 0, true
	}
	if now.Before(a.until) {
		return retryAfter(a.first.Sub(now)), false
	}
	granted, level, err := l.leaseFrom(ctx, key, now)
	if err != nil {
		l.log.WarnContext(ctx, "rate limit: bucket unavailable, request allowed", "err", err)
		return 0, true
	}
	if granted > 0 {
		a.tokens = granted - 1
		a.until, a.first = time.Time{}, time.Time{}
		return 0, true
	}
	// Empty: the next token is (1-level)/perSec away. Ask again when a whole lease
	// could be there, telling clients about the first token.
	first := time.Duration((1 - level) / l.perSec * float64(time.Second))
	slice := time.Duration((float64(l.lease) - level) / l.perSec * float64(time.Second))
	a.until, a.first = now.Add(max(slice, first)), now.Add(first)
	return retryAfter(first), false
}

func retryAfter(d time.Duration) time.Duration {
	return time.Duration(max(math.Ceil(d.Seconds()), 1)) * time.Second
}

// leaseFrom takes up to a lease of tokens from key's shared bucket.
func (l *limiter) leaseFrom(ctx context.Context, key string, now time.Time) (int32, float64, error) {
	var row db.LeaseRateLimitRow
	arg := db.LeaseRateLimitParams{Key: key, Now: now, Want: l.lease, Burst: l.burst, PerSec: l.perSec}
	err := l.st.Primary(ctx, func(q *db.Queries) error {
		var err error
		row, err = q.LeaseRateLimit(ctx, arg)
		if err == nil || !store.IsNotFound(err) {
			return err
		}
		// The first request of key anywhere: make its bucket, then lease.
		if err := q.EnsureRateLimit(ctx, db.EnsureRateLimitParams{Key: key, Burst: l.burst, Now: now}); err != nil {
			return err
		}
		row, err = q.LeaseRateLimit(ctx, arg)
		return err
	})
	l.mu.Lock()
	l.leases++
	l.mu.Unlock()
	return row.Granted, row.Level, err
}

// sweep drops, once a minute, allowances unused for a minute: the map would
// otherwise grow with every token ever seen. What one still held is lost to its
// client, at most a lease.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	for k, a := range l.local {
		if now.Sub(a.used) >= time.Minute {
			delete(l.local, k)
		}
	}
}
