package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// widgets is a test-only resource on a scratch table, built from the real machinery
// (decode, page and cursors, ETags, expectedVersion, and the guard's idempotency and
// rate limit), so every piece is exercised here independently of the catalog. Its
// routes are described in testdata/widgets.openapi.json.
type widgets struct {
	api          *Server
	st           *store.Store
	beforeCreate atomic.Pointer[func() error] // a hook: block or fail a create
	creates      atomic.Int64                 // widgets created
}

// widget is a widget as the API shows it.
type widget struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Note      *string   `json:"note"`
	Version   int32     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
}

const widgetColumns = `id, name, note, version, created_at`

var widgetReadOnly = []string{"id", "version", "created_at"}

func newWidgets(t testing.TB, api *Server, st *store.Store, rt *web.Routes) *widgets {
	t.Helper()
	_, err := st.Pool().Exec(context.Background(), `
		CREATE TABLE widgets (
			id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
			name       text        NOT NULL CONSTRAINT widgets_name_key UNIQUE,
			note       text,
			version    integer     NOT NULL DEFAULT 1,
			created_at timestamptz NOT NULL DEFAULT now()
		);
		INSERT INTO permissions (codename, name)
		SELECT 'widgets.' || a, a || ' widgets' FROM unnest(ARRAY['view', 'add', 'change', 'delete']) AS a;`)
	if err != nil {
		t.Fatal(err)
	}
	w := &widgets{api: api, st: st}
	rt.Handle("GET /api/v1/widgets", "widgets.view", api.handle(w.list))
	rt.Handle("POST /api/v1/widgets", "widgets.add", api.handle(w.create))
	rt.Handle("GET /api/v1/widgets/{id}", "widgets.view", api.handle(w.get))
	rt.Handle("PATCH /api/v1/widgets/{id}", "widgets.change", api.handle(w.update))
	rt.Handle("DELETE /api/v1/widgets/{id}", "widgets.delete", api.handle(w.delete))
	rt.Handle("GET /api/v1/widget-failure", "widgets.view", api.handle(w.fail))
	return w
}

// widgetOrder is the keyset condition and ORDER BY of each ordering; $1 and $2 are
// the cursor's key and id, NULL on the first page.
var widgetOrder = map[string]string{
	"id":    `($1::text IS NULL OR id > $2::bigint) ORDER BY id`,
	"name":  `($2::bigint IS NULL OR (name, id) > ($1::text, $2)) ORDER BY name, id`,
	"-name": `($2::bigint IS NULL OR (name, id) < ($1::text, $2)) ORDER BY name DESC, id DESC`,
}

func (w *widgets) list(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.api.page(r, listSpec{orderings: []string{"id", "name", "-name"}, filters: []string{"q"}})
	if err != nil {
		return err
	}
	var key *string
	var after *int64
	if p.After != nil {
		key, after = &p.After.Key, &p.After.ID
	}
	sql := `SELECT ` + widgetColumns + ` FROM widgets
		WHERE ($3 = '' OR name ILIKE '%' || $3 || '%') AND ` + widgetOrder[p.Ordering] + ` LIMIT $4`
	rows, err := w.st.Pool().Query(r.Context(), sql, key, after, r.URL.Query().Get("q"), p.Fetch())
	if err != nil {
		return err
	}
	defer rows.Close()
	var out []widget
	for rows.Next() {
		var x widget
		if err := rows.Scan(&x.ID, &x.Name, &x.Note, &x.Version, &x.CreatedAt); err != nil {
			return err
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return writeJSON(rw, http.StatusOK, pageOf(w.api, p, out, func(x widget) (string, int64) {
		if p.Ordering == "id" {
			return "", x.ID
		}
		return x.Name, x.ID
	}))
}

func (w *widgets) create(rw http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name string  `json:"name"`
		Note *string `json:"note"`
	}
	if _, err := decode(r, &in, widgetReadOnly...); err != nil {
		return err
	}
	if hook := w.beforeCreate.Load(); hook != nil {
		if err := (*hook)(); err != nil {
			return err
		}
	}
	if strings.TrimSpace(in.Name) == "" {
		return validator.Errors{"name": "is required"}
	}
	var x widget
	err := w.row(r.Context(), &x, `INSERT INTO widgets (name, note) VALUES ($1, $2) RETURNING `+widgetColumns, in.Name, in.Note)
	if store.Constraint(err) == "widgets_name_key" {
		return validator.Errors{"name": "is already used"}
	}
	if err != nil {
		return err
	}
	w.creates.Add(1)
	rw.Header().Set("Location", fmt.Sprintf("/api/v1/widgets/%d", x.ID))
	return w.respond(rw, r, http.StatusCreated, x)
}

func (w *widgets) respond(rw http.ResponseWriter, r *http.Request, status int, x widget) error {
	body, tag, err := represent(x.ID, x.Version, x)
	if err != nil {
		return err
	}
	return writeRepresentation(rw, r, status, body, tag)
}

func (w *widgets) get(rw http.ResponseWriter, r *http.Request) error {
	x, err := w.load(r)
	if err != nil {
		return err
	}
	return w.respond(rw, r, http.StatusOK, x)
}

func (w *widgets) update(rw http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name *string `json:"name"`
		Note *string `json:"note"`
	}
	b, err := decode(r, &in, widgetReadOnly...)
	if err != nil {
		return err
	}
	if b.null("name") {
		return validator.Errors{"name": "cannot be null"}
	}
	return retryStale(r, func() error {
		cur, err := w.checked(r)
		if err != nil {
			return err
		}
		var x widget
		err = w.row(r.Context(), &x, `UPDATE widgets
			SET name = CASE WHEN $3 THEN $4 ELSE name END, note = CASE WHEN $5 THEN $6 ELSE note END,
				version = version + 1
			WHERE id = $1 AND version = $2 RETURNING `+widgetColumns,
			cur.ID, cur.Version, in.Name != nil, in.Name, b.has("note"), in.Note)
		if errors.Is(err, store.ErrNotFound) {
			return store.ErrStale // it was there a moment ago: someone else wrote first
		}
		if err != nil {
			return err
		}
		return w.respond(rw, r, http.StatusOK, x)
	})
}

func (w *widgets) delete(rw http.ResponseWriter, r *http.Request) error {
	return retryStale(r, func() error {
		cur, err := w.checked(r)
		if err != nil {
			return err
		}
		var gone int64
		err = w.row(r.Context(), nil, `DELETE FROM widgets WHERE id = $1 AND version = $2 RETURNING id`, cur.ID, cur.Version, &gone)
		if errors.Is(err, store.ErrNotFound) {
			return store.ErrStale
		}
		if err != nil {
			return err
		}
		rw.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (w *widgets) fail(rw http.ResponseWriter, r *http.Request) error {
	return fmt.Errorf("load widget: %w", errors.New("disk on fire at /var/lib/secret"))
}

// load reads the widget the path names.
func (w *widgets) load(r *http.Request) (widget, error) {
	var x widget
	id, err := pathID(r, "id")
	if err != nil {
		return x, err
	}
	err = w.row(r.Context(), &x, `SELECT `+widgetColumns+` FROM widgets WHERE id = $1`, id)
	return x, err
}

// checked reads the widget a write is about and checks the request's If-Match.
func (w *widgets) checked(r *http.Request) (widget, error) {
	x, err := w.load(r)
	if err != nil {
		return x, err
	}
	_, tag, err := represent(x.ID, x.Version, x)
	if err != nil {
		return x, err
	}
	return x, ifMatch(r, tag)
}

// row runs sql and scans one widget into x (or, with x nil, the trailing args'
// last element as the only column), classifying errors like the store does.
func (w *widgets) row(ctx context.Context, x *widget, sql string, args ...any) error {
	return w.st.Read(ctx, func(*db.Queries) error {
		if x == nil {
			dst := args[len(args)-1]
			return w.st.Pool().QueryRow(ctx, sql, args[:len(args)-1]...).Scan(dst)
		}
		return w.st.Pool().QueryRow(ctx, sql, args...).Scan(&x.ID, &x.Name, &x.Note, &x.Version, &x.CreatedAt)
	})
}
