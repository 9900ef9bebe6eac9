package session

import (
	"maps"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/stockroom-dev/stockroom/internal/generations"
)

// memoCodec is scs's codec with the sessions it met lately remembered both ways:
// the data each encoding decodes to, and the encoding of each session's data. scs
// decodes the session on every request and, with an idle timeout, encodes it again
// at the end to push the deadline on; gob compiles its type descriptions afresh
// for each of those, a few hundred allocations per admin page (BenchmarkProductList),
// for data that rarely changes between two requests.
//
// Only data of immutable values (numbers, strings, times: a signed-in session) is
// remembered, and each Decode returns a map of its own, so a Put to one request's
// session cannot reach another's. Data holding a slice (flash messages, used form
// keys, a passkey ceremony) is coded by the codec underneath every time.
//
// It holds at most 2×size sessions and 2×size encodings, each direction in a
// generations.Map of its own: an entry found in the old generation moves to the new
// one, and the ones nobody asked for during a generation go. The two directions age
// apart, which is safe: Encode uses a remembered encoding only when what it decodes
// to is remembered too, and equal.
type memoCodec struct {
	codec scs.Codec

	mu   sync.Mutex
	data generations.Map[string, sessionData] // an encoding → what it decodes to
	enc  generations.Map[int64, string]       // a deadline (UnixNano) → the last encoding met with it
}

// sessionData is one decoded session: its absolute deadline and values.
type sessionData struct {
	deadline time.Time
	values   map[string]any
}

func newMemoCodec(codec scs.Codec, size int) *memoCodec {
	return &memoCodec{codec: codec,
		data: generations.New[string, sessionData](size), enc: generations.New[int64, string](size)}
}

// Decode returns what b decodes to: remembered, or decoded now (and remembered
// when its values are immutable).
func (c *memoCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	c.mu.Lock()
	d, ok := c.data.Get(string(b))
	c.mu.Unlock()
	if ok {
		return d.deadline, maps.Clone(d.values), nil
	}
	deadline, values, err := c.codec.Decode(b)
	if err != nil || !immutable(values) {
		return deadline, values, err
	}
	c.mu.Lock()
	c.keep(string(b), sessionData{deadline: deadline, values: maps.Clone(values)})
	c.mu.Unlock()
	return deadline, values, nil
}

// Encode returns an encoding of deadline and values: the one remembered for
// equal data, or a new one (remembered when the values are immutable). Any
// encoding of the data will do: gob writes a map's entries in random order anyway.
func (c *memoCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	if !immutable(values) {
		return c.codec.Encode(deadline, values)
	}
	key := deadline.UnixNano()
	c.mu.Lock()
	enc, ok := c.enc.Get(key)
	var d sessionData
	if ok {
		d, ok = c.data.Get(enc)
	}
	c.mu.Unlock()
	if ok && d.deadline.Equal(deadline) && equalValues(d.values, values) {
		return []byte(enc), nil
	}
	b, err := c.codec.Encode(deadline, values)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.keep(string(b), sessionData{deadline: deadline, values: maps.Clone(values)})
	c.mu.Unlock()
	return b, nil
}

// keep remembers the entry both ways. c.mu is held.
func (c *memoCodec) keep(enc string, d sessionData) {
	c.data.Put(enc, d)
	c.enc.Put(d.deadline.UnixNano(), enc)
}

// immutable says whether every value is one no caller can change in place.
func immutable(values map[string]any) bool {
	for _, v := range values {
		switch v.(type) {
		case bool, string, int, int32, int64, uint64, float64, time.Time:
		default:
			return false
		}
	}
	return true
}

// equalValues compares two sessions' immutable values: == never panics on them.
func equalValues(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		if vb, ok := b[k]; !ok || va != vb {
			return false
		}
	}
	return true
}
