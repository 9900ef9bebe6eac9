package store

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// Every sqlc query that inserts into events must be in writesEvents, or its
// transactions' events would wait for the hubs' poll; and nothing else may be.
// Each must be an :exec query too: the planner notes writers in Exec only.
func TestWritesEventsListsEveryInsert(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "db", "queries", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no query files: %v", err)
	}
	name := regexp.MustCompile(`(?m)^-- name: (\w+) (:\w+)`)
	inserts := regexp.MustCompile(`(?i)\bINSERT\s+INTO\s+events\b`)
	found := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		marks := name.FindAllStringSubmatchIndex(src, -1)
		for i, m := range marks {
			end := len(src)
			if i+1 < len(marks) {
				end = marks[i+1][0]
			}
			q, body := src[m[2]:m[3]], src[m[0]:end]
			if want := inserts.MatchString(body); writesEvents(q) != want {
				t.Errorf("%s (%s): writesEvents %v, but its SQL inserting into events is %v",
					q, filepath.Base(f), writesEvents(q), want)
			} else if want {
				found++
				if cmd := src[m[4]:m[5]]; cmd != ":exec" {
					t.Errorf("%s (%s) inserts into events as a %s query: planner.Exec, where writers are noted, never sees it",
						q, filepath.Base(f), cmd)
				}
			}
		}
	}
	if found == 0 {
		t.Error("no query inserts into events: has the audit log moved?")
	}
}
