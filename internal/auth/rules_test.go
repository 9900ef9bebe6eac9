package auth

import (
	"strings"
	"testing"
)

// TestValidatePassword has a row for every rule, each failing and passing at its edge.
// The paths that set a password (CLI, user form, account page) are tested against the
// same rules in their own packages.
func TestValidatePassword(t *testing.T) {
	const email, name = "Ada.Lovelace@Example.com", "Ada Lovelace"
	tests := []struct {
		name     string
		password string
		want     string
	}{
		{"fine", "correct horse battery staple", ""},
		{"empty", "", "must be at least 12 characters"},
		{"eleven characters", "abcdefghijk", "must be at least 12 characters"},
		{"twelve characters", "abcdefghijkl", ""},
		{"twelve accented characters in 24 bytes", "éèêëéèêëéèêë", ""},
		{"eleven accented characters in 22 bytes", "éèêëéèêëéèê", "must be at least 12 characters"},
		{"1024 bytes", strings.Repeat("ab", 512), ""},
		{"1025 bytes", strings.Repeat("ab", 512) + "c", "must be at most 1024 bytes (fewer characters if it has accents or emoji)"},
		{"only spaces", strings.Repeat(" ", 12), "must not be only spaces"},
		{"only tabs and newlines", "\t\n\t\n\t\n\t\n\t\n\t\n", "must not be only spaces"},
		{"only digits", "839201746352", "must not be only digits"},
		{"only Arabic-Indic digits", "٣٤٥٦٧٨٩٠١٢٣٤", "must not be only digits"},
		{"digits and a letter", "83920174635x", ""},
		{"the email", email, "must not be your email address"},
		{"the email in other case with spaces", "  ada.lovelace@example.COM\t", "must not be your email address"},
		{"the email with more", "ada.lovelace@example.com1", "is too similar to your email address"},
		{"the email's local part inside", "xx-ada.lovelace-xx", "is too similar to your email address"},
		{"a word of the email inside", "my lovelace rocks", "is too similar to your email address"},
		{"a short word of the email inside", "ada rules the engine", ""},
		{"the email's domain inside", "example of a strong one", ""},
		{"close to the email", "ada.lovelace@exampel.org", "is too similar to your email address"},
		{"the name without its space", "AdaLovelace!", "is too similar to your email address"},
		{"like the name", "ada_lovelac3", "is too similar to your email address"},
		{"a common password", "password1234", "is too common: it is on a list of passwords attackers try first"},
		{"a common password in capitals with spaces", " Password1234 ", "is too common: it is on a list of passwords attackers try first"},
		{"another common password", "supernatural", "is too common: it is on a list of passwords attackers try first"},
		{"a common password with more", "supernatural7", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidatePassword(tt.password, email, name); got != tt.want {
				t.Errorf("ValidatePassword(%q) = %q, want %q", tt.password, got, tt.want)
			}
		})
	}
	// The name is checked on its own: an email that shares nothing with it.
	for _, tt := range []struct{ password, want string }{
		{"grace hopper 1906", "is too similar to your name"},
		{"hopperhopper", "is too similar to your name"},
		{"gracious words", ""},
		{"correct horse battery staple", ""},
	} {
		if got := ValidatePassword(tt.password, "gh@example.com", "Grace Hopper"); got != tt.want {
			t.Errorf("ValidatePassword(%q) for Grace Hopper = %q, want %q", tt.password, got, tt.want)
		}
	}
}

// TestSimilarity compares with Python's difflib.SequenceMatcher(None, a, b,
// autojunk=False).ratio() on the same strings.
func TestSimilarity(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"adalovelace1815", "lovelace", 0.6956521739130435},
		{"abcd", "bcde", 0.75},
		{"ada@example.com", "ada@exampel.org", 0.8},
		{"kittens", "sitting", 0.5714285714285714},
		{"", "", 1},
		{"abc", "", 0},
	}
	for _, tt := range tests {
		if got := similarity([]rune(tt.a), []rune(tt.b)); got != tt.want {
			t.Errorf("similarity(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCommonPasswordsList(t *testing.T) {
	list := commonPasswords()
	if len(list) < 10000 || len(list) > 20000 {
		t.Errorf("common passwords list has %d entries, want 10,000 to 20,000", len(list))
	}
	for _, pw := range []string{"password1234", "PASSWORD1234", "bigpimpin1"} {
		if !IsCommonPassword(pw) {
			t.Errorf("IsCommonPassword(%q) = false, want true", pw)
		}
	}
	if IsCommonPassword("correct horse battery staple") {
		t.Error("IsCommonPassword(correct horse battery staple) = true, want false")
	}
}
