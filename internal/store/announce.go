package store

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// EventsChannel is where a process says "events committed, look now" to every
// instance's event hub (internal/events), after the commit.
//
// Not from inside the writing transaction, as migration 0012's trigger did: a
// transaction that has called pg_notify takes one cluster-wide lock at commit and
// holds it until its commit record is flushed, so that notifications queue in commit
// order (PostgreSQL's async.c, PreCommit_Notify). Every transaction that wrote an
// event then committed one at a time, a disk flush each. Sent after the commit, the
// NOTIFY is a transaction of its own whose only WAL record is its commit record,
// which PostgreSQL does not wait to flush for a transaction that wrote nothing else,
// so it holds the lock for microseconds. Measured (make bench, quiet box, 2026-12-05, S3 the stock
// PATCH): at 256 connections 483 → 554 requests/s and p99 1,611 → 691 ms; at 16
// connections no change beyond noise (499 → 488), so the lock was not what bounds
// S3 there.
//
// A process killed between its commit and its NOTIFY, or another program writing
// events, sends none: each hub also looks on its own every few seconds
// (events.Options.Poll), so such events are late, never lost.
const EventsChannel = "stockroom_events"

// AnnounceSQL is the NOTIFY. Its payload is empty: hubs read what is new themselves.
// It is exported for dbtest's statement counters, which leave it out: it is sent at
// once or up to announceEvery later from a timer, so which request's count it would
// land in depends on timing.
const AnnounceSQL = "SELECT pg_notify('" + EventsChannel + "', '')"

// announceTimeout bounds the NOTIFY, which runs after the caller's work has committed:
// a database that does not answer delays the hubs (their poll finds the events),
// never the caller for longer than this.
const announceTimeout = 5 * time.Second

// writesEvents reports whether the sqlc query called name inserts into events
// (audit.Append and audit.RecordMany write an event beside each audit row).
// TestWritesEventsListsEveryInsert checks the list against db/queries.
func writesEvents(name string) bool {
	return name == "CreateAuditEntry" || name == "CreateAuditEntries"
}

// announceEvery is the least time between two NOTIFYs of one process. The first
// commit after a quiet spell is announced at once; those that commit in the window
// after it share one NOTIFY when the window closes. Each NOTIFY wakes every
// instance's hub, which then reads the frontier and the new rows (two statements),
// so under a stream of writes (S3, the stock PATCH, at a few hundred a second) the
// database runs a third of the statements it would for one NOTIFY per commit, and
// the writers that commit in the window return without a round trip. A live page
// learns of a change at most this much later.
const announceEvery = 10 * time.Millisecond

// announcer is the state of a Store's NOTIFYs (see announceEvery).
type announcer struct {
	every   time.Duration // announceEvery; tests set a longer one
	mu      sync.Mutex
	open    bool // a NOTIFY is being sent, or the window after it has not closed
	due     bool // a commit came while open: announce it when the window closes
	closed  bool // the Store is closing: send nothing more on its pool
	sending sync.WaitGroup
}

// announce tells the hubs that events have committed: at once, or when the window
// after the last NOTIFY closes (see announceEvery).
func (s *Store) announce(ctx context.Context) {
	a := &s.ann
	a.mu.Lock()
	if a.open {
		// The NOTIFY on its way may have been sent before this commit: send one
		// more after it.
		a.due = true
		a.mu.Unlock()
		return
	}
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.open = true
	a.sending.Add(1)
	a.mu.Unlock()
	s.notify(ctx)
	a.sending.Done()
	time.AfterFunc(a.every, s.windowClosed)
}

// windowClosed sends the NOTIFY for the commits of the window that has just closed,
// if there were any, and opens the next window after it.
func (s *Store) windowClosed() {
	a := &s.ann
	a.mu.Lock()
	if !a.due || a.closed {
		a.open = false
		a.mu.Unlock()
		return
	}
	a.due = false
	a.sending.Add(1)
	a.mu.Unlock()
	s.notify(context.Background())
	a.sending.Done()
	time.AfterFunc(a.every, s.windowClosed)
}

// closeAnnouncer sends the NOTIFY the open window still owes, so that hubs learn
// of its commits now rather than at their next poll, waits for any NOTIFY on its
// way, and stops the timer's NOTIFYs, for Close: the pool is closed next.
func (s *Store) closeAnnouncer() {
	a := &s.ann
	a.mu.Lock()
	due := a.due && !a.closed
	a.closed, a.due = true, false
	a.mu.Unlock()
	if due {
		s.notify(context.Background())
	}
	a.sending.Wait()
}

// notify sends the NOTIFY. A failure is logged and otherwise ignored: the changes
// have committed and their callers must not report them failed; the hubs' own poll
// delivers them.
func (s *Store) notify(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), announceTimeout)
	defer cancel()
	if _, err := s.pool.Exec(ctx, AnnounceSQL); err != nil {
		slog.Warn("events committed, but telling the hubs failed: they find them on their next poll", "err", err)
	}
}
