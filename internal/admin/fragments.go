package admin

import (
	"bytes"
	"html/template"
	"slices"
	"strings"
	"sync"

	"github.com/stockroom-dev/stockroom/internal/generations"
)

// fragments keeps pieces of pages that html/template rendered (a list row), keyed
// by the complete data the piece was rendered from. A template is a pure function
// of its data, so a piece found under equal data is exactly what rendering again
// would write: no version to keep in step, no invalidation to miss. A change to
// anything the piece shows (a name, a stock level, a price's currency, the list the
// row links back to) is a different key, rendered afresh; the old one ages out.
//
// K must hold everything the template reads, and nothing the template reads may
// come from outside it (the viewer, the clock): a permission that decides what the
// piece shows goes into K too.
//
// It holds at most 2×size pieces (a generations.Map): pieces in use stay, the ones
// no page showed for a generation go. No lock is held while rendering, so two
// requests may render the same piece once each.
//
// Making a piece costs an execution of html/template per row: 100 rows of the
// product list spent most of the page's CPU in its reflection and escapers
// (BenchmarkProductList, make bench's S5).
type fragments[K comparable] struct {
	tmpl *template.Template // the template set holding name
	name string             // the template that renders one piece from a K

	mu     sync.Mutex
	pieces generations.Map[K, template.HTML]
	// The pieces of the lists shown lately, joined, by their first key (join).
	pages generations.Map[K, joined[K]]
}

// joined is the pieces for keys, written one after another.
type joined[K comparable] struct {
	keys []K
	html template.HTML
}

// pagesKept is how many joined lists fragments keeps per generation (two): a page
// of 100 product rows is about 60 kB of HTML.
const pagesKept = 16

func newFragments[K comparable](tmpl *template.Template, name string, size int) *fragments[K] {
	return &fragments[K]{tmpl: tmpl, name: name,
		pieces: generations.New[K, template.HTML](size), pages: generations.New[K, joined[K]](pagesKept)}
}

// join returns the pieces for keys written one after another, as a range over them
// would write them (each piece goes from and back to the HTML text context). The
// lists shown lately are kept joined, so a list shown again as it was (the first
// page, reloaded) is neither looked up piece by piece nor copied into a new string:
// joining 100 product rows allocated 60 kB per page view (BenchmarkProductList). A
// kept list is used only when every key is equal, so, like a piece, it is exactly
// what rendering again would write. keys is kept: the caller must not change it.
func (f *fragments[K]) join(keys []K) (template.HTML, error) {
	if len(keys) == 0 {
		return "", nil
	}
	f.mu.Lock()
	p, ok := f.pages.Get(keys[0])
	f.mu.Unlock()
	if ok && slices.Equal(p.keys, keys) {
		return p.html, nil
	}
	pieces, err := f.render(keys)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	n := 0
	for _, p := range pieces {
		n += len(p)
	}
	b.Grow(n)
	for _, p := range pieces {
		b.WriteString(string(p))
	}
	p = joined[K]{keys: keys, html: template.HTML(b.String())} // html/template's own output, in order
	f.mu.Lock()
	f.pages.Put(keys[0], p)
	f.mu.Unlock()
	return p.html, nil
}

// render returns the piece for each key, in order: the kept ones, and the others
// rendered by the template now (and kept).
func (f *fragments[K]) render(keys []K) ([]template.HTML, error) {
	out := make([]template.HTML, len(keys))
	var missing []int
	f.mu.Lock()
	for i, k := range keys {
		if h, ok := f.pieces.Get(k); ok {
			out[i] = h
		} else {
			missing = append(missing, i)
		}
	}
	f.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}

	var buf bytes.Buffer
	for _, i := range missing {
		buf.Reset()
		if err := f.tmpl.ExecuteTemplate(&buf, f.name, keys[i]); err != nil {
			return nil, err
		}
		out[i] = template.HTML(buf.String()) // html/template's own output, escaped in context
	}
	f.mu.Lock()
	for _, i := range missing {
		f.pieces.Put(keys[i], out[i])
	}
	f.mu.Unlock()
	return out, nil
}

// reset forgets every piece, for tests.
func (f *fragments[K]) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pieces.Clear()
	f.pages.Clear()
}

// len is how many pieces are kept, for tests (joined lists aside).
func (f *fragments[K]) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pieces.Len()
}
