package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// The product form has the product's fields and an inline row per variant. Field
// names are the catalog's error keys ("name", "variants[1].sku"), so a message
// lands beside its input without translation; a variant row's index in the form is
// mapped to its index in the input, which skips removed and blank rows.

// variantRow is one variant row of the form: what was loaded or typed, as text.
type variantRow struct {
	ID        int64
	Version   int32
	SKU       string
	Title     string
	Options   string // "size: M, color: red"
	Price     string // in the currency's units: "12.50"
	CompareAt string
	Cost      string
	Stock     string
	Remove    bool
	Errors    validator.Errors // by field without the prefix: "sku", "price_cents"
}

// productForm is the product form's values.
type productForm struct {
	ID          int64
	Version     int32
	Name        string
	Slug        string
	Description string
	Status      string
	CategoryID  string
	Variants    []variantRow
}

// productPage is the add and edit form of a product, and the conflict page.
type productPage struct {
	Layout
	Form       productForm
	New        bool
	Product    *catalog.Product // edit: as stored (images, dates)
	ReadOnly   bool             // the viewer lacks products.change
	CanDelete  bool
	CanAdd     bool
	Errors     validator.Errors
	Categories []catalog.CategoryNode
	Statuses   []Option
	Back       string // the list, as the user left it
	Conflicts  []Conflict
	ImageError string
	ImageAlt   string // the alt text typed with an upload that failed
	Currency   string
}

// Tab is which tab of an edit page is open.
func (p *productPage) Tab() string { return "edit" }

// EditHref is the product's form, keeping the way back to the list.
func (p *productPage) EditHref() string { return editURL(p.Form.ID, p.Back) }

// HistoryHref is the product's history tab, keeping the way back to the list.
func (p *productPage) HistoryHref() string {
	u := fmt.Sprintf("%s%d/history", productsPath, p.Form.ID)
	if p.Back != productsPath {
		u = addParam(u, "back", p.Back)
	}
	return u
}

// emptyRow is a new variant row: nothing typed, nothing in stock.
func emptyRow() variantRow { return variantRow{Stock: "0"} }

// formOfProduct is the form for p as stored.
func (s *Server) formOfProduct(p *catalog.Product) productForm {
	f := productForm{ID: p.ID, Version: p.Version, Name: p.Name, Slug: p.Slug, Description: p.Description,
		Status: p.Status}
	if p.CategoryID != nil {
		f.CategoryID = strconv.FormatInt(*p.CategoryID, 10)
	}
	for _, v := range catalog.InputOf(p).Variants {
		f.Variants = append(f.Variants, s.rowOfInput(v))
	}
	return f
}

// rowOfInput is a variant input as form text.
func (s *Server) rowOfInput(v catalog.VariantInput) variantRow {
	opt := func(c *int64) string {
		if c == nil {
			return ""
		}
		return s.money.plain(*c)
	}
	return variantRow{ID: v.ID, Version: v.Version, SKU: v.SKU, Title: v.Title, Options: catalog.FormatOptions(v.Options),
		Price: s.money.plain(v.PriceCents), CompareAt: opt(v.CompareAtPriceCents), Cost: opt(v.CostCents),
		Stock: strconv.FormatInt(v.Stock, 10)}
}

// parseOptions reads catalog.FormatOptions's "color: red, size: M" back; ok is false when a part is not
// "name: value".
func parseOptions(s string) (map[string]string, bool) {
	m := map[string]string{}
	for part := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		name, value, found := strings.Cut(part, ":")
		if !found {
			return nil, false
		}
		m[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	return m, true
}

// maxRows bounds the variant rows a posted form may claim, so a forged count
// cannot make us loop; the catalog refuses more than MaxVariants variants anyway.
const maxRows = catalog.MaxVariants + 10

// postedProduct is a posted product form: the values as typed (for the form again),
// the input for the catalog, for each input variant the form row it came from, and
// the errors of what could not even be read (an amount that is not one).
func (s *Server) postedProduct(r *http.Request) (productForm, catalog.ProductInput, []int, validator.Errors) {
	f := productForm{Name: r.PostFormValue("name"), Slug: r.PostFormValue("slug"),
		Description: r.PostFormValue("description"), Status: r.PostFormValue("status"),
		CategoryID: r.PostFormValue("category_id")}
	in := catalog.ProductInput{Name: f.Name, Slug: f.Slug, Description: f.Description, Status: f.Status}
	errs := validator.Errors{}
	if f.CategoryID != "" {
		id, err := strconv.ParseInt(f.CategoryID, 10, 64)
		if err != nil {
			errs.Add("category_id", "is not a category")
		}
		in.CategoryID = &id
	}
	n, _ := strconv.Atoi(r.PostFormValue("rows"))
	n = min(max(n, 0), maxRows)
	var rowOf []int
	for i := range n {
		key := func(field string) string { return r.PostFormValue(fmt.Sprintf("variants[%d].%s", i, field)) }
		row := variantRow{SKU: key("sku"), Title: key("title"), Options: key("options"), Price: key("price_cents"),
			CompareAt: key("compare_at_price_cents"), Cost: key("cost_cents"), Stock: key("stock"),
			Remove: key("remove") == "on"}
		row.ID, _ = strconv.ParseInt(key("id"), 10, 64)
		v, _ := strconv.ParseInt(key("version"), 10, 32)
		row.Version = int32(v)
		f.Variants = append(f.Variants, row)
		blank := row.ID == 0 && strings.TrimSpace(row.SKU+row.Title+row.Options+row.Price+row.CompareAt+row.Cost) == "" &&
			(strings.TrimSpace(row.Stock) == "" || strings.TrimSpace(row.Stock) == "0")
		if row.Remove || blank {
			continue
		}
		vin, rowErrs := s.variantInput(row)
		for field, msg := range rowErrs {
			errs.Add(fmt.Sprintf("variants[%d].%s", i, field), msg)
		}
		in.Variants = append(in.Variants, vin)
		rowOf = append(rowOf, i)
	}
	return f, in, rowOf, errs
}

// variantInput reads one row; the errors are for text that is not a number at all.
func (s *Server) variantInput(row variantRow) (catalog.VariantInput, validator.Errors) {
	errs := validator.Errors{}
	v := catalog.VariantInput{ID: row.ID, Version: row.Version, SKU: row.SKU, Title: row.Title}
	amount := func(field, text string, optional bool) *int64 {
		if optional && strings.TrimSpace(text) == "" {
			return nil
		}
		c, ok := s.money.parse(text)
		if !ok {
			errs.Add(field, fmt.Sprintf("is not an amount like %s", s.money.plain(1250)))
		}
		return &c
	}
	v.PriceCents = *amount("price_cents", row.Price, false)
	v.CompareAtPriceCents = amount("compare_at_price_cents", row.CompareAt, true)
	v.CostCents = amount("cost_cents", row.Cost, true)
	if stock := strings.TrimSpace(row.Stock); stock != "" {
		n, err := strconv.ParseInt(stock, 10, 64)
		if err != nil {
			errs.Add("stock", "is not a whole number")
		}
		v.Stock = n
	}
	opts, ok := parseOptions(row.Options)
	if !ok {
		errs.Add("options", "write options as name: value, separated by commas")
	}
	v.Options = opts
	return v, errs
}

// variantKey matches a catalog error key of a variant field: "variants[3].sku";
// variantField a field name of Compare and the audit log: "variants[SKU-1].stock".
var (
	variantKey   = regexp.MustCompile(`^variants\[(\d+)\]\.(.+)$`)
	variantField = regexp.MustCompile(`^variants\[(.*)\]\.(.+)$`)
)

// placeErrors puts the catalog's errors (by input index) and the form's own (by row)
// where the form shows them: variant fields on their row, the rest by name. A
// catalog message for a field the form could not read is dropped: the reading
// error says more.
func placeErrors(f *productForm, rowOf []int, own, domain validator.Errors) validator.Errors {
	all := validator.Errors{}
	for k, msg := range domain {
		if m := variantKey.FindStringSubmatch(k); m != nil {
			i, _ := strconv.Atoi(m[1])
			if i < len(rowOf) {
				k = fmt.Sprintf("variants[%d].%s", rowOf[i], m[2])
			}
		}
		if own[k] == "" {
			all.Add(k, msg)
		}
	}
	for k, msg := range own {
		all.Add(k, msg)
	}
	for k, msg := range all {
		if m := variantKey.FindStringSubmatch(k); m != nil {
			i, _ := strconv.Atoi(m[1])
			if i < len(f.Variants) {
				if f.Variants[i].Errors == nil {
					f.Variants[i].Errors = validator.Errors{}
				}
				f.Variants[i].Errors.Add(m[2], msg)
			}
		}
	}
	return all
}

// productPage fills in what every product form shows around the values.
func (s *Server) productPage(r *http.Request, title string, p *catalog.Product) (*productPage, error) {
	ctx := r.Context()
	tree, err := s.catalog.CategoryTree(ctx)
	if err != nil {
		return nil, err
	}
	viewer := auth.FromContext(ctx)
	pg := &productPage{Layout: Layout{Title: title}, Product: p, New: p == nil, Categories: tree,
		Statuses: statusOptions(), Currency: s.money.code, CanAdd: viewer.Can("products.add"),
		Back: safeLocal(r.FormValue("back"), productsPath, productsPath)}
	if p != nil {
		pg.ReadOnly = !viewer.Can("products.change")
		pg.CanDelete = viewer.Can("products.delete")
	}
	return pg, nil
}

// newProductForm is GET /admin/products/new.
func (s *Server) newProductForm(w http.ResponseWriter, r *http.Request) error {
	pg, err := s.productPage(r, "Add product", nil)
	if err != nil {
		return err
	}
	pg.Form = productForm{Status: catalog.StatusDraft, Variants: []variantRow{emptyRow()}}
	return s.render(w, r, http.StatusOK, "products/form", pg)
}

// editProductForm is GET /admin/products/{id}/: the form, read-only without
// products.change.
func (s *Server) editProductForm(w http.ResponseWriter, r *http.Request) error {
	p, err := byPathID(r, s.catalog.Product)
	if err != nil {
		return err
	}
	pg, err := s.productPage(r, p.Name, p)
	if err != nil {
		return err
	}
	pg.Form = s.formOfProduct(p)
	pg.Watch = fmt.Sprintf("products-%d", p.ID) // presence: who else has it open
	return s.render(w, r, http.StatusOK, "products/form", pg)
}

// addVariantRow answers the form's "Add variant" button: the form again as typed,
// one empty row more, nothing saved. With htmx only the rows are swapped in.
func (s *Server) addVariantRow(w http.ResponseWriter, r *http.Request, pg *productPage, f productForm) error {
	if len(f.Variants) < maxRows {
		f.Variants = append(f.Variants, emptyRow())
	}
	pg.Form = f
	return s.render(w, r, http.StatusOK, "products/form", pg)
}

// afterSave is where a saved form goes: the list as the user left it, the form
// again ("Save and continue editing") or a new one ("Save and add another").
func afterSave(r *http.Request, id int64, back string) string {
	keep := ""
	if back != productsPath {
		keep = "?back=" + url.QueryEscape(back)
	}
	switch {
	case r.PostFormValue("_continue") != "":
		return fmt.Sprintf("%s%d/%s", productsPath, id, keep)
	case r.PostFormValue("_addanother") != "":
		return productsPath + "new" + keep
	}
	return back
}

// createProduct is POST /admin/products/new.
func (s *Server) createProduct(w http.ResponseWriter, r *http.Request) error {
	bad, err := readForm(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	pg, err := s.productPage(r, "Add product", nil)
	if err != nil {
		return err
	}
	f, in, rowOf, own := s.postedProduct(r)
	own = withText(own, bad)
	if r.PostFormValue("add_variant") != "" {
		return s.addVariantRow(w, r, pg, f)
	}
	var p *catalog.Product
	err = in.Validate().Err()
	if err == nil && len(own) == 0 {
		p, err = s.catalog.CreateProduct(ctx, auth.FromContext(ctx).Actor(), in)
	}
	if fe := fieldErrors(err); fe != nil || len(own) > 0 {
		pg.Errors = placeErrors(&f, rowOf, own, fe)
		pg.Form = f
		return s.render(w, r, http.StatusUnprocessableEntity, "products/form", pg)
	} else if err != nil {
		return err
	}
	return s.redirect(w, r, afterSave(r, p.ID, pg.Back), fmt.Sprintf("Product “%s” was added.", p.Name))
}

// updateProduct is POST /admin/products/{id}/. A save over someone else's newer one
// is never applied: it shows what is stored and what was typed, field by field, in
// a form that carries the typed values and the new version, so saving again applies
// them over the other save knowingly.
func (s *Server) updateProduct(w http.ResponseWriter, r *http.Request) error {
	id, version, bad, err := readEdit(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	stored, err := s.catalog.Product(ctx, id)
	if err != nil {
		return err
	}
	pg, err := s.productPage(r, stored.Name, stored)
	if err != nil {
		return err
	}
	f, in, rowOf, own := s.postedProduct(r)
	own = withText(own, bad)
	f.ID, f.Version = id, version
	if r.PostFormValue("add_variant") != "" {
		return s.addVariantRow(w, r, pg, f)
	}
	var p *catalog.Product
	err = in.Validate().Err()
	if err == nil && len(own) == 0 {
		p, err = s.catalog.UpdateProduct(ctx, auth.FromContext(ctx).Actor(), id, version, in)
	}
	var conflict *catalog.ConflictError
	switch {
	case errors.As(err, &conflict):
		cur := conflict.Current
		pg, err := s.productPage(r, cur.Name, cur)
		if err != nil {
			return err
		}
		pg.Conflicts = s.productConflicts(cur, in, pg.Categories)
		pg.Form = rebase(f, cur)
		return s.render(w, r, http.StatusConflict, "products/form", pg)
	case fieldErrors(err) != nil || len(own) > 0:
		pg.Errors = placeErrors(&f, rowOf, own, fieldErrors(err))
		pg.Form = f
		return s.render(w, r, http.StatusUnprocessableEntity, "products/form", pg)
	case err != nil:
		return err
	}
	return s.redirect(w, r, afterSave(r, id, pg.Back), fmt.Sprintf("Product “%s” was saved.", p.Name))
}

// rebase moves the typed form onto the stored product cur: its version, and each
// variant row's version as stored now; a row whose variant is gone (deleted by the
// other save) becomes a new variant, so nothing typed is lost.
func rebase(f productForm, cur *catalog.Product) productForm {
	f.Version = cur.Version
	for i, row := range f.Variants {
		if row.ID == 0 {
			continue
		}
		if v := cur.Variant(row.ID); v != nil {
			f.Variants[i].Version = v.Version
		} else {
			f.Variants[i].ID, f.Variants[i].Version = 0, 0
		}
	}
	return f
}

// productConflicts lists, per field, the stored value and the typed one
// (catalog.Compare), in words: category names, amounts in the currency.
func (s *Server) productConflicts(cur *catalog.Product, in catalog.ProductInput, tree []catalog.CategoryNode) []Conflict {
	var out []Conflict
	for _, d := range catalog.Compare(cur, in) {
		label, stored, yours := s.fieldLabel(d.Field), d.Stored, d.Yours
		switch {
		case d.Field == "category_id":
			stored, yours = categoryName(tree, stored), categoryName(tree, yours)
		case strings.HasSuffix(d.Field, "_cents"):
			stored, yours = s.centsText(stored), s.centsText(yours)
		}
		out = append(out, Conflict{Field: label, Theirs: stored, Yours: yours})
	}
	return out
}

// fieldLabel names a catalog field for people: "variants[SKU-1].price_cents" is
// "Variant SKU-1: price".
func (s *Server) fieldLabel(field string) string {
	prefix := ""
	if m := variantField.FindStringSubmatch(field); m != nil {
		prefix, field = "Variant "+m[1]+": ", m[2]
	}
	labels := map[string]string{
		"name": "name", "slug": "slug", "description": "description", "status": "status",
		"category_id": "category", "sku": "SKU", "title": "title", "options": "options",
		"price_cents": "price", "compare_at_price_cents": "compare-at price", "cost_cents": "cost",
		"stock": "stock", "position": "position",
	}
	if l, ok := labels[field]; ok {
		field = l
	}
	if prefix == "" {
		return capitalize(field)
	}
	return prefix + field
}

// centsText shows an amount in cents (as text) in the currency; "" stays "".
func (s *Server) centsText(v string) string {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return v
	}
	return s.money.format(n)
}

// categoryName is the path of the category with id (as text), "" for none.
func categoryName(tree []catalog.CategoryNode, id string) string {
	for _, n := range tree {
		if strconv.FormatInt(n.ID, 10) == id {
			return n.Path
		}
	}
	if id == "" {
		return "(none)"
	}
	return "category " + id
}

// productDeletePage confirms deleting a product, listing what goes with it.
func (s *Server) productDeletePage(r *http.Request) (*deletePage, *catalog.Product, error) {
	p, err := byPathID(r, s.catalog.Product)
	if err != nil {
		return nil, nil, err
	}
	back := safeLocal(r.FormValue("back"), productsPath, productsPath)
	skus := make([]string, len(p.Variants))
	for i, v := range p.Variants {
		skus[i] = v.Sku
	}
	pg := &deletePage{Layout: Layout{Title: "Delete " + p.Name}, Kind: "product", Name: p.Name,
		Action: fmt.Sprintf("%s%d/delete", productsPath, p.ID), Cancel: fmt.Sprintf("%s%d/?back=%s", productsPath, p.ID, url.QueryEscape(back)),
		Version: p.Version, Back: back,
		Effects: []string{
			fmt.Sprintf("%s: %s", plural(len(p.Variants), "variant", "variants"), strings.Join(skus, ", ")),
			plural(len(p.Images), "image", "images"),
		}}
	return pg, p, nil
}

// deleteProductForm is GET /admin/products/{id}/delete.
func (s *Server) deleteProductForm(w http.ResponseWriter, r *http.Request) error {
	pg, _, err := s.productDeletePage(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "confirm/delete", pg)
}

// deleteProduct is POST /admin/products/{id}/delete, version-checked: a product
// changed since the confirmation was shown is confirmed again.
func (s *Server) deleteProduct(w http.ResponseWriter, r *http.Request) error {
	id, version, err := parseEdit(w, r)
	if err != nil {
		return err
	}
	pg, _, err := s.productDeletePage(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	d, err := s.catalog.DeleteProduct(ctx, auth.FromContext(ctx).Actor(), id, version)
	if errors.Is(err, store.ErrStale) {
		pg.Notice = "This product changed after you opened this page. Check what goes with it and confirm again."
		return s.render(w, r, http.StatusConflict, "confirm/delete", pg)
	} else if err != nil {
		return err
	}
	return s.redirect(w, r, pg.Back, fmt.Sprintf("Product “%s” was deleted, with %s and %s.", pg.Name,
		plural(d.Variants, "variant", "variants"), plural(d.Images, "image", "images")))
}
