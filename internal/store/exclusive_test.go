package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// Exclusive runs fn for one holder of (space, key) at a time: a second caller
// while the first runs does not run, another key or space does, and the lock is
// free again afterwards, also after fn failed.
func TestExclusive(t *testing.T) {
	st := store.New(dbtest.New(t))
	ctx := context.Background()
	try := func(space, key int32) bool {
		ran, err := st.Exclusive(ctx, space, key, func() error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return ran
	}
	boom := errors.New("boom")
	ran, err := st.Exclusive(ctx, 17, 1, func() error {
		if try(17, 1) {
			t.Error("a second holder ran while the first held the lock")
		}
		if !try(17, 2) || !try(18, 1) {
			t.Error("another key or space did not run")
		}
		return boom
	})
	if !ran || !errors.Is(err, boom) {
		t.Errorf("Exclusive = %v, %v; want true and fn's error", ran, err)
	}
	if !try(17, 1) {
		t.Error("the lock was not released")
	}
}
