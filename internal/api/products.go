package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// productItem is a product in a list: DESIGN.md's "product list item".
type productItem struct {
	ID           int64        `json:"id"`
	Name         string       `json:"name"`
	Slug         string       `json:"slug"`
	Status       string       `json:"status"`
	Category     *categoryRef `json:"category"`
	PriceCents   int64        `json:"price_cents"` // the lowest variant price
	Currency     string       `json:"currency"`
	Stock        int64        `json:"stock"` // the sum over the variants
	SKU          string       `json:"sku"`   // the first variant's
	VariantCount int32        `json:"variant_count"`
	UpdatedAt    time.Time    `json:"updated_at"`
	Version      int32        `json:"version"`
}

// categoryRef names a product's category.
type categoryRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// productDetail is a single product: the list item with its description, variants,
// images and creation time.
type productDetail struct {
	productItem
	Description string        `json:"description"`
	Variants    []variantBody `json:"variants"`
	Images      []imageBody   `json:"images"`
	CreatedAt   time.Time     `json:"created_at"`
}

// imageBody is a product image. Path is the file's place under the media URL prefix.
type imageBody struct {
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

// productCreate is the body of POST /api/v1/products.
type productCreate struct {
	Name        string          `json:"name"`
	Slug        string          `json:"slug"` // "" or absent: made from the name
	Description string          `json:"description"`
	Status      string          `json:"status"` // "" or absent: draft
	CategoryID  *int64          `json:"category_id"`
	Variants    []variantCreate `json:"variants"`
}

// productPatch is the body of PATCH /api/v1/products/{id}: a JSON merge patch of the
// product's own fields. Variants change through their own resource.
type productPatch struct {
	Name        *string `json:"name"`
	Slug        *string `json:"slug"`
	Description *string `json:"description"`
	Status      *string `json:"status"`
	CategoryID  *int64  `json:"category_id"` // null: no category
}

// productReadOnly are the fields a product shows but a client never sets.
var productReadOnly = []string{"id", "version", "created_at", "updated_at", "price_cents", "currency",
	"stock", "stock_total", "sku", "variant_count", "category", "images"}

// productPatchReadOnly adds the variants, which PATCH leaves to their own resource.
var productPatchReadOnly = append([]string{"variants"}, productReadOnly...)

// productList is what GET /api/v1/products accepts.
var productList = listSpec{
	orderings: catalog.Sorts.Orderings(),
	filters:   []string{"q", "category", "status", "stock", "updated_since", "sku"},
}

func (s *Server) itemOf(p db.ProductListing) productItem {
	it := productItem{
		ID: p.ID, Name: p.Name, Slug: p.Slug, Status: p.Status, PriceCents: p.PriceMinCents,
		Currency: s.currency, Stock: p.StockTotal, SKU: p.FirstSku, VariantCount: p.VariantCount,
		UpdatedAt: p.UpdatedAt.UTC(), Version: p.Version,
	}
	if p.CategoryID != nil {
		it.Category = &categoryRef{ID: *p.CategoryID, Name: p.CategoryName}
	}
	return it
}

func (s *Server) detailOf(p *catalog.Product) productDetail {
	d := productDetail{
		productItem: s.itemOf(p.ProductListing), Description: p.Description, CreatedAt: p.CreatedAt.UTC(),
		Variants: make([]variantBody, len(p.Variants)), Images: make([]imageBody, len(p.Images)),
	}
	for i, v := range p.Variants {
		d.Variants[i] = s.variantOf(v)
	}
	for i, img := range p.Images {
		d.Images[i] = imageBody{
			ID: img.ID, Path: catalog.ImagePath(img), ContentType: img.ContentType, Width: img.Width,
			Height: img.Height, Bytes: img.Bytes, Alt: img.Alt, Position: img.Position, Version: img.Version,
		}
	}
	return d
}

// listProducts answers GET /api/v1/products: one page, filtered and ordered.
func (s *Server) listProducts(w http.ResponseWriter, r *http.Request) error {
	p, err := s.page(r, productList)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := catalog.Filter{Q: q.Get("q"), Status: q.Get("status"), Stock: q.Get("stock")}
	if v := q.Get("category"); v != "" {
		if f.CategoryID, err = strconv.ParseInt(v, 10, 64); err != nil || f.CategoryID < 1 {
			return badParam("category", "must be a category id")
		}
	}
	if v := q.Get("updated_since"); v != "" {
		if f.UpdatedSince, err = time.Parse(time.RFC3339, v); err != nil {
			return badParam("updated_since", "must be an RFC 3339 time such as 2026-01-31T09:00:00Z")
		}
	}
	sort, err := catalog.ParseSort(p.Ordering)
	if err != nil {
		return queryError(err)
	}
	if sku := q.Get("sku"); sku != "" {
		return s.productsBySKU(w, r, f, sort, sku)
	}
	params := catalog.ListParams{Filter: f, Sort: sort, Limit: p.Limit}
	if p.After != nil {
		params.Cursor = p.After.Key // the catalog's own cursor, signed inside ours
	}
	page, err := s.catalog.ListProducts(r.Context(), params)
	if err != nil {
		return queryError(err)
	}
	out := list[productItem]{Data: make([]productItem, len(page.Items))}
	for i, row := range page.Items {
		out.Data[i] = s.itemOf(row)
	}
	if page.Next != "" {
		out.NextCursor, out.HasMore = s.next(p, page.Next, 0), true
	}
	return writeJSON(w, http.StatusOK, out)
}

// errFound ends productsBySKU's scan at the match.
var errFound = errors.New("found")

// productsBySKU answers ?sku=: the product with a variant whose SKU is exactly sku
// (SKUs are unique whatever their case), or none, with the other filters applied.
// catalog.Filter has no exact SKU filter, so this asks its search, which matches SKUs
// as substrings through the trigram index, and picks the exact match from the few
// candidates; one result never needs a second page.
func (s *Server) productsBySKU(w http.ResponseWriter, r *http.Request, f catalog.Filter, sort catalog.Sort, sku string) error {
	if f.Q != "" {
		return badParam("sku", "cannot be combined with q")
	}
	f.Q = sku
	out := list[productItem]{Data: []productItem{}}
	err := s.catalog.ExportProducts(r.Context(), catalog.ListParams{Filter: f, Sort: sort}, func(rows []db.ProductListing) error {
		for _, row := range rows {
			for _, k := range strings.Fields(row.Skus) {
				if strings.EqualFold(k, sku) {
					out.Data = append(out.Data, s.itemOf(row))
					return errFound
				}
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return queryError(err)
	}
	return writeJSON(w, http.StatusOK, out)
}

// createProduct answers POST /api/v1/products: the product with its variants.
func (s *Server) createProduct(w http.ResponseWriter, r *http.Request) error {
	var in productCreate
	if _, err := decode(r, &in, productReadOnly...); err != nil {
		return err
	}
	input := catalog.ProductInput{
		Name: in.Name, Slug: in.Slug, Description: in.Description, Status: in.Status,
		CategoryID: in.CategoryID, Variants: make([]catalog.VariantInput, len(in.Variants)),
	}
	errs := validator.Errors{}
	for i, v := range in.Variants {
		input.Variants[i] = v.input(errs, fmt.Sprintf("variants[%d].", i))
	}
	if err := errs.Err(); err != nil {
		return err
	}
	p, err := s.catalog.CreateProduct(r.Context(), actor(r), input)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/products/%d", p.ID))
	return s.writeProduct(w, r, http.StatusCreated, p)
}

// getProduct answers GET /api/v1/products/{id}.
func (s *Server) getProduct(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.catalog.Product(r.Context(), id)
	if err != nil {
		return err
	}
	return s.writeProduct(w, r, http.StatusOK, p)
}

// updateProduct answers PATCH /api/v1/products/{id}: the patch applied to the
// product as stored, saved if it is still the version the client's If-Match names.
func (s *Server) updateProduct(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in productPatch
	b, err := decode(r, &in, productPatchReadOnly...)
	if err != nil {
		return err
	}
	if err := notNull(b, "name", "slug", "description", "status"); err != nil {
		return err
	}
	return retryStale(r, func() error {
		cur, err := s.checkedProduct(r, id)
		if err != nil {
			return err
		}
		input := catalog.InputOf(cur)
		setIf(&input.Name, in.Name)
		setIf(&input.Slug, in.Slug)
		setIf(&input.Description, in.Description)
		setIf(&input.Status, in.Status)
		if b.has("category_id") {
			input.CategoryID = in.CategoryID
		}
		p, err := s.catalog.UpdateProduct(r.Context(), actor(r), id, cur.Version, input)
		if err != nil {
			return err
		}
		return s.writeProduct(w, r, http.StatusOK, p)
	})
}

// deleteProduct answers DELETE /api/v1/products/{id}, with its variants and images.
func (s *Server) deleteProduct(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return retryStale(r, func() error {
		version, err := conditionalVersion(r, func() (int32, error) {
			cur, err := s.checkedProduct(r, id)
			if err != nil {
				return 0, err
			}
			return cur.Version, nil
		})
		if err != nil {
			return err
		}
		if _, err := s.catalog.DeleteProduct(r.Context(), actor(r), id, version); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// checkedProduct loads product id for a write and checks the request's If-Match
// against its current representation.
func (s *Server) checkedProduct(r *http.Request, id int64) (*catalog.Product, error) {
	return loadForWrite(r, func(ctx context.Context) (*catalog.Product, error) { return s.catalog.Product(ctx, id) },
		func(p *catalog.Product) (string, error) { return etagOf(p.ID, p.Version, s.detailOf(p)) })
}

func (s *Server) writeProduct(w http.ResponseWriter, r *http.Request, status int, p *catalog.Product) error {
	body, tag, err := represent(p.ID, p.Version, s.detailOf(p))
	if err != nil {
		return err
	}
	return writeRepresentation(w, r, status, body, tag)
}

// notNull refuses null for fields that cannot be empty: in a merge patch null
// means "remove", which they cannot be.
func notNull(b body, fields ...string) error {
	errs := validator.Errors{}
	for _, f := range fields {
		errs.Check(!b.null(f), f, "cannot be null")
	}
	return errs.Err()
}

// setIf sets *dst to *v when the patch has v.
func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
