package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
)

func TestParseLSN(t *testing.T) {
	tests := []struct {
		in   string
		want store.LSN
		ok   bool
	}{
		{"0/0", 0, true},
		{"16/B374D848", 0x16_B374D848, true},
		{"FFFFFFFF/FFFFFFFF", 0xFFFFFFFF_FFFFFFFF, true},
		{"", 0, false},
		{"16", 0, false},
		{"16/G", 0, false},
		{"100000000/0", 0, false},
	}
	for _, tt := range tests {
		got, err := store.ParseLSN(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseLSN(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if tt.ok && got.String() != tt.in {
			t.Errorf("LSN(%q).String() = %q", tt.in, got.String())
		}
	}
}

// TestReplica runs the read replica against a real streaming replica: reads go to
// it, a client reads its own writes at once, and a replica that lags past the bound
// or is stopped is bypassed with the reason reported.
func TestReplica(t *testing.T) {
	pair := dbtest.NewReplicated(t)
	ctx := store.MayLag(context.Background()) // a GET's

	const maxLag = time.Second
	st, err := store.Open(ctx, pair.PrimaryURL, store.Options{MaxConns: 4, ReadURL: pair.ReplicaURL, MaxLag: maxLag})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	create := func(ctx context.Context, slug string) {
		t.Helper()
		err := st.Transact(ctx, func(tx *store.Tx) error {
			_, err := tx.Pgx().Exec(ctx, "INSERT INTO categories (name, slug) VALUES ($1, $1)", slug)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// seen reads the category list through Replica and reports whether slug is in it,
	// and where the read ran.
	seen := func(ctx context.Context, slug string) (found, onReplica bool) {
		t.Helper()
		before := st.ReplicaStatus().ReadsReplica
		err := st.Replica(ctx, func(q *db.Queries) error {
			rows, err := q.CategoryTree(ctx)
			for _, r := range rows {
				found = found || r.Category.Slug == slug
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return found, st.ReplicaStatus().ReadsReplica > before
	}
	waitStatus := func(what string, ok func(store.ReplicaStatus) bool) store.ReplicaStatus {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			s := st.ReplicaStatus()
			if ok(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica status %+v: not %s within 30 s", s, what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	usable := func(s store.ReplicaStatus) bool { return s.Usable }
	waitStatus("usable", usable)

	t.Run("untracked reads go to the replica", func(t *testing.T) {
		create(ctx, "first")
		pair.WaitReplayed()
		time.Sleep(300 * time.Millisecond) // a check after the replay
		if found, onReplica := seen(ctx, "first"); !found || !onReplica {
			t.Errorf("after replay: found %v on the replica %v, want both", found, onReplica)
		}
		// An export's snapshot too.
		before := st.ReplicaStatus().ReadsReplica
		var found bool
		err := st.Snapshot(ctx, func(q *db.Queries) error {
			rows, err := q.CategoryTree(ctx)
			for _, r := range rows {
				found = found || r.Category.Slug == "first"
			}
			return err
		})
		if err != nil || !found || st.ReplicaStatus().ReadsReplica != before+1 {
			t.Errorf("Snapshot: err %v, found %v, replica reads %d → %d; want the replica to answer",
				err, found, before, st.ReplicaStatus().ReadsReplica)
		}
	})

	t.Run("reads in a request that writes go to the primary", func(t *testing.T) {
		before := st.ReplicaStatus()
		if found, onReplica := seen(context.Background(), "first"); !found || onReplica {
			t.Errorf("a POST's read: found %v on the replica %v, want found on the primary", found, onReplica)
		}
		if after := st.ReplicaStatus(); after.ReadsPrimary != before.ReadsPrimary+1 {
			t.Errorf("primary reads %d → %d, want one more", before.ReadsPrimary, after.ReadsPrimary)
		}
	})

	t.Run("a client reads its own writes", func(t *testing.T) {
		// Paused replay makes the replica surely behind the write.
		pair.PauseReplay()
		defer pair.ResumeReplay()
		var remembered store.LSN
		session := st.Track(ctx, 0, func(l store.LSN) { remembered = l })
		create(session, "mine")
		if remembered == 0 {
			t.Fatal("the commit's LSN was not handed to the tracker's owner")
		}
		if found, onReplica := seen(session, "mine"); !found || onReplica {
			t.Errorf("own write right after it: found %v on the replica %v, want found on the primary", found, onReplica)
		}
		// The next request of the same client (the LSN kept in its session).
		next := st.Track(ctx, remembered, nil)
		if found, _ := seen(next, "mine"); !found {
			t.Error("own write on the next request: not found")
		}
		// Someone else reads the replica, within the lag bound, and does not see it yet.
		if found, onReplica := seen(ctx, "mine"); found || !onReplica {
			t.Errorf("another client: found %v on the replica %v, want the replica's older list", found, onReplica)
		}
		// By key (an API token), in this process's memory.
		token := st.TrackKey(ctx, "token:1")
		create(token, "by-token")
		if found, onReplica := seen(st.TrackKey(ctx, "token:1"), "by-token"); !found || onReplica {
			t.Errorf("token's own write: found %v on the replica %v, want found on the primary", found, onReplica)
		}

		t.Run("past the lag bound everyone reads the primary", func(t *testing.T) {
			s := waitStatus("lagging", func(s store.ReplicaStatus) bool { return !s.Usable })
			if !strings.Contains(s.Reason, "lagging") || s.Lag <= maxLag {
				t.Errorf("status %+v, want a lag over %s named as the reason", s, maxLag)
			}
			if found, onReplica := seen(ctx, "mine"); !found || onReplica {
				t.Errorf("while lagging: found %v on the replica %v, want found on the primary", found, onReplica)
			}
		})
	})

	t.Run("a stopped replica is bypassed", func(t *testing.T) {
		waitStatus("usable after the replay resumed", usable)
		pair.StopReplica()
		create(ctx, "while-down")
		// The first read may still try the replica: it fails there and runs again on
		// the primary.
		if found, onReplica := seen(ctx, "while-down"); !found || onReplica {
			t.Errorf("replica stopped: found %v on the replica %v, want found on the primary", found, onReplica)
		}
		s := waitStatus("down", func(s store.ReplicaStatus) bool { return !s.Usable })
		if !strings.Contains(s.Reason, "unreachable") {
			t.Errorf("reason %q, want it to say unreachable", s.Reason)
		}
		pair.StartReplica()
		waitStatus("usable again after a restart", usable)
		if found, onReplica := seen(ctx, "while-down"); !found || !onReplica {
			t.Errorf("replica back: found %v on the replica %v, want both", found, onReplica)
		}
	})
}
