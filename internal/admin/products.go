package admin

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// productRow is what a product list row shows, as the values the template formats
// (priceRange, number, date). A row is rendered only when no equal row was rendered
// lately (fragments), so a page shown again formats nothing: formatting the price,
// stock and date of every row in Go to build the key was three allocations a row
// (BenchmarkProductList). Before rows were kept, the template's function calls for
// each cell cost more CPU than the database's work for the page (S5's profile).
type productRow struct {
	ID         int64
	Name       string
	FirstSku   string
	Others     int32 // variants beside the first
	Category   string
	Status     string
	PriceMin   int64 // the lowest and highest variant price, in cents
	PriceMax   int64
	Stock      int64
	StockClass string    // "num", with stock-out or stock-low
	Updated    time.Time // in UTC, so that equal instants are equal keys
}

// productRowOf is a product of the list as its row shows it, for a low-stock
// threshold of low.
func (s *Server) productRowOf(p db.ProductListing, low int64) productRow {
	class := "num"
	switch {
	case p.StockTotal == 0:
		class = "num stock-out"
	case p.StockTotal <= low:
		class = "num stock-low"
	}
	return productRow{
		ID: p.ID, Name: p.Name, FirstSku: p.FirstSku, Others: max(p.VariantCount-1, 0), Category: p.CategoryName,
		Status: p.Status, PriceMin: p.PriceMinCents, PriceMax: p.PriceMaxCents, Stock: p.StockTotal,
		StockClass: class, Updated: p.UpdatedAt.UTC(),
	}
}

// productsPath is where the product list lives; every product page's way back.
const productsPath = "/admin/products/"

// productListSpec declares the product list over catalog.ListProducts, which pages
// with cursors of its own (the JSON API's), including the jump to the last page.
// The category filter is added per request (withCategories): its options are the
// categories there are.
func (s *Server) productListSpec() *ListSpec[productRowKey] {
	low := s.catalog.LowStock()
	return &ListSpec[productRowKey]{
		Path: productsPath, Singular: "product", Plural: "products",
		Columns: []Column{{Label: "Select", Class: "select"}, {Key: string(catalog.SortName), Label: "Name"}, {Label: "SKU"},
			{Label: "Category"}, {Label: "Status"}, {Key: string(catalog.SortPrice), Label: "Price (" + s.money.code + ")", Class: "num"},
			{Key: string(catalog.SortStock), Label: "Stock", Class: "num"}, {Key: string(catalog.SortUpdatedAt), Label: "Updated"}},
		Filters: []Filter{
			{Name: "status", Label: "Status", Options: statusOptions()},
			{Name: "stock", Label: "Stock", Options: []Option{
				{catalog.StockOut, "Out of stock"}, {catalog.StockLow, fmt.Sprintf("Low (1 to %d)", low)},
				{catalog.StockIn, fmt.Sprintf("In stock (over %d)", low)}}},
		},
		Search:      "Search name or SKU",
		DefaultSort: string(catalog.DefaultSort.Key),
		DefaultDesc: catalog.DefaultSort.Desc,
		HasLast:     true,
		Pager: func(ctx context.Context, req PageRequest) (Paged[productRowKey], error) {
			p, err := s.catalog.ListProducts(ctx, catalog.ListParams{
				Filter: productFilter(req.Search, req.Filters), Sort: productSort(req.Sort, req.Desc),
				Limit: req.Limit, Cursor: req.Token, Last: req.Last,
			})
			rows := make([]productRowKey, len(p.Items)) // Self and Live are set by listProducts
			for i, it := range p.Items {
				rows[i].productRow = s.productRowOf(it, int64(low))
			}
			return Paged[productRowKey]{Rows: rows, Prev: p.Prev, Next: p.Next}, err
		},
		Count: func(ctx context.Context, q ListQuery) (keyset.Count, error) {
			return s.catalog.CountProducts(ctx, productFilter(q.Search, q.Filters))
		},
	}
}

func statusOptions() []Option {
	opts := make([]Option, len(catalog.Statuses))
	for i, st := range catalog.Statuses {
		opts[i] = Option{st, capitalize(st)}
	}
	return opts
}

// capitalize makes a code or a sentence read as a label: "draft" is "Draft".
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// productFilter turns the list's search and filter values (already checked against
// the spec's options) into the catalog's filter.
func productFilter(search string, filters map[string]string) catalog.Filter {
	f := catalog.Filter{Q: search, Status: filters["status"], Stock: filters["stock"]}
	f.CategoryID, _ = strconv.ParseInt(filters["category"], 10, 64)
	return f
}

// productSort maps a column key to the catalog's ordering; the keys are the same.
func productSort(key string, desc bool) catalog.Sort {
	return catalog.Sort{Key: catalog.SortKey(key), Desc: desc}
}

// categoryFilter is the product list's filter by category (subcategories
// included), as a drill-down: with no category chosen, the top categories; with one,
// the path to it from the top, it, and its subcategories, each indented by depth.
// Every page view draws it, and a select of every category cost more than the 100
// rows of the page (make bench, S5's profile); a shop with a thousand categories
// would have had a thousand options. Going sideways is one click up the path.
func categoryFilter(tree []catalog.CategoryNode, selected int64) Filter {
	parent := make(map[int64]int64, len(tree)) // every category's parent; 0: none
	for _, n := range tree {
		var p int64
		if n.ParentID != nil {
			p = *n.ParentID
		}
		parent[n.ID] = p
	}
	show := map[int64]bool{}
	if _, ok := parent[selected]; ok {
		for id := selected; id != 0; id = parent[id] {
			show[id] = true // the chosen category and the path above it
		}
	} else {
		selected = 0 // none, or one that does not exist: the top categories
	}
	f := Filter{Name: "category", Label: "Category"}
	for _, n := range tree {
		if show[n.ID] || parent[n.ID] == selected {
			f.Options = append(f.Options, Option{strconv.FormatInt(n.ID, 10), strings.Repeat("\u00a0\u00a0", n.Depth) + n.Name})
		}
	}
	return f
}

// productSpec is the product list spec with the category filter for query's
// category, and the tree it was made from: one statement.
func (s *Server) productSpec(ctx context.Context, query url.Values) (*ListSpec[productRowKey], []catalog.CategoryNode, error) {
	tree, err := s.catalog.CategoryTree(ctx)
	if err != nil {
		return nil, nil, err
	}
	selected, _ := strconv.ParseInt(query.Get("category"), 10, 64)
	return s.products.With(categoryFilter(tree, selected)), tree, nil
}

// productRowKey is everything the product-row template reads: the row, the list it
// links back to, and whether the page is live. Rendered rows are kept under it
// (Server.productRows, fragments), so it must stay complete: a cell that depends on
// anything else (a permission, the locale) adds that to the key.
type productRowKey struct {
	productRow
	Back string // what follows the product's path in its edit link: "/?back=" and Self, escaped
	Self string // the list's own URL, which the live row fetches itself from
	Live bool   // the row refreshes itself on its product's event
}

// productRowsKept is how many rendered product rows the server keeps per
// generation: 20 pages of 100 rows, a few MB at most (fragments keeps two).
const productRowsKept = 2000

// productsPage is the product list.
type productsPage struct {
	Layout
	List      *List[productRowKey]
	rows      template.HTML // List.Rows, each rendered by the product-row template, in order (fragments.join)
	Export    string        // the CSV of exactly this list
	CanImport bool
	Actions   []Option
	CanAdd    bool
}

func (p *productsPage) list() framed { return p.List }

func (p *productsPage) spliced() template.HTML { return p.rows }

// Rows is what the template writes for the rows: the mark render replaces with
// them, or nothing for none.
func (p *productsPage) Rows() template.HTML { return spliceMark(p.rows) }

// bulkActions are the bulk actions p may run: the changes with products.change,
// delete with products.delete.
func bulkActions(p *auth.Principal) []Option {
	var out []Option
	if p.Can("products.change") {
		out = append(out, Option{"activate", "Activate"}, Option{"archive", "Archive"},
			Option{"draft", "Set to draft"}, Option{"move", "Move to category…"})
	}
	if p.Can("products.delete") {
		out = append(out, Option{"delete", "Delete…"})
	}
	return out
}

// listProducts is GET /admin/products/.
func (s *Server) listProducts(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	sp, _, err := s.productSpec(ctx, r.URL.Query())
	if err != nil {
		return err
	}
	l, err := sp.Load(ctx, sp.Parse(r.URL.Query()))
	if err != nil {
		return err
	}
	// The list's rows are the keys their pieces are kept under (fragments.join),
	// completed here with what only the loaded list knows: a copy of the page's rows
	// into a slice of keys was 24 kB a page (BenchmarkProductList). The edit link's
	// way back is one string for every row, which the template writes after the
	// product's path: a whole link built per row was 100 allocations a page.
	back := "/?back=" + url.QueryEscape(l.Self)
	p := auth.FromContext(ctx)
	live := s.live(p)
	for i := range l.Rows {
		row := &l.Rows[i]
		row.Back, row.Self, row.Live = back, l.Self, live
	}
	rows, err := s.productRows.join(l.Rows)
	if err != nil {
		return fmt.Errorf("render product rows: %w", err)
	}
	export := "/admin/products/export.csv"
	if v := sp.values(l.Query); len(v) > 0 {
		export += "?" + v.Encode()
	}
	return s.render(w, r, http.StatusOK, "products/list", &productsPage{Layout: Layout{Title: "Products"}, List: l, rows: rows,
		Export: export, Actions: bulkActions(p), CanAdd: p.Can("products.add"), CanImport: p.Can("products.change")})
}

// exportProducts is GET /admin/products/export.csv: exactly the filtered, ordered
// list, every row of it, streamed a batch at a time (catalog.ExportProducts) and
// flushed after each, so memory stays flat whatever the count. The write deadline
// is lifted: a million rows take longer than a page.
func (s *Server) exportProducts(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	sp, _, err := s.productSpec(ctx, r.URL.Query())
	if err != nil {
		return err
	}
	q := sp.Parse(r.URL.Query())
	return s.streamCSV(w, r, "products.csv", s.csvHeader(), func(write func(...[]string) error) error {
		return s.catalog.ExportProducts(ctx, catalog.ListParams{Filter: productFilter(q.Search, q.Filters),
			Sort: productSort(q.Sort, q.Desc)}, func(rows []db.ProductListing) error {
			out := make([][]string, len(rows))
			for i, p := range rows {
				out[i] = s.csvRow(p)
			}
			return write(out...)
		})
	})
}

func (s *Server) csvHeader() []string {
	cur := s.money.code
	return []string{"id", "name", "slug", "status", "category", "sku", "variants",
		"price_min (" + cur + ")", "price_max (" + cur + ")", "stock", "updated_at"}
}

func (s *Server) csvRow(p db.ProductListing) []string {
	return safeCells(
		strconv.FormatInt(p.ID, 10), p.Name, p.Slug, p.Status, p.CategoryName, p.FirstSku,
		strconv.Itoa(int(p.VariantCount)), s.money.plain(p.PriceMinCents), s.money.plain(p.PriceMaxCents),
		strconv.FormatInt(p.StockTotal, 10), p.UpdatedAt.UTC().Format(time.RFC3339),
	)
}

// safeCells defuses cells a spreadsheet would run as a formula (CSV injection):
// one starting with = + - @ or a tab or carriage return gets a leading apostrophe,
// which spreadsheets show as text. Quoting is encoding/csv's.
func safeCells(cells ...string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}

// bulkPage confirms a bulk action: the products and what changes for each.
type bulkPage struct {
	Layout
	Action     string
	Verb       string // "Archive"
	Products   []db.ProductListing
	Missing    int // selected ids that no longer exist
	Status     string
	Move       bool
	Delete     bool
	Categories []catalog.CategoryNode
	CategoryID string
	Back       string
	Error      string
}

// bulkVerbs are the bulk actions and what their buttons say.
var bulkVerbs = map[string]string{
	"activate": "Activate", "archive": "Archive", "draft": "Set to draft", "move": "Move", "delete": "Delete",
}

// bulkStatus is the status a status action sets.
var bulkStatus = map[string]string{
	"activate": catalog.StatusActive, "archive": catalog.StatusArchived, "draft": catalog.StatusDraft,
}

// productActions is POST /admin/products/actions: without confirm, the
// confirmation page (nothing written); with it, the action, in one transaction
// audited per product (the catalog's), then back to the list as it was.
func (s *Server) productActions(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	p := auth.FromContext(ctx)
	action := r.PostFormValue("action")
	back := safeLocal(r.PostFormValue("back"), productsPath, productsPath)
	verb, known := bulkVerbs[action]
	if !known {
		return s.redirect(w, r, back, "Choose an action first.")
	}
	if action == "delete" && !p.Can("products.delete") {
		return fmt.Errorf("bulk delete: %w", web.ErrForbidden)
	}
	ids := formIDs(r, "ids")
	if len(ids) == 0 {
		return s.redirect(w, r, back, "Select one or more products first.")
	}
	pg := &bulkPage{Layout: Layout{Title: verb + " products"}, Action: action, Verb: verb, Back: back,
		Status: bulkStatus[action], Move: action == "move", Delete: action == "delete",
		CategoryID: r.PostFormValue("category")}
	rows, err := s.catalog.ProductsByID(ctx, ids)
	if fe := fieldErrors(err); fe != nil {
		return s.redirect(w, r, back, "Not done: "+fe["ids"]+".")
	} else if err != nil {
		return err
	}
	pg.Products, pg.Missing = rows, len(ids)-len(rows)
	if pg.Move {
		if pg.Categories, err = s.catalog.CategoryTree(ctx); err != nil {
			return err
		}
	}
	if r.PostFormValue("confirm") == "" {
		return s.render(w, r, http.StatusOK, "products/bulk", pg)
	}

	actor := p.Actor()
	var msg string
	switch {
	case pg.Status != "":
		n, err := s.catalog.SetStatus(ctx, actor, ids, pg.Status)
		if err != nil {
			return err
		}
		msg = fmt.Sprintf("%s set to %s.", plural(n, "product", "products"), pg.Status)
	case pg.Move:
		var to *int64
		if pg.CategoryID != "" {
			id, err := strconv.ParseInt(pg.CategoryID, 10, 64)
			if err != nil {
				id = -1 // not a category: the catalog says so
			}
			to = &id
		}
		n, err := s.catalog.MoveToCategory(ctx, actor, ids, to)
		if fe := fieldErrors(err); fe != nil {
			pg.Error = "The category " + fe["category_id"] + "."
			return s.render(w, r, http.StatusUnprocessableEntity, "products/bulk", pg)
		} else if err != nil {
			return err
		}
		msg = fmt.Sprintf("%s moved.", plural(n, "product", "products"))
	case pg.Delete:
		d, err := s.catalog.DeleteProducts(ctx, actor, ids)
		if err != nil {
			return err
		}
		msg = fmt.Sprintf("%s deleted, with %s and %s.", plural(d.Products, "product", "products"),
			plural(d.Variants, "variant", "variants"), plural(d.Images, "image", "images"))
	}
	return s.redirect(w, r, back, msg)
}

// plural writes "1 product" or "3 products".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return groupDigits(int64(n)) + " " + many
}
