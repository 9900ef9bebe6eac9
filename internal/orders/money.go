package orders

import (
	"errors"
	"math"
)

// Money is integer minor units (cents) everywhere: no amount passes through a
// float, so 0.10 + 0.20 is 30 cents and a total near 2^53 keeps its last digit.

// MaxTaxRate is the highest tax rate in basis points: 100%.
const MaxTaxRate = 10_000

// errOverflow is what the sums return when an amount does not fit an int64. The
// input limits keep every real order far below it; it guards the arithmetic, not
// the user.
var errOverflow = errors.New("amount out of range")

// Tax returns bps basis points (1/100 of a percent: 1900 is 19%) of amount, rounded
// half up to a whole cent, in integer arithmetic. amount is split into whole
// 10,000s and the rest so that no intermediate product can overflow: for any amount
// up to math.MaxInt64 and bps up to MaxTaxRate the result is exact.
func Tax(amount int64, bps int) (int64, error) {
	if amount < 0 || bps < 0 || bps > MaxTaxRate {
		return 0, errOverflow
	}
	q, r := amount/10_000, amount%10_000
	// q*bps <= (MaxInt64/10,000)*10,000 and r*bps < 10^8: neither overflows, and the
	// sum is at most amount.
	return q*int64(bps) + (r*int64(bps)+5_000)/10_000, nil
}

// mulCents returns a*b for non-negative a and b, or errOverflow.
func mulCents(a, b int64) (int64, error) {
	if a < 0 || b < 0 {
		return 0, errOverflow
	}
	if a != 0 && b > math.MaxInt64/a {
		return 0, errOverflow
	}
	return a * b, nil
}

// addCents returns the sum of non-negative amounts, or errOverflow.
func addCents(amounts ...int64) (int64, error) {
	var sum int64
	for _, a := range amounts {
		if a < 0 || a > math.MaxInt64-sum {
			return 0, errOverflow
		}
		sum += a
	}
	return sum, nil
}

// Totals is an order's money, every figure computed here from the variants' current
// prices: nothing a client sends is taken as an amount except shipping.
type Totals struct {
	Subtotal int64 // the lines' totals
	Shipping int64
	Tax      int64 // TaxRate of subtotal plus shipping, rounded half up
	Total    int64 // Subtotal + Shipping + Tax
}

// Line is one priced line: what ComputeTotals sums.
type Line struct {
	UnitPrice int64
	Quantity  int64
}

// ComputeTotals prices lines and shipping at tax rate bps (basis points). Tax is
// charged on the goods and the shipping, as VAT is. Each line's total is returned
// in order, for the line snapshots.
func ComputeTotals(lines []Line, shipping int64, bps int) (Totals, []int64, error) {
	lineTotals := make([]int64, len(lines))
	var t Totals
	var err error
	for i, l := range lines {
		if lineTotals[i], err = mulCents(l.UnitPrice, l.Quantity); err != nil {
			return Totals{}, nil, err
		}
		if t.Subtotal, err = addCents(t.Subtotal, lineTotals[i]); err != nil {
			return Totals{}, nil, err
		}
	}
	t.Shipping = shipping
	base, err := addCents(t.Subtotal, shipping)
	if err != nil {
		return Totals{}, nil, err
	}
	if t.Tax, err = Tax(base, bps); err != nil {
		return Totals{}, nil, err
	}
	if t.Total, err = addCents(base, t.Tax); err != nil {
		return Totals{}, nil, err
	}
	return t, lineTotals, nil
}
