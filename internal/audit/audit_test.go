package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestDiff(t *testing.T) {
	id := int64(3)
	tests := []struct {
		name          string
		before, after map[string]any
		want          string
	}{
		{"unchanged", map[string]any{"a": 1, "b": "x"}, map[string]any{"a": int64(1), "b": "x"}, `{}`},
		{"changed fields only", map[string]any{"a": 1, "b": "x"}, map[string]any{"a": 2, "b": "x"}, `{"a":[1,2]}`},
		{"created", nil, map[string]any{"a": 1, "none": nil, "p": &id}, `{"a":[null,1],"p":[null,3]}`},
		{"deleted", map[string]any{"a": 1}, nil, `{"a":[1,null]}`},
		{"pointer to nil", map[string]any{"p": &id}, map[string]any{"p": (*int64)(nil)}, `{"p":[3,null]}`},
		{"maps", map[string]any{"o": map[string]string{"size": "M"}}, map[string]any{"o": map[string]string{"size": "L"}},
			`{"o":[{"size":"M"},{"size":"L"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(audit.Diff(tt.before, tt.after))
			if err != nil || string(got) != tt.want {
				t.Errorf("Diff = %s (%v), want %s", got, err, tt.want)
			}
		})
	}
}

// The log is append-only: the database refuses to change or remove a row, whoever
// asks (the app connects as the table's owner, so permissions would not do).
func TestAuditLogIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	st := store.New(dbtest.New(t))
	err := st.InTx(ctx, func(q *db.Queries) error {
		return audit.Record(ctx, q, audit.System, audit.ActionCreate, "products", 1, "Chair", audit.Changes{"name": {nil, "Chair"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		"UPDATE audit_log SET note = 'edited'",
		"DELETE FROM audit_log",
		"TRUNCATE audit_log",
	} {
		if _, err := st.Pool().Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only refusal", sql, err)
		}
	}
	var n int
	if err := st.Pool().QueryRow(ctx, "SELECT count(*) FROM audit_log WHERE note = ''").Scan(&n); err != nil || n != 1 {
		t.Errorf("rows untouched = %d (%v), want 1", n, err)
	}
}

// List filters by user, resource and time, newest first, and pages by cursor.
func TestListAndHistory(t *testing.T) {
	ctx := context.Background()
	st := store.New(dbtest.New(t))
	alice := audit.Actor{UserID: 1, Label: "alice@example.com"}
	bot := audit.Actor{UserID: 1, TokenID: 9, Label: "alice@example.com (token sync)"}
	bob := audit.Actor{UserID: 2, Label: "bob@example.com"}
	write := func(actor audit.Actor, resource string, id int64) {
		t.Helper()
		err := st.InTx(ctx, func(q *db.Queries) error {
			return audit.Record(ctx, q, actor, audit.ActionUpdate, resource, id, fmt.Sprint(id), audit.Changes{"n": {0, 1}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	write(alice, "products", 1)
	write(bob, "products", 1)
	write(bot, "categories", 5)
	err := st.InTx(ctx, func(q *db.Queries) error {
		return audit.RecordMany(ctx, q, bob, audit.ActionDelete, "products", []audit.Object{{ID: 2, Repr: "Two"}, {ID: 3, Repr: "Three"}}, "bulk")
	})
	if err != nil {
		t.Fatal(err)
	}
	log := audit.New(st)
	ids := func(p audit.Page) string {
		var s []string
		for _, e := range p.Entries {
			s = append(s, fmt.Sprintf("%s/%d", e.Resource, e.ObjectID))
		}
		return strings.Join(s, " ")
	}
	tests := []struct {
		name string
		f    audit.Filter
		want string
	}{
		{"all, newest first", audit.Filter{}, "products/3 products/2 categories/5 products/1 products/1"},
		{"by user, through a token too", audit.Filter{UserID: 1}, "categories/5 products/1"},
		{"by resource", audit.Filter{Resource: "categories"}, "categories/5"},
		{"until before everything", audit.Filter{Until: time.Now().Add(-time.Hour)}, ""},
		{"since an hour ago", audit.Filter{Since: time.Now().Add(-time.Hour)}, "products/3 products/2 categories/5 products/1 products/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := log.List(ctx, tt.f, "", 50)
			if err != nil || ids(p) != tt.want || p.Next != "" {
				t.Errorf("List = %q next %q (%v), want %q and no next page", ids(p), p.Next, err, tt.want)
			}
		})
	}
	var walked []string
	cursor := ""
	for range 10 {
		p, err := log.List(ctx, audit.Filter{}, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, ids(p))
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if got := strings.Join(walked, " | "); got != "products/3 products/2 | categories/5 products/1 | products/1" {
		t.Errorf("pages = %q", got)
	}
	h, err := log.History(ctx, "products", 1, "", 50)
	if err != nil || len(h.Entries) != 2 || h.Entries[0].ActorLabel != "bob@example.com" {
		t.Fatalf("History = %+v, %v; want bob's change, then alice's", h.Entries, err)
	}
	if f := h.Entries[0].Fields; len(f) != 1 || f[0].Field != "n" || f[0].Before != json.Number("0") || f[0].After != json.Number("1") {
		t.Errorf("fields = %+v, want n: 0 → 1", f)
	}
	for _, bad := range []struct {
		cursor string
		limit  int
	}{{"", 0}, {"", keyset.MaxLimit + 1}, {"not-a-cursor", 10}} {
		_, err := log.List(ctx, audit.Filter{}, bad.cursor, bad.limit)
		if !errors.As(err, new(validator.Errors)) {
			t.Errorf("List(cursor %q, limit %d): err = %v, want a field error", bad.cursor, bad.limit, err)
		}
	}
}
