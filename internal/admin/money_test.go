package admin

import (
	"math"
	"testing"
)

func TestMoney(t *testing.T) {
	t.Parallel()
	eur, jpy, kwd := moneyOf("EUR"), moneyOf("JPY"), moneyOf("KWD")
	formats := []struct {
		m     money
		cents int64
		plain string
		shown string
	}{
		{eur, 0, "0.00", "0.00"},
		{eur, 5, "0.05", "0.05"},
		{eur, 1250, "12.50", "12.50"},
		{eur, 123456789, "1234567.89", "1,234,567.89"},
		{eur, -1, "-0.01", "-0.01"},
		{jpy, 1250, "1250", "1,250"},
		{kwd, 1250, "1.250", "1.250"},
		{eur, -50, "-0.50", "-0.50"},
		{eur, -123456789, "-1234567.89", "-1,234,567.89"},
		{eur, 100000, "1000.00", "1,000.00"},
		{eur, 99999, "999.99", "999.99"},
		{jpy, 0, "0", "0"},
		{jpy, -1000, "-1000", "-1,000"},
		{kwd, 1, "0.001", "0.001"},
		{kwd, -1234567, "-1234.567", "-1,234.567"},
		{eur, 99999999999999, "999999999999.99", "999,999,999,999.99"},
	}
	for _, tt := range formats {
		if got := tt.m.plain(tt.cents); got != tt.plain {
			t.Errorf("%s plain(%d) = %q, want %q", tt.m.code, tt.cents, got, tt.plain)
		}
		if got := tt.m.format(tt.cents); got != tt.shown {
			t.Errorf("%s format(%d) = %q, want %q", tt.m.code, tt.cents, got, tt.shown)
		}
		if back, ok := tt.m.parse(tt.plain); !ok || back != tt.cents {
			t.Errorf("%s parse(%q) = %d, %t; want %d", tt.m.code, tt.plain, back, ok, tt.cents)
		}
	}
	parses := []struct {
		m    money
		in   string
		want int64
		ok   bool
	}{
		{eur, "12", 1200, true},
		{eur, " 12.5 ", 1250, true},
		{eur, "12,50", 1250, true},
		{eur, "-1", -100, true}, // read; the catalog refuses it with its own message
		{eur, "12.345", 0, false},
		{eur, "12.", 0, false},
		{eur, ".5", 0, false},
		{eur, "1,234.50", 0, false},
		{eur, "ten", 0, false},
		{eur, "", 0, false},
		{eur, "1e3", 0, false},
		{eur, "9999999999999999", 0, false},
		{jpy, "1250", 1250, true},
		{jpy, "12.50", 0, false},
	}
	for _, tt := range parses {
		got, ok := tt.m.parse(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s parse(%q) = %d, %t; want %d, %t", tt.m.code, tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if got := eur.formatRange(1000, 1000); got != "10.00" {
		t.Errorf("formatRange of one price = %q", got)
	}
	if got := eur.formatRange(1000, 250000); got != "10.00–2,500.00" {
		t.Errorf("formatRange = %q", got)
	}
	if got := jpy.formatRange(-5, 1234567); got != "-5–1,234,567" {
		t.Errorf("formatRange = %q", got)
	}
}

func TestGroupDigits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1,000"}, {12345, "12,345"}, {123456, "123,456"},
		{1234567, "1,234,567"}, {-1, "-1"}, {-999, "-999"}, {-1000, "-1,000"}, {-1234567, "-1,234,567"},
		{math.MaxInt64, "9,223,372,036,854,775,807"}, {math.MinInt64, "-9,223,372,036,854,775,808"},
	}
	for _, tt := range tests {
		if got := groupDigits(tt.n); got != tt.want {
			t.Errorf("groupDigits(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
