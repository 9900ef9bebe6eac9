package store

import (
	"errors"

	"github.com/jackc/pgx/v5"
)

// NoRows reports whether err says a query found no row, classified or not: inside an
// InTx function errors are still the driver's, and callers there must tell "the
// versioned UPDATE matched nothing" (ErrStale) from other failures without pgx.
func NoRows(err error) bool {
	return errors.Is(err, pgx.ErrNoRows) || errors.Is(err, ErrNotFound)
}
