package session

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"sync"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// touchEvery is how far a session's idle deadline may move before an unchanged
// session is written again.
const touchEvery = time.Minute

// touchStore is the session store with fewer writes. With an idle timeout, scs
// recommits every session on every request to push its deadline on: an UPDATE, and a
// WAL flush, per admin page view (make bench's S5 spent a sixth of its statements and
// most of its database writes on it). touchStore skips the write when this instance
// wrote the same data for the same token less than touchEvery of deadline ago, so a
// session stays signed in at most touchEvery less than the idle timeout after its
// last request. Changed data (a sign-in, a flash) is always written. Each instance
// remembers its own writes only: behind a load balancer the others just write more.
// What it remembers holds only while the row still has it: another copy may have
// changed the session since (popped a flash this copy set, and this copy now sets
// the same flash again), so Find forgets a write the row no longer holds, and the
// next Commit writes.
//
// Rows are read through rows, which keeps them for seconds (rowCache).
type touchStore struct {
	*pgxstore.PostgresStore
	st    *store.Store
	rows  *rowCache
	codec scs.Codec // the session manager's, to read what a commit holds

	mu      sync.Mutex
	written map[string]commit // token → what this instance last wrote
	swept   time.Time
}

// commit is one write of a session: its data, decoded (gob writes a map's entries in
// random order, so equal sessions need not encode to equal bytes), and its deadline.
type commit struct {
	raw      []byte    // the bytes written
	same     [][]byte  // other encodings of the same data met since (map order), up to maxSame
	lifetime time.Time // the absolute deadline scs keeps in the data
	values   map[string]any
	expiry   time.Time
}

// maxSame bounds commit.same: a session of n keys has n! orders, and sessions hold 2
// to 4 keys.
const maxSame = 8

// holds says whether b is known to hold c's data, without decoding it.
func (c commit) holds(b []byte) bool {
	if bytes.Equal(c.raw, b) {
		return true
	}
	for _, s := range c.same {
		if bytes.Equal(s, b) {
			return true
		}
	}
	return false
}

func newTouchStore(st *store.Store, codec scs.Codec) *touchStore {
	return &touchStore{PostgresStore: pgxstore.NewWithCleanupInterval(st.Pool(), 0), // 0: no goroutine of its own
		st: st, rows: newRowCache(), codec: codec, written: map[string]commit{}, swept: time.Now()}
}

// Find reads the session (a row kept lately, or the database's), and forgets this
// copy's last write of it unless the row still holds that data.
func (t *touchStore) Find(token string) ([]byte, bool, error) {
	key := rowKey(token)
	b, found := t.rows.get(key)
	if !found {
		gen, keep := t.rows.generation()
		ctx := context.Background() // scs's Store has no context
		var row db.FindSessionRow
		err := t.st.Primary(ctx, func(q *db.Queries) (err error) {
			row, err = q.FindSession(ctx, token)
			return err
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, false, err
		default:
			b, found = row.Data, true
			if keep {
				t.rows.put(gen, key, b, row.Expiry)
			}
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	last, ok := t.written[token]
	if !ok {
		return b, found, nil
	}
	if !found {
		delete(t.written, token)
		return b, found, nil
	}
	if bytes.Equal(last.raw, b) { // the row is what this copy wrote: the usual case
		return b, found, nil
	}
	lifetime, values, derr := t.codec.Decode(b)
	if derr != nil || !last.lifetime.Equal(lifetime) || !reflect.DeepEqual(last.values, values) {
		delete(t.written, token)
	}
	return b, found, nil
}

// Commit writes the session unless only its deadline moved, and by less than
// touchEvery.
//
// Bytes this copy already knows to hold the last write's data (the write itself, or
// another order of its map entries met since) are not decoded again: a decode was a
// tenth of an admin page's CPU (BenchmarkProductList).
func (t *touchStore) Commit(token string, b []byte, expiry time.Time) error {
	t.mu.Lock()
	last, ok := t.written[token]
	t.mu.Unlock()
	soon := ok && !expiry.Before(last.expiry) && expiry.Sub(last.expiry) < touchEvery
	if soon && last.holds(b) {
		return nil
	}
	c := commit{raw: b, expiry: expiry}
	lifetime, values, err := t.codec.Decode(b)
	if err == nil {
		c.lifetime, c.values = lifetime, values
		if soon && last.lifetime.Equal(lifetime) && reflect.DeepEqual(last.values, values) {
			t.mu.Lock()
			if cur, ok := t.written[token]; ok && bytes.Equal(cur.raw, last.raw) && len(cur.same) < maxSame {
				cur.same = append(cur.same, bytes.Clone(b))
				t.written[token] = cur
			}
			t.mu.Unlock()
			return nil
		}
	}
	err = t.PostgresStore.Commit(token, b, expiry)
	t.rows.forget(rowKey(token)) // after the write: a read under way cannot keep the old row
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.written[token] = c
	t.sweep(time.Now())
	return nil
}

// Delete deletes the session and forgets it.
func (t *touchStore) Delete(token string) error {
	t.mu.Lock()
	delete(t.written, token)
	t.mu.Unlock()
	err := t.PostgresStore.Delete(token)
	t.rows.forget(rowKey(token))
	return err
}

// sweep forgets, at most once a minute, the sessions whose deadline has passed, so
// the map holds the live sessions only. t.mu is held.
func (t *touchStore) sweep(now time.Time) {
	if now.Sub(t.swept) < time.Minute {
		return
	}
	t.swept = now
	for token, c := range t.written {
		if c.expiry.Before(now) {
			delete(t.written, token)
		}
	}
}
