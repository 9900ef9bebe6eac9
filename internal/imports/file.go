package imports

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/stockroom-dev/stockroom/internal/validator"
)

// MaxFileSize is the largest file an import takes: 50 MiB, about 400,000 rows of
// the product export.
const MaxFileSize = 50 << 20

// The columns of the product export (admin's exportProducts), which an import reads
// back. price_min and price_max carry the currency in their header ("price_min
// (EUR)"). id, variants and updated_at are read-only: variants and updated_at are
// ignored, id is checked against the product the SKU names.
const (
	colID       = "id"
	colName     = "name"
	colSlug     = "slug"
	colStatus   = "status"
	colCategory = "category"
	colSKU      = "sku"
	colVariants = "variants"
	colPriceMin = "price_min"
	colPriceMax = "price_max"
	colStock    = "stock"
	colUpdated  = "updated_at"
)

// knownColumns are the export's columns in its order.
var knownColumns = []string{colID, colName, colSlug, colStatus, colCategory, colSKU, colVariants,
	colPriceMin, colPriceMax, colStock, colUpdated}

// utf8BOM is what spreadsheets put before "CSV UTF-8" files.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// header is a file's first row, understood: which known column each position holds.
type header struct {
	names []string       // as the file spells them, for messages
	index map[string]int // known column → position
	comma rune
}

// has says whether the file has column c.
func (h header) has(c string) bool { _, ok := h.index[c]; return ok }

// label is how messages name column c: as the file's header spells it.
func (h header) label(c string) string {
	if i, ok := h.index[c]; ok {
		return h.names[i]
	}
	return c
}

// checkFile refuses what is not a CSV text file at all, before any row is read: an
// empty file, one over MaxFileSize, binary data (a spreadsheet saved as .xlsx, an
// image). Each message says what to do instead.
func checkFile(data []byte) error {
	switch {
	case len(data) == 0:
		return validator.Errors{"file": "is empty: choose a CSV file with a header row"}
	case len(data) > MaxFileSize:
		return validator.Errors{"file": fmt.Sprintf("is %.1f MiB; the limit is %d MiB: split it into smaller files",
			float64(len(data))/(1<<20), MaxFileSize>>20)}
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return validator.Errors{"file": "is a zip archive (an .xlsx or .ods spreadsheet?), not CSV: save it as \"CSV UTF-8\""}
	}
	// Text has no control bytes but tab, CR and LF; a stray NUL in a cell is the row's
	// error (with its column), many of them are a binary file.
	head := data[:min(len(data), 8<<10)]
	ctl := 0
	for _, b := range head {
		if b < 0x20 && b != '\t' && b != '\r' && b != '\n' {
			ctl++
		}
	}
	if ctl > 8 && ctl > len(head)/100 {
		return validator.Errors{"file": "is binary data, not CSV text (an image, a spreadsheet in its own format?): save it as \"CSV UTF-8\""}
	}
	return nil
}

// newReader reads the rows of data (without a BOM) with the delimiter detected from
// the header line: a semicolon when it has more semicolons than commas outside
// quotes (what spreadsheets write in locales with a decimal comma), else a comma.
func newReader(data []byte) (*csv.Reader, rune) {
	data = bytes.TrimPrefix(data, utf8BOM)
	comma := detectComma(data)
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = comma
	r.ReuseRecord = true
	return r, comma
}

func detectComma(data []byte) rune {
	line := data
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	commas, semis, quoted := 0, 0, false
	for _, b := range line {
		switch {
		case b == '"':
			quoted = !quoted
		case quoted:
		case b == ',':
			commas++
		case b == ';':
			semis++
		}
	}
	if semis > commas {
		return ';'
	}
	return ','
}

// readHeader reads and checks the first row: every column known, none twice, sku
// present, prices in the shop's currency. Its error is validator.Errors on "file".
func readHeader(r *csv.Reader, comma rune, currency string) (header, error) {
	rec, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return header{}, validator.Errors{"file": "has no header row"}
		}
		return header{}, validator.Errors{"file": "row 1 (the header): " + csvMessage(err)}
	}
	h := header{names: make([]string, len(rec)), index: map[string]int{}, comma: comma}
	var problems []string
	for i, cell := range rec {
		h.names[i] = cell
		if !utf8.ValidString(cell) {
			return header{}, validator.Errors{"file": fmt.Sprintf("row 1 (the header), column %d: is not UTF-8 text: save the file as \"CSV UTF-8\"", i+1)}
		}
		name := strings.ToLower(strings.TrimSpace(cell))
		if base, cur, ok := strings.Cut(name, " ("); ok && (base == colPriceMin || base == colPriceMax) {
			cur = strings.TrimSuffix(cur, ")")
			if !strings.EqualFold(cur, currency) {
				problems = append(problems, fmt.Sprintf("column %d %q is in %s, but this shop's prices are in %s",
					i+1, cell, strings.ToUpper(cur), currency))
				continue
			}
			name = base
		}
		switch {
		case name == "":
			problems = append(problems, fmt.Sprintf("column %d has no name", i+1))
		case !isKnown(name):
			problems = append(problems, fmt.Sprintf("column %d %q is not a column of the product export", i+1, cell))
		default:
			if first, dup := h.index[name]; dup {
				problems = append(problems, fmt.Sprintf("column %d %q repeats column %d", i+1, cell, first+1))
				continue
			}
			h.index[name] = i
		}
	}
	if !h.has(colSKU) && len(problems) == 0 {
		problems = append(problems, `the required column "sku" is missing (it says which product or variant a row is)`)
	}
	if len(problems) > 0 {
		return header{}, validator.Errors{"file": "row 1 (the header): " + strings.Join(problems, "; ") +
			". The columns are those of the product export: " + strings.Join(knownColumns, ", ") +
			"; leave out a column to leave that field alone"}
	}
	r.FieldsPerRecord = len(rec)
	return h, nil
}

func isKnown(name string) bool {
	for _, c := range knownColumns {
		if c == name {
			return true
		}
	}
	return false
}

// csvMessage says what encoding/csv found wrong, without its line prefix (the
// caller names the row).
func csvMessage(err error) string {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err.Error()
	}
	switch {
	case errors.Is(pe.Err, csv.ErrQuote):
		return "a quoted cell is not closed, or a quote inside a cell is not doubled (\"\"); the rest of the file was not read"
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return "a cell has a quote but is not in quotes: put the cell in quotes and double the quote inside (\"\")"
	}
	return pe.Err.Error()
}

// unDefuse undoes the export's guard against spreadsheet formulas: the export writes
// a cell starting with = + - @ tab or CR with a leading apostrophe, so reading one
// back drops it. The text is stored as text either way, never evaluated.
func unDefuse(cell string) string {
	if len(cell) > 1 && cell[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(cell[1])) {
		return cell[1:]
	}
	return cell
}

// lineOf returns a function that gives line n (from 1) of data, for messages.
func lineOf(data []byte) func(n int) string {
	return func(n int) string {
		for i := 1; i < n; i++ {
			j := bytes.IndexByte(data, '\n')
			if j < 0 {
				return ""
			}
			data = data[j+1:]
		}
		if j := bytes.IndexByte(data, '\n'); j >= 0 {
			data = data[:j]
		}
		return string(data)
	}
}
