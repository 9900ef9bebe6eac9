package session

import (
	"context"
	"testing"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"

	"github.com/stockroom-dev/stockroom/internal/dbtest"
)

// An unchanged session is written again only once its deadline has moved by
// touchEvery; changed data always is, and a deleted session starts over.
func TestTouchStoreSkipsUnchangedWrites(t *testing.T) {
	pool := dbtest.New(t)
	codec := scs.GobCodec{}
	ts := newTouchStore(pgxstore.NewWithCleanupInterval(pool, 0), codec)
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
