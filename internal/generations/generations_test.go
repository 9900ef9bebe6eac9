package generations_test

import (
	"testing"

	"github.com/stockroom-dev/stockroom/internal/generations"
)

// However many entries are put, at most 2×size are kept, the latest always among them.
func TestMapBounded(t *testing.T) {
	g := generations.New[int, string](3)
	for i := range 20 {
		g.Put(i, "v")
		if n := g.Len(); n > 6 {
			t.Fatalf("after %d puts: %d entries kept, want at most 6", i+1, n)
		}
		if _, ok := g.Get(i); !ok {
			t.Fatalf("entry %d, just put, is not kept", i)
		}
	}
}

// An entry found in the old generation moves to the new one: it outlives the
// entries put with it that nobody asked for.
func TestMapGetMoves(t *testing.T) {
	g := generations.New[string, int](2)
	g.Put("a", 1)
	g.Put("b", 2)
	g.Put("c", 3) // a second generation: a and b are the old one
	if v, ok := g.Get("a"); !ok || v != 1 {
		t.Fatalf("Get(a) = %d, %t; want 1, true", v, ok)
	}
	g.Put("d", 4) // a third: (c, a) is the old one, b is dropped
	g.Put("e", 5)
	if v, ok := g.Get("a"); !ok || v != 1 {
		t.Errorf("Get(a) = %d, %t; want 1, true: it was asked for", v, ok)
	}
	if _, ok := g.Get("b"); ok {
		t.Error("Get(b): found, after a generation nobody asked for it")
	}
}

// An entry nobody asks for is gone after two new generations, and only then.
func TestMapEvicts(t *testing.T) {
	g := generations.New[int, int](2)
	g.Put(0, 0)
	g.Put(1, 1)
	g.Put(2, 2) // a second generation: 0 and 1 are old
	g.Put(3, 3)
	if n := g.Len(); n != 4 {
		t.Errorf("%d entries kept, want 4", n)
	}
	g.Put(4, 4) // a third: the first one (0, 1) is dropped
	// In order, since Get moves entries.
	for k, want := range []bool{false, false, true, true, true} {
		if _, ok := g.Get(k); ok != want {
			t.Errorf("Get(%d) found %t, want %t", k, ok, want)
		}
	}

	g.Clear()
	if n := g.Len(); n != 0 {
		t.Errorf("after Clear: %d entries kept, want 0", n)
	}
	if _, ok := g.Get(4); ok {
		t.Error("after Clear: Get(4) found it")
	}
}
