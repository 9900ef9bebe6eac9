package orders_test

import (
	"math"
	"math/big"
	"slices"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/orders"
)

// exactTax is Tax done with arbitrary precision: amount*bps/10,000 rounded half up.
func exactTax(amount int64, bps int) int64 {
	n := new(big.Int).Mul(big.NewInt(amount), big.NewInt(int64(bps)))
	n.Add(n, big.NewInt(5_000))
	return n.Quo(n, big.NewInt(10_000)).Int64()
}

// floatTax is the tax as float64 arithmetic would have it: what the cases below
// show going wrong.
func floatTax(amount int64, bps int) int64 {
	return int64(math.Round(float64(amount) / 100 * (float64(bps) / 10_000) * 100))
}

func TestTax(t *testing.T) {
	tests := []struct {
		name   string
		amount int64
		bps    int
		want   int64
	}{
		{"zero rate", 12_345, 0, 0},
		{"whole", 10_000, 1_900, 1_900},
		{"rounds down below half", 1_234, 1_900, 234}, // 234.46
		{"half rounds up", 35, 1_000, 4},              // 3.5: float64 makes it 3.4999…
		{"half rounds up again", 145, 1_000, 15},      // 14.5: float64 says 14
		{"half at 5%", 290, 500, 15},                  // 14.5
		{"one cent at 19%", 1, 1_900, 0},              // 0.19
		{"three cents at 19%", 3, 1_900, 1},           // 0.57
		{"100%", 987_654_321, 10_000, 987_654_321},
		{"near 2^53", 9_007_199_254_740_955, 1_900, 1_711_367_858_400_781},
		{"2^53", 1 << 53, 1_900, 1_711_367_858_400_788},
		{"2^53+1 at 100%", 1<<53 + 1, 10_000, 1<<53 + 1},
		{"max int64", math.MaxInt64, 10_000, math.MaxInt64},
		{"max int64 at 19%", math.MaxInt64, 1_900, exactTax(math.MaxInt64, 1_900)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := orders.Tax(tt.amount, tt.bps)
			if err != nil {
				t.Fatalf("Tax(%d, %d): %v", tt.amount, tt.bps, err)
			}
			if got != tt.want {
				t.Errorf("Tax(%d, %d) = %d, want %d", tt.amount, tt.bps, got, tt.want)
			}
			if exact := exactTax(tt.amount, tt.bps); got != exact {
				t.Errorf("Tax(%d, %d) = %d, but exactly it is %d", tt.amount, tt.bps, got, exact)
			}
		})
	}
}

// TestTaxBeatsFloat documents that the cases above are ones float64 gets wrong, so
// that the test above proves something.
func TestTaxBeatsFloat(t *testing.T) {
	for _, c := range []struct {
		amount int64
		bps    int
	}{{35, 1_000}, {145, 1_000}, {290, 500}, {9_007_199_254_740_955, 1_900}, {1<<53 + 1, 10_000}} {
		if floatTax(c.amount, c.bps) == exactTax(c.amount, c.bps) {
			t.Errorf("float64 gets %d at %d bps right: not a case that breaks floats", c.amount, c.bps)
		}
	}
	ten, twenty := 0.10, 0.20 // variables: constants would be added exactly by the compiler
	if ten+twenty == 0.30 {
		t.Error("float64 adds 0.10 and 0.20 exactly here: the premise of cents fails")
	}
}

func TestTaxRefuses(t *testing.T) {
	for _, c := range []struct {
		amount int64
		bps    int
	}{{-1, 100}, {100, -1}, {100, orders.MaxTaxRate + 1}} {
		if _, err := orders.Tax(c.amount, c.bps); err == nil {
			t.Errorf("Tax(%d, %d): no error", c.amount, c.bps)
		}
	}
}

func TestComputeTotals(t *testing.T) {
	tests := []struct {
		name       string
		lines      []orders.Line
		shipping   int64
		bps        int
		want       orders.Totals
		lineTotals []int64
	}{
		{
			// 0.10 + 0.20 is 0.30000000000000004 in float64; in cents it is 30.
			name:       "ten and twenty cents",
			lines:      []orders.Line{{UnitPrice: 10, Quantity: 1}, {UnitPrice: 20, Quantity: 1}},
			bps:        0,
			want:       orders.Totals{Subtotal: 30, Total: 30},
			lineTotals: []int64{10, 20},
		},
		{
			name:       "tax on goods and shipping",
			lines:      []orders.Line{{UnitPrice: 1_999, Quantity: 3}},
			shipping:   495,
			bps:        1_900,
			want:       orders.Totals{Subtotal: 5_997, Shipping: 495, Tax: 1_233, Total: 7_725}, // 6,492 × 19% = 1,233.48
			lineTotals: []int64{5_997},
		},
		{
			// Nine lines of 99,999,999,999 × 10,000 and one of 719,925,483 × 10,000
			// plus 955 shipping is 9,007,199,254,740,955: past 2^53, where float64
			// cannot hold every integer.
			name: "past 2^53",
			lines: append(repeat(orders.Line{UnitPrice: 99_999_999_999, Quantity: 10_000}, 9),
				orders.Line{UnitPrice: 719_925_483, Quantity: 10_000}),
			shipping: 955,
			bps:      1_900,
			want: orders.Totals{Subtotal: 9_007_199_254_740_000, Shipping: 955, Tax: 1_711_367_858_400_781,
				Total: 10_718_567_113_141_736},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, lineTotals, err := orders.ComputeTotals(tt.lines, tt.shipping, tt.bps)
			if err != nil {
				t.Fatalf("ComputeTotals: %v", err)
			}
			if got != tt.want {
				t.Errorf("ComputeTotals = %+v, want %+v", got, tt.want)
			}
			if got.Total != got.Subtotal+got.Shipping+got.Tax {
				t.Errorf("total %d is not subtotal + shipping + tax", got.Total)
			}
			if tt.lineTotals != nil && !slices.Equal(lineTotals, tt.lineTotals) {
				t.Errorf("line totals = %v, want %v", lineTotals, tt.lineTotals)
			}
		})
	}
}

func TestComputeTotalsOverflow(t *testing.T) {
	tests := []struct {
		name     string
		lines    []orders.Line
		shipping int64
	}{
		{"line", []orders.Line{{UnitPrice: math.MaxInt64 / 2, Quantity: 3}}, 0},
		{"subtotal", []orders.Line{{UnitPrice: math.MaxInt64, Quantity: 1}, {UnitPrice: 1, Quantity: 1}}, 0},
		{"shipping", []orders.Line{{UnitPrice: math.MaxInt64, Quantity: 1}}, 1},
		{"tax", []orders.Line{{UnitPrice: math.MaxInt64 - 10, Quantity: 1}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := orders.ComputeTotals(tt.lines, tt.shipping, 1_900); err == nil {
				t.Error("ComputeTotals: no error")
			}
		})
	}
}

func repeat(l orders.Line, n int) []orders.Line {
	out := make([]orders.Line, n)
	for i := range out {
		out[i] = l
	}
	return out
}
