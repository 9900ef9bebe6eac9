package session

import (
	"reflect"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

// tallyCodec counts the calls that reach the codec underneath a memoCodec.
type tallyCodec struct {
	scs.GobCodec
	encodes, decodes int
}

func (c *tallyCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	c.encodes++
	return c.GobCodec.Encode(deadline, values)
}

func (c *tallyCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	c.decodes++
	return c.GobCodec.Decode(b)
}

// The codec decodes a signed-in session's data once and encodes it once; every
// caller gets a map of its own; data holding a slice is coded every time; changed
// data is encoded afresh.
func TestMemoCodec(t *testing.T) {
	under := &tallyCodec{}
	c := newMemoCodec(under, 2)
	deadline := time.Date(2026, 12, 5, 21, 0, 0, 0, time.UTC)
	signedIn := map[string]any{keyUserID: int64(7), keyAuthVersion: int32(3), keyWrote: int64(1234)}

	b, err := c.Encode(deadline, signedIn)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		gotDeadline, got, err := c.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if !gotDeadline.Equal(deadline) || !reflect.DeepEqual(got, signedIn) {
			t.Fatalf("decode %d = %v, %v; want %v, %v", i, gotDeadline, got, deadline, signedIn)
		}
		got[keyWrote] = int64(9999) // a Put by this request's handler
		got["flash"] = []string{"Saved."}
	}
	if under.decodes != 0 || under.encodes != 1 {
		t.Errorf("underneath: %d decodes, %d encodes; want 0 (its own encoding is known), 1", under.decodes, under.encodes)
	}

	// Equal data again, in a new map: the same bytes, not encoded again.
	again, err := c.Encode(deadline, map[string]any{keyUserID: int64(7), keyAuthVersion: int32(3), keyWrote: int64(1234)})
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(b) || under.encodes != 1 {
		t.Errorf("equal data: %d encodes, same bytes %t; want 1, true", under.encodes, string(again) == string(b))
	}

	// Changed data, and another type for the same number, are encoded afresh.
	for _, values := range []map[string]any{
		{keyUserID: int64(7), keyAuthVersion: int32(3), keyWrote: int64(1235)},
		{keyUserID: int64(7), keyAuthVersion: int64(3), keyWrote: int64(1234)},
		{keyUserID: int64(7), keyAuthVersion: int32(3)},
	} {
		n := under.encodes
		enc, err := c.Encode(deadline, values)
		if err != nil {
			t.Fatal(err)
		}
		if under.encodes != n+1 {
			t.Errorf("Encode(%v) was not encoded afresh", values)
		}
		if _, got, err := c.Decode(enc); err != nil || !reflect.DeepEqual(got, values) {
			t.Errorf("Decode(Encode(%v)) = %v, %v", values, got, err)
		}
	}
	// A later deadline (another session, or this one renewed) is not this one.
	n := under.encodes
	if _, err := c.Encode(deadline.Add(time.Second), signedIn); err != nil || under.encodes != n+1 {
		t.Errorf("another deadline: %d encodes, want %d (%v)", under.encodes, n+1, err)
	}

	// A flash is a slice: coded every time, and what one caller appends to it
	// never shows in another's.
	withFlash := map[string]any{keyUserID: int64(7), keyFlash: []string{"Saved."}}
	fb, err := c.Encode(deadline, withFlash)
	if err != nil {
		t.Fatal(err)
	}
	decodes := under.decodes
	for range 2 {
		_, got, err := c.Decode(fb)
		if err != nil {
			t.Fatal(err)
		}
		msgs := got[keyFlash].([]string)
		if len(msgs) != 1 || msgs[0] != "Saved." {
			t.Fatalf("flash = %q", msgs)
		}
		msgs[0] = "changed in place"
	}
	if under.decodes != decodes+2 {
		t.Errorf("data with a slice: %d decodes underneath, want %d", under.decodes-decodes, 2)
	}

	// Bad bytes are the codec underneath's error, never remembered.
	if _, _, err := c.Decode([]byte("not gob")); err == nil {
		t.Error("Decode of bad bytes: no error")
	}
}

// Past 2×size sessions, the oldest generation is forgotten: memory stays bounded.
func TestMemoCodecBounded(t *testing.T) {
	c := newMemoCodec(scs.GobCodec{}, 2)
	deadline := time.Date(2026, 12, 5, 21, 0, 0, 0, time.UTC)
	for i := range 10 {
		if _, err := c.Encode(deadline.Add(time.Duration(i)*time.Second), map[string]any{keyUserID: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.data.Len(); n > 4 {
		t.Errorf("%d sessions kept, want at most 4", n)
	}
	if n := c.enc.Len(); n > 4 {
		t.Errorf("%d encodings kept, want at most 4", n)
	}
}
