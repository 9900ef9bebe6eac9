package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/keyset"
)

// testSpec is a list over the numbers 1..n, sortable by value, with an even/odd
// filter: enough to check the machinery without a database.
func testSpec(n int) *ListSpec[int] {
	return &ListSpec[int]{
		Path: "/admin/numbers/", Singular: "number", Plural: "numbers",
		Columns:     []Column{{Key: "value", Label: "Value"}, {Label: "Square"}, {Key: "name", Label: "Name"}},
		Filters:     []Filter{{Name: "parity", Label: "Parity", Options: []Option{{"even", "Even"}, {"odd", "Odd"}}}},
		Search:      "Search",
		DefaultSort: "value",
		Fetch: func(ctx context.Context, req PageRequest) ([]int, error) {
			var out []int
			for i := 1; i <= n; i++ {
				v := i
				if req.Desc {
					v = n + 1 - i
				}
				if p := req.Filters["parity"]; (p == "even" && v%2 != 0) || (p == "odd" && v%2 == 0) {
					continue
				}
				if req.After != nil && ((!req.Desc && int64(v) <= req.After.ID) || (req.Desc && int64(v) >= req.After.ID)) {
					continue
				}
				out = append(out, v)
				if len(out) == req.Limit {
					break
				}
			}
			return out, nil
		},
		Cursor: func(v int, _ string) Cursor { return Cursor{Value: fmt.Sprintf("%08d", v), ID: int64(v)} },
		Count: func(ctx context.Context, q ListQuery) (keyset.Count, error) {
			return keyset.CountOf(int64(n), func(int32) (int64, error) { return int64(n), nil })
		},
	}
}

func TestListParse(t *testing.T) {
	sp := testSpec(10)
	cur := Cursor{Value: "00000007:with:colons", ID: 7}
	tests := []struct {
		name  string
		query string
		want  ListQuery
	}{
		{"defaults", "", ListQuery{Sort: "value", Size: 50, Filters: map[string]string{}}},
		{"all set", "q=+abc+&sort=-name&size=200&parity=odd",
			ListQuery{Search: "abc", Sort: "name", Desc: true, Size: 200, Filters: map[string]string{"parity": "odd"}}},
		{"unknown sort falls back", "sort=password_hash", ListQuery{Sort: "value", Size: 50, Filters: map[string]string{}}},
		{"unsortable column falls back", "sort=Square", ListQuery{Sort: "value", Size: 50, Filters: map[string]string{}}},
		{"empty sort key falls back", "sort=-", ListQuery{Sort: "value", Size: 50, Filters: map[string]string{}}},
		{"odd page size falls back", "size=7", ListQuery{Sort: "value", Size: 50, Filters: map[string]string{}}},
		{"huge page size falls back", "size=1000000", ListQuery{Sort: "value", Size: 50, Filters: map[string]string{}}},
		{"page size not a number", "size=abc", ListQuery{Sort: "value", Size: 50, Filters: map[string]string{}}},
		{"unknown filter value ignored", "parity=prime", ListQuery{Sort: "value", Size: 50, Filters: map[string]string{}}},
		{"unknown parameter ignored", "evil=1", ListQuery{Sort: "value", Size: 50, Filters: map[string]string{}}},
		{"cursor", "after=" + keyset.Encode(cur), ListQuery{Sort: "value", Size: 50, Filters: map[string]string{}, After: &cur}},
		{"before cursor", "before=" + keyset.Encode(cur), ListQuery{Sort: "value", Size: 50, Filters: map[string]string{}, Before: &cur}},
		{"mangled cursor ignored", "after=!!!", ListQuery{Sort: "value", Size: 50, Filters: map[string]string{}}},
		{"cursor without id ignored", "after=" + keyset.Encode(Cursor{Value: "x"}), ListQuery{Sort: "value", Size: 50, Filters: map[string]string{}}},
		{"long search cut", "q=" + strings.Repeat("a", 300), ListQuery{Search: strings.Repeat("a", 200), Sort: "value", Size: 50, Filters: map[string]string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := sp.Parse(v); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.query, got, tt.want)
			}
		})
	}
}

// Pages forwards and backwards cover every row once, and the links keep the filter,
// sort and page size.
func TestListPaging(t *testing.T) {
	sp := testSpec(60)
	v, _ := url.ParseQuery("parity=even&size=25&sort=-value")
	q := sp.Parse(v)
	first, err := sp.Load(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if first.Prev != "" || first.First != "" || first.Next == "" || len(first.Rows) != 25 || first.Rows[0] != 60 {
		t.Fatalf("first page: rows %v prev %q first %q next %q", first.Rows, first.Prev, first.First, first.Next)
	}
	for _, link := range []string{first.Next} {
		for _, keep := range []string{"parity=even", "size=25", "sort=-value"} {
			if !strings.Contains(link, keep) {
				t.Errorf("link %q lost %s", link, keep)
			}
		}
	}
	load := func(link string) *List[int] {
		t.Helper()
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		l, err := sp.Load(context.Background(), sp.Parse(u.Query()))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	second := load(first.Next)
	if len(second.Rows) != 5 || second.Rows[0] != 10 || second.Next != "" || second.Prev == "" || second.First == "" {
		t.Fatalf("second page: rows %v next %q prev %q", second.Rows, second.Next, second.Prev)
	}
	back := load(second.Prev)
	if !reflect.DeepEqual(back.Rows, first.Rows) || back.Prev != "" || back.Next == "" {
		t.Errorf("back to the first page: rows %v prev %q next %q; want the first page again", back.Rows, back.Prev, back.Next)
	}
	if first.Count != "60 numbers" {
		t.Errorf("count %q", first.Count)
	}
	// Headers: the sorted column reverses on a second click; filters and size stay.
	if h := first.Headers[0]; h.AriaSort != "descending" || h.Href != "/admin/numbers/?parity=even&size=25" {
		t.Errorf("value header %+v", h)
	}
	if h := first.Headers[1]; h.Href != "" {
		t.Errorf("unsortable header has a link: %+v", h)
	}
	if got := first.Filters[0].Options[0]; got.Label != "All" || got.Current || strings.Contains(got.Href, "parity") {
		t.Errorf("All option %+v", got)
	}
	if got := first.Hidden; !reflect.DeepEqual(got, []Hidden{{"parity", "even"}, {"size", "25"}, {"sort", "-value"}}) {
		t.Errorf("search form hidden fields %v", got)
	}
}

// TestHrefWith checks hrefWith against what it replaced: a copy of the query with
// one parameter set (or deleted, for ""), encoded by url.Values.
func TestHrefWith(t *testing.T) {
	sp := testSpec(1)
	bases := []url.Values{
		{},
		{"q": {"oak & lamp/ü"}},
		{"sort": {"-name"}, "size": {"100"}, "parity": {"odd"}, "q": {"a+b=c"}},
		{"z": {"2", "1"}, "a": {"x y"}},
	}
	sets := []struct{ name, value string }{
		{"sort", ""}, {"sort", "-value"}, {"size", "200"}, {"parity", "even"}, {"q", ""},
		{"cursor", "AbC-_9"}, {"last", "1"}, {"a", "é"}, {"missing", ""},
	}
	for _, base := range bases {
		for _, set := range sets {
			v := cloneValues(base)
			if set.value == "" {
				v.Del(set.name)
			} else {
				v.Set(set.name, set.value)
			}
			want := sp.href(v)
			if got := sp.hrefWith(base, set.name, set.value); got != want {
				t.Errorf("hrefWith(%v, %q, %q) = %q, want %q", base, set.name, set.value, got, want)
			}
		}
	}
}

func TestCountText(t *testing.T) {
	tests := []struct {
		n     int64
		exact bool
		want  string
	}{
		{0, true, "0 users"},
		{1, true, "1 user"},
		{1234, true, "1,234 users"},
		{1234567, false, "about 1,234,567 users"},
		{999, false, "about 999 users"},
	}
	for _, tt := range tests {
		if got := countText(tt.n, tt.exact, "user", "users"); got != tt.want {
			t.Errorf("countText(%d, %t) = %q, want %q", tt.n, tt.exact, got, tt.want)
		}
	}
	if got := countText(20000, false, "number", "numbers"); got != "about 20,000 numbers" {
		t.Errorf("estimate: %q", got)
	}
	l, _ := testSpec(20000).Load(context.Background(), testSpec(20000).Parse(nil))
	if l.Count != "about 20,000 numbers" {
		t.Errorf("a list above the exact threshold says %q", l.Count)
	}
}

// The users list end to end: search, filters, sort and keyset pages over the real
// query.
func TestUsersList(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	for i := range 30 {
		a.user(fmt.Sprintf("member%02d@example.com", i), false)
	}
	c := a.signedIn(superEmail)
	r := c.get("/admin/users/?size=25")
	must(t, r, http.StatusOK, "33 users", "member00@example.com", "member24@example.com", `rel="next"`)
	if strings.Contains(r.body, "member25@example.com") {
		t.Error("page 1 shows row 26")
	}
	next := extractHref(t, r.body, `rel="next"`)
	r = c.get(next)
	must(t, r, http.StatusOK, "member25@example.com", "staff@example.com", "viewer@example.com", `rel="prev"`)
	if strings.Contains(r.body, "member24@example.com") {
		t.Error("page 2 repeats a row of page 1")
	}
	r = c.get(extractHref(t, r.body, `rel="prev"`))
	must(t, r, http.StatusOK, "member00@example.com", "member24@example.com")

	must(t, c.get("/admin/users/?q=MEMBER1"), http.StatusOK, "10 users", "member19@example.com")
	must(t, c.get("/admin/users/?q=%25"), http.StatusOK, "0 users", "No users match.")
	must(t, c.get("/admin/users/?superuser=yes"), http.StatusOK, "1 user", "super@example.com")
	r = c.get("/admin/users/?sort=-email&size=25")
	must(t, r, http.StatusOK, "viewer@example.com", `aria-sort="descending"`)
	table := r.body[strings.Index(r.body, `id="user-list"`):]
	if strings.Index(table, "viewer@example.com") > strings.Index(table, "super@example.com") {
		t.Error("descending sort is not descending")
	}
	must(t, c.get("/admin/users/?sort=password_hash"), http.StatusOK, `aria-sort="ascending"`)
}

// extractHref returns the href of the first link carrying marker.
func extractHref(t testing.TB, body, marker string) string {
	t.Helper()
	i := strings.Index(body, marker)
	if i < 0 {
		t.Fatalf("no link with %s", marker)
	}
	start := strings.LastIndex(body[:i], `href="`) + len(`href="`)
	href := body[start : start+strings.IndexByte(body[start:], '"')]
	return strings.ReplaceAll(href, "&amp;", "&")
}

// A list page runs the same few statements however many rows it shows (no N+1):
// session read, principal, count estimate, exact count, page, and at most once a
// minute the session's touch (the idle timeout moves on).
func TestListQueryBudget(t *testing.T) {
	t.Parallel()
	var count dbtest.Tally
	a := newTestAppWith(t, auth.Options{}, &count)
	c := a.signedIn(superEmail)
	measure := func(path string) int64 {
		t.Helper()
		return count.During(func() { must(t, c.get(path), http.StatusOK) })
	}
	few := map[string]int64{"/admin/users/": measure("/admin/users/"), "/admin/groups/": measure("/admin/groups/")}
	for i := range 40 {
		a.user(fmt.Sprintf("more%02d@example.com", i), false)
		a.group(fmt.Sprintf("more group %02d", i))
	}
	for path, want := range few {
		if got := measure(path); got != want || got > 6 {
			t.Errorf("GET %s ran %d statements with 40 more rows, %d before; want the same, at most 6", path, got, want)
		}
	}
}

// A filter with Accept takes any value it allows, drops others, draws no links of
// its own, and stays in every link the list draws.
func TestListFreeFilter(t *testing.T) {
	sp := testSpec(10).With(Filter{Name: "min", Accept: func(v string) bool {
		_, err := fmt.Sscan(v, new(int))
		return err == nil
	}})
	tests := []struct {
		query string
		want  string // the min kept, "" for none
	}{
		{"min=3", "3"},
		{"min=%2B3", "+3"},
		{"min=%20%204%20", "4"},
		{"min=three", ""},
		{"min=" + strings.Repeat("1", 101), ""},
		{"", ""},
	}
	for _, tt := range tests {
		v, _ := url.ParseQuery(tt.query)
		if got := sp.Parse(v).Filters["min"]; got != tt.want {
			t.Errorf("Parse(%q): min %q, want %q", tt.query, got, tt.want)
		}
	}
	l, err := sp.Load(context.Background(), sp.Parse(url.Values{"min": {"3"}, "size": {"25"}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Filters) != 1 || l.Filters[0].Name != "parity" {
		t.Errorf("filter views %+v, want parity alone", l.Filters)
	}
	links := []string{l.Headers[0].Href, l.Filters[0].Options[1].Href, l.Sizes[0].Href}
	for _, h := range links {
		if !strings.Contains(h, "min=3") {
			t.Errorf("link %q lost min=3", h)
		}
	}
}
