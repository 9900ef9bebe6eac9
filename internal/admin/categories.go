package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

type categoryRow = db.Category

// categoriesPath is where the category list lives.
const categoriesPath = "/admin/categories/"

// categoryListSpec declares the category list: catalog.ListCategories in name
// order, with its search and its own cursors.
func (s *Server) categoryListSpec() *ListSpec[categoryRow] {
	return &ListSpec[categoryRow]{
		Path: categoriesPath, Singular: "category", Plural: "categories",
		Columns: []Column{{Label: "Name"}, {Label: "Parent"}, {Label: "Slug"}, {Label: "Position", Class: "num"},
			{Label: "Updated"}},
		Search: "Search name",
		Pager: func(ctx context.Context, req PageRequest) (Paged[categoryRow], error) {
			p, err := s.catalog.ListCategories(ctx, req.Search, req.Token, req.Limit)
			return Paged[categoryRow]{Rows: p.Items, Next: p.Next}, err
		},
		Count: func(ctx context.Context, q ListQuery) (keyset.Count, error) {
			return s.catalog.CountCategories(ctx, q.Search)
		},
	}
}

// categoriesPage is the category list. Parents maps a category's id to its
// parent's path, from the tree: where each one sits.
type categoriesPage struct {
	Layout
	List    *List[categoryRow]
	Parents map[int64]string
	CanAdd  bool
}

func (p *categoriesPage) list() framed { return p.List }

// parentPaths maps each category of tree to its parent's path ("" at the top).
func parentPaths(tree []catalog.CategoryNode) map[int64]string {
	paths := make(map[int64]string, len(tree))
	for _, n := range tree {
		paths[n.ID] = n.Path
	}
	parents := make(map[int64]string, len(tree))
	for _, n := range tree {
		if n.ParentID != nil {
			parents[n.ID] = paths[*n.ParentID]
		}
	}
	return parents
}

// listCategories is GET /admin/categories/.
func (s *Server) listCategories(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	l, err := s.categories.Load(ctx, s.categories.Parse(r.URL.Query()))
	if err != nil {
		return err
	}
	tree, err := s.catalog.CategoryTree(ctx)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "categories/list", &categoriesPage{Layout: Layout{Title: "Categories"},
		List: l, Parents: parentPaths(tree), CanAdd: auth.FromContext(ctx).Can("categories.add")})
}

// categoryForm is the category form's values, as typed.
type categoryForm struct {
	ID          int64
	Version     int32
	Name        string
	Slug        string
	Description string
	ParentID    string
	Position    string
}

// categoryPage is the add and edit form of a category.
type categoryPage struct {
	Layout
	Form      categoryForm
	New       bool
	ReadOnly  bool
	CanDelete bool
	Errors    validator.Errors
	Parents   []catalog.CategoryNode // what the parent picker offers
	Conflicts []Conflict
}

// Tab is which tab of an edit page is open.
func (p *categoryPage) Tab() string { return "edit" }

// EditHref is the category's form.
func (p *categoryPage) EditHref() string { return fmt.Sprintf("%s%d/", categoriesPath, p.Form.ID) }

// HistoryHref is the category's history tab.
func (p *categoryPage) HistoryHref() string { return p.EditHref() + "history" }

func formOfCategory(c db.Category) categoryForm {
	f := categoryForm{ID: c.ID, Version: c.Version, Name: c.Name, Slug: c.Slug, Description: c.Description,
		Position: strconv.Itoa(int(c.Position))}
	if c.ParentID != nil {
		f.ParentID = strconv.FormatInt(*c.ParentID, 10)
	}
	return f
}

// postedCategory reads the category form; the errors are for what is not a
// number at all.
func postedCategory(r *http.Request) (categoryForm, catalog.CategoryInput, validator.Errors) {
	f := categoryForm{Name: r.PostFormValue("name"), Slug: r.PostFormValue("slug"),
		Description: r.PostFormValue("description"), ParentID: r.PostFormValue("parent_id"),
		Position: r.PostFormValue("position")}
	in := catalog.CategoryInput{Name: f.Name, Slug: f.Slug, Description: f.Description}
	errs := validator.Errors{}
	if f.ParentID != "" {
		id, err := strconv.ParseInt(f.ParentID, 10, 64)
		if err != nil {
			errs.Add("parent_id", "is not a category")
		}
		in.ParentID = &id
	}
	if p := strings.TrimSpace(f.Position); p != "" {
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil {
			errs.Add("position", "is not a whole number")
		}
		in.Position = int32(n)
	}
	return f, in, errs
}

// withoutSubtree is tree without the category id and everything below it: the
// parents it may have. The catalog refuses a cycle anyway; the picker just does not
// offer one. The tree is depth-first, so a subtree is the run of deeper nodes after
// its root.
func withoutSubtree(tree []catalog.CategoryNode, id int64) []catalog.CategoryNode {
	out := make([]catalog.CategoryNode, 0, len(tree))
	skipBelow := -1
	for _, n := range tree {
		if skipBelow >= 0 && n.Depth > skipBelow {
			continue
		}
		skipBelow = -1
		if n.ID == id {
			skipBelow = n.Depth
			continue
		}
		out = append(out, n)
	}
	return out
}

func (s *Server) categoryPage(ctx context.Context, title string, id int64) (*categoryPage, error) {
	tree, err := s.catalog.CategoryTree(ctx)
	if err != nil {
		return nil, err
	}
	p := auth.FromContext(ctx)
	pg := &categoryPage{Layout: Layout{Title: title}, Parents: withoutSubtree(tree, id), New: id == 0}
	if id != 0 {
		pg.ReadOnly, pg.CanDelete = !p.Can("categories.change"), p.Can("categories.delete")
	}
	return pg, nil
}

// newCategoryForm is GET /admin/categories/new.
func (s *Server) newCategoryForm(w http.ResponseWriter, r *http.Request) error {
	pg, err := s.categoryPage(r.Context(), "Add category", 0)
	if err != nil {
		return err
	}
	pg.Form = categoryForm{Position: "0", ParentID: r.URL.Query().Get("parent")}
	return s.render(w, r, http.StatusOK, "categories/form", pg)
}

// createCategory is POST /admin/categories/new.
func (s *Server) createCategory(w http.ResponseWriter, r *http.Request) error {
	bad, err := readForm(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	f, in, own := postedCategory(r)
	own = withText(own, bad)
	var c db.Category
	err = in.Validate().Err()
	if err == nil && len(own) == 0 {
		c, err = s.catalog.CreateCategory(ctx, auth.FromContext(ctx).Actor(), in)
	}
	if fe := fieldErrors(err); fe != nil || len(own) > 0 {
		pg, err := s.categoryPage(ctx, "Add category", 0)
		if err != nil {
			return err
		}
		pg.Form, pg.Errors = f, merge(fe, own)
		return s.render(w, r, http.StatusUnprocessableEntity, "categories/form", pg)
	} else if err != nil {
		return err
	}
	return s.redirect(w, r, categoriesPath, fmt.Sprintf("Category “%s” was added.", c.Name))
}

// merge is the catalog's errors with the form's own over them.
func merge(domain, own validator.Errors) validator.Errors {
	all := validator.Errors{}
	for k, v := range domain {
		all.Add(k, v)
	}
	for k, v := range own {
		all[k] = v
	}
	return all
}

// editCategoryForm is GET /admin/categories/{id}/.
func (s *Server) editCategoryForm(w http.ResponseWriter, r *http.Request) error {
	c, err := byPathID(r, s.catalog.Category)
	if err != nil {
		return err
	}
	pg, err := s.categoryPage(r.Context(), c.Name, c.ID)
	if err != nil {
		return err
	}
	pg.Form = formOfCategory(c)
	return s.render(w, r, http.StatusOK, "categories/form", pg)
}

// updateCategory is POST /admin/categories/{id}/, version-checked like the
// product form: a stale save shows both values per field and keeps what was typed
// with the new version.
func (s *Server) updateCategory(w http.ResponseWriter, r *http.Request) error {
	id, version, bad, err := readEdit(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	f, in, own := postedCategory(r)
	own = withText(own, bad)
	f.ID, f.Version = id, version
	var c db.Category
	err = in.Validate().Err()
	if err == nil && len(own) == 0 {
		c, err = s.catalog.UpdateCategory(ctx, auth.FromContext(ctx).Actor(), id, version, in)
	}
	var conflict *catalog.CategoryConflictError
	switch {
	case errors.As(err, &conflict):
		cur := conflict.Current
		pg, err := s.categoryPage(ctx, cur.Name, id)
		if err != nil {
			return err
		}
		f.Version = cur.Version
		pg.Form = f
		stored := formOfCategory(cur)
		name := func(id string) string { return categoryName(pg.Parents, id) }
		for _, c := range []Conflict{
			{"Name", stored.Name, strings.TrimSpace(f.Name)},
			{"Slug", stored.Slug, strings.TrimSpace(f.Slug)},
			{"Parent", name(stored.ParentID), name(f.ParentID)},
			{"Position", stored.Position, strings.TrimSpace(f.Position)},
			{"Description", stored.Description, f.Description},
		} {
			if c.Theirs != c.Yours && !(c.Field == "Slug" && c.Yours == "") {
				pg.Conflicts = append(pg.Conflicts, c)
			}
		}
		return s.render(w, r, http.StatusConflict, "categories/form", pg)
	case fieldErrors(err) != nil || len(own) > 0:
		pg, lerr := s.categoryPage(ctx, f.Name, id)
		if lerr != nil {
			return lerr
		}
		pg.Form, pg.Errors = f, merge(fieldErrors(err), own)
		return s.render(w, r, http.StatusUnprocessableEntity, "categories/form", pg)
	case err != nil:
		return err
	}
	return s.redirect(w, r, categoriesPath, fmt.Sprintf("Category “%s” was saved.", c.Name))
}

// categoryDeletePage confirms deleting a category; one still in use cannot be, and
// the page says why (the catalog's message) instead of offering the button.
func (s *Server) categoryDeletePage(r *http.Request) (*deletePage, error) {
	c, err := byPathID(r, s.catalog.Category)
	if err != nil {
		return nil, err
	}
	products, subs, err := s.catalog.CategoryUsage(r.Context(), c.ID)
	if err != nil {
		return nil, err
	}
	pg := &deletePage{Layout: Layout{Title: "Delete " + c.Name}, Kind: "category", Name: c.Name,
		Action: fmt.Sprintf("%s%d/delete", categoriesPath, c.ID), Cancel: fmt.Sprintf("%s%d/", categoriesPath, c.ID),
		Version: c.Version, Effects: []string{"its place in the tree (its products and subcategories must be moved first)"}}
	if products > 0 || subs > 0 {
		pg.Error = capitalize((&catalog.InUseError{Products: products, Subcategories: subs}).Error()) + "."
	}
	return pg, nil
}

// deleteCategoryForm is GET /admin/categories/{id}/delete.
func (s *Server) deleteCategoryForm(w http.ResponseWriter, r *http.Request) error {
	pg, err := s.categoryDeletePage(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "confirm/delete", pg)
}

// deleteCategory is POST /admin/categories/{id}/delete. A category in use is
// refused with the catalog's message, whatever the confirmation page showed.
func (s *Server) deleteCategory(w http.ResponseWriter, r *http.Request) error {
	id, version, err := parseEdit(w, r)
	if err != nil {
		return err
	}
	pg, err := s.categoryDeletePage(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	err = s.catalog.DeleteCategory(ctx, auth.FromContext(ctx).Actor(), id, version)
	var inUse *catalog.InUseError
	switch {
	case errors.As(err, &inUse):
		pg.Error = capitalize(inUse.Error()) + "."
		return s.render(w, r, http.StatusConflict, "confirm/delete", pg)
	case errors.Is(err, store.ErrStale):
		pg.Notice = "This category changed after you opened this page. Check it and confirm again."
		return s.render(w, r, http.StatusConflict, "confirm/delete", pg)
	case err != nil:
		return err
	}
	return s.redirect(w, r, categoriesPath, fmt.Sprintf("Category “%s” was deleted.", pg.Name))
}
