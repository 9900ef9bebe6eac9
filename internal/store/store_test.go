package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
)

func TestClassify(t *testing.T) {
	ctx := context.Background()
	st := store.New(dbtest.New(t))
	exec := func(sql string) func(q *db.Queries) error {
		return func(*db.Queries) error {
			_, err := st.Pool().Exec(ctx, sql)
			return err
		}
	}
	setup := `CREATE TABLE parent (id int PRIMARY KEY);
		CREATE TABLE child (id int PRIMARY KEY, parent_id int CONSTRAINT child_parent_fkey REFERENCES parent,
			n int CONSTRAINT child_n_check CHECK (n >= 0));
		INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1, 0);`
	if _, err := st.Pool().Exec(ctx, setup); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		fn         func(q *db.Queries) error
		want       error
		constraint string
	}{
		{"unique", exec(`INSERT INTO parent VALUES (1)`), store.ErrConflict, "parent_pkey"},
		{"check", exec(`UPDATE child SET n = -1`), store.ErrCheck, "child_n_check"},
		{"foreign key", exec(`INSERT INTO child VALUES (2, 99, 0)`), store.ErrReferenced, "child_parent_fkey"},
		{"still referenced", exec(`DELETE FROM parent`), store.ErrReferenced, "child_parent_fkey"},
		{"no rows", func(q *db.Queries) error { _, err := q.GetUser(ctx, 424242); return err }, store.ErrNotFound, ""},
		{"NUL in text", func(q *db.Queries) error {
			_, err := st.Pool().Exec(ctx, "INSERT INTO parent SELECT 2 WHERE $1::text <> ''", "a\x00b")
			return err
		}, store.ErrText, ""},
		{"bytes not UTF-8", func(q *db.Queries) error {
			_, err := st.Pool().Exec(ctx, "INSERT INTO parent SELECT 2 WHERE $1::text <> ''", "a\xffb")
			return err
		}, store.ErrText, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := st.InTx(ctx, tt.fn)
			if !errors.Is(err, tt.want) {
				t.Fatalf("InTx() = %v, want %v", err, tt.want)
			}
			if got := store.Constraint(err); got != tt.constraint {
				t.Errorf("Constraint() = %q, want %q", got, tt.constraint)
			}
		})
	}
}

// A failing fn rolls back everything it wrote.
func TestInTxRollsBack(t *testing.T) {
	ctx := context.Background()
	st := store.New(dbtest.New(t))
	boom := errors.New("boom")
	err := st.InTx(ctx, func(q *db.Queries) error {
		if _, err := q.CreateUser(ctx, db.CreateUserParams{Email: "a@example.com", PasswordHash: "x", IsActive: true}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx() = %v, want boom", err)
	}
	err = st.Read(ctx, func(q *db.Queries) error {
		_, err := q.GetUserByEmail(ctx, "a@example.com")
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after rollback: GetUserByEmail err = %v, want ErrNotFound", err)
	}
}

func TestOpenFailsClearly(t *testing.T) {
	_, err := store.Open(context.Background(), "postgres://u:secretpw@127.0.0.1:1/x?connect_timeout=1", store.Options{})
	if err == nil {
		t.Fatal("Open on a closed port succeeded")
	}
	if strings.Contains(err.Error(), "secretpw") {
		t.Errorf("error leaks the password: %s", err)
	}
}

// A pool without a configured size gets DefaultMaxConns, not pgxpool's max(4, CPUs);
// a configured size wins.
func TestOpenPoolSize(t *testing.T) {
	url := dbtest.NewURL(t)
	for _, tt := range []struct {
		opts store.Options
		want int32
	}{
		{store.Options{}, store.DefaultMaxConns()},
		{store.Options{MaxConns: 3}, 3},
	} {
		st, err := store.Open(context.Background(), url, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Pool().Config().MaxConns; got != tt.want {
			t.Errorf("Open(%+v): MaxConns %d, want %d", tt.opts, got, tt.want)
		}
		st.Close()
	}
	if n := store.DefaultMaxConns(); n < 16 {
		t.Errorf("DefaultMaxConns() = %d, want at least 16", n)
	}
}

// Count estimates first and counts exactly when the estimate is small; both read the
// same sqlc query.
func TestCount(t *testing.T) {
	ctx := context.Background()
	st := store.New(dbtest.New(t))
	for i := range 30 {
		email := "user" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@example.com"
		if err := st.InTx(ctx, func(q *db.Queries) error {
			_, err := q.CreateUser(ctx, db.CreateUserParams{Email: email, PasswordHash: "x", IsActive: i%3 != 0})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Pool().Exec(ctx, "ANALYZE users"); err != nil {
		t.Fatal(err)
	}
	active := true
	count := func(q *db.Queries, _ int32) (int64, error) {
		return q.CountUsers(ctx, db.CountUsersParams{Active: &active})
	}
	n, err := st.Count(ctx, count)
	if err != nil || n.N != 20 || !n.Exact {
		t.Errorf("Count = %+v, %v; want 20, exact", n, err)
	}
	// Which of the estimate and the count a list shows is keyset.CountOf's choice
	// (TestCountOf); the estimate itself is the planner's.
	all, err := st.Estimate(ctx, func(q *db.Queries) error { _, err := q.CountUsers(ctx, db.CountUsersParams{}); return err })
	if err != nil || all != 30 {
		t.Errorf("estimate of all users after ANALYZE = %d, %v; want 30", all, err)
	}
}
