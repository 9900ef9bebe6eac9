// Command lean is the bench's lean floor: the smallest correct Go net/http + pgx
// program a person would write for S1–S4 of `make bench`, on stockroom's schema,
// answering with the same JSON and the same auth semantics (a token is looked up by
// its SHA-256 on every request, so a revoked, expired or deactivated one is refused
// at once; read-scoped tokens only view; the permission comes from the user or their
// groups; last_used_at is written at most once a minute).
//
// It is deliberately independent of stockroom's code: its own SQL, the simplest that
// does the job (no optional-filter shapes, no planner hints), pgxpool's default
// settings (pool size, statement cache, plan_cache_mode) and encoding/json. So
// stockroom's ratio to it is what stockroom's machinery costs, and bench/samesql
// (stockroom's own SQL under stockroom's pool settings) sits between the two.
//
// It is a reference, not a product: no logging, no metrics, no error pages beyond a
// status code. It listens on LEAN_ADDR and connects to LEAN_DATABASE_URL.
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "lean:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	pool, err := pgxpool.New(ctx, os.Getenv("LEAN_DATABASE_URL"))
	if err != nil {
		return errors.New("LEAN_DATABASE_URL is missing or malformed")
	}
	defer pool.Close()
	s := &lean{pool: pool, currency: "EUR", key: []byte("lean cursor key")}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/products", s.list)
	mux.HandleFunc("GET /api/v1/products/{id}", s.product)
	mux.HandleFunc("PATCH /api/v1/products/{id}/variants/{vid}", s.patchVariant)
	srv := &http.Server{Addr: os.Getenv("LEAN_ADDR"), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type lean struct {
	pool     *pgxpool.Pool
	currency string
	key      []byte
}

type (
	category struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	item struct {
		ID           int64     `json:"id"`
		Name         string    `json:"name"`
		Slug         string    `json:"slug"`
		Status       string    `json:"status"`
		Category     *category `json:"category"`
		PriceCents   int64     `json:"price_cents"`
		Currency     string    `json:"currency"`
		Stock        int64     `json:"stock"`
		SKU          string    `json:"sku"`
		VariantCount int32     `json:"variant_count"`
		UpdatedAt    time.Time `json:"updated_at"`
		Version      int32     `json:"version"`
	}
	variant struct {
		ID                  int64           `json:"id"`
		ProductID           int64           `json:"product_id"`
		SKU                 string          `json:"sku"`
		Title               string          `json:"title"`
		Options             json.RawMessage `json:"options"`
		PriceCents          int64           `json:"price_cents"`
		CompareAtPriceCents *int64          `json:"compare_at_price_cents"`
		CostCents           *int64          `json:"cost_cents"`
		Currency            string          `json:"currency"`
		Stock               int32           `json:"stock"`
		Position            int32           `json:"position"`
		CreatedAt           time.Time       `json:"created_at"`
		UpdatedAt           time.Time       `json:"updated_at"`
		Version             int32           `json:"version"`
	}
	image struct {
		ID          int64  `json:"id"`
		Path        string `json:"path"`
		ContentType string `json:"content_type"`
		Width       int32  `json:"width"`
		Height      int32  `json:"height"`
		Bytes       int64  `json:"bytes"`
		Alt         string `json:"alt"`
		Position    int32  `json:"position"`
		Version     int32  `json:"version"`
	}
	detail struct {
		item
		Description string    `json:"description"`
		Variants    []variant `json:"variants"`
		Images      []image   `json:"images"`
		CreatedAt   time.Time `json:"created_at"`
	}
	page struct {
		Data       []item  `json:"data"`
		NextCursor *string `json:"next_cursor"`
		HasMore    bool    `json:"has_more"`
	}
)

// principal is who a token acts for.
type principal struct {
	tokenID, userID int64
	label           string
}

// authSQL finds a usable token and says whether its user holds the permission, in
// one statement.
const authSQL = `
SELECT t.id, t.user_id, u.email || ' (' || u.name || ')', t.scope,
       u.is_superuser OR EXISTS (
           SELECT 1 FROM permissions p
           WHERE p.codename = $2
             AND (p.id IN (SELECT permission_id FROM user_permissions WHERE user_id = u.id)
               OR p.id IN (SELECT gp.permission_id FROM group_permissions gp
                           JOIN user_groups ug ON ug.group_id = gp.group_id WHERE ug.user_id = u.id))),
       t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute'
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = $1 AND t.revoked_at IS NULL
  AND (t.expires_at IS NULL OR t.expires_at > now()) AND u.is_active`

// authenticate checks the bearer token for perm: 0 and a status when refused.
func (s *lean) authenticate(r *http.Request, perm string) (principal, int) {
	secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return principal{}, http.StatusUnauthorized
	}
	sum := sha256.Sum256([]byte(secret))
	var p principal
	var scope string
	var allowed, touch bool
	err := s.pool.QueryRow(r.Context(), authSQL, sum[:], perm).Scan(&p.tokenID, &p.userID, &p.label, &scope, &allowed, &touch)
	if err != nil {
		return p, http.StatusUnauthorized
	}
	if !allowed || (scope != "write" && !strings.HasSuffix(perm, ".view")) {
		return p, http.StatusForbidden
	}
	if touch {
		_, err := s.pool.Exec(r.Context(), `UPDATE api_tokens SET last_used_at = now()
			WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, p.tokenID)
		if err != nil {
			return p, http.StatusInternalServerError
		}
	}
	return p, 0
}

const itemColumns = `p.id, p.name, p.slug, p.status, p.category_id, c.name, p.price_min_cents, p.stock_total,
	p.first_sku, p.variant_count, p.updated_at, p.version`

func (s *lean) scanItem(row pgx.Row, extra ...any) (item, error) {
	var it item
	var catID *int64
	var catName *string
	dest := append([]any{&it.ID, &it.Name, &it.Slug, &it.Status, &catID, &catName, &it.PriceCents, &it.Stock,
		&it.SKU, &it.VariantCount, &it.UpdatedAt, &it.Version}, extra...)
	if err := row.Scan(dest...); err != nil {
		return it, err
	}
	if catID != nil {
		it.Category = &category{ID: *catID, Name: *catName}
	}
	it.Currency, it.UpdatedAt = s.currency, it.UpdatedAt.UTC()
	return it, nil
}

// list is S1 and S4: a page by name, id, filtered by a substring of the name or a
// SKU when q is given.
func (s *lean) list(w http.ResponseWriter, r *http.Request) {
	if _, status := s.authenticate(r, "products.view"); status != 0 {
		w.WriteHeader(status)
		return
	}
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		limit = n
	}
	var rows pgx.Rows
	var err error
	if q := r.URL.Query().Get("q"); q != "" {
		pattern := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q) + "%"
		rows, err = s.pool.Query(r.Context(), `SELECT `+itemColumns+`
			FROM products p LEFT JOIN categories c ON c.id = p.category_id
			WHERE p.name ILIKE $2 OR p.skus ILIKE $2
			ORDER BY p.name, p.id LIMIT $1`, limit+1, pattern)
	} else {
		rows, err = s.pool.Query(r.Context(), `SELECT `+itemColumns+`
			FROM products p LEFT JOIN categories c ON c.id = p.category_id
			ORDER BY p.name, p.id LIMIT $1`, limit+1)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out := page{Data: make([]item, 0, limit+1)}
	for rows.Next() {
		it, err := s.scanItem(rows)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out.Data = append(out.Data, it)
	}
	if err := rows.Err(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if len(out.Data) > limit {
		out.Data = out.Data[:limit]
		c := s.cursor(r, out.Data[limit-1])
		out.NextCursor, out.HasMore = &c, true
	}
	writeJSON(w, out, "")
}

// cursor signs the position after it, bound to the query's search.
func (s *lean) cursor(r *http.Request, it item) string {
	b, _ := json.Marshal(struct {
		Q    string `json:"q"`
		Name string `json:"n"`
		ID   int64  `json:"i"`
	}{r.URL.Query().Get("q"), it.Name, it.ID})
	m := hmac.New(sha256.New, s.key)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(append(b, m.Sum(nil)[:16]...))
}

// product is S2: the product, its variants and its images.
func (s *lean) product(w http.ResponseWriter, r *http.Request) {
	if _, status := s.authenticate(r, "products.view"); status != 0 {
		w.WriteHeader(status)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	ctx := r.Context()
	var d detail
	d.item, err = s.scanItem(s.pool.QueryRow(ctx, `SELECT `+itemColumns+`, p.description, p.created_at
		FROM products p LEFT JOIN categories c ON c.id = p.category_id WHERE p.id = $1`, id), &d.Description, &d.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	d.CreatedAt = d.CreatedAt.UTC()
	rows, _ := s.pool.Query(ctx, `SELECT id, product_id, sku, title, option_values, price_cents,
		compare_at_price_cents, cost_cents, stock, position, created_at, updated_at, version
		FROM product_variants WHERE product_id = $1 ORDER BY position, id`, id)
	d.Variants, err = pgx.CollectRows(rows, s.scanVariant)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	rows, _ = s.pool.Query(ctx, `SELECT id, sha256, content_type, width, height, bytes, alt, position, version
		FROM product_images WHERE product_id = $1 ORDER BY position, id`, id)
	d.Images, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (image, error) {
		var img image
		var sum string
		err := row.Scan(&img.ID, &sum, &img.ContentType, &img.Width, &img.Height, &img.Bytes, &img.Alt, &img.Position, &img.Version)
		img.Path = sum[:min(2, len(sum))] + "/" + sum
		return img, err
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, d, fmt.Sprintf("%d-%d", d.ID, d.Version))
}

func (s *lean) scanVariant(row pgx.CollectableRow) (variant, error) {
	var v variant
	err := row.Scan(&v.ID, &v.ProductID, &v.SKU, &v.Title, &v.Options, &v.PriceCents, &v.CompareAtPriceCents,
		&v.CostCents, &v.Stock, &v.Position, &v.CreatedAt, &v.UpdatedAt, &v.Version)
	v.Currency, v.CreatedAt, v.UpdatedAt = s.currency, v.CreatedAt.UTC(), v.UpdatedAt.UTC()
	return v, err
}

// patchVariant is S3: {"stock": K} on a variant, with the product's stock total and
// an audit row in the same transaction.
func (s *lean) patchVariant(w http.ResponseWriter, r *http.Request) {
	who, status := s.authenticate(r, "products.change")
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	pid, err1 := strconv.ParseInt(r.PathValue("id"), 10, 64)
	vid, err2 := strconv.ParseInt(r.PathValue("vid"), 10, 64)
	if err1 != nil || err2 != nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	var in struct {
		Stock *int32 `json:"stock"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if in.Stock == nil || *in.Stock < 0 {
		w.WriteHeader(http.StatusUnprocessableEntity)
		return
	}
	ctx := r.Context()
	var v variant
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var old int32
		rows, _ := tx.Query(ctx, `UPDATE product_variants v SET stock = $1, version = v.version + 1
			FROM (SELECT id, stock FROM product_variants WHERE id = $2 AND product_id = $3 FOR UPDATE) old
			WHERE v.id = old.id
			RETURNING v.id, v.product_id, v.sku, v.title, v.option_values, v.price_cents, v.compare_at_price_cents,
			          v.cost_cents, v.stock, v.position, v.created_at, v.updated_at, v.version, old.stock`, *in.Stock, vid, pid)
		var err error
		v, err = pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (variant, error) {
			var v variant
			err := row.Scan(&v.ID, &v.ProductID, &v.SKU, &v.Title, &v.Options, &v.PriceCents, &v.CompareAtPriceCents,
				&v.CostCents, &v.Stock, &v.Position, &v.CreatedAt, &v.UpdatedAt, &v.Version, &old)
			v.Currency, v.CreatedAt, v.UpdatedAt = s.currency, v.CreatedAt.UTC(), v.UpdatedAt.UTC()
			return v, err
		})
		if err != nil {
			return err
		}
		var name string
		err = tx.QueryRow(ctx, `UPDATE products SET stock_total = (SELECT sum(stock) FROM product_variants WHERE product_id = $1)
			WHERE id = $1 RETURNING name`, pid).Scan(&name)
		if err != nil {
			return err
		}
		changes, _ := json.Marshal(map[string][2]int32{"variants[" + v.SKU + "].stock": {old, v.Stock}})
		_, err = tx.Exec(ctx, `INSERT INTO audit_log (actor_user_id, actor_token_id, actor_label, action, resource, object_id, object_repr, changes)
			VALUES ($1, $2, $3, 'update', 'products', $4, $5, $6)`, who.userID, who.tokenID, who.label, pid, name, changes)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, v, fmt.Sprintf("%d-%d", v.ID, v.Version))
}

// writeJSON encodes v; a non-empty tag becomes a strong ETag with the body's digest,
// as the API's single resources carry.
func writeJSON(w http.ResponseWriter, v any, tag string) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	if tag != "" {
		sum := sha256.Sum256(b)
		h.Set("ETag", `"`+tag+"-"+hex.EncodeToString(sum[:4])+`"`)
	}
	w.Write(b)
}
