package admin

import (
	"bytes"
	"html/template"
	"reflect"
	"testing"
)

// Values that differ, however little, write different keys; equal ones the same,
// whatever order a map was filled in.
func TestAppendKeyTellsValuesApart(t *testing.T) {
	t.Parallel()
	type pair struct{ A, B string }
	type cur struct {
		Value string
		ID    int64
	}
	type frame struct {
		Filters map[string]string
		After   *cur
		Items   []pair
		Any     any
	}
	key := func(v any) string { return string(appendKey(nil, reflect.ValueOf(v))) }
	different := [][2]any{
		{pair{"ab", "c"}, pair{"a", "bc"}}, // where one string ends
		{pair{"", "x"}, pair{"x", ""}},
		{frame{Items: nil}, frame{Items: []pair{}}}, // no slice, an empty one
		{frame{After: nil}, frame{After: &cur{}}},   // no cursor, a zero one
		{frame{Any: int(1)}, frame{Any: int64(1)}},  // same number, other type
		{frame{Any: "1"}, frame{Any: int(1)}},       //
		{frame{Filters: nil}, frame{Filters: map[string]string{}}},
		{frame{Filters: map[string]string{"a": "b"}}, frame{Filters: map[string]string{"ab": ""}}},
		{frame{Items: []pair{{"a", "b"}, {"c", "d"}}}, frame{Items: []pair{{"c", "d"}, {"a", "b"}}}}, // order counts
		{[]bool{true, false}, []bool{false, true}},
		{template.HTML("<b>"), template.HTML("&lt;b&gt;")},
	}
	for _, d := range different {
		if key(d[0]) == key(d[1]) {
			t.Errorf("%#v and %#v write the same key", d[0], d[1])
		}
	}
	m1, m2 := map[string]string{}, map[string]string{}
	for _, k := range []string{"status", "stock", "category", "q"} {
		m1[k] = k + "!"
	}
	for _, k := range []string{"q", "category", "stock", "status"} {
		m2[k] = k + "!"
	}
	a := frame{Filters: m1, After: &cur{"x", 2}, Items: []pair{{"a", "b"}}, Any: 3}
	b := frame{Filters: m2, After: &cur{"x", 2}, Items: []pair{{"a", "b"}}, Any: 3}
	if key(a) != key(b) {
		t.Error("equal frames write different keys")
	}
}

// A piece is rendered once for equal data and again for any difference; a piece
// found under the key's hash but for another key (a collision) is not shown.
func TestKeptRendersOncePerData(t *testing.T) {
	t.Parallel()
	renders := 0
	tmpl := template.Must(template.New("t").Funcs(template.FuncMap{
		"count": func() string { renders++; return "" },
	}).Parse(`{{define "who"}}{{count}}<b title="{{.Email}}">{{.Name}}</b>{{end}}`))
	k := newKept()
	render := func(data topBar) template.HTML {
		t.Helper()
		var out template.HTML
		if err := k.render(tmpl, "page", data, keptPart{"who", &out}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	ann := topBar{SignedIn: true, Email: `ann@example.com`, Name: `Ann <"A">`}
	first := render(ann)
	if want := `<b title="ann@example.com">Ann &lt;&#34;A&#34;&gt;</b>`; string(first) != want {
		t.Fatalf("rendered %q, want %q", first, want)
	}
	if again := render(ann); again != first || renders != 1 {
		t.Errorf("equal data: %q after %d renders, want %q after 1", again, renders, first)
	}
	bob := ann
	bob.Name = "Bob"
	if got := render(bob); got != `<b title="ann@example.com">Bob</b>` || renders != 2 {
		t.Errorf("other data: %q after %d renders, want Bob's after 2", got, renders)
	}

	// A collision: under ann's hash, a piece kept for another key.
	key := append(pieceKey(nil, "page", ann), "who"...)
	k.mu.Lock()
	k.pieces.Put(k.hash(key), keptPiece{key: "another key", html: "<b>someone else</b>"})
	k.mu.Unlock()
	if got := render(ann); got != first || renders != 3 {
		t.Errorf("after a collision: %q after %d renders, want %q rendered again (3)", got, renders, first)
	}
	if bytes.Contains([]byte(render(ann)), []byte("someone else")) {
		t.Error("a colliding piece was shown")
	}
}

// A spliced piece goes where its mark is, once, and nowhere without one.
func TestSplice(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	page := []byte("<tbody>" + string(splicedRows) + "</tbody>")
	if !splice(&out, page, "<tr><td>a &lt;b&gt;</td></tr>") || out.String() != "<tbody><tr><td>a &lt;b&gt;</td></tr></tbody>" {
		t.Errorf("spliced: %q", out.String())
	}
	out.Reset()
	if splice(&out, []byte("<tbody></tbody>"), "<tr></tr>") {
		t.Error("spliced into a page without the mark")
	}
	if spliceMark("") != "" || spliceMark("<tr></tr>") != splicedRows {
		t.Error("spliceMark: want nothing for no piece, the mark for one")
	}
}
