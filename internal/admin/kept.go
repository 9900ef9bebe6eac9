package admin

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"html/template"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/stockroom-dev/stockroom/internal/generations"
)

// kept keeps the pieces around a page's content that come out the same from one
// view to the next — the top bar, a list's toolbar, column heads, filters and pager
// — as html/template rendered them, under a key made of every value their data
// holds (appendKey). Like fragments, it relies on a template being a pure function
// of its data: equal data, equal output, so nothing needs invalidating. Unlike
// fragments, the data need not be comparable, which a list's frame (slices of
// filters and links) is not: the key is the data written out, compared in full on
// every hit, so a hash collision renders afresh instead of showing another page's
// piece.
//
// The pieces cost more than the rows: with the rows kept, the product list's
// filters, heads, toolbar and the top bar were about 1,000 of the page's 2,529
// allocations (BenchmarkProductList), most of them html/template's reflection into
// its escapers; writing their data out as a key costs none (a pooled buffer).
type kept struct {
	seed maphash.Seed

	mu     sync.Mutex
	pieces generations.Map[uint64, keptPiece]
}

// keptPiece is a rendered piece and the key it was rendered for.
type keptPiece struct {
	key  string
	html template.HTML
}

// keptSize is how many pieces kept holds per generation: a piece per page and
// list view in use (a few kB each).
const keptSize = 1000

func newKept() *kept {
	return &kept{seed: maphash.MakeSeed(), pieces: generations.New[uint64, keptPiece](keptSize)}
}

// keyBuffers hold keys while they are looked up.
var keyBuffers = sync.Pool{New: func() any { return new([]byte) }}

// keptPart is a template to render and where its output goes.
type keptPart struct {
	name string
	out  *template.HTML
}

// render sets each part's output to its template of t (page's set) executed with
// data: the piece kept for equal data, or a new one, kept. data is written out as a
// key once for all the parts.
func (k *kept) render(t *template.Template, page string, data any, parts ...keptPart) error {
	buf := keyBuffers.Get().(*[]byte)
	defer keyBuffers.Put(buf)
	key := pieceKey((*buf)[:0], page, data)
	n := len(key)
	for _, part := range parts {
		key = append(key[:n], part.name...)
		h := k.hash(key)
		k.mu.Lock()
		p, ok := k.pieces.Get(h)
		k.mu.Unlock()
		if !ok || p.key != string(key) {
			var out bytes.Buffer
			if err := t.ExecuteTemplate(&out, part.name, data); err != nil {
				return err
			}
			p = keptPiece{key: string(key), html: template.HTML(out.String())} // html/template's own output, escaped in context
			k.mu.Lock()
			k.pieces.Put(h, p)
			k.mu.Unlock()
		}
		*part.out = p.html
	}
	*buf = key
	return nil
}

// pieceKey appends the key of page's pieces rendered from data to b; each piece's
// template name follows it.
func pieceKey(b []byte, page string, data any) []byte {
	v := reflect.ValueOf(data)
	b = append(append(b, page...), 0)
	return appendKey(appendKey(b, reflect.ValueOf(v.Type().String())), v)
}

// hash is what a key is kept under.
func (k *kept) hash(key []byte) uint64 { return maphash.Bytes(k.seed, key) }

// reset forgets every piece, for tests.
func (k *kept) reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.pieces.Clear()
}

// appendKey writes v to b so that two values write the same bytes only when they
// are equal, field by field: strings and slices with their length first, a nil
// pointer apart from a pointer to a zero value, a map's entries in key order, an
// interface with its dynamic type. Unexported fields count too. It panics on what
// has no such writing (a func, a channel): a template's data holds neither.
func appendKey(b []byte, v reflect.Value) []byte {
	switch v.Kind() {
	case reflect.Invalid:
		return append(b, 0)
	case reflect.String:
		return append(binary.AppendUvarint(b, uint64(v.Len())), v.String()...)
	case reflect.Bool:
		if v.Bool() {
			return append(b, 1)
		}
		return append(b, 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(b, v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return binary.AppendUvarint(b, v.Uint())
	case reflect.Float32, reflect.Float64:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v.Float()))
	case reflect.Pointer:
		if v.IsNil() {
			return append(b, 0)
		}
		return appendKey(append(b, 1), v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			return append(b, 0)
		}
		e := v.Elem()
		return appendKey(appendKey(append(b, 1), reflect.ValueOf(e.Type().String())), e)
	case reflect.Struct:
		for i := range v.NumField() {
			b = appendKey(b, v.Field(i))
		}
		return b
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return append(b, 0)
		}
		b = binary.AppendUvarint(append(b, 1), uint64(v.Len()))
		for i := range v.Len() {
			b = appendKey(b, v.Index(i))
		}
		return b
	case reflect.Map:
		if v.IsNil() {
			return append(b, 0)
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(x, y reflect.Value) int {
			return bytes.Compare(appendKey(nil, x), appendKey(nil, y))
		})
		b = binary.AppendUvarint(append(b, 1), uint64(len(keys)))
		for _, mk := range keys {
			b = appendKey(appendKey(b, mk), v.MapIndex(mk))
		}
		return b
	}
	panic(fmt.Sprintf("admin: no key for a %s (%s)", v.Kind(), strings.TrimSpace(v.Type().String())))
}
