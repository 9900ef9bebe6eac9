package api

import (
	"math"
	"sync"
	"time"
)

// limiter is a token bucket per principal. It lives in this process's memory, so
// the limit is per instance: behind a load balancer with N instances a client may
// reach N times the rate. That is enough to stop a runaway script, which is its job.
//
// A bucket holds a minute's allowance and refills continuously, so a client may
// spend its minute in one burst and then goes at the steady rate.
type limiter struct {
	mu      sync.Mutex
	perSec  float64
	burst   float64
	now     func() time.Time
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was computed
}

func newLimiter(perMinute int, now func() time.Time) *limiter {
	return &limiter{
		perSec:  float64(perMinute) / 60,
		burst:   float64(perMinute),
		now:     now,
		buckets: map[string]*bucket{},
		swept:   now(),
	}
}

// take spends one request of key's allowance. When none is left it returns false and
// how long until one is, rounded up to whole seconds (for Retry-After).
func (l *limiter) take(key string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = l.level(b, now)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	wait := math.Ceil((1 - b.tokens) / l.perSec)
	return time.Duration(max(wait, 1)) * time.Second, false
}

// level is b's allowance at now.
func (l *limiter) level(b *bucket, now time.Time) float64 {
	return min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.perSec)
}

// sweep drops, once a minute, the buckets that have refilled: they are the same as
// a new one, and keeping them would let the map grow with every token ever seen.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	for k, b := range l.buckets {
		if l.level(b, now) >= l.burst {
			delete(l.buckets, k)
		}
	}
}
