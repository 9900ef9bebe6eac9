package auth

import (
	"context"
	"sync"
	"time"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store/listen"
)

// ChangesChannel is the channel migration 0011's triggers notify when a token, a
// user, a group, a permission or a membership changes.
const ChangesChannel = "stockroom_auth"

// PrincipalCache keeps, for a few seconds, who a token or a session's user is: the
// statement that answers it (token, user and permissions joined) runs on every API
// request and every admin page otherwise. Entries are forgotten:
//   - all at once when ChangesChannel says anything about tokens, users, groups or
//     permissions changed, on any instance (migration 0011's triggers, heard through
//     the process's internal/store/listen connection), and after every (re)connection of
//     that listener, since notifications sent while it was down are lost;
//   - after TTL in any case, the backstop should a notification go missing;
//   - when a map reaches MaxEntries (the whole map goes: changes are rare, so a full
//     cache is one that holds many idle tokens).
//
// Until the listener has connected the cache keeps nothing, so a process without a
// listener (the CLI, a test) reads the database every time, as before. A change made
// on another instance reaches this one when its notification does, a few
// milliseconds after the commit; a load that raced with a change is never kept (the
// generation check in put).
type PrincipalCache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu        sync.Mutex
	listening bool   // the listener is connected: entries may be kept
	gen       uint64 // bumped by every flush
	tokens    map[[32]byte]tokenEntry
	users     map[int64]userEntry
}

type tokenEntry struct {
	p         *Principal
	expiresAt *time.Time // the token's own expiry
	touched   time.Time  // when last_used_at was last known to be fresh
	until     time.Time
}

type userEntry struct {
	su    db.GetSessionUserRow
	until time.Time
}

// Defaults of NewPrincipalCache.
const (
	DefaultCacheTTL     = 5 * time.Second
	DefaultCacheEntries = 10_000
)

// NewPrincipalCache returns an empty cache; zero ttl or size take the defaults.
func NewPrincipalCache(ttl time.Duration, size int) *PrincipalCache {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	if size <= 0 {
		size = DefaultCacheEntries
	}
	return &PrincipalCache{ttl: ttl, max: size, now: time.Now,
		tokens: map[[32]byte]tokenEntry{}, users: map[int64]userEntry{}}
}

// Handler is the listen.Handler of ChangesChannel: every notification and every
// (re)connection forgets everything.
func (c *PrincipalCache) Handler() listen.Handler {
	return listen.Handler{
		Notify: func(context.Context, string) { c.flush(false) },
		Connected: func(context.Context) {
			c.flush(true)
		},
	}
}

// Generation counts the flushes so far: a test waits for it to move to know that a
// change has reached this instance.
func (c *PrincipalCache) Generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *PrincipalCache) flush(connected bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if connected {
		c.listening = true
	}
	clear(c.tokens)
	clear(c.users)
}

// generation is the generation a load starts in; put keeps its result only if no
// flush came in between.
func (c *PrincipalCache) generation() (uint64, bool) {
	if c == nil {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, c.listening
}

// token returns the cached principal of a token hash, and whether its last_used_at
// is due to be written (the caller writes it and calls touched).
func (c *PrincipalCache) token(hash [32]byte) (p *Principal, touchDue bool, ok bool) {
	if c == nil {
		return nil, false, false
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.tokens[hash]
	if !ok || !now.Before(e.until) || (e.expiresAt != nil && !now.Before(*e.expiresAt)) {
		return nil, false, false
	}
	return e.p, now.Sub(e.touched) >= time.Minute, true
}

func (c *PrincipalCache) touched(hash [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.tokens[hash]; ok {
		e.touched = c.now()
		c.tokens[hash] = e
	}
}

func (c *PrincipalCache) putToken(gen uint64, hash [32]byte, p *Principal, expiresAt *time.Time) {
	if c == nil {
		return
	}
	now := c.now()
	put(c, gen, c.tokens, hash, tokenEntry{p: p, expiresAt: expiresAt, touched: now, until: now.Add(c.ttl)})
}

func (c *PrincipalCache) user(id int64) (db.GetSessionUserRow, bool) {
	if c == nil {
		return db.GetSessionUserRow{}, false
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.users[id]
	if !ok || !now.Before(e.until) {
		return db.GetSessionUserRow{}, false
	}
	return e.su, true
}

func (c *PrincipalCache) putUser(gen uint64, su db.GetSessionUserRow) {
	if c == nil {
		return
	}
	put(c, gen, c.users, su.ID, userEntry{su: su, until: c.now().Add(c.ttl)})
}

// put keeps e under k in m, one of c's maps (made once and never replaced, so the
// caller reads the field without the lock). It keeps nothing while the listener is
// not connected, nor when a flush came after the load that read e began in
// generation gen: e may be what the change replaced. A full map is emptied first.
func put[K comparable, E any](c *PrincipalCache, gen uint64, m map[K]E, k K, e E) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.listening || gen != c.gen {
		return
	}
	if len(m) >= c.max {
		clear(m)
	}
	m[k] = e
}
