package keyset_test

import (
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

func numeric(v string) bool { _, err := strconv.Atoi(v); return err == nil }

func TestRead(t *testing.T) {
	good := keyset.Encode(keyset.Cursor{Sort: "-total", Value: "42", ID: 7})
	tests := []struct {
		name  string
		token string
		want  *keyset.Cursor
		err   bool
	}{
		{"none", "", nil, false},
		{"good", good, &keyset.Cursor{Sort: "-total", Value: "42", ID: 7}, false},
		{"not base64", "%%%", nil, true},
		{"not json", keyset.Encode("x")[:3], nil, true},
		{"another ordering", keyset.Encode(keyset.Cursor{Sort: "total", Value: "42", ID: 7}), nil, true},
		{"a value the column cannot take", keyset.Encode(keyset.Cursor{Sort: "-total", Value: "x", ID: 7}), nil, true},
		{"no id", keyset.Encode(keyset.Cursor{Sort: "-total", Value: "42"}), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := keyset.Read(tt.token, "-total", numeric)
			var errs validator.Errors
			if tt.err != (errors.As(err, &errs) && errs["cursor"] != "") {
				t.Fatalf("Read: error %v, want a cursor field error: %v", err, tt.err)
			}
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Errorf("Read = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLimit(t *testing.T) {
	tests := []struct {
		n, want int
		err     bool
	}{{0, 50, false}, {1, 1, false}, {200, 200, false}, {201, 0, true}, {-1, 0, true}}
	for _, tt := range tests {
		got, err := keyset.Limit(tt.n, 50, 200)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("Limit(%d) = %d, %v; want %d, error %v", tt.n, got, err, tt.want, tt.err)
		}
	}
}

// TestPaginate walks a list of ten rows three at a time, forwards and back, through
// the cursors Paginate hands out, as a list query would read them.
func TestPaginate(t *testing.T) {
	all := []int{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	at := func(v int) (string, int64) { return strconv.Itoa(v), int64(v) }
	// read is the list query: up to limit+1 rows after (or, backwards, before) cur.
	read := func(cur *keyset.Cursor, last bool) []int {
		var out []int
		if keyset.Backwards(cur, last) {
			for i := len(all) - 1; i >= 0; i-- {
				if cur == nil || int64(all[i]) < cur.ID {
					out = append(out, all[i])
				}
			}
		} else {
			for _, v := range all {
				if cur == nil || int64(v) > cur.ID {
					out = append(out, v)
				}
			}
		}
		return out[:min(len(out), 4)]
	}
	page := func(token string, last bool) ([]int, string, string) {
		t.Helper()
		cur, err := keyset.Read(token, "id", numeric)
		if err != nil {
			t.Fatal(err)
		}
		return keyset.Paginate(read(cur, last), 3, "id", cur, last, at)
	}
	rows, prev, next := page("", false)
	if !slices.Equal(rows, []int{10, 20, 30}) || prev != "" || next == "" {
		t.Fatalf("first page = %v, prev %q, next %q", rows, prev, next)
	}
	rows, prev, next = page(next, false)
	if !slices.Equal(rows, []int{40, 50, 60}) || prev == "" || next == "" {
		t.Fatalf("second page = %v, prev %q, next %q", rows, prev, next)
	}
	back, backPrev, backNext := page(prev, false)
	if !slices.Equal(back, []int{10, 20, 30}) || backPrev != "" || backNext == "" {
		t.Errorf("back to the first page = %v, prev %q, next %q", back, backPrev, backNext)
	}
	_, _, next = page(next, false)
	rows, prev, next = page(next, false)
	if !slices.Equal(rows, []int{100}) || prev == "" || next != "" {
		t.Errorf("fourth page = %v, prev %q, next %q", rows, prev, next)
	}
	rows, prev, next = page("", true)
	if !slices.Equal(rows, []int{80, 90, 100}) || prev == "" || next != "" {
		t.Errorf("last page = %v, prev %q, next %q", rows, prev, next)
	}
	rows, _, next = page(prev, false)
	if !slices.Equal(rows, []int{50, 60, 70}) || next == "" {
		t.Errorf("before the last page = %v, next %q", rows, next)
	}
	if rows, prev, next := keyset.Paginate(nil, 3, "id", nil, false, at); len(rows) != 0 || prev != "" || next != "" {
		t.Errorf("no rows = %v, %q, %q", rows, prev, next)
	}
}

func TestCodec(t *testing.T) {
	type pos struct {
		K  string `json:"k"`
		ID int64  `json:"i"`
	}
	signed, other := keyset.Signed([]byte("one secret")), keyset.Signed([]byte("another"))
	token := signed.Encode(pos{K: "x", ID: 3})
	var got pos
	if !signed.Decode(token, &got) || got != (pos{K: "x", ID: 3}) {
		t.Fatalf("signed round trip = %+v", got)
	}
	for name, bad := range map[string]string{
		"another key":   other.Encode(pos{K: "x", ID: 3}),
		"unsigned":      keyset.Encode(pos{K: "x", ID: 3}),
		"truncated":     token[:len(token)-2],
		"not base64":    "%%%",
		"unknown field": signed.Encode(map[string]any{"k": "x", "i": 3, "z": 1}),
	} {
		if signed.Decode(bad, new(pos)) {
			t.Errorf("%s: a signed Decode took %q", name, bad)
		}
	}
	if !keyset.Decode(keyset.Encode(pos{K: "y", ID: 4}), &got) || got != (pos{K: "y", ID: 4}) {
		t.Errorf("unsigned round trip = %+v", got)
	}
}

type row struct {
	name  string
	total int64
}

var table = keyset.Table[string, row]{
	Keys: []keyset.Key[string, row]{
		{Name: "name", Value: func(r row) string { return r.name }},
		{Name: "total", Value: func(r row) string { return strconv.FormatInt(r.total, 10) }, Valid: keyset.Int},
	},
	Default: keyset.Sort[string]{Key: "total", Desc: true},
}

func TestTable(t *testing.T) {
	if got := table.Orderings(); !slices.Equal(got, []string{"-total", "total", "-name", "name"}) {
		t.Errorf("Orderings = %v", got)
	}
	if s, err := table.Parse(""); err != nil || s != table.Default {
		t.Errorf("Parse(\"\") = %v, %v", s, err)
	}
	if s, err := table.Parse("-name"); err != nil || s != (keyset.Sort[string]{Key: "name", Desc: true}) || s.String() != "-name" {
		t.Errorf("Parse(-name) = %v, %v", s, err)
	}
	for _, bad := range []string{"-", "colour", "-colour"} {
		var errs validator.Errors
		if _, err := table.Parse(bad); !errors.As(err, &errs) || errs["ordering"] != "must be one of name, total, each optionally with a leading -" {
			t.Errorf("Parse(%q): %v", bad, err)
		}
	}
	p := keyset.Params[struct{}, string]{Sort: keyset.Sort[string]{Key: "total"},
		Cursor: keyset.Encode(keyset.Cursor{Sort: "total", Value: "x", ID: 1})}
	if _, _, err := keyset.Start(table, &p); err == nil {
		t.Error("Start took a cursor whose value the key's column cannot take")
	}
	p = keyset.Params[struct{}, string]{Limit: keyset.MaxLimit + 1}
	if _, _, err := keyset.Start(table, &p); err == nil {
		t.Error("Start took a limit above MaxLimit")
	}
}

func TestCountOf(t *testing.T) {
	count := func(n int64) func(int32) (int64, error) {
		return func(max int32) (int64, error) { return min(n, int64(max)), nil }
	}
	tests := []struct {
		estimate, rows int64
		want           keyset.Count
	}{
		{0, 20, keyset.Count{N: 20, Exact: true}},
		{15_000, 20, keyset.Count{N: 20, Exact: true}}, // an estimate off either way is counted
		{100, 15_000, keyset.Count{N: keyset.ExactCountLimit + 1}},
		{15_000, 30_000, keyset.Count{N: 15_000}},
		{2*keyset.ExactCountLimit + 1, 20, keyset.Count{N: 2*keyset.ExactCountLimit + 1}},
	}
	for _, tt := range tests {
		if got, err := keyset.CountOf(tt.estimate, count(tt.rows)); err != nil || got != tt.want {
			t.Errorf("CountOf(estimate %d, %d rows) = %+v, %v; want %+v", tt.estimate, tt.rows, got, err, tt.want)
		}
	}
}
