package devdb

import (
	"cmp"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// ErrNoServer means no PostgreSQL server binaries were found on this machine.
var ErrNoServer = errors.New("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found: " +
	"install the Debian package postgresql, or set STOCKROOM_DATABASE_URL to a server you run")

// debianBinGlob is where Debian's postgresql-NN packages put the server binaries;
// only psql and friends get wrappers on PATH.
const debianBinGlob = "/usr/lib/postgresql/*/bin"

// FindBinaries returns the directory holding initdb, pg_ctl and postgres: the first
// found on PATH (symlinks resolved), else the newest /usr/lib/postgresql/*/bin. All
// three come from that one directory, because pg_ctl starts the postgres beside it.
func FindBinaries() (string, error) {
	return findBinaries(os.Getenv("PATH"), []string{debianBinGlob})
}

// findBinaries is FindBinaries with its search roots as arguments, for tests.
func findBinaries(pathEnv string, globs []string) (string, error) {
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue // a relative entry means "wherever we happen to run": never that
		}
		for _, name := range []string{"pg_ctl", "initdb", "postgres"} {
			exe, err := filepath.EvalSymlinks(filepath.Join(dir, name))
			if err != nil {
				continue
			}
			// /usr/local/bin/pg_ctl may be a symlink into a version's bin directory,
			// or a wrapper beside no server at all: only the real directory counts.
			if real := filepath.Dir(exe); hasServerBinaries(real) {
				return real, nil
			}
		}
	}
	for _, glob := range globs {
		dirs, err := filepath.Glob(glob)
		if err != nil {
			continue
		}
		// Newest major first: .../17/bin before .../15/bin before .../9.6/bin.
		slices.SortStableFunc(dirs, func(a, b string) int {
			return cmp.Compare(majorOf(b), majorOf(a))
		})
		for _, dir := range dirs {
			if real, err := filepath.EvalSymlinks(dir); err == nil && hasServerBinaries(real) {
				return real, nil
			}
		}
	}
	return "", ErrNoServer
}

// hasServerBinaries reports whether initdb, pg_ctl and postgres are all executable
// files that really live in dir (not symlinks to another directory).
func hasServerBinaries(dir string) bool {
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		exe, err := filepath.EvalSymlinks(filepath.Join(dir, name))
		if err != nil || filepath.Dir(exe) != dir {
			return false
		}
		st, err := os.Stat(exe)
		if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

// majorOf reads the version from a ".../<major>/bin" path; -1 when it is not a number.
func majorOf(binDir string) float64 {
	v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	if err != nil {
		return -1
	}
	return v
}
