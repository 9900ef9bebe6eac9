package store

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The project's own error values. classify wraps the driver's error in one of them,
// so errors.Is works above the store and the original stays in the chain for logs.
var (
	// ErrNotFound is pgx.ErrNoRows renamed: the row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique key is taken; the wrap names the constraint.
	ErrConflict = errors.New("already exists")
	// ErrStale: the row changed since the client read it (version mismatch).
	ErrStale = errors.New("changed since it was read")
	// ErrCheck: a CHECK constraint rejected the row (e.g. stock below zero).
	ErrCheck = errors.New("violates a check")
	// ErrReferenced: a foreign key points to a missing row, or a row still referenced
	// was deleted.
	ErrReferenced = errors.New("violates a reference")
	// ErrRetry: a serialization failure or deadlock; the transaction may be retried.
	ErrRetry = errors.New("concurrent update, retry")
	// ErrUnavailable: the database cannot be reached.
	ErrUnavailable = errors.New("database unavailable")
	// ErrText: text PostgreSQL cannot store or compare (a NUL, bytes that are not
	// UTF-8). The transports refuse such text where they read it, naming the field;
	// this is the backstop for text that came another way, so it is never a 500.
	ErrText = errors.New("text the database cannot store")
)

// classify turns pgx and PostgreSQL errors into the values above, wrapping rather
// than replacing them. Errors it does not know (and nil) pass through unchanged.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return fmt.Errorf("%w: %s: %w", ErrConflict, pgErr.ConstraintName, err)
		case "23514":
			return fmt.Errorf("%w: %s: %w", ErrCheck, pgErr.ConstraintName, err)
		case "23503":
			return fmt.Errorf("%w: %s: %w", ErrReferenced, pgErr.ConstraintName, err)
		case "22021", "22P05": // character_not_in_repertoire, untranslatable_character
			return fmt.Errorf("%w: %w", ErrText, err)
		case "40001", "40P01":
			return fmt.Errorf("%w: %w", ErrRetry, err)
		case "57P01", "57P02", "57P03", "08000", "08003", "08006":
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return err
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// Constraint returns the name of the constraint a classified error violated, or "".
// Domain packages turn it into a field error ("sku": "is already used").
func Constraint(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName
	}
	return ""
}

// IsNotFound reports whether err means that a row is missing, whether classified
// (ErrNotFound) or still the driver's own: inside InTx, a query's error has not been
// classified yet, and a version-checked UPDATE that matched no row must be told apart
// from other failures there, without importing pgx.
func IsNotFound(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, pgx.ErrNoRows)
}
