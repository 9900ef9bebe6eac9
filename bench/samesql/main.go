// Command samesql is the bench's same-SQL floor: the smallest Go net/http + pgxpool
// server that answers S1–S4 of `make bench` with the same SQL per request as
// stockroom (token lookup included, through the sqlc queries in internal/db), the
// same pool settings (store.Tune) and the same JSON. What stockroom spends beyond it
// — middleware, the principal, validation, audit diffs, cursors, templates — is the
// overhead of its Go code; what it spends beyond bench/lean, the lean floor, is that
// plus the cost of its SQL and pool settings. Comparing stockroom with this one alone
// compares stockroom with itself (issue #19): the report's headline ratio is the
// lean floor's.
//
// It is a reference, not a product: no logging, no metrics, no error pages beyond a
// status code. It listens on SAMESQL_ADDR and connects to SAMESQL_DATABASE_URL with a pool
// of SAMESQL_MAX_CONNS connections (0: store.DefaultMaxConns, as stockroom's).
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
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "samesql:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cfg, err := pgxpool.ParseConfig(os.Getenv("SAMESQL_DATABASE_URL"))
	if err != nil {
		return errors.New("SAMESQL_DATABASE_URL is missing or malformed")
	}
	cfg.MaxConns = store.DefaultMaxConns()
	if n, _ := strconv.Atoi(os.Getenv("SAMESQL_MAX_CONNS")); n > 0 {
		cfg.MaxConns = int32(n)
	}
	store.Tune(cfg) // plan like stockroom: the database's work must be the same
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	f := &floor{pool: pool, q: db.New(pool), st: store.New(pool), currency: "EUR", key: []byte("floor cursor key")}
	// The catalog's size, for the plan choice of a search that does not read the
	// words' postings (none of S4's): stockroom reads it at most once a minute, the
	// floor once (its windows are shorter than a minute).
	if f.products, err = f.q.ProductsRowEstimate(ctx); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/products", f.list)
	mux.HandleFunc("GET /api/v1/products/{id}", f.product)
	mux.HandleFunc("PATCH /api/v1/products/{id}/variants/{vid}", f.patchVariant)
	srv := &http.Server{Addr: os.Getenv("SAMESQL_ADDR"), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type floor struct {
	pool     *pgxpool.Pool
	q        *db.Queries
	st       *store.Store // for Estimate: the EXPLAIN a search runs first unless it reads words' postings
	products int64        // the planner's count of products
	currency string
	key      []byte
}

// The response bodies: the API's product list item, detail and variant, field for
// field.
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

// authenticate runs the token lookup (and the once-a-minute touch) and checks perm;
// nil means refused.
func (f *floor) authenticate(r *http.Request, perm string) *db.AuthenticateAPITokenRow {
	secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil
	}
	sum := sha256.Sum256([]byte(secret))
	row, err := f.q.AuthenticateAPIToken(r.Context(), sum[:])
	if err != nil {
		return nil
	}
	if row.TouchDue && f.q.TouchAPIToken(r.Context(), row.ID) != nil {
		return nil
	}
	if row.Scope != "write" && !strings.HasSuffix(perm, ".view") {
		return nil
	}
	if !row.IsSuperuser && !slices.Contains(row.Permissions, perm) {
		return nil
	}
	return &row
}

func (f *floor) itemOf(p db.ProductListing) item {
	it := item{ID: p.ID, Name: p.Name, Slug: p.Slug, Status: p.Status, PriceCents: p.PriceMinCents,
		Currency: f.currency, Stock: p.StockTotal, SKU: p.FirstSku, VariantCount: p.VariantCount,
		UpdatedAt: p.UpdatedAt.UTC(), Version: p.Version}
	if p.CategoryID != nil {
		it.Category = &category{ID: *p.CategoryID, Name: p.CategoryName}
	}
	return it
}

func (f *floor) variantOf(v db.ProductVariant) variant {
	return variant{ID: v.ID, ProductID: v.ProductID, SKU: v.Sku, Title: v.Title, Options: v.OptionValues,
		PriceCents: v.PriceCents, CompareAtPriceCents: v.CompareAtPriceCents, CostCents: v.CostCents,
		Currency: f.currency, Stock: v.Stock, Position: v.Position, CreatedAt: v.CreatedAt.UTC(),
		UpdatedAt: v.UpdatedAt.UTC(), Version: v.Version}
}

// list is S1 and S4: one page by name, with a search when q is given, run as
// catalog.ListProducts runs it for a first page: a search of one word
// (catalog.OneWord) reads its page from the words' postings
// (SearchProductWordsByNameAsc), which is every S4 search; any other, or one whose
// word is in catalog.MaxWords words or more (overflow), takes the planner's
// estimate and then the list query with the plan choice stockroom makes from it.
// (There stockroom walks the name index or matches first on product_search, and
// remembers the choice; the floor need not, as the bench checks that no S4 word
// overflows.)
func (f *floor) list(w http.ResponseWriter, r *http.Request) {
	if f.authenticate(r, "products.view") == nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	rows, err := f.page(r.Context(), r.URL.Query().Get("q"), int32(limit+1))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out := page{Data: make([]item, 0, limit)}
	for i, row := range rows {
		if i == limit {
			c := f.cursor(r, rows[i-1])
			out.NextCursor, out.HasMore = &c, true
			break
		}
		out.Data = append(out.Data, f.itemOf(row))
	}
	writeJSON(w, http.StatusOK, out, "")
}

// page reads the first rows rows by name that match q ("": all), as list says.
func (f *floor) page(ctx context.Context, q string, rows int32) ([]db.ProductListing, error) {
	args := db.ListProductsByNameAscParams{RowLimit: rows}
	if q = strings.TrimSpace(q); q == "" {
		return f.q.ListProductsByNameAsc(ctx, args)
	}
	pattern := "%" + escapeLike(q) + "%"
	args.Pattern = &pattern
	if catalog.OneWord(q) {
		found, err := f.q.SearchProductWordsByNameAsc(ctx, db.SearchProductWordsByNameAscParams{
			MaxWords: catalog.MaxWords, Pattern: pattern, RowLimit: rows,
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 || !found[0].Overflow {
			out := make([]db.ProductListing, len(found))
			for i, r := range found {
				out[i] = r.ProductListing
			}
			return out, nil
		}
	}
	n, err := f.st.Estimate(ctx, func(q *db.Queries) error {
		_, err := q.ListProductsByNameAsc(ctx, args)
		return err
	})
	if err != nil {
		return nil, err
	}
	args.MatchFirst = catalog.MatchFirst(n, f.products) // how stockroom decides
	return f.q.ListProductsByNameAsc(ctx, args)
}

// escapeLike makes s match itself in a LIKE pattern, as the catalog's search does.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// cursor signs the position after row, the way the API's cursors are made: the
// catalog's keyset inside a signed envelope bound to the path and filters.
func (f *floor) cursor(r *http.Request, row db.ProductListing) string {
	inner, _ := json.Marshal(struct {
		S  string `json:"s"`
		V  string `json:"v"`
		ID int64  `json:"id"`
	}{"name", row.Name, row.ID})
	filter := sha256.Sum256([]byte(r.URL.Path + "?q=" + r.URL.Query().Get("q")))
	outer, _ := json.Marshal(struct {
		O string `json:"o"`
		F string `json:"f"`
		K string `json:"k"`
		I int64  `json:"i"`
	}{"name", base64.RawURLEncoding.EncodeToString(filter[:9]), base64.RawURLEncoding.EncodeToString(inner), 0})
	m := hmac.New(sha256.New, f.key)
	m.Write(outer)
	return base64.RawURLEncoding.EncodeToString(append(outer, m.Sum(nil)[:16]...))
}

// product is S2: the product, its variants and images.
func (f *floor) product(w http.ResponseWriter, r *http.Request) {
	if f.authenticate(r, "products.view") == nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	p, err := f.q.GetProductListing(r.Context(), id)
	if errors.Is(err, pgx.ErrNoRows) {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	vs, err := f.q.ListProductVariants(r.Context(), id)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	imgs, err := f.q.ListProductImages(r.Context(), id)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	d := detail{item: f.itemOf(p), Description: p.Description, CreatedAt: p.CreatedAt.UTC(),
		Variants: make([]variant, len(vs)), Images: make([]image, len(imgs))}
	for i, v := range vs {
		d.Variants[i] = f.variantOf(v)
	}
	for i, img := range imgs {
		d.Images[i] = image{ID: img.ID, Path: img.Sha256[:2] + "/" + img.Sha256, ContentType: img.ContentType,
			Width: img.Width, Height: img.Height, Bytes: img.Bytes, Alt: img.Alt, Position: img.Position, Version: img.Version}
	}
	writeJSON(w, http.StatusOK, d, fmt.Sprintf("%d-%d", p.ID, p.Version))
}

// patchVariant is S3: {"stock": K} on a variant, in one transaction with the
// product's lock, its summary and an audit row, as stockroom writes it.
func (f *floor) patchVariant(w http.ResponseWriter, r *http.Request) {
	who := f.authenticate(r, "products.change")
	if who == nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	pid, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	vid, _ := strconv.ParseInt(r.PathValue("vid"), 10, 64)
	var in struct {
		Stock *int32 `json:"stock"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || in.Stock == nil || *in.Stock < 0 {
		w.WriteHeader(http.StatusUnprocessableEntity)
		return
	}
	ctx := r.Context()
	if cur, err := f.q.GetVariant(ctx, vid); err != nil || cur.ProductID != pid { // stockroom's If-Match read
		w.WriteHeader(http.StatusNotFound)
		return
	}
	var v db.ProductVariant
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		q := f.q.WithTx(tx)
		p, err := q.LockProduct(ctx, pid)
		if err != nil {
			return err
		}
		before, err := q.GetVariant(ctx, vid)
		if err != nil {
			return err
		}
		v = before
		if before.Stock == *in.Stock {
			return nil
		}
		v, err = q.UpdateVariant(ctx, db.UpdateVariantParams{Sku: before.Sku, Title: before.Title,
			OptionValues: before.OptionValues, PriceCents: before.PriceCents, CompareAtPriceCents: before.CompareAtPriceCents,
			CostCents: before.CostCents, Stock: *in.Stock, Position: before.Position, ID: vid, ProductID: pid,
			Version: &before.Version})
		if err != nil {
			return err
		}
		if _, err := q.RefreshProductSummary(ctx, pid); err != nil {
			return err
		}
		changes, _ := json.Marshal(map[string][2]int32{"variants[" + before.Sku + "].stock": {before.Stock, v.Stock}})
		// The actor as stockroom records it: the user and the token (their foreign
		// keys lock both rows FOR KEY SHARE, part of the write's cost).
		return q.CreateAuditEntry(ctx, db.CreateAuditEntryParams{ActorUserID: &who.UserID, ActorTokenID: &who.ID,
			ActorLabel: who.Email + " (" + who.Name + ")", Action: "update", Resource: "products", ObjectID: pid,
			Type:       "variant.stock_changed", // and its event, as stockroom writes one
			ObjectRepr: p.Name, Changes: changes})
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, f.variantOf(v), fmt.Sprintf("%d-%d", v.ID, v.Version))
}

// writeJSON encodes v; a non-empty tag becomes a strong ETag with the body's digest,
// as the API's single resources carry.
func writeJSON(w http.ResponseWriter, status int, v any, tag string) {
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
	w.WriteHeader(status)
	w.Write(b)
}
