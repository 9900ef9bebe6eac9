package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/store/listen"
)

// Channel is the channel migration 0088's trigger notifies when a session row
// changes or goes: the payload is the token's SHA-256 in hex, or empty for all.
const Channel = "stockroom_sessions"

// rowCache keeps, for a few seconds, the session rows this instance read: scs reads
// the row on every request, a statement that was half of an admin page's database
// round trips (make bench's S5: the row, then the page's list). Like
// auth.PrincipalCache, whose rules it follows, a row is forgotten:
//   - at once when Channel says it changed or went, on any instance (migration
//     0088's trigger: new data, a sign-out, a password change ending the user's
//     sessions), and all of them after every (re)connection of the listener, since
//     notifications sent while it was down are lost;
//   - at its expiry, when the database would stop finding it too;
//   - after auth.DefaultCacheTTL in any case, the backstop should a notification go
//     missing;
//   - all at once when rowsKept are held.
//
// Until the listener has connected it keeps nothing, so a process without one (the
// CLI, a test) reads the database every time. A read that raced with a change is
// never kept (the generation check in put). Rows are keyed by the token's SHA-256,
// which is also what the notifications carry: the token itself never leaves the
// request.
type rowCache struct {
	ttl time.Duration
	now func() time.Time

	mu        sync.Mutex
	listening bool
	gen       uint64 // bumped by every change heard
	rows      map[[32]byte]keptRow
}

// keptRow is a session row as read, and until when it may be served.
type keptRow struct {
	data  []byte // never changed once kept: scs only decodes it
	until time.Time
}

// rowsKept bounds the cache: the signed-in staff of an instance.
const rowsKept = 10_000

func newRowCache() *rowCache {
	return &rowCache{ttl: auth.DefaultCacheTTL, now: time.Now, rows: map[[32]byte]keptRow{}}
}

// rowKey is what a token's row is kept under.
func rowKey(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// get returns the kept row of key, if it may still be served.
func (c *rowCache) get(key [32]byte) ([]byte, bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.rows[key]
	if !ok || !now.Before(r.until) {
		return nil, false
	}
	return r.data, true
}

// generation is the generation a read starts in, and whether its row may be kept.
func (c *rowCache) generation() (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, c.listening
}

// put keeps the row read in generation gen, which expires at expiry, unless a
// change was heard since the read began (it may be what the change replaced).
func (c *rowCache) put(gen uint64, key [32]byte, data []byte, expiry time.Time) {
	until := c.now().Add(c.ttl)
	if expiry.Before(until) {
		until = expiry
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.listening || gen != c.gen {
		return
	}
	if len(c.rows) >= rowsKept {
		clear(c.rows)
	}
	c.rows[key] = keptRow{data: data, until: until}
}

// forget drops key's row, and fails the puts of reads already under way.
func (c *rowCache) forget(key [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.rows, key)
}

// flush drops every row, and fails the puts of reads already under way; connected:
// the listener is (again) in place, so rows may be kept from now on.
func (c *rowCache) flush(connected bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if connected {
		c.listening = true
	}
	clear(c.rows)
}

// handler is the listen.Handler of Channel: a notification forgets its row (an empty
// or unreadable payload, every row), and every (re)connection forgets every row.
func (c *rowCache) handler() listen.Handler {
	return listen.Handler{
		Notify: func(_ context.Context, payload string) {
			var key [32]byte
			if len(payload) == hex.EncodedLen(len(key)) { // Decode would write past key
				if _, err := hex.Decode(key[:], []byte(payload)); err == nil {
					c.forget(key)
					return
				}
			}
			c.flush(false)
		},
		Connected: func(context.Context) { c.flush(true) },
	}
}
