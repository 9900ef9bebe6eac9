package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
)

// categoryBody is a category. parent_id is null at the top of the tree.
type categoryBody struct {
	ID          int64     `json:"id"`
	ParentID    *int64    `json:"parent_id"`
	Name        string    `json:"name"`
	Slug        string    `json:"slug"`
	Description string    `json:"description"`
	Position    int32     `json:"position"` // order among its siblings
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Version     int32     `json:"version"`
}

// categoryCreate is the body of POST /api/v1/categories.
type categoryCreate struct {
	Name        string `json:"name"`
	Slug        string `json:"slug"` // "" or absent: made from the name
	Description string `json:"description"`
	ParentID    *int64 `json:"parent_id"`
	Position    int32  `json:"position"`
}

// categoryPatch is the body of PATCH /api/v1/categories/{id}: a JSON merge patch.
type categoryPatch struct {
	Name        *string `json:"name"`
	Slug        *string `json:"slug"`
	Description *string `json:"description"`
	ParentID    *int64  `json:"parent_id"` // null: move to the top
	Position    *int32  `json:"position"`
}

var categoryReadOnly = []string{"id", "created_at", "updated_at", "version"}

// categoryList is what GET /api/v1/categories accepts.
var categoryList = listSpec{orderings: []string{"name"}, filters: []string{"q"}}

func categoryOf(c db.Category) categoryBody {
	return categoryBody{
		ID: c.ID, ParentID: c.ParentID, Name: c.Name, Slug: c.Slug, Description: c.Description,
		Position: c.Position, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(), Version: c.Version,
	}
}

// listCategories answers GET /api/v1/categories, by name.
func (s *Server) listCategories(w http.ResponseWriter, r *http.Request) error {
	p, err := s.page(r, categoryList)
	if err != nil {
		return err
	}
	var after string
	if p.After != nil {
		after = p.After.Key // the catalog's own cursor, signed inside ours
	}
	page, err := s.catalog.ListCategories(r.Context(), r.URL.Query().Get("q"), after, p.Limit)
	if err != nil {
		return queryError(err)
	}
	out := list[categoryBody]{Data: make([]categoryBody, len(page.Items))}
	for i, c := range page.Items {
		out.Data[i] = categoryOf(c)
	}
	if page.Next != "" {
		out.NextCursor, out.HasMore = s.next(p, page.Next, 0), true
	}
	return writeJSON(w, http.StatusOK, out)
}

// createCategory answers POST /api/v1/categories.
func (s *Server) createCategory(w http.ResponseWriter, r *http.Request) error {
	var in categoryCreate
	if _, err := decode(r, &in, categoryReadOnly...); err != nil {
		return err
	}
	c, err := s.catalog.CreateCategory(r.Context(), actor(r), catalog.CategoryInput{
		Name: in.Name, Slug: in.Slug, Description: in.Description, ParentID: in.ParentID, Position: in.Position,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/categories/%d", c.ID))
	return writeCategory(w, r, http.StatusCreated, c)
}

// getCategory answers GET /api/v1/categories/{id}.
func (s *Server) getCategory(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.catalog.Category(r.Context(), id)
	if err != nil {
		return err
	}
	return writeCategory(w, r, http.StatusOK, c)
}

// updateCategory answers PATCH /api/v1/categories/{id}. Moving a category into
// itself or below itself is a 422 on parent_id.
func (s *Server) updateCategory(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in categoryPatch
	b, err := decode(r, &in, categoryReadOnly...)
	if err != nil {
		return err
	}
	if err := notNull(b, "name", "slug", "description", "position"); err != nil {
		return err
	}
	return retryStale(r, func() error {
		cur, err := s.checkedCategory(r, id)
		if err != nil {
			return err
		}
		input := catalog.CategoryInput{
			Name: cur.Name, Slug: cur.Slug, Description: cur.Description, ParentID: cur.ParentID, Position: cur.Position,
		}
		setIf(&input.Name, in.Name)
		setIf(&input.Slug, in.Slug)
		setIf(&input.Description, in.Description)
		setIf(&input.Position, in.Position)
		if b.has("parent_id") {
			input.ParentID = in.ParentID
		}
		c, err := s.catalog.UpdateCategory(r.Context(), actor(r), id, cur.Version, input)
		if err != nil {
			return err
		}
		return writeCategory(w, r, http.StatusOK, c)
	})
}

// deleteCategory answers DELETE /api/v1/categories/{id}. One that still holds
// products or subcategories is a 409 saying how many.
func (s *Server) deleteCategory(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return retryStale(r, func() error {
		version, err := conditionalVersion(r, func() (int32, error) {
			cur, err := s.checkedCategory(r, id)
			if err != nil {
				return 0, err
			}
			return cur.Version, nil
		})
		if err != nil {
			return err
		}
		err = s.catalog.DeleteCategory(r.Context(), actor(r), id, version)
		if inUse, ok := errors.AsType[*catalog.InUseError](err); ok {
			msg := inUse.Error() // written for people: say it
			return &clientError{kind: err, detail: strings.ToUpper(msg[:1]) + msg[1:] + "."}
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// checkedCategory loads category id for a write and checks the request's If-Match.
func (s *Server) checkedCategory(r *http.Request, id int64) (db.Category, error) {
	return loadForWrite(r, func(ctx context.Context) (db.Category, error) { return s.catalog.Category(ctx, id) },
		func(c db.Category) (string, error) { return etagOf(c.ID, c.Version, categoryOf(c)) })
}

func writeCategory(w http.ResponseWriter, r *http.Request, status int, c db.Category) error {
	body, tag, err := represent(c.ID, c.Version, categoryOf(c))
	if err != nil {
		return err
	}
	return writeRepresentation(w, r, status, body, tag)
}
