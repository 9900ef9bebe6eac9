package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/orders"
)

// customerItem is a customer in a list.
type customerItem struct {
	ID              int64          `json:"id"`
	Email           string         `json:"email"`
	Name            string         `json:"name"`
	Phone           string         `json:"phone"`
	Notes           string         `json:"notes"`
	ShippingAddress orders.Address `json:"shipping_address"` // the default for their orders
	BillingAddress  orders.Address `json:"billing_address"`
	CreatedAt       time.Time      `json:"created_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
	Version         int32          `json:"version"`
}

// customerDetail is a single customer: the list item with their order figures.
// Their orders are GET /api/v1/orders?customer={id}.
type customerDetail struct {
	customerItem
	OrderCount    int64      `json:"order_count"`
	LifetimeCents int64      `json:"lifetime_cents"` // paid, fulfilled and delivered orders
	Currency      string     `json:"currency"`
	FirstOrderAt  *time.Time `json:"first_order_at"`
	LastOrderAt   *time.Time `json:"last_order_at"`
}

// customerCreate is the body of POST /api/v1/customers.
type customerCreate struct {
	Email           string         `json:"email"`
	Name            string         `json:"name"`
	Phone           string         `json:"phone"`
	Notes           string         `json:"notes"`
	ShippingAddress orders.Address `json:"shipping_address"`
	BillingAddress  orders.Address `json:"billing_address"`
}

// customerPatch is the body of PATCH /api/v1/customers/{id}: a JSON merge patch. An
// address given replaces the stored one whole; null clears it.
type customerPatch struct {
	Email           *string         `json:"email"`
	Name            *string         `json:"name"`
	Phone           *string         `json:"phone"`
	Notes           *string         `json:"notes"`
	ShippingAddress *orders.Address `json:"shipping_address"`
	BillingAddress  *orders.Address `json:"billing_address"`
}

var customerReadOnly = []string{"id", "created_at", "updated_at", "version", "order_count", "lifetime_cents",
	"currency", "first_order_at", "last_order_at"}

// customerList is what GET /api/v1/customers accepts: newest first, by id.
var customerList = listSpec{orderings: []string{"-created_at"}, filters: []string{"q"}}

// itemOfCustomer is c as a list shows it. A stored address that does not decode is
// an error: the database holds what this code wrote.
func itemOfCustomer(c db.Customer) (customerItem, error) {
	in, err := orders.CustomerInputOf(c)
	if err != nil {
		return customerItem{}, fmt.Errorf("customer %d: %w", c.ID, err)
	}
	return customerItem{
		ID: c.ID, Email: c.Email, Name: c.Name, Phone: c.Phone, Notes: c.Notes,
		ShippingAddress: in.ShippingAddress, BillingAddress: in.BillingAddress,
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(), Version: c.Version,
	}, nil
}

func (s *Server) detailOfCustomer(c *orders.Customer) (customerDetail, error) {
	it, err := itemOfCustomer(c.Customer)
	if err != nil {
		return customerDetail{}, err
	}
	d := customerDetail{customerItem: it, OrderCount: c.Orders, LifetimeCents: c.LifetimeCents,
		Currency: s.orders.Currency(), FirstOrderAt: utcOrNil(c.FirstOrderAt), LastOrderAt: utcOrNil(c.LastOrderAt)}
	return d, nil
}

func utcOrNil(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// listCustomers answers GET /api/v1/customers: newest first, q searching the email
// and name.
func (s *Server) listCustomers(w http.ResponseWriter, r *http.Request) error {
	p, err := s.page(r, customerList)
	if err != nil {
		return err
	}
	params := orders.CustomerListParams{Q: r.URL.Query().Get("q"), Limit: p.Limit}
	if p.After != nil {
		params.Cursor = p.After.Key // the domain's own cursor, signed inside ours
	}
	page, err := s.orders.ListCustomers(r.Context(), params)
	if err != nil {
		return queryError(err)
	}
	out := list[customerItem]{Data: make([]customerItem, len(page.Items))}
	for i, c := range page.Items {
		if out.Data[i], err = itemOfCustomer(c); err != nil {
			return err
		}
	}
	if page.Next != "" {
		out.NextCursor, out.HasMore = s.next(p, page.Next, 0), true
	}
	return writeJSON(w, http.StatusOK, out)
}

// createCustomer answers POST /api/v1/customers. An email in use, in any case, is
// a 422 on email.
func (s *Server) createCustomer(w http.ResponseWriter, r *http.Request) error {
	var in customerCreate
	if _, err := decode(r, &in, customerReadOnly...); err != nil {
		return err
	}
	c, err := s.orders.CreateCustomer(r.Context(), actor(r), orders.CustomerInput{
		Email: in.Email, Name: in.Name, Phone: in.Phone, Notes: in.Notes,
		ShippingAddress: in.ShippingAddress, BillingAddress: in.BillingAddress,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/customers/%d", c.ID))
	return s.writeCustomer(w, r, http.StatusCreated, &orders.Customer{Customer: c})
}

// getCustomer answers GET /api/v1/customers/{id}.
func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.orders.Customer(r.Context(), id)
	if err != nil {
		return err
	}
	return s.writeCustomer(w, r, http.StatusOK, c)
}

// updateCustomer answers PATCH /api/v1/customers/{id}: the patch applied to the
// customer as stored, saved if it is still the version the client's If-Match names.
func (s *Server) updateCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in customerPatch
	b, err := decode(r, &in, customerReadOnly...)
	if err != nil {
		return err
	}
	if err := notNull(b, "email", "name", "phone", "notes"); err != nil {
		return err
	}
	return retryStale(r, func() error {
		cur, err := s.checkedCustomer(r, id)
		if err != nil {
			return err
		}
		input, err := orders.CustomerInputOf(cur.Customer)
		if err != nil {
			return err
		}
		setIf(&input.Email, in.Email)
		setIf(&input.Name, in.Name)
		setIf(&input.Phone, in.Phone)
		setIf(&input.Notes, in.Notes)
		if b.has("shipping_address") {
			input.ShippingAddress = orders.Address{}
			setIf(&input.ShippingAddress, in.ShippingAddress)
		}
		if b.has("billing_address") {
			input.BillingAddress = orders.Address{}
			setIf(&input.BillingAddress, in.BillingAddress)
		}
		if _, err := s.orders.UpdateCustomer(r.Context(), actor(r), id, cur.Version, input); err != nil {
			return err
		}
		c, err := s.orders.Customer(r.Context(), id)
		if err != nil {
			return err
		}
		return s.writeCustomer(w, r, http.StatusOK, c)
	})
}

// deleteCustomer answers DELETE /api/v1/customers/{id}. A customer with orders
// stays: 409.
func (s *Server) deleteCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return retryStale(r, func() error {
		version, err := conditionalVersion(r, func() (int32, error) {
			cur, err := s.checkedCustomer(r, id)
			if err != nil {
				return 0, err
			}
			return cur.Version, nil
		})
		if err != nil {
			return err
		}
		err = s.orders.DeleteCustomer(r.Context(), actor(r), id, version)
		if has, ok := errors.AsType[*orders.HasOrdersError](err); ok {
			return &clientError{kind: err, detail: capitalize(has.Error()) + "."}
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// checkedCustomer loads customer id for a write and checks the request's If-Match.
func (s *Server) checkedCustomer(r *http.Request, id int64) (*orders.Customer, error) {
	return loadForWrite(r, func(ctx context.Context) (*orders.Customer, error) { return s.orders.Customer(ctx, id) },
		func(c *orders.Customer) (string, error) {
			d, err := s.detailOfCustomer(c)
			if err != nil {
				return "", err
			}
			return etagOf(c.ID, c.Version, d)
		})
}

func (s *Server) writeCustomer(w http.ResponseWriter, r *http.Request, status int, c *orders.Customer) error {
	d, err := s.detailOfCustomer(c)
	if err != nil {
		return err
	}
	body, tag, err := represent(c.ID, c.Version, d)
	if err != nil {
		return err
	}
	return writeRepresentation(w, r, status, body, tag)
}
