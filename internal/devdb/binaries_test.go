package devdb

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindBinaries(t *testing.T) {
	root := t.TempDir()
	all := []string{"initdb", "pg_ctl", "postgres"}
	v15 := fakeBinDir(t, root, "lib/15/bin", all...)
	fakeBinDir(t, root, "lib/9.6/bin", all...)
	fakeBinDir(t, root, "lib/16/bin", "pg_ctl", "postgres") // half-removed upgrade
	custom := fakeBinDir(t, root, "opt/pg/bin", all...)
	links := linkDir(t, root, "links", custom, all...)            // /usr/local/bin style
	lone := fakeBinDir(t, root, "wrapper", "pg_ctl")              // a wrapper, no server beside it
	split := linkDir(t, root, "split", v15, "initdb", "postgres") // no pg_ctl here
	glob := []string{filepath.Join(root, "lib/*/bin")}
	t.Chdir(root) // so that the relative entry "links" would resolve, were it used

	tests := []struct {
		name    string
		path    string
		globs   []string
		want    string
		wantErr error
	}{
		{"nothing anywhere", "", []string{filepath.Join(root, "none/*/bin")}, "", ErrNoServer},
		{"empty PATH, no globs", "", nil, "", ErrNoServer},
		{"symlinks on PATH resolve to the real directory", links, nil, custom, nil},
		{"PATH comes before the glob", links, glob, custom, nil},
		{"a lone wrapper on PATH is passed over", lone, glob, v15, nil},
		{"a wrapper only", lone, nil, "", ErrNoServer},
		{"any of the three on PATH leads to its directory", split, nil, v15, nil},
		{"relative PATH entries are ignored", "links", nil, "", ErrNoServer},
		{"newest complete major of the glob", "", glob, v15, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := findBinaries(tt.path, tt.globs)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("findBinaries(%q, %q) error = %v, want %v", tt.path, tt.globs, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("findBinaries(%q, %q) = %q, want %q", tt.path, tt.globs, got, tt.want)
			}
		})
	}
}

func TestFindBinariesOnThisMachine(t *testing.T) {
	dir, err := FindBinaries()
	if err != nil {
		t.Fatal(err) // the project needs the server binaries: install postgresql
	}
	if !hasServerBinaries(dir) {
		t.Errorf("FindBinaries() = %q, which lacks initdb, pg_ctl or postgres", dir)
	}
}

func TestErrNoServerIsOneLine(t *testing.T) {
	msg := ErrNoServer.Error()
	for _, want := range []string{"postgresql", "STOCKROOM_DATABASE_URL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("ErrNoServer = %q, want it to name %s", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("ErrNoServer = %q, want one line", msg)
	}
}

// fakeBinDir makes root/rel holding executable files with the given names and
// returns its path with symlinks resolved, as findBinaries reports it.
func fakeBinDir(t *testing.T, root, rel string, names ...string) string {
	t.Helper()
	dir := filepath.Join(root, rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return resolved(t, dir)
}

// linkDir makes root/rel holding symlinks to the named files in target.
func linkDir(t *testing.T, root, rel, target string, names ...string) string {
	t.Helper()
	dir := filepath.Join(root, rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if err := os.Symlink(filepath.Join(target, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func resolved(t *testing.T, path string) string {
	t.Helper()
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	return real
}
