package admin

import (
	"context"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/keyset"
)

// A list page is declared once per resource as a ListSpec and served by the same
// machinery: URL parameters parsed and checked against the spec, keyset pagination
// with first/previous/next links that keep the search, filters, sort and page size,
// sortable column headers, filter links, and a count that is exact when the matching
// set is small and the planner's "about N" when it is not.
//
// The spec's Fetch gets a checked PageRequest and returns up to Limit rows in the
// requested order, starting after the cursor; the machinery asks for one row more
// than it shows, to learn whether there is a next page. Any query that can seek to
// (sort key, id) can back it: users and groups use one generic statement each.
//
// A source that pages itself, with opaque cursors of its own (the catalog's product
// and category lists, which the JSON API pages the same way), sets Pager instead of
// Fetch and Cursor: it gets the token from the URL and returns the rows with the
// tokens of the pages around them, and may offer a jump to the last page.

// Column is one column of a list. Key is its sort name in the URL (sort=key or
// sort=-key); a column without Key does not sort.
type Column struct {
	Key   string
	Label string
	Class string // a CSS class for the header: "num" right-aligns a column of numbers
}

// Option is one allowed value of a filter.
type Option struct {
	Value, Label string
}

// Filter is one filter of a list: a URL parameter whose value must be one of Options
// (anything else is ignored, as if absent).
//
// A filter with Accept instead of Options takes any value Accept allows: a bound of
// a range (a date, an amount) typed into a form the page draws itself. The
// machinery keeps it in every link like the others but draws nothing for it.
type Filter struct {
	Name    string
	Label   string
	Options []Option
	Accept  func(value string) bool
}

// Cursor is a keyset position: the sort key's value (as text that sorts like the
// column) and id of a row, where a page starts after (or, going back, before). It
// travels as keyset's unsigned token: it only positions a read of a list the viewer
// may page through from its start anyway.
type Cursor = keyset.Cursor

// cursorParam reads an after or before parameter (a keyset token); ok is false for
// anything else.
func cursorParam(s string) (c Cursor, ok bool) {
	if !keyset.Decode(s, &c) || c.ID <= 0 {
		return Cursor{}, false
	}
	return c, true
}

// ListQuery is a list request after checking: every field holds a value the spec
// allows.
type ListQuery struct {
	Search  string
	Filters map[string]string // filter name → chosen option value; absent means all
	Sort    string            // a sortable column's Key
	Desc    bool
	Size    int
	After   *Cursor // show rows after this one
	Before  *Cursor // show rows before this one (the previous page)
	Token   string  // a Pager's cursor, as it gave it
	Last    bool    // the last page (a Pager with HasLast)
}

// PageRequest is what Fetch gets: the query's search, filters and sort, where to
// start and how many rows to return. Desc is the direction to read in, which is the
// reverse of the shown order when the machinery pages backwards.
//
// A Pager gets the query's Token and Last instead of After, and Limit is the page
// size itself: it works out on its own whether there are pages around.
type PageRequest struct {
	Search  string
	Filters map[string]string
	Sort    string
	Desc    bool
	After   *Cursor
	Limit   int
	Token   string
	Last    bool
}

// Paged is what a Pager returns: the rows in the order shown, and the tokens of the
// pages before and after them ("" when there is none).
type Paged[R any] struct {
	Rows       []R
	Prev, Next string
}

// ListSpec declares one resource's list. R is the row type Fetch returns.
type ListSpec[R any] struct {
	Path        string // where the list lives, e.g. "/admin/users/"
	Singular    string // for the count: "user"
	Plural      string // "users"
	Columns     []Column
	Filters     []Filter
	Search      string // the search box's label; "" means the list has none
	DefaultSort string // a Column Key
	DefaultDesc bool

	Fetch  func(ctx context.Context, req PageRequest) ([]R, error)
	Cursor func(row R, sort string) Cursor // the row's position under sort
	// Pager replaces Fetch and Cursor for a source with cursors of its own. A token it
	// refuses (a field error: an old bookmark, another sort) means the first page.
	Pager   func(ctx context.Context, req PageRequest) (Paged[R], error)
	HasLast bool // the Pager can read the last page (PageRequest.Last)
	// Count counts the rows the query matches under keyset.CountOf's policy:
	// typically store.Count around a sqlc count query.
	Count func(ctx context.Context, q ListQuery) (keyset.Count, error)
}

// sizes are the page sizes a list offers: keyset's, the default first.
func (sp *ListSpec[R]) sizes() []int { return keyset.PageSizes() }

// With returns a copy of the spec with more filters: those whose options are known
// only at request time (the categories of a category filter, say).
func (sp *ListSpec[R]) With(filters ...Filter) *ListSpec[R] {
	c := *sp
	c.Filters = append(slices.Clip(sp.Filters), filters...)
	return &c
}

func (sp *ListSpec[R]) sortable(key string) bool {
	return key != "" && slices.ContainsFunc(sp.Columns, func(c Column) bool { return c.Key == key })
}

// Parse reads a list request from URL parameters (q, sort, size, after, before and
// the spec's filters). It never fails: a value the spec does not allow (an unknown
// sort, an odd page size, a mangled cursor) falls back to the default, so an old
// bookmark still opens a list.
func (sp *ListSpec[R]) Parse(v url.Values) ListQuery {
	q := ListQuery{Sort: sp.DefaultSort, Desc: sp.DefaultDesc, Size: sp.sizes()[0], Filters: map[string]string{}}
	if sp.Search != "" {
		q.Search = strings.TrimSpace(v.Get("q"))
		if len(q.Search) > 200 {
			q.Search = q.Search[:200]
		}
	}
	if s := v.Get("sort"); s != "" {
		key, desc := strings.TrimPrefix(s, "-"), strings.HasPrefix(s, "-")
		if sp.sortable(key) {
			q.Sort, q.Desc = key, desc
		}
	}
	if n, err := strconv.Atoi(v.Get("size")); err == nil && slices.Contains(sp.sizes(), n) {
		q.Size = n
	}
	for _, f := range sp.Filters {
		val := v.Get(f.Name)
		if f.Accept != nil {
			if val = strings.TrimSpace(val); val != "" && len(val) <= 100 && f.Accept(val) {
				q.Filters[f.Name] = val
			}
			continue
		}
		if slices.ContainsFunc(f.Options, func(o Option) bool { return o.Value == val }) {
			q.Filters[f.Name] = val
		}
	}
	if sp.Pager != nil {
		if t := v.Get("cursor"); validToken(t) {
			q.Token = t
		} else {
			q.Last = sp.HasLast && v.Get("last") == "1"
		}
		return q
	}
	if c, ok := cursorParam(v.Get("after")); ok {
		q.After = &c
	} else if c, ok := cursorParam(v.Get("before")); ok {
		q.Before = &c
	}
	return q
}

// validToken reports whether t can be a Pager's cursor: short and URL-safe base64,
// so that no mangled value travels on into a link or a source.
func validToken(t string) bool {
	if t == "" || len(t) > 1024 {
		return false
	}
	for _, c := range t {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// values is q as URL parameters, without the cursor: what every link keeps.
func (sp *ListSpec[R]) values(q ListQuery) url.Values {
	v := url.Values{}
	if q.Search != "" {
		v.Set("q", q.Search)
	}
	if q.Sort != sp.DefaultSort || q.Desc != sp.DefaultDesc {
		v.Set("sort", sortParam(q.Sort, q.Desc))
	}
	if q.Size != sp.sizes()[0] {
		v.Set("size", strconv.Itoa(q.Size))
	}
	for name, val := range q.Filters {
		v.Set(name, val)
	}
	return v
}

func sortParam(key string, desc bool) string {
	if desc {
		return "-" + key
	}
	return key
}

// href is the list's URL for v.
func (sp *ListSpec[R]) href(v url.Values) string {
	if len(v) == 0 {
		return sp.Path
	}
	return sp.Path + "?" + v.Encode()
}

// hrefWith is the list's URL for base with name set to value, or without name when
// value is "" (which Parse reads as absent anyway): what href would give for a copy
// of base with name set or deleted, byte for byte (url.Values.Encode's order and
// escaping), without the copy. A list page draws a link like this for every sort
// header, filter option and page size, about forty on the product list, and the
// copies cost about ten allocations each (BenchmarkProductList).
func (sp *ListSpec[R]) hrefWith(base url.Values, name, value string) string {
	var names [8]string // a list's query has a handful of parameters
	keys, n := names[:0], len(sp.Path)+1+len(name)+1+len(value)
	for k, vs := range base {
		if k != name {
			keys = append(keys, k)
			for _, v := range vs {
				n += len(k) + 1 + len(v) + 1
			}
		}
	}
	if value != "" {
		keys = append(keys, name)
	}
	if len(keys) == 0 {
		return sp.Path
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(n)
	b.WriteString(sp.Path)
	sep := byte('?')
	write := func(k, v string) {
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v))
	}
	for _, k := range keys {
		if k == name {
			write(k, value)
			continue
		}
		for _, v := range base[k] {
			write(k, v)
		}
	}
	return b.String()
}

// List is one loaded page of a list: its rows, and the frame the list partials
// draw around them, rendered into Parts by Server.render (kept).
type List[R any] struct {
	Rows []R
	ListFrame
	Parts ListParts
}

// ListParts are the list partials rendered from a list's frame, which a list page
// writes around its rows: render sets them for a listPage.
type ListParts struct {
	Toolbar, Head, Filters, Pager template.HTML
}

// listPage is a page that shows a List: render fills in the list's Parts.
type listPage interface{ list() framed }

// framed is a List of any rows.
type framed interface {
	frame() (*ListFrame, *ListParts)
}

// frame is the list's frame and its parts; nil ones for no list.
func (l *List[R]) frame() (*ListFrame, *ListParts) {
	if l == nil {
		return nil, nil
	}
	return &l.ListFrame, &l.Parts
}

// ListFrame is everything about a loaded list but its rows: what the list partials
// (list-toolbar, list-head, list-filters, pagination) read, and all of the key
// their rendering is kept under (kept), so they must read nothing else.
type ListFrame struct {
	Query   ListQuery
	Path    string
	Search  string // the search box's label; "" for none
	Count   string // "12 users" or "about 1,200,000 products"
	Empty   bool   // nothing matches
	Self    string // this page's URL, for links that come back to it (an edit's Cancel)
	First   string // links; "" when there is no such page
	Prev    string
	Next    string
	Last    string
	HasLast bool // the list can jump to its last page: show the link, greyed when ""
	Headers []Header
	Filters []FilterView
	Sizes   []SizeView
	Hidden  []Hidden // what the search form must carry to keep the rest of the query
}

// Header is a column header: a link that sorts by it (or reverses the sort).
type Header struct {
	Label    string
	Href     string // "" for a column that does not sort
	AriaSort string // "ascending", "descending" or ""
	Class    string
}

// FilterView is a filter with a link per option (and "All"). A filter with many
// options is a Select instead: a small GET form that keeps the rest of the query in
// Hidden fields. Each has only what it draws: links their options' Href, a select
// its Hidden fields (a category select's hundred links went unused).
type FilterView struct {
	Name    string
	Label   string
	Options []OptionView
	Select  bool
	Hidden  []Hidden
}

// selectAbove is the most options a filter shows as links; more become a select.
const selectAbove = 8

// OptionView is one filter link (or select option: Value).
type OptionView struct {
	Label, Href, Value string
	Current            bool
}

// SizeView is one page-size link.
type SizeView struct {
	Size    int
	Href    string
	Current bool
}

// Hidden is a hidden form field.
type Hidden struct{ Name, Value string }

// Load fetches the page q asks for and builds the links around it.
func (sp *ListSpec[R]) Load(ctx context.Context, q ListQuery) (*List[R], error) {
	var (
		rows []R
		err  error
		self = sp.values(q)
		l    = &List[R]{ListFrame: ListFrame{Query: q, Path: sp.Path, Search: sp.Search, HasLast: sp.HasLast}}
	)
	base := sp.values(q)
	if sp.Pager != nil {
		if rows, err = sp.paged(ctx, &q, l); err != nil {
			return nil, err
		}
		if q.Token != "" {
			self.Set("cursor", q.Token)
		} else if q.Last {
			self.Set("last", "1")
		}
	} else {
		if rows, err = sp.fetched(ctx, q, l); err != nil {
			return nil, err
		}
		if q.After != nil {
			self.Set("after", keyset.Encode(*q.After))
		} else if q.Before != nil {
			self.Set("before", keyset.Encode(*q.Before))
		}
	}
	l.Rows, l.Empty, l.Self = rows, len(rows) == 0, sp.href(self)
	n, err := sp.Count(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("count %s: %w", sp.Plural, err)
	}
	l.Count = countText(n.N, n.Exact, sp.Singular, sp.Plural)
	for _, c := range sp.Columns {
		h := Header{Label: c.Label, Class: c.Class}
		if c.Key != "" {
			desc := c.Key == q.Sort && !q.Desc // a second click reverses
			sort := sortParam(c.Key, desc)
			if c.Key == sp.DefaultSort && desc == sp.DefaultDesc {
				sort = ""
			}
			h.Href = sp.hrefWith(base, "sort", sort)
			if c.Key == q.Sort {
				h.AriaSort = map[bool]string{false: "ascending", true: "descending"}[q.Desc]
			}
		}
		l.Headers = append(l.Headers, h)
	}
	for _, f := range sp.Filters {
		if f.Accept != nil {
			continue // the page draws its own inputs for these
		}
		fv := FilterView{Name: f.Name, Label: f.Label, Select: len(f.Options) > selectAbove}
		href := func(value string) string {
			if fv.Select {
				return ""
			}
			return sp.hrefWith(base, f.Name, value)
		}
		if fv.Select {
			fv.Hidden = hiddenOf(base, f.Name)
		}
		fv.Options = make([]OptionView, 0, 1+len(f.Options))
		fv.Options = append(fv.Options, OptionView{Label: "All", Href: href(""), Current: q.Filters[f.Name] == ""})
		for _, o := range f.Options {
			fv.Options = append(fv.Options, OptionView{Label: o.Label, Href: href(o.Value), Value: o.Value,
				Current: q.Filters[f.Name] == o.Value})
		}
		l.Filters = append(l.Filters, fv)
	}
	for _, size := range sp.sizes() {
		param := strconv.Itoa(size)
		if size == sp.sizes()[0] {
			param = ""
		}
		l.Sizes = append(l.Sizes, SizeView{Size: size, Href: sp.hrefWith(base, "size", param), Current: size == q.Size})
	}
	slices.SortFunc(l.Sizes, func(a, b SizeView) int { return a.Size - b.Size })
	l.Hidden = hiddenOf(base, "q")
	return l, nil
}

// fetched reads q's page through Fetch and sets the links around it.
func (sp *ListSpec[R]) fetched(ctx context.Context, q ListQuery, l *List[R]) ([]R, error) {
	// A page before q.Before is read the other way from it, then turned round
	// (keyset.Paginate, like every list).
	var cur *Cursor
	if q.After != nil {
		cur = &Cursor{Value: q.After.Value, ID: q.After.ID}
	} else if q.Before != nil {
		cur = &Cursor{Value: q.Before.Value, ID: q.Before.ID, Back: true}
	}
	back := keyset.Backwards(cur, false)
	rows, err := sp.Fetch(ctx, PageRequest{Search: q.Search, Filters: q.Filters, Sort: q.Sort, Desc: q.Desc != back,
		After: cur, Limit: q.Size + 1})
	if err != nil {
		return nil, err
	}
	rows, prev, next := keyset.Paginate(rows, q.Size, "", cur, false, func(r R) (string, int64) {
		c := sp.Cursor(r, q.Sort)
		return c.Value, c.ID
	})
	base := sp.values(q)
	if cur != nil {
		l.First = sp.href(base)
	}
	if next != "" {
		l.Next = sp.hrefWith(base, "after", next)
	}
	if prev != "" {
		l.Prev = sp.hrefWith(base, "before", prev)
	}
	return rows, nil
}

// paged reads q's page through Pager and sets the links around it. A token the
// pager refuses is dropped from q, and the first page read instead.
func (sp *ListSpec[R]) paged(ctx context.Context, q *ListQuery, l *List[R]) ([]R, error) {
	req := PageRequest{Search: q.Search, Filters: q.Filters, Sort: q.Sort, Desc: q.Desc, Limit: q.Size,
		Token: q.Token, Last: q.Last}
	page, err := sp.Pager(ctx, req)
	if fieldErrors(err) != nil && (q.Token != "" || q.Last) {
		q.Token, q.Last, req.Token, req.Last = "", false, "", false
		page, err = sp.Pager(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	base := sp.values(*q)
	if q.Token != "" || q.Last {
		l.First = sp.href(base)
	}
	if page.Prev != "" {
		l.Prev = sp.hrefWith(base, "cursor", page.Prev)
	}
	if page.Next != "" {
		l.Next = sp.hrefWith(base, "cursor", page.Next)
		if sp.HasLast {
			l.Last = sp.hrefWith(base, "last", "1")
		}
	}
	return page.Rows, nil
}

// hiddenOf is v as hidden form fields, sorted by name, without the one named skip.
func hiddenOf(v url.Values, skip string) []Hidden {
	var out []Hidden
	for name, vals := range v {
		if name != skip {
			out = append(out, Hidden{Name: name, Value: vals[0]})
		}
	}
	slices.SortFunc(out, func(a, b Hidden) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = slices.Clone(vs)
	}
	return c
}

// countText says how many rows match: "1 user", "12 users", or "about 1,200,000
// products" from an estimate.
func countText(n int64, exact bool, singular, plural string) string {
	switch {
	case !exact:
		return "about " + groupDigits(n) + " " + plural
	case n == 1:
		return "1 " + singular
	}
	return groupDigits(n) + " " + plural
}

// groupDigits writes n with thousands separators: 1,234,567.
func groupDigits(n int64) string {
	var b [32]byte
	out, u := appendSign(b[:0], n)
	return string(appendGrouped(out, u))
}

// appendSign appends a minus to dst when n is below zero, and returns n's magnitude
// for the digits that follow.
func appendSign(dst []byte, n int64) ([]byte, uint64) {
	u := uint64(n)
	if n < 0 {
		dst = append(dst, '-')
		u = -u // two's complement: right for the smallest int64 too
	}
	return dst, u
}

// appendGrouped appends u's digits to dst with a comma between thousands. It
// writes into the caller's buffer: the product list groups two or three numbers a
// row, and a strings.Builder grew (allocated) two or three times for each.
func appendGrouped(dst []byte, u uint64) []byte {
	var d [20]byte
	digits := strconv.AppendUint(d[:0], u, 10)
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, c)
	}
	return dst
}

// boolFilter is the yes/no filter option list.
func boolFilter(name, label string) Filter {
	return Filter{Name: name, Label: label, Options: []Option{{"yes", "Yes"}, {"no", "No"}}}
}

// boolOf reads a yes/no filter as a nullable bool: nil when not chosen.
func boolOf(filters map[string]string, name string) *bool {
	switch filters[name] {
	case "yes":
		t := true
		return &t
	case "no":
		f := false
		return &f
	}
	return nil
}
