// Package migrations holds the database schema of every store
// implementation, one folder of goose SQL migrations per SQL dialect, so
// that the schemas evolve side by side in one place.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// SQLite returns the migrations for SQLite.
func SQLite() fs.FS {
	sub, err := fs.Sub(files, "sqlite")
	if err != nil {
		panic(err) // the folder is embedded at build time
	}
	return sub
}

// Postgres returns the migrations for PostgreSQL.
func Postgres() fs.FS {
	sub, err := fs.Sub(files, "postgres")
	if err != nil {
		panic(err) // the folder is embedded at build time
	}
	return sub
}
