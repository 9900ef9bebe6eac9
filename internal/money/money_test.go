package money_test

import (
	"testing"

	"github.com/stockroom-dev/stockroom/internal/money"
)

func TestParsePlain(t *testing.T) {
	tests := []struct {
		in     string
		digits int
		want   int64
		ok     bool
	}{
		{"12.50", 2, 1250, true},
		{"12.5", 2, 1250, true},
		{"12", 2, 1200, true},
		{"0.01", 2, 1, true},
		{"-3.00", 2, -300, true},
		{"1250", 0, 1250, true},
		{"1.250", 3, 1250, true},
		{"12,50", 2, 0, false},
		{"1,250.00", 2, 0, false},
		{"€12.50", 2, 0, false},
		{"12.50 EUR", 2, 0, false},
		{"12.505", 2, 0, false},
		{"12.", 2, 0, false},
		{".5", 2, 0, false},
		{"12.5", 0, 0, false},
		{"", 2, 0, false},
		{"1e3", 2, 0, false},
		{"9999999999999999", 2, 0, false},
	}
	for _, tt := range tests {
		got, ok := money.ParsePlain(tt.in, tt.digits)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParsePlain(%q, %d) = %d, %v; want %d, %v", tt.in, tt.digits, got, ok, tt.want, tt.ok)
		}
		if ok {
			if back, _ := money.ParsePlain(money.Plain(got, tt.digits), tt.digits); back != got {
				t.Errorf("Plain(%d) does not read back: %d", got, back)
			}
		}
	}
}

func TestDigits(t *testing.T) {
	for code, want := range map[string]int{"EUR": 2, "JPY": 0, "KWD": 3, "XYZ": 2} {
		if got := money.Digits(code); got != want {
			t.Errorf("Digits(%s) = %d, want %d", code, got, want)
		}
	}
}
