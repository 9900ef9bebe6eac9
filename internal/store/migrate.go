package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/stockroom-dev/stockroom/migrations"
)

// ErrNotMigrated: the database schema is behind (or ahead of) this binary's migrations.
var ErrNotMigrated = errors.New("database is not migrated: run `stockroom migrate up`")

// Migrator applies the embedded goose migrations.
type Migrator struct {
	db       *sql.DB
	provider *goose.Provider
}

// NewMigrator returns a migrator on pool's database. Close it when done.
func NewMigrator(pool *pgxpool.Pool) (*Migrator, error) {
	sqlDB := stdlib.OpenDBFromPool(pool)
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return &Migrator{db: sqlDB, provider: p}, nil
}

// Close releases the migrator's database handle (not the pool).
func (m *Migrator) Close() error { return m.db.Close() }

// Up applies every pending migration.
func (m *Migrator) Up(ctx context.Context) error {
	_, err := m.provider.Up(ctx)
	return classify(err)
}

// Down rolls back the newest applied migration.
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
	return nil
}

// Check returns ErrNotMigrated unless the database is at exactly this binary's newest
// migration, with nothing pending in between.
func (m *Migrator) Check(ctx context.Context) error {
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
