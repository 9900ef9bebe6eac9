package store

import (
	"context"
	"fmt"
	"time"
)

// Exclusive runs fn unless another session of the cluster is running fn for the
// same (space, key): it holds a PostgreSQL session advisory lock on one connection
// for as long as fn runs. ran is false, and fn not called, when the lock is held
// elsewhere. A process that dies loses its connection and with it the lock, so work
// that spans many transactions (an import's plan and apply) can be taken up again
// by the next worker, and never by two at once. space names the kind of work (a
// constant per package), key the item.
//
// The lock lives in a session, which a transaction-mode pooler does not keep: the
// connection comes from the direct pool (Options.DirectURL), and behind a pooler
// without one Exclusive refuses to run.
func (s *Store) Exclusive(ctx context.Context, space, key int32, fn func() error) (ran bool, err error) {
	if s.PooledWithoutDirect() {
		return false, fmt.Errorf("exclusive %d/%d: a session lock needs a direct connection behind a transaction-mode pooler: set STOCKROOM_DATABASE_DIRECT_URL", space, key)
	}
	conn, err := s.Direct().Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("exclusive %d/%d: %w", space, key, classify(err))
	}
	defer conn.Release()
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1::int4, $2::int4)", space, key).Scan(&got); err != nil {
		return false, fmt.Errorf("exclusive %d/%d: %w", space, key, classify(err))
	}
	if !got {
		return false, nil
	}
	defer func() {
		// Unlock on a context that outlives a cancelled ctx; if even that fails the
		// connection goes (Hijack and close), which ends the session and its lock.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, uerr := conn.Exec(uctx, "SELECT pg_advisory_unlock($1::int4, $2::int4)", space, key); uerr != nil {
			conn.Hijack().Close(uctx)
		}
	}()
	return true, fn()
}
