package imports

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/money"
)

// MaxKeptErrors is how many row errors an import keeps; beyond it only the count
// grows and the import says the list is capped.
const MaxKeptErrors = 1000

// planBatch is how many file rows the planner reads, looks up and stores at once.
const planBatch = 1000

// RowError is one problem with one row: the row as a spreadsheet numbers it (the
// header is row 1), the column as the header spells it ("" for the row as a whole),
// what is wrong, and the cell as typed.
type RowError struct {
	Row     int
	Column  string
	Message string
	Cell    string
}

func (e RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("row %d: %s", e.Row, e.Message)
	}
	return fmt.Sprintf("row %d, column %q: %s (cell %q)", e.Row, e.Column, e.Message, e.Cell)
}

// Counts is what a plan found, row by row.
type Counts struct {
	Create, Update, Unchanged, Errors int
}

// Change is one planned write: a file row that creates a variant (and its product,
// for the first row of a new product) or updates one.
type Change struct {
	Row            int
	GroupKey       int64 // the product id, or minus the first row of a new product
	Kind           string
	SKU            string
	ProductID      int64
	VariantID      int64
	ProductVersion int32
	VariantVersion int32
	Repr           string
	Fields         map[string]any    // what to write: "name", "slug", "status", "category_id", "price_cents", "stock", "position"
	Changes        map[string][2]any // field → [old, new], for the preview and the audit row
}

// The kinds of change.
const (
	KindCreate = "create"
	KindUpdate = "update"
)

// cells is one data row as read: the raw record and the header.
type cells struct {
	row int
	rec []string
	h   *header
}

// get returns column c's cell and whether the file has the column.
func (c cells) get(col string) (string, bool) {
	i, ok := c.h.index[col]
	if !ok {
		return "", false
	}
	return c.rec[i], true
}

// planner turns file rows into changes and errors. It holds what spans batches: the
// SKUs seen, the products already touched, the new products by slug.
type planner struct {
	h          header
	digits     int
	canCreate  bool
	categories map[string][]int64 // lower-case name → ids
	catNames   map[int64]string
	seenSKU    map[string]int          // lower-case SKU → row
	products   map[int64]productFields // product id → the product fields its first row set
	newBySlug  map[string]*newProduct
	counts     Counts
	errs       []RowError // kept (at most MaxKeptErrors)
	errTotal   int
}

// productFields are the product's own fields as a row wants them.
type productFields struct {
	row        int
	name, slug string
	status     string
	categoryID *int64
}

type newProduct struct {
	key      int64
	fields   productFields
	variants int
}

// target is what the database holds for a SKU (db.ListImportTargetsRow).
type target = db.ListImportTargetsRow

func newPlanner(h header, digits int, canCreate bool, cats []db.ListCategoryNamesRow) *planner {
	p := &planner{h: h, digits: digits, canCreate: canCreate, categories: map[string][]int64{},
		catNames: map[int64]string{}, seenSKU: map[string]int{}, products: map[int64]productFields{},
		newBySlug: map[string]*newProduct{}}
	for _, c := range cats {
		k := strings.ToLower(c.Name)
		p.categories[k] = append(p.categories[k], c.ID)
		p.catNames[c.ID] = c.Name
	}
	return p
}

// rowErrs collects one row's errors.
type rowErrs struct {
	p    *planner
	c    cells
	list []RowError
}

func (e *rowErrs) add(col, msg string) {
	cell, _ := e.c.get(col)
	label := ""
	if col != "" {
		label = e.c.h.label(col)
	}
	e.list = append(e.list, RowError{Row: e.c.row, Column: label, Message: msg, Cell: printable(cell)})
}

func (p *planner) addErrors(list []RowError) {
	if len(list) == 0 {
		return
	}
	p.counts.Errors++
	for _, e := range list {
		p.errTotal++
		if len(p.errs) < MaxKeptErrors {
			p.errs = append(p.errs, e)
		}
	}
}

// parsed is a row's cells turned into values; nil pointers are columns the file does
// not have (or, for prices and stock, left empty): fields to leave alone.
type parsed struct {
	sku                string
	id                 *int64
	name, slug, status *string
	category           *string
	categoryID         *int64
	priceMin, priceMax *int64
	stock              *int64
}

// parse reads a row's cells; what cannot be read at all is an error on its column.
func (p *planner) parse(c cells, e *rowErrs) parsed {
	var out parsed
	for i, cell := range c.rec {
		col := ""
		for k, j := range c.h.index {
			if j == i {
				col = k
			}
		}
		switch {
		case !utf8.ValidString(cell):
			e.add(col, `is not UTF-8 text (Latin-1 or Windows-1252?): save the file as "CSV UTF-8"`)
		case strings.ContainsRune(cell, 0):
			e.add(col, "contains a NUL byte: the file is damaged or binary")
		}
	}
	if len(e.list) > 0 {
		return out
	}
	text := func(col string) *string {
		s, ok := c.get(col)
		if !ok {
			return nil
		}
		s = strings.TrimSpace(unDefuse(s))
		return &s
	}
	if s := text(colSKU); s != nil {
		out.sku = *s
	}
	switch {
	case out.sku == "":
		e.add(colSKU, "is required: it says which product or variant the row is")
	default:
		k := strings.ToLower(out.sku)
		if first, dup := p.seenSKU[k]; dup {
			e.add(colSKU, fmt.Sprintf("is also on row %d: a SKU may appear once in a file", first))
		} else {
			p.seenSKU[k] = c.row
		}
	}
	if s := text(colID); s != nil && *s != "" {
		if n, err := strconv.ParseInt(*s, 10, 64); err != nil || n <= 0 {
			e.add(colID, "must be a product id (a whole number) or empty")
		} else {
			out.id = &n
		}
	}
	out.name, out.slug, out.status = text(colName), text(colSlug), text(colStatus)
	if out.status != nil {
		*out.status = strings.ToLower(*out.status)
	}
	if s := text(colCategory); s != nil {
		out.category = s
		if *s != "" {
			switch ids := p.categories[strings.ToLower(*s)]; len(ids) {
			case 0:
				e.add(colCategory, "no category has this name: create it first, or leave the cell empty for none")
			case 1:
				out.categoryID = &ids[0]
			default:
				e.add(colCategory, fmt.Sprintf("%d categories have this name: rename one, or set this product's category in its form", len(ids)))
			}
		}
	}
	amount := func(col string) *int64 {
		s, ok := c.get(col)
		if s = strings.TrimSpace(s); !ok || s == "" {
			return nil
		}
		n, ok := money.ParsePlain(s, p.digits)
		if !ok {
			eg := money.Plain(123450, p.digits)
			e.add(col, fmt.Sprintf("is not an amount: write digits with a point before the decimals, like %s, without thousands separators, spaces or a currency sign", eg))
			return nil
		}
		return &n
	}
	out.priceMin, out.priceMax = amount(colPriceMin), amount(colPriceMax)
	if s, ok := c.get(colStock); ok && strings.TrimSpace(s) != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err != nil {
			e.add(colStock, "must be a whole number")
		} else {
			out.stock = &n
		}
	}
	return out
}

// plan turns one batch of rows into changes, given what the database holds for
// their SKUs (by lower-case SKU) and which of the new products' slugs are taken.
func (p *planner) plan(rows []cells, targets map[string]target, takenSlugs map[string]int64) []Change {
	var out []Change
	for _, c := range rows {
		e := &rowErrs{p: p, c: c}
		in := p.parse(c, e)
		if len(e.list) > 0 {
			p.addErrors(e.list)
			continue
		}
		var ch *Change
		if t, ok := targets[strings.ToLower(in.sku)]; ok {
			ch = p.update(c, in, t, e)
		} else {
			ch = p.create(c, in, takenSlugs, e)
		}
		switch {
		case len(e.list) > 0:
			p.addErrors(e.list)
		case ch == nil:
			p.counts.Unchanged++
		case ch.Kind == KindCreate:
			p.counts.Create++
			out = append(out, *ch)
		default:
			p.counts.Update++
			out = append(out, *ch)
		}
	}
	return out
}

// update plans a row whose SKU is stored: nil when it changes nothing.
func (p *planner) update(c cells, in parsed, t target, e *rowErrs) *Change {
	if in.id != nil && *in.id != t.ProductID {
		e.add(colID, fmt.Sprintf("is not the product with SKU %s (that is product %d): a row's id and SKU must belong together", t.Sku, t.ProductID))
		return nil
	}
	want := productFields{row: c.row, name: t.Name, slug: t.Slug, status: t.Status, categoryID: t.CategoryID}
	setsProduct := in.name != nil || in.slug != nil || in.status != nil || in.category != nil
	if in.name != nil {
		want.name = *in.name
	}
	if in.slug != nil && *in.slug != "" { // an empty slug keeps the stored one
		want.slug = *in.slug
	}
	if in.status != nil {
		want.status = *in.status
	}
	if in.category != nil {
		want.categoryID = in.categoryID
	}
	price, stock := t.PriceCents, int64(t.Stock)
	// A row of the export describes a product; for a product of several variants its
	// price and stock columns are the summary (lowest, highest, total), which says
	// nothing about any one variant. They must come back as they were.
	if p.h.has(colVariants) && t.VariantCount > 1 {
		msg := fmt.Sprintf("this product has %d variants, and this column sums them up: change their prices and stock in the product's form, or in a file without the %q column (one row per variant SKU)", t.VariantCount, colVariants)
		if in.priceMin != nil && *in.priceMin != t.PriceMinCents {
			e.add(colPriceMin, msg)
		}
		if in.priceMax != nil && *in.priceMax != t.PriceMaxCents {
			e.add(colPriceMax, msg)
		}
		if in.stock != nil && *in.stock != t.StockTotal {
			e.add(colStock, msg)
		}
	} else {
		price = p.price(in, t.PriceCents, e)
		if in.stock != nil {
			stock = *in.stock
		}
	}
	if setsProduct {
		if first, seen := p.products[t.ProductID]; seen && (first.name != want.name || first.slug != want.slug ||
			first.status != want.status || !sameID(first.categoryID, want.categoryID)) {
			e.add("", fmt.Sprintf("row %d is the same product (id %d) and sets its name, slug, status or category differently", first.row, t.ProductID))
		} else if !seen {
			p.products[t.ProductID] = want
		}
	}
	p.validate(want, t.Sku, price, stock, e)
	if len(e.list) > 0 {
		return nil
	}
	ch := &Change{Row: c.row, GroupKey: t.ProductID, Kind: KindUpdate, SKU: t.Sku, ProductID: t.ProductID,
		VariantID: t.VariantID, ProductVersion: t.ProductVersion, VariantVersion: t.VariantVersion,
		Repr: want.name, Fields: map[string]any{}, Changes: map[string][2]any{}}
	set := func(field string, old, new any, changed bool) {
		if changed {
			ch.Fields[field] = new
			ch.Changes[field] = [2]any{old, new}
		}
	}
	set("name", t.Name, want.name, want.name != t.Name)
	set("slug", t.Slug, want.slug, want.slug != t.Slug)
	set("status", t.Status, want.status, want.status != t.Status)
	set("category_id", t.CategoryID, want.categoryID, !sameID(want.categoryID, t.CategoryID))
	set("price_cents", t.PriceCents, price, price != t.PriceCents)
	set("stock", int64(t.Stock), stock, stock != int64(t.Stock))
	if len(ch.Fields) == 0 {
		return nil
	}
	return ch
}

// price is the one price a row sets for its variant: price_min and price_max both
// describe it (the export writes it in both), so a cell that differs from the stored
// price is the new one; two cells that differ from it and from each other are an
// error. Neither cell: the stored price.
func (p *planner) price(in parsed, stored int64, e *rowErrs) int64 {
	switch {
	case in.priceMin == nil && in.priceMax == nil:
		return stored
	case in.priceMax == nil:
		return *in.priceMin
	case in.priceMin == nil || *in.priceMin == *in.priceMax:
		return *in.priceMax
	case *in.priceMin == stored:
		return *in.priceMax
	case *in.priceMax == stored:
		return *in.priceMin
	}
	e.add(colPriceMax, fmt.Sprintf("differs from %s: a row sets one variant's price, so give the same amount in both (or leave one out)", p.h.label(colPriceMin)))
	return stored
}

// create plans a row whose SKU is not stored: a new product, or a further variant of
// a new product an earlier row of the file creates with the same slug.
func (p *planner) create(c cells, in parsed, takenSlugs map[string]int64, e *rowErrs) *Change {
	switch {
	case in.id != nil:
		e.add(colID, fmt.Sprintf("no product has SKU %s: leave id empty to create a product, or correct the SKU", in.sku))
		return nil
	case !p.canCreate:
		e.add(colSKU, "no product has this SKU, and creating products needs the permission to add products")
		return nil
	}
	want := productFields{row: c.row, status: catalog.StatusDraft}
	if in.name != nil {
		want.name = *in.name
	}
	if in.slug != nil {
		want.slug = *in.slug
	}
	if in.status != nil && *in.status != "" {
		want.status = *in.status
	}
	want.categoryID = in.categoryID
	if in.priceMin == nil && in.priceMax == nil {
		e.add(colPriceMin, "is required to create a product (no product has this SKU)")
	}
	price := p.price(in, 0, e)
	if in.priceMin != nil && in.priceMax != nil && *in.priceMin != *in.priceMax {
		e.add(colPriceMax, fmt.Sprintf("differs from %s: a new variant has one price", p.h.label(colPriceMin)))
	}
	var stock int64
	if in.stock != nil {
		stock = *in.stock
	}
	key, position := -int64(c.row), 0
	if g, ok := p.newBySlug[want.slug]; ok && want.slug != "" {
		f := g.fields
		if f.name != want.name || f.status != want.status || !sameID(f.categoryID, want.categoryID) {
			e.add(colSlug, fmt.Sprintf("is the slug of the new product on row %d, whose name, status or category differ: rows of one new product must agree", f.row))
		}
		if g.variants >= catalog.MaxVariants {
			e.add(colSlug, fmt.Sprintf("the new product on row %d has %d variants already, the most a product may have", f.row, catalog.MaxVariants))
		}
		key, position = g.key, g.variants
	} else if id, taken := takenSlugs[want.slug]; taken && want.slug != "" {
		e.add(colSlug, fmt.Sprintf("is already used by product %d (this row creates a product: no product has SKU %s)", id, in.sku))
	}
	p.validate(want, in.sku, price, stock, e)
	if len(e.list) > 0 {
		return nil
	}
	if position == 0 && want.slug != "" {
		p.newBySlug[want.slug] = &newProduct{key: key, fields: want, variants: 1}
	} else if position > 0 {
		p.newBySlug[want.slug].variants++
	}
	fields := map[string]any{"name": want.name, "slug": want.slug, "status": want.status,
		"category_id": want.categoryID, "price_cents": price, "stock": stock, "position": position}
	changes := map[string][2]any{"price_cents": {nil, price}, "stock": {nil, stock}}
	if position == 0 {
		for _, f := range []string{"name", "slug", "status", "category_id"} {
			changes[f] = [2]any{nil, fields[f]}
		}
	}
	return &Change{Row: c.row, GroupKey: key, Kind: KindCreate, SKU: in.sku, Repr: want.name,
		Fields: fields, Changes: changes}
}

// validate runs the catalog's own validation (the one the form and the API run) on
// the product as the row would leave it, with the row's variant, and files each
// message under the column it is about.
func (p *planner) validate(f productFields, sku string, price, stock int64, e *rowErrs) {
	in := catalog.ProductInput{Name: f.name, Slug: f.slug, Status: f.status, CategoryID: f.categoryID,
		Variants: []catalog.VariantInput{{SKU: sku, PriceCents: price, Stock: stock}}}
	errs := in.Validate()
	for _, field := range errs.Fields() {
		col, ok := fieldColumns[field]
		if col == colPriceMin && !p.h.has(colPriceMin) && p.h.has(colPriceMax) {
			col = colPriceMax
		}
		msg := errs[field]
		if !ok {
			msg = field + " " + msg
		} else if !p.h.has(col) {
			msg = fmt.Sprintf("the file has no %q column, and the product needs one: %s %s", col, col, msg)
			col = ""
		}
		e.add(col, msg)
	}
}

// fieldColumns maps the catalog's field names to the file's columns.
var fieldColumns = map[string]string{
	"name": colName, "slug": colSlug, "status": colStatus, "category_id": colCategory,
	"variants[0].sku": colSKU, "variants[0].price_cents": colPriceMin, "variants[0].stock": colStock,
}

// printable is a cell as typed, with what text cannot hold (bytes that are not
// UTF-8, NUL) written as \xNN escapes, so it can be stored and shown.
func printable(cell string) string {
	if utf8.ValidString(cell) && !strings.ContainsRune(cell, 0) {
		return cell
	}
	var b strings.Builder
	for i := 0; i < len(cell); {
		r, size := utf8.DecodeRuneInString(cell[i:])
		if r == utf8.RuneError && size == 1 || r == 0 {
			fmt.Fprintf(&b, `\x%02X`, cell[i])
		} else {
			b.WriteString(cell[i : i+size])
		}
		i += size
	}
	return b.String()
}

func sameID(a, b *int64) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// planStore is what planning needs from the database, so the plan's logic reads
// apart from its SQL.
type planStore interface {
	targets(ctx context.Context, skus []string) ([]target, error)
	takenSlugs(ctx context.Context, slugs []string) (map[string]int64, error)
	save(ctx context.Context, changes []Change, errs []RowError, errSeq int, rowsDone int) error
}

// run reads every data row of r and plans it in batches, saving each batch.
func (p *planner) run(ctx context.Context, r *csv.Reader, lineText func(n int) string, ps planStore) error {
	rows := 0 // data rows read
	batch := make([]cells, 0, planBatch)
	savedErrs := 0
	flush := func() error {
		if len(batch) == 0 {
			err := ps.save(ctx, nil, p.errs[savedErrs:], savedErrs, rows)
			savedErrs = len(p.errs)
			return err
		}
		skus := make([]string, 0, len(batch))
		var slugs []string
		for _, c := range batch {
			if s, ok := c.get(colSKU); ok {
				skus = append(skus, strings.ToLower(strings.TrimSpace(unDefuse(s))))
			}
			if s, ok := c.get(colSlug); ok && strings.TrimSpace(s) != "" {
				slugs = append(slugs, strings.TrimSpace(unDefuse(s)))
			}
		}
		found, err := ps.targets(ctx, skus)
		if err != nil {
			return err
		}
		targets := make(map[string]target, len(found))
		for _, t := range found {
			targets[strings.ToLower(t.Sku)] = t
		}
		taken, err := ps.takenSlugs(ctx, slugs)
		if err != nil {
			return err
		}
		changes := p.plan(batch, targets, taken)
		newErrs := p.errs[savedErrs:]
		if err := ps.save(ctx, changes, newErrs, savedErrs, rows); err != nil {
			return err
		}
		savedErrs = len(p.errs)
		batch = batch[:0]
		return nil
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		rows++
		// Rows are numbered as a spreadsheet or an editor shows them: by the line the
		// record starts on (the header is line 1).
		var row int
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			row = pe.StartLine
		} else if err == nil {
			row, _ = r.FieldPos(0)
		}
		if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
			p.addErrors([]RowError{{Row: row, Message: fmt.Sprintf("has %d cells, but the header has %d columns (a separator too many or too few, or a quote not closed?)", len(rec), len(p.h.names))}})
			continue
		}
		if err != nil {
			re := RowError{Row: row, Message: csvMessage(err)}
			if errors.As(err, &pe) && (errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote)) {
				if i := quoteField(lineText(pe.StartLine), p.h.comma); i >= 0 && i < len(p.h.names) {
					re.Column = p.h.names[i]
				}
			}
			p.addErrors([]RowError{re})
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrQuote) {
				break // an open quote swallowed the rest of the file
			}
			continue
		}
		batch = append(batch, cells{row: row, rec: clone(rec), h: &p.h})
		if len(batch) == planBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func clone(rec []string) []string {
	out := make([]string, len(rec))
	copy(out, rec)
	return out
}

// encodeJSON encodes a plan's maps; they hold strings, numbers and nil only.
func encodeJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// quoteField finds the cell of line whose quote is the trouble: the last cell that
// opens a quote (an unclosed one runs to the end of the line), or -1.
func quoteField(line string, comma rune) int {
	field, at, quoted, found := 0, 0, false, -1
	for _, r := range line {
		switch {
		case quoted && r == '"':
			quoted = false
		case quoted:
		case r == comma:
			field++
			at = 0
			continue
		case r == '"':
			if at == 0 {
				quoted = true
			}
			found = field
		}
		at++
	}
	return found
}
