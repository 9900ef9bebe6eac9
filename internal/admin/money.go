package admin

import (
	"strconv"
	"strings"

	stockmoney "github.com/stockroom-dev/stockroom/internal/money"
)

// money shows amounts in minor units (cents) in the shop's currency, and reads
// them back from what staff type: "12.50" for 1250 cents in EUR, "1250" for 1250
// yen. Amounts are stored in minor units everywhere; this is only their text.
type money struct {
	code     string // ISO 4217, as configured
	decimals int    // digits of the minor unit
}

func moneyOf(code string) money {
	if code == "" {
		code = "EUR"
	}
	return money{code: code, decimals: stockmoney.Digits(code)}
}

// plain writes cents as a decimal without grouping: "1234.50", what a form input
// holds and a CSV cell carries.
func (m money) plain(cents int64) string {
	return stockmoney.Plain(cents, m.decimals)
}

// format writes cents for reading: "1,234.50".
func (m money) format(cents int64) string {
	var b [32]byte
	return string(m.appendFormat(b[:0], cents))
}

// formatRange writes a product's price span: one amount when its variants agree.
// Each row of the product list shows one, so it is written in one buffer: building it
// from strings was five allocations a row.
func (m money) formatRange(lo, hi int64) string {
	var b [72]byte
	out := m.appendFormat(b[:0], lo)
	if lo != hi {
		out = m.appendFormat(append(out, "–"...), hi)
	}
	return string(out)
}

// appendFormat appends format(cents) to dst: the whole units grouped, then the
// minor ones (as many digits as the currency has), and a minus for any amount
// below zero, "-0.01" included.
func (m money) appendFormat(dst []byte, cents int64) []byte {
	dst, u := appendSign(dst, cents)
	unit := uint64(1)
	for range m.decimals {
		unit *= 10
	}
	dst = appendGrouped(dst, u/unit)
	if m.decimals > 0 {
		dst = append(dst, '.')
		var f [20]byte
		frac := strconv.AppendUint(f[:0], u%unit, 10) // not in dst: it is padded first
		for range m.decimals - len(frac) {
			dst = append(dst, '0')
		}
		dst = append(dst, frac...)
	}
	return dst
}

// parse reads an amount as typed: digits with at most the currency's decimals after
// a point (or a comma, as many write it), an optional minus. A minus is read, not
// refused: whether an amount may be negative is the catalog's rule, and its message
// is the one to show. ok is false for anything that is not an amount.
func (m money) parse(s string) (cents int64, ok bool) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, ".") && strings.Count(s, ",") == 1 {
		s = strings.Replace(s, ",", ".", 1)
	}
	return stockmoney.ParsePlain(s, m.decimals)
}
