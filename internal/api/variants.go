package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// variantBody is a product variant: what is sold and stocked.
type variantBody struct {
	ID                  int64             `json:"id"`
	ProductID           int64             `json:"product_id"`
	SKU                 string            `json:"sku"`
	Title               string            `json:"title"`
	Options             map[string]string `json:"options"`
	PriceCents          int64             `json:"price_cents"`
	CompareAtPriceCents *int64            `json:"compare_at_price_cents"`
	CostCents           *int64            `json:"cost_cents"`
	Currency            string            `json:"currency"`
	Stock               int32             `json:"stock"`
	Position            int32             `json:"position"`
	CreatedAt           time.Time         `json:"created_at"`
	UpdatedAt           time.Time         `json:"updated_at"`
	Version             int32             `json:"version"`
}

// variantCreate is a new variant: in a product's POST, or POSTed to its variants.
type variantCreate struct {
	SKU                 string            `json:"sku"`
	Title               string            `json:"title"`
	Options             map[string]string `json:"options"`
	PriceCents          *int64            `json:"price_cents"` // required: a price of 0 must be said
	CompareAtPriceCents *int64            `json:"compare_at_price_cents"`
	CostCents           *int64            `json:"cost_cents"`
	Stock               int64             `json:"stock"`
}

// variantPatch is the body of PATCH .../variants/{vid}: a JSON merge patch. {"stock":
// K} sets the stock to K; below zero is refused (422), never stored.
type variantPatch struct {
	SKU                 *string           `json:"sku"`
	Title               *string           `json:"title"`
	Options             map[string]string `json:"options"` // replaces them all; null: none
	PriceCents          *int64            `json:"price_cents"`
	CompareAtPriceCents *int64            `json:"compare_at_price_cents"` // null: none
	CostCents           *int64            `json:"cost_cents"`             // null: none
	Stock               *int64            `json:"stock"`
}

// variantReadOnly are the fields a variant shows but a client never sets.
var variantReadOnly = []string{"id", "product_id", "currency", "position", "created_at", "updated_at", "version"}

// variantList is what GET .../variants accepts: a product has at most
// catalog.MaxVariants, in display order.
var variantList = listSpec{orderings: []string{"position"}}

func (s *Server) variantOf(v db.ProductVariant) variantBody {
	return variantBody{
		ID: v.ID, ProductID: v.ProductID, SKU: v.Sku, Title: v.Title,
		Options:    catalog.VariantInputOf(v).Options,
		PriceCents: v.PriceCents, CompareAtPriceCents: v.CompareAtPriceCents, CostCents: v.CostCents,
		Currency: s.currency, Stock: v.Stock, Position: v.Position,
		CreatedAt: v.CreatedAt.UTC(), UpdatedAt: v.UpdatedAt.UTC(), Version: v.Version,
	}
}

// input is the catalog's input for a new variant; a missing price is added to errs
// under prefix ("variants[0].").
func (v variantCreate) input(errs validator.Errors, prefix string) catalog.VariantInput {
	in := catalog.VariantInput{
		SKU: v.SKU, Title: v.Title, Options: v.Options, CompareAtPriceCents: v.CompareAtPriceCents,
		CostCents: v.CostCents, Stock: v.Stock,
	}
	if v.PriceCents == nil {
		errs.Add(prefix+"price_cents", "is required")
	} else {
		in.PriceCents = *v.PriceCents
	}
	return in
}

// listVariants answers GET /api/v1/products/{id}/variants.
func (s *Server) listVariants(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.page(r, variantList)
	if err != nil {
		return err
	}
	prod, err := s.catalog.Product(r.Context(), id)
	if err != nil {
		return err
	}
	// Keyset over (position, id), the order the catalog returns: a few rows at most,
	// in memory. The cursor is signed, so its key is the number we wrote.
	var rows []variantBody
	var afterPos int64
	if p.After != nil {
		afterPos, _ = strconv.ParseInt(p.After.Key, 10, 32)
	}
	for _, v := range prod.Variants {
		if p.After != nil && (int64(v.Position) < afterPos || int64(v.Position) == afterPos && v.ID <= p.After.ID) {
			continue
		}
		if len(rows) == int(p.Fetch()) {
			break
		}
		rows = append(rows, s.variantOf(v))
	}
	return writeJSON(w, http.StatusOK, pageOf(s, p, rows, func(v variantBody) (string, int64) {
		return strconv.Itoa(int(v.Position)), v.ID
	}))
}

// createVariant answers POST /api/v1/products/{id}/variants: a variant after the last.
func (s *Server) createVariant(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in variantCreate
	if _, err := decode(r, &in, variantReadOnly...); err != nil {
		return err
	}
	errs := validator.Errors{}
	input := in.input(errs, "")
	if err := errs.Err(); err != nil {
		return err
	}
	v, err := s.catalog.AddVariant(r.Context(), actor(r), id, input)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/products/%d/variants/%d", id, v.ID))
	return s.writeVariant(w, r, http.StatusCreated, v)
}

// getVariant answers GET /api/v1/products/{id}/variants/{vid}.
func (s *Server) getVariant(w http.ResponseWriter, r *http.Request) error {
	v, err := s.loadVariant(r)
	if err != nil {
		return err
	}
	return s.writeVariant(w, r, http.StatusOK, v)
}

// updateVariant answers PATCH /api/v1/products/{id}/variants/{vid}.
func (s *Server) updateVariant(w http.ResponseWriter, r *http.Request) error {
	var in variantPatch
	b, err := decode(r, &in, variantReadOnly...)
	if err != nil {
		return err
	}
	if err := notNull(b, "sku", "title", "price_cents", "stock"); err != nil {
		return err
	}
	return retryStale(r, func() error {
		cur, err := s.checkedVariant(r)
		if err != nil {
			return err
		}
		input := catalog.VariantInputOf(cur)
		setIf(&input.SKU, in.SKU)
		setIf(&input.Title, in.Title)
		setIf(&input.PriceCents, in.PriceCents)
		setIf(&input.Stock, in.Stock)
		if b.has("options") {
			input.Options = in.Options
		}
		if b.has("compare_at_price_cents") {
			input.CompareAtPriceCents = in.CompareAtPriceCents
		}
		if b.has("cost_cents") {
			input.CostCents = in.CostCents
		}
		v, err := s.catalog.UpdateVariant(r.Context(), actor(r), cur, input)
		if err != nil {
			return err
		}
		return s.writeVariant(w, r, http.StatusOK, v)
	})
}

// deleteVariant answers DELETE /api/v1/products/{id}/variants/{vid}. A product keeps
// at least one variant: deleting its last is a 422.
func (s *Server) deleteVariant(w http.ResponseWriter, r *http.Request) error {
	return retryStale(r, func() error {
		cur, err := s.checkedVariant(r)
		if err != nil {
			return err
		}
		version, _ := conditionalVersion(r, func() (int32, error) { return cur.Version, nil })
		if err := s.catalog.DeleteVariant(r.Context(), actor(r), cur.ProductID, cur.ID, version); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// loadVariant reads the variant the path names; one of another product is a 404.
func (s *Server) loadVariant(r *http.Request) (db.ProductVariant, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return db.ProductVariant{}, err
	}
	vid, err := pathID(r, "vid")
	if err != nil {
		return db.ProductVariant{}, err
	}
	return s.catalog.Variant(r.Context(), id, vid)
}

// checkedVariant loads the variant for a write and checks the request's If-Match.
// Without one there is nothing to check, and the ETag is not worth its encoding.
func (s *Server) checkedVariant(r *http.Request) (db.ProductVariant, error) {
	return loadForWrite(r, func(context.Context) (db.ProductVariant, error) { return s.loadVariant(r) },
		func(v db.ProductVariant) (string, error) { return etagOf(v.ID, v.Version, s.variantOf(v)) })
}

func (s *Server) writeVariant(w http.ResponseWriter, r *http.Request, status int, v db.ProductVariant) error {
	body, tag, err := represent(v.ID, v.Version, s.variantOf(v))
	if err != nil {
		return err
	}
	return writeRepresentation(w, r, status, body, tag)
}
