package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/stockroom-dev/stockroom/migrations"
)

// ErrNotMigrated: the database schema is behind (or ahead of) this binary's migrations.
var ErrNotMigrated = errors.New("database is not migrated: run `stockroom migrate up`")

// Migrator applies the schema: the job queue's tables (River's own migrations, from
// the River module this binary is built with, run by rivermigrate) and then the
// embedded goose migrations. River's come first so that ours may refer to its
// tables. The two keep their own version tables (river_migration, goose_db_version).
type Migrator struct {
	db       *sql.DB
	provider *goose.Provider
	river    *rivermigrate.Migrator[pgx.Tx]
}

// NewMigrator returns a migrator on pool's database. Close it when done.
func NewMigrator(pool *pgxpool.Pool) (*Migrator, error) {
	sqlDB := stdlib.OpenDBFromPool(pool)
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	rm, err := newRiverMigrator(pool)
	if err != nil {
		sqlDB.Close()
		return nil, err
	}
	return &Migrator{db: sqlDB, provider: p, river: rm}, nil
}

func newRiverMigrator(pool *pgxpool.Pool) (*rivermigrate.Migrator[pgx.Tx], error) {
	// River's default logger writes to stdout; it only logs at warn and above here,
	// and what it logs (migration names) holds no secret.
	rm, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return nil, fmt.Errorf("load job queue migrations: %w", err)
	}
	return rm, nil
}

// RiverVersion is the newest River migration this binary carries: the job queue's
// schema version that Check wants and dbtest folds into its template's name.
func RiverVersion() int {
	rm, err := rivermigrate.New(riverpgxv5.New(nil), &rivermigrate.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return 0
	}
	all := rm.AllVersions()
	if len(all) == 0 {
		return 0
	}
	return all[len(all)-1].Version
}

// Close releases the migrator's database handle (not the pool).
func (m *Migrator) Close() error { return m.db.Close() }

// Up applies every pending migration: River's, then ours.
func (m *Migrator) Up(ctx context.Context) error {
	if _, err := m.river.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue (River) migrations: %w", classify(err))
	}
	_, err := m.provider.Up(ctx)
	return classify(err)
}

// Down rolls back the newest applied migration of ours. River's tables stay: they
// hold queued work, and removing them is a deliberate step of its own (River's
// `river migrate-down` command).
func (m *Migrator) Down(ctx context.Context) error {
	_, err := m.provider.Down(ctx)
	return classify(err)
}

// Status writes one line per migration: applied or pending.
func (m *Migrator) Status(ctx context.Context, w io.Writer) error {
	results, err := m.provider.Status(ctx)
	if err != nil {
		return classify(err)
	}
	for _, r := range results {
		when := "pending"
		if r.State == goose.StateApplied {
			when = "applied " + r.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(w, "%-40s %s\n", r.Source.Path, when)
	}
	applied, err := m.river.ExistingVersions(ctx)
	if err != nil {
		return fmt.Errorf("job queue (River) migrations: %w", classify(err))
	}
	done := make(map[int]bool, len(applied))
	for _, v := range applied {
		done[v.Version] = true
	}
	for _, v := range m.river.AllVersions() {
		when := "pending"
		if done[v.Version] {
			when = "applied"
		}
		fmt.Fprintf(w, "%-40s %s\n", fmt.Sprintf("river %03d_%s", v.Version, v.Name), when)
	}
	return nil
}

// Check returns ErrNotMigrated unless the database is at exactly this binary's newest
// migration, with nothing pending in between, River's included.
func (m *Migrator) Check(ctx context.Context) error {
	res, err := m.river.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("job queue (River) migrations: %w", classify(err))
	}
	if !res.OK {
		return fmt.Errorf("%w (job queue: %s)", ErrNotMigrated, strings.Join(res.Messages, "; "))
	}
	current, target, err := m.provider.GetVersions(ctx)
	if err != nil {
		return classify(err)
	}
	if current != target {
		return fmt.Errorf("%w (at version %d, want %d)", ErrNotMigrated, current, target)
	}
	pending, err := m.provider.HasPending(ctx)
	if err != nil {
		return classify(err)
	}
	if pending {
		return fmt.Errorf("%w (a migration before version %d is missing)", ErrNotMigrated, current)
	}
	return nil
}

// Migrate runs direction ("up" or "down") on pool's database.
func Migrate(ctx context.Context, pool *pgxpool.Pool, direction string) error {
	m, err := NewMigrator(pool)
	if err != nil {
		return err
	}
	defer m.Close()
	switch direction {
	case "up":
		return m.Up(ctx)
	case "down":
		return m.Down(ctx)
	}
	return fmt.Errorf("unknown migration direction %q", direction)
}
