package store_test

import (
	"context"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// Estimate explains a generated query's own SQL and never runs it.
func TestEstimate(t *testing.T) {
	ctx := context.Background()
	st := store.New(dbtest.New(t))
	setup := `INSERT INTO users (email, password_hash) SELECT 'u' || n || '@example.com', 'x' FROM generate_series(1, 300) AS n; ANALYZE users;`
	if _, err := st.Pool().Exec(ctx, setup); err != nil {
		t.Fatal(err)
	}
	n, err := st.Estimate(ctx, func(q *db.Queries) error {
		_, err := q.UserPermissionCodenames(ctx, 1)
		return err
	})
	if err != nil || n < 0 {
		t.Errorf("Estimate of a generated query = %d, %v", n, err)
	}
	if _, err := st.Estimate(ctx, func(*db.Queries) error { return nil }); err == nil {
		t.Error("Estimate of no statement: want an error")
	}
	// Nothing was run: the captured statement only went to EXPLAIN.
	n, err = st.Estimate(ctx, func(q *db.Queries) error {
		_, err := q.CreateUser(ctx, db.CreateUserParams{Email: "new@example.com", PasswordHash: "x"})
		return err
	})
	if err != nil || n != 1 {
		t.Errorf("Estimate of an INSERT = %d, %v; want 1", n, err)
	}
	var users int
	if err := st.Pool().QueryRow(ctx, "SELECT count(*) FROM users").Scan(&users); err != nil || users != 300 {
		t.Errorf("%d users (%v), want 300: Estimate must not run the statement", users, err)
	}
}
