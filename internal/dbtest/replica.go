package dbtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stockroom-dev/stockroom/internal/devdb"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// Replicated is a private primary with a streaming replica of it (pg_basebackup -R),
// both on 127.0.0.1, holding one migrated database: what a test of the read
// replica needs, and what no shared server can give, since a test stops, pauses and
// restarts the replica.
type Replicated struct {
	PrimaryURL string // the migrated database on the primary
	ReplicaURL string // the same database on the replica

	primary, replica *devdb.Cluster
	replicaDir       string
	replicaPort      int // kept across restarts, as a real replica's is
	t                testing.TB
}

// smallCluster keeps a test's clusters light: the machine runs many at once.
func smallCluster() []string {
	return []string{"shared_buffers=32MB", "max_connections=40", "fsync=off", "full_page_writes=off"}
}

// NewReplicated starts the pair, migrates the primary's database, waits until the
// replica has it too, and stops both when the test ends.
func NewReplicated(t testing.TB) *Replicated {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	base, err := os.MkdirTemp("", "stockroom-replicated-")
	if err != nil {
		t.Fatal(err)
	}
	// The servers run as the postgres OS user when we are root: it must pass through.
	if err := os.Chmod(base, 0o711); err != nil {
		t.Fatal(err)
	}
	r := &Replicated{t: t, replicaDir: filepath.Join(base, "replica")}
	t.Cleanup(func() {
		r.StopReplica()
		if r.primary != nil {
			if err := r.primary.Stop(); err != nil {
				t.Error(err)
			}
		}
		os.RemoveAll(base)
	})
	r.primary = startCluster(t, func() (*devdb.Cluster, error) {
		return devdb.StartWith(ctx, filepath.Join(base, "primary"), devdb.Options{Settings: smallCluster()})
	})
	if err := r.primary.CreateDatabase(ctx, "stockroom"); err != nil {
		t.Fatal(err)
	}
	r.PrimaryURL = r.primary.URL("stockroom")
	pool, err := connectAdmin(ctx, r.PrimaryURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool, "up"); err != nil {
		t.Fatal(err)
	}
	r.StartReplica()
	return r
}

// startCluster starts a cluster with a watchdog that stops it should the test
// process die before its cleanup.
func startCluster(t testing.TB, start func() (*devdb.Cluster, error)) *devdb.Cluster {
	t.Helper()
	c, err := start()
	if err != nil {
		t.Fatal(err)
	}
	wd, err := startWatchdog(c.Dir)
	if err != nil {
		c.Stop()
		t.Fatal(err)
	}
	t.Cleanup(func() { wd.Close() })
	return c
}

// StartReplica starts the replica (copying the primary on first use, on the port it
// had before when it is restarted) and waits
// until it has replayed everything the primary has written so far.
func (r *Replicated) StartReplica() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	r.replica = startCluster(r.t, func() (*devdb.Cluster, error) {
		return devdb.StartReplica(ctx, r.primary, r.replicaDir, devdb.Options{Settings: smallCluster(), Port: r.replicaPort})
	})
	r.replicaPort = r.replica.Port()
	r.ReplicaURL = r.replica.URL("stockroom")
	r.WaitReplayed()
}

// StopReplica stops the replica (a fast shutdown), as an outage would.
func (r *Replicated) StopReplica() {
	if r.replica == nil {
		return
	}
	if err := r.replica.Stop(); err != nil {
		r.t.Error(err)
	}
	r.replica = nil
}

// PauseReplay stops the replica applying WAL (pg_wal_replay_pause): it keeps
// answering, with ever older data, as a replica stuck behind a long query does.
func (r *Replicated) PauseReplay() { r.exec(r.ReplicaURL, "SELECT pg_wal_replay_pause()") }

// ResumeReplay undoes PauseReplay.
func (r *Replicated) ResumeReplay() { r.exec(r.ReplicaURL, "SELECT pg_wal_replay_resume()") }

// WaitReplayed waits until the replica has replayed the primary's WAL as of now.
func (r *Replicated) WaitReplayed() {
	r.t.Helper()
	var target string
	r.queryRow(r.PrimaryURL, "SELECT pg_current_wal_lsn()::text", &target)
	deadline := time.Now().Add(time.Minute)
	for {
		var caught bool
		r.queryRow(r.ReplicaURL, "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", &caught, target)
		if caught {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("the replica has not replayed %s within a minute", target)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *Replicated) exec(url, sql string) {
	r.t.Helper()
	var ignored any
	r.queryRow(url, sql, &ignored)
}

func (r *Replicated) queryRow(url, sql string, dest any, args ...any) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		r.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(ctx, sql, args...).Scan(dest); err != nil {
		r.t.Fatalf("%s: %v", sql, err)
	}
}
