package session

import (
	"context"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// An unchanged session is written again only once its deadline has moved by
// touchEvery; changed data always is, and a deleted session starts over.
func TestTouchStoreSkipsUnchangedWrites(t *testing.T) {
	pool := dbtest.New(t)
	codec := scs.GobCodec{}
	ts := newTouchStore(store.New(pool), codec)
	deadline := time.Now().Add(12 * time.Hour).UTC()
	encode := func(user int64, flash string) []byte {
		values := map[string]any{"user_id": user, "auth_version": int32(1)}
		if flash != "" {
			values["flash"] = []string{flash}
		}
		b, err := codec.Encode(deadline, values)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// stored reads the row back: its flash ("" for none, "-" for no row) and expiry.
	stored := func() (string, time.Time) {
		t.Helper()
		var data []byte
		var expiry time.Time
		err := pool.QueryRow(context.Background(), "SELECT data, expiry FROM sessions WHERE token = 'tok'").Scan(&data, &expiry)
		if err != nil {
			return "-", time.Time{}
		}
		_, values, err := codec.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		flash, _ := values["flash"].([]string)
		if len(flash) == 0 {
			return "", expiry
		}
		return flash[0], expiry
	}
	base := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	steps := []struct {
		name       string
		data       string
		expiry     time.Time
		delete     bool
		wantData   string
		wantExpiry time.Time
	}{
		{"first write", "", base, false, "", base},
		{"deadline moved a little: skipped", "", base.Add(30 * time.Second), false, "", base},
		{"deadline moved a minute: written", "", base.Add(time.Minute), false, "", base.Add(time.Minute)},
		{"data changed: written", "saved", base.Add(time.Minute + time.Second), false, "saved", base.Add(time.Minute + time.Second)},
		{"same data again: skipped", "saved", base.Add(time.Minute + 2*time.Second), false, "saved", base.Add(time.Minute + time.Second)},
		{"deleted", "", time.Time{}, true, "-", time.Time{}},
		{"after delete: written", "saved", base.Add(time.Minute + 3*time.Second), false, "saved", base.Add(time.Minute + 3*time.Second)},
	}
	for _, s := range steps {
		var err error
		if s.delete {
			err = ts.Delete("tok")
		} else {
			err = ts.Commit("tok", encode(7, s.data), s.expiry)
		}
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		data, expiry := stored()
		if data != s.wantData || !expiry.Equal(s.wantExpiry) {
			t.Errorf("%s: stored %q until %v, want %q until %v", s.name, data, expiry, s.wantData, s.wantExpiry)
		}
	}
}

// Two copies behind a load balancer each keep a touch store on the one sessions
// table. A copy must not skip writing data just because it wrote the same data
// itself earlier: another copy may have changed the session since (here: the flash
// it showed and removed), and skipping would leave the other copy's data in place.
func TestTouchStoreAcrossCopies(t *testing.T) {
	pool := dbtest.New(t)
	codec := scs.GobCodec{}
	a := newTouchStore(store.New(pool), codec)
	b := newTouchStore(store.New(pool), codec)
	deadline := time.Now().Add(12 * time.Hour).UTC()
	encode := func(flash string) []byte {
		values := map[string]any{"user_id": int64(7)}
		if flash != "" {
			values["flash"] = []string{flash}
		}
		out, err := codec.Encode(deadline, values)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	flash := func(s *touchStore) string {
		t.Helper()
		data, found, err := s.Find("tok")
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			return "-"
		}
		_, values, err := codec.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := values["flash"].([]string)
		if len(f) == 0 {
			return ""
		}
		return f[0]
	}
	expiry := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	commit := func(s *touchStore, data string, after time.Duration) {
		t.Helper()
		if err := s.Commit("tok", encode(data), expiry.Add(after)); err != nil {
			t.Fatal(err)
		}
	}
	// A saves a product: the session gets the flash "Saved".
	commit(a, "Saved", 0)
	// B shows the list and pops the flash.
	if got := flash(b); got != "Saved" {
		t.Fatalf("B reads flash %q, want Saved", got)
	}
	commit(b, "", time.Second)
	// A saves again: the session must hold the new flash, though A wrote these very
	// bytes a second ago.
	if got := flash(a); got != "" {
		t.Fatalf("A reads flash %q after B popped it, want none", got)
	}
	commit(a, "Saved", 2*time.Second)
	if got := flash(b); got != "Saved" {
		t.Errorf("after A's second save, the session holds flash %q, want Saved", got)
	}
	// And the other way: A pops a flash that B set, then B sets the same one again.
	commit(a, "", 3*time.Second)
	commit(b, "Saved", 4*time.Second)
	flash(a)
	commit(a, "", 5*time.Second)
	if got := flash(b); got != "" {
		t.Errorf("after A popped B's flash, the session holds flash %q, want none", got)
	}
}

// countingCodec is gob, counting decodes.
type countingCodec struct {
	scs.GobCodec
	decodes *int
}

func (c countingCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	*c.decodes++
	return c.GobCodec.Decode(b)
}

// A commit of bytes the store already knows to hold its last write's data is
// skipped without decoding them; other bytes are decoded and compared as before.
func TestTouchStoreKnownBytesNotDecoded(t *testing.T) {
	pool := dbtest.New(t)
	var decodes int
	codec := countingCodec{decodes: &decodes}
	ts := newTouchStore(store.New(pool), codec)
	deadline := time.Now().Add(12 * time.Hour).UTC()
	base := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	same, err := codec.Encode(deadline, map[string]any{"user_id": int64(7)})
	if err != nil {
		t.Fatal(err)
	}
	changed, err := codec.Encode(deadline, map[string]any{"user_id": int64(8)})
	if err != nil {
		t.Fatal(err)
	}
	commit := func(b []byte, expiry time.Time, wantDecodes int) {
		t.Helper()
		decodes = 0
		if err := ts.Commit("tok", b, expiry); err != nil {
			t.Fatal(err)
		}
		if decodes != wantDecodes {
			t.Errorf("%d decodes, want %d", decodes, wantDecodes)
		}
	}
	commit(same, base, 1)                                   // written
	commit(same, base.Add(time.Second), 0)                  // the bytes written: skipped
	commit(changed, base.Add(2*time.Second), 1)             // other bytes: decoded, written
	commit(changed, base.Add(time.Minute+3*time.Second), 1) // deadline a minute on: decoded, written
	var uid []byte
	if err := pool.QueryRow(context.Background(), "SELECT data FROM sessions WHERE token = 'tok'").Scan(&uid); err != nil {
		t.Fatal(err)
	}
	if _, values, _ := (scs.GobCodec{}).Decode(uid); values["user_id"] != int64(8) {
		t.Errorf("stored user_id %v, want 8", values["user_id"])
	}
}
