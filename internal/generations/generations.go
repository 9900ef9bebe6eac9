// Package generations holds Map, a bounded map that keeps the entries in use: its
// entries live in two generations, an entry found in the old one moves to the new
// one, and when the new one is full the old one is dropped. It is a cache without
// a clock or a list to keep in order: the entries asked for lately stay, the ones
// nobody asked for during a whole generation go.
package generations

// Map holds at most 2×size entries in two generations; make one with New. It is not
// safe for concurrent use, Get included (it may move an entry): callers hold a lock.
type Map[K comparable, V any] struct {
	size     int
	cur, old map[K]V
}

// New returns a Map of size entries per generation; size is at least 1.
func New[K comparable, V any](size int) Map[K, V] {
	return Map[K, V]{size: size}
}

// Get returns k's entry, moving it to the new generation when it was in the old.
func (g *Map[K, V]) Get(k K) (V, bool) {
	if v, ok := g.cur[k]; ok {
		return v, true
	}
	v, ok := g.old[k]
	if ok {
		g.Put(k, v)
	}
	return v, ok
}

// Put keeps v under k in the new generation, starting another when it is full.
func (g *Map[K, V]) Put(k K, v V) {
	if g.cur == nil || len(g.cur) >= g.size {
		g.old, g.cur = g.cur, make(map[K]V, g.size)
	}
	g.cur[k] = v
}

// Len is how many entries are kept, in both generations.
func (g *Map[K, V]) Len() int { return len(g.cur) + len(g.old) }

// Clear forgets every entry.
func (g *Map[K, V]) Clear() { g.cur, g.old = nil, nil }
