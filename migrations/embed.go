// Package migrations holds the schema as goose SQL files. They are embedded into the
// binary (stockroom migrate) and read by sqlc as its schema, so there is one source of
// truth. A migration that has landed is never edited: add a new file instead.
package migrations

import "embed"

// FS holds every NNNN_name.sql file of this folder at its root.
//
//go:embed *.sql
var FS embed.FS
