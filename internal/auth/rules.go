package auth

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Password rules, like Django's validators: a minimum length, not too like the
// account's email or name, not a common password, not all digits. The byte cap keeps a
// hostile form from making us hash megabytes; 1024 bytes is at least 256 characters in
// any script.
const (
	MinPasswordRunes = 12
	maxPasswordBytes = 1024
	// maxSimilarity is the Ratcliff/Obershelp ratio (Python's SequenceMatcher.ratio,
	// which Django's UserAttributeSimilarityValidator uses) at or above which a
	// password is too like an attribute of the account: Django's default, 0.7.
	maxSimilarity = 0.7
)

// commonPasswordsGz is Django's list of 20,000 common passwords (19,726 after its own
// deduplication), lowercased, one a line: django/contrib/auth/common-passwords.txt.gz
// from Debian's python3-django 3:3.2.25-0+deb12u7 (BSD-3-Clause, © Django Software
// Foundation; the list itself is Royce Williams's, made from public breach corpora).
// Shipped gzipped as is: about 80 KB in the binary.
//
//go:embed common-passwords.txt.gz
var commonPasswordsGz []byte

// commonPasswords is the list, sorted for binary search, read once on first use (a
// sorted slice of strings: about 0.6 MB, against 1.5 MB as a map).
var commonPasswords = sync.OnceValue(func() []string {
	zr, err := gzip.NewReader(bytes.NewReader(commonPasswordsGz))
	if err != nil {
		panic(fmt.Sprintf("auth: embedded common-passwords list: %v", err)) // a broken build, not input
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		panic(fmt.Sprintf("auth: embedded common-passwords list: %v", err))
	}
	list := strings.Fields(string(raw))
	slices.Sort(list)
	return slices.Compact(list)
})

// IsCommonPassword reports whether password, trimmed and lowercased, is on the list.
func IsCommonPassword(password string) bool {
	_, found := slices.BinarySearch(commonPasswords(), strings.ToLower(strings.TrimSpace(password)))
	return found
}

// ValidatePassword checks a new password for the account with the given email and
// name and returns what is wrong with it in words meant for the user ("must be at
// least 12 characters"), or "" when it is acceptable. Characters are counted as runes.
// Every path that sets a password (createsuperuser, changepassword, the user form,
// the account's password page, a reset link) goes through it.
func ValidatePassword(password, email, name string) string {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordRunes:
		return fmt.Sprintf("must be at least %d characters", MinPasswordRunes)
	case len(password) > maxPasswordBytes:
		return fmt.Sprintf("must be at most %d bytes (fewer characters if it has accents or emoji)", maxPasswordBytes)
	case strings.TrimSpace(password) == "":
		return "must not be only spaces"
	case strings.TrimFunc(password, unicode.IsDigit) == "":
		return "must not be only digits"
	case strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(email)):
		return "must not be your email address"
	case tooSimilar(password, email):
		return "is too similar to your email address"
	case tooSimilar(password, name):
		return "is too similar to your name"
	case IsCommonPassword(password):
		return "is too common: it is on a list of passwords attackers try first"
	}
	return ""
}

// tooSimilar reports whether password is too like attr (an email or a name): it
// contains a word of attr's own (the email's local part or a word of it, a word of the
// name; the email's domain is no one's own) of at least 4 characters, or it is at
// least maxSimilarity alike, by Django's measure, to attr or to any of its words
// (split at what is not a letter or digit).
func tooSimilar(password, attr string) bool {
	pw := []rune(strings.ToLower(password))
	attr = strings.ToLower(strings.TrimSpace(attr))
	if attr == "" {
		return false
	}
	notWord := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	own, _, isEmail := strings.Cut(attr, "@")
	ownWords := strings.FieldsFunc(own, notWord)
	if isEmail {
		ownWords = append(ownWords, own)
	}
	for _, w := range ownWords {
		if utf8.RuneCountInString(w) >= 4 && strings.Contains(string(pw), w) {
			return true
		}
	}
	for _, w := range append(strings.FieldsFunc(attr, notWord), attr) {
		if similarity(pw, []rune(w)) >= maxSimilarity {
			return true
		}
	}
	return false
}

// similarity is the Ratcliff/Obershelp ratio of a and b, 2·M/(|a|+|b|) where M counts
// the characters of the longest common block, then recursively of the blocks left of
// it and right of it (Python's difflib.SequenceMatcher.ratio, without its junk
// heuristic). Passwords are at most 1024 bytes, so the quadratic search is cheap.
func similarity(a, b []rune) float64 {
	if len(a)+len(b) == 0 {
		return 1
	}
	return 2 * float64(matching(a, b)) / float64(len(a)+len(b))
}

// matching counts the characters Ratcliff/Obershelp matches between a and b.
func matching(a, b []rune) int {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	// Longest common substring, the earliest in a on ties, by dynamic programming
	// over one row.
	best, ai, bi := 0, 0, 0
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				cur[j] = prev[j-1] + 1
				if cur[j] > best {
					best, ai, bi = cur[j], i-cur[j], j-cur[j]
				}
			} else {
				cur[j] = 0
			}
		}
		prev, cur = cur, prev
	}
	if best == 0 {
		return 0
	}
	return best + matching(a[:ai], b[:bi]) + matching(a[ai+best:], b[bi+best:])
}
