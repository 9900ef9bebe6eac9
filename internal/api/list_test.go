package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/keyset"
)

// seedWidgets inserts n widgets named n00, n01, ... in a scrambled order (name
// order is not id order) and returns the names in id order.
func seedWidgets(t testing.TB, h *harness, n int) []string {
	t.Helper()
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("n%03d", (i*7)%n) // 7 is coprime with the sizes used
	}
	h.exec(t, `INSERT INTO widgets (name) SELECT n FROM unnest($1::text[]) WITH ORDINALITY AS u(n, i) ORDER BY i`, names)
	return names
}

// walk follows next_cursor from path until has_more is false and returns every item
// seen, failing on a malformed envelope.
func walk[T any](t testing.TB, h *harness, tok, path string) []T {
	t.Helper()
	var seen []T
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	next := path
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("the walk does not end")
		}
		var page list[T]
		h.call(t, "GET", next, tok, "").want(t, 200).decode(t, &page)
		seen = append(seen, page.Data...)
		if page.HasMore != (page.NextCursor != nil) {
			t.Fatalf("has_more %v with next_cursor %v", page.HasMore, page.NextCursor)
		}
		if !page.HasMore {
			return seen
		}
		next = path + sep + "cursor=" + url.QueryEscape(*page.NextCursor)
	}
}

// names walks a list of widgets and returns their names.
func names(t testing.TB, h *harness, tok, path string) []string {
	t.Helper()
	var out []string
	for _, w := range walk[widget](t, h, tok, path) {
		out = append(out, w.Name)
	}
	return out
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.writer(t)
	byID := seedWidgets(t, h, 25)
	byName := slices.Sorted(slices.Values(byID))
	desc := slices.Clone(byName)
	slices.Reverse(desc)
	var matching []string // names containing "1"
	for _, n := range byID {
		if strings.Contains(n, "1") {
			matching = append(matching, n)
		}
	}
	tests := []struct {
		path string
		want []string
	}{
		{"/api/v1/widgets", byID},
		{"/api/v1/widgets?limit=7", byID},
		{"/api/v1/widgets?limit=1", byID},
		{"/api/v1/widgets?limit=25", byID},
		{"/api/v1/widgets?limit=7&ordering=name", byName},
		{"/api/v1/widgets?ordering=-name&limit=4", desc},
		{"/api/v1/widgets?limit=3&q=1", matching},
		{"/api/v1/widgets?q=nothing", nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := names(t, h, tok, tt.path); !slices.Equal(got, tt.want) {
				t.Errorf("walk = %v\nwant  %v", got, tt.want)
			}
		})
	}
	var page list[widget]
	h.call(t, "GET", "/api/v1/widgets?q=nothing", tok, "").want(t, 200).decode(t, &page)
	if page.Data == nil || page.NextCursor != nil || page.HasMore {
		t.Errorf("empty page = %+v, want data [] and no cursor", page)
	}
}

// Rows inserted during a walk never make it skip or repeat a row that was there
// before it started.
func TestListWalkWhileInserting(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.writer(t)
	before := seedWidgets(t, h, 101)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 300 { // bounded: an id-ordered walk must be able to catch up
			select {
			case <-stop:
				return
			default:
			}
			// Names that sort between and around the existing ones.
			_, err := h.st.Pool().Exec(context.Background(), `INSERT INTO widgets (name) VALUES ($1), ($2)`,
				fmt.Sprintf("n%03d-%d", i%101, i), fmt.Sprintf("a%d", i))
			if err != nil {
				t.Error(err)
				return
			}
		}
	})
	for _, ordering := range []string{"id", "name", "-name"} {
		onceEach(t, ordering, names(t, h, tok, "/api/v1/widgets?limit=7&ordering="+ordering), before)
	}
	close(stop)
	wg.Wait()
}

// onceEach fails unless a walk in ordering saw every one of want exactly once.
func onceEach[K comparable](t *testing.T, ordering string, seen, want []K) {
	t.Helper()
	count := map[K]int{}
	for _, k := range seen {
		count[k]++
	}
	for _, k := range want {
		if count[k] != 1 {
			t.Errorf("ordering %s: %v seen %d times, want once", ordering, k, count[k])
		}
	}
}

func TestListRefusesBadParameters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.writer(t)
	seedWidgets(t, h, 5)
	first := func(query string) string {
		var page list[widget]
		h.call(t, "GET", "/api/v1/widgets?limit=2"+query, tok, "").want(t, 200).decode(t, &page)
		return *page.NextCursor
	}
	good := first("")
	byName := first("&ordering=name")
	filtered := first("&q=n")
	tampered := []byte(good)
	tampered[5] ^= 1 // one bit anywhere breaks the signature
	other := &Server{cursors: keyset.Signed([]byte("another server's key, 32 bytes!"))}
	forged := other.cursors.Encode(cursor{Ordering: "id", Filter: fingerprint("/api/v1/widgets", url.Values{}), ID: 1})
	foreign := h.api.cursors.Encode(cursor{Ordering: "id", Filter: fingerprint("/api/v1/products", url.Values{}), ID: 1})
	tests := []struct {
		name, query, field string
	}{
		{"limit 0", "limit=0", "limit"},
		{"limit 201", "limit=201", "limit"},
		{"limit not a number", "limit=ten", "limit"},
		{"limit twice", "limit=5&limit=6", "limit"},
		{"unknown ordering", "ordering=price", "ordering"},
		{"unknown parameter", "colour=red", "colour"},
		{"tampered cursor", "cursor=" + string(tampered), "cursor"},
		{"garbage cursor", "cursor=%21%21%21", "cursor"},
		{"short cursor", "cursor=AAAA", "cursor"},
		{"cursor of another key", "cursor=" + forged, "cursor"},
		{"cursor of another list", "cursor=" + foreign, "cursor"},
		{"cursor of another ordering", "ordering=-name&cursor=" + byName, "cursor"},
		{"cursor without its ordering", "cursor=" + byName, "cursor"},
		{"cursor of other filters", "q=x&cursor=" + filtered, "cursor"},
		{"cursor without its filters", "cursor=" + filtered, "cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := h.call(t, "GET", "/api/v1/widgets?"+tt.query, tok, "").want(t, 400).problem(t)
			if len(p.Errors) != 1 || p.Errors[0].Field != tt.field {
				t.Errorf("errors %+v, want one on %s", p.Errors, tt.field)
			}
		})
	}
	// The same cursor with the same filters, and a different limit, still works.
	h.call(t, "GET", "/api/v1/widgets?limit=3&q=n&cursor="+filtered, tok, "").want(t, 200)
}

func TestETagsAndPreconditions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.writer(t)
	created := h.call(t, "POST", "/api/v1/widgets", tok, `{"name":"w","note":"n"}`).want(t, 201)
	var w widget
	created.decode(t, &w)
	item := fmt.Sprintf("/api/v1/widgets/%d", w.ID)
	v1 := created.header.Get("ETag")
	if got := h.call(t, "GET", item, tok, "").want(t, 200).header.Get("ETag"); got != v1 || !strings.HasPrefix(v1, fmt.Sprintf(`"%d-1-`, w.ID)) {
		t.Fatalf("GET ETag %s, POST ETag %s: want the same \"id-version-digest\"", got, v1)
	}
	otherTag := h.call(t, "POST", "/api/v1/widgets", tok, `{"name":"other"}`).want(t, 201).header.Get("ETag")
	for _, tt := range []struct {
		inm    string
		status int
	}{
		{v1, 304}, {"W/" + v1, 304}, {`"x", ` + v1, 304}, {"*", 304}, {otherTag, 200}, {`"nonsense"`, 200},
	} {
		r := h.call(t, "GET", item, tok, "", "If-None-Match", tt.inm).want(t, tt.status)
		if tt.status == 304 && (len(r.body) != 0 || r.header.Get("ETag") != v1) {
			t.Errorf("If-None-Match %s: 304 with body %q, ETag %q", tt.inm, r.body, r.header.Get("ETag"))
		}
	}
	// Each step runs on what the steps before it left; tags[n] is the ETag at version n.
	tags := map[int32]string{1: v1}
	steps := []struct {
		name, method string
		ifMatch      func() string
		body         string
		status       int
		version      int32 // stored afterwards
		note         *string
	}{
		{"another widget's tag", "PATCH", func() string { return otherTag }, `{"name":"x"}`, 412, 1, ptr("n")},
		{"weak tag never matches", "PATCH", func() string { return "W/" + tags[1] }, `{"name":"x"}`, 412, 1, ptr("n")},
		{"malformed tag", "PATCH", func() string { return "nonsense" }, `{"name":"x"}`, 412, 1, ptr("n")},
		{"current", "PATCH", func() string { return tags[1] }, `{"name":"w2"}`, 200, 2, ptr("n")},
		{"stale", "PATCH", func() string { return tags[1] }, `{"name":"x"}`, 412, 2, ptr("n")},
		{"list naming the current", "PATCH", func() string { return `"x", ` + tags[2] }, `{"note":null}`, 200, 3, nil},
		{"any", "PATCH", func() string { return "*" }, `{"note":"m"}`, 200, 4, ptr("m")},
		{"no If-Match: last writer wins", "PATCH", func() string { return "" }, `{}`, 200, 5, ptr("m")},
		{"stale delete", "DELETE", func() string { return tags[3] }, "", 412, 5, ptr("m")},
	}
	for _, tt := range steps {
		var headers []string
		if m := tt.ifMatch(); m != "" {
			headers = []string{"If-Match", m}
		}
		r := h.call(t, tt.method, item, tok, tt.body, headers...)
		if r.status != tt.status {
			t.Fatalf("%s: status %d, want %d: %s", tt.name, r.status, tt.status, r.body)
		}
		got := h.call(t, "GET", item, tok, "").want(t, 200)
		var now widget
		got.decode(t, &now)
		if now.Version != tt.version || (now.Note == nil) != (tt.note == nil) || now.Note != nil && *now.Note != *tt.note {
			t.Errorf("%s: stored %+v, want version %d, note %v", tt.name, now, tt.version, tt.note)
		}
		tags[now.Version] = got.header.Get("ETag")
		if tt.status == 200 && r.header.Get("ETag") != tags[now.Version] {
			t.Errorf("%s: response ETag %s, GET says %s", tt.name, r.header.Get("ETag"), tags[now.Version])
		}
	}
	h.call(t, "DELETE", item, tok, "", "If-Match", tags[5]).want(t, 204)
	h.call(t, "GET", item, tok, "").want(t, 404)
	h.call(t, "DELETE", item, tok, "").want(t, 404)
	h.call(t, "PATCH", item, tok, `{"name":"x"}`, "If-Match", tags[5]).want(t, 404)
}

// Two clients read the same widget and both PATCH with their If-Match: one wins,
// the other gets 412, and the row holds exactly the winner's change.
func TestConcurrentPatchesOneWins(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.writer(t)
	for round := range 10 {
		var w widget
		r := h.call(t, "POST", "/api/v1/widgets", tok, fmt.Sprintf(`{"name":"r%d"}`, round)).want(t, 201)
		r.decode(t, &w)
		item := fmt.Sprintf("/api/v1/widgets/%d", w.ID)
		tag := r.header.Get("ETag")
		results := make([]response, 2)
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				results[i] = h.call(t, "PATCH", item, tok, fmt.Sprintf(`{"note":"client %d"}`, i), "If-Match", tag)
			})
		}
		wg.Wait()
		var won []int
		for i, r := range results {
			switch r.status {
			case 200:
				won = append(won, i)
			case 412:
			default:
				t.Fatalf("client %d: status %d %s", i, r.status, r.body)
			}
		}
		var now widget
		h.call(t, "GET", item, tok, "").want(t, 200).decode(t, &now)
		if len(won) != 1 || now.Version != 2 || now.Note == nil || *now.Note != fmt.Sprintf("client %d", won[0]) {
			t.Fatalf("round %d: winners %v, stored %+v; want one winner and its change alone", round, won, now)
		}
	}
}

// GET /api/v1/me runs one statement (the token lookup joined with its user and
// permissions), and a list two, however long the page.
func TestQueryBudget(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.writer(t)
	seedWidgets(t, h, 60)
	h.call(t, "GET", "/api/v1/me", tok, "").want(t, 200) // the first use writes last_used_at
	tests := []struct {
		path string
		want int
	}{
		{"/api/v1/me", 1},
		{"/api/v1/widgets?limit=1", 2},
		{"/api/v1/widgets?limit=50", 2},
		{"/api/v1/widgets?limit=200", 2},
	}
	for _, tt := range tests {
		h.counter.Reset()
		h.call(t, "GET", tt.path, tok, "").want(t, 200)
		if got := h.counter.Count(); got != tt.want {
			t.Errorf("GET %s: %d statements, want %d:\n%s", tt.path, got, tt.want, h.counter.Statements())
		}
	}
}

func BenchmarkMe(b *testing.B) {
	h := newHarness(b)
	tok := h.writer(b)
	req := httptest.NewRequest("GET", "/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req.WithContext(context.Background()))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
