package admin

import "testing"

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
}
