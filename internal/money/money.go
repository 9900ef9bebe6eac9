// Package money holds what every transport and the import need to know about the
// shop's currency: how many digits its minor unit has, and amounts as plain text
// ("1234.50") the way forms and CSV files carry them. Amounts are minor units
// (cents) everywhere else.
package money

import (
	"strconv"
	"strings"
)

// minorDigits lists the ISO 4217 currencies whose minor unit is not a hundredth.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// Digits is how many digits the minor unit of currency code has: 2 for EUR, 0 for
// JPY, 3 for KWD.
func Digits(code string) int {
	if d, ok := minorDigits[code]; ok {
		return d
	}
	return 2
}

// Plain writes cents as a decimal without grouping, with exactly digits decimals:
// "1234.50" for 123450 with 2.
func Plain(cents int64, digits int) string {
	neg := cents < 0
	if neg {
		cents = -cents
	}
	s := strconv.FormatInt(cents, 10)
	if digits > 0 {
		if len(s) <= digits {
			s = strings.Repeat("0", digits-len(s)+1) + s
		}
		s = s[:len(s)-digits] + "." + s[len(s)-digits:]
	}
	if neg {
		return "-" + s
	}
	return s
}

// ParsePlain reads what Plain writes, and only that: digits, optionally a point and
// at most digits decimals, optionally a leading minus (whether an amount may be
// negative is the catalog's rule, so a minus is read, not refused). Grouping commas,
// decimal commas, currency signs and spaces inside are not amounts: ok is false.
func ParsePlain(s string, digits int) (cents int64, ok bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" || len(whole) > 15 || !allDigits(whole) || !allDigits(frac) || len(frac) > digits ||
		hasPoint && (frac == "" || digits == 0) {
		return 0, false
	}
	frac += strings.Repeat("0", digits-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
