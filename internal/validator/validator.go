// Package validator holds field errors and the small checks that forms and JSON
// payloads share. It imports only the standard library.
package validator

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Errors maps a field name to a user-facing message ("is required"). It is the typed
// error for bad input: the admin shows the form again with the messages (422), the
// API answers problem+json with one entry per field.
type Errors map[string]string

// Error lists the fields and messages in a stable order.
func (e Errors) Error() string {
	var b strings.Builder
	for i, f := range e.Fields() {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f + ": " + e[f])
	}
	return "invalid input: " + b.String()
}

// Fields returns the field names, sorted.
func (e Errors) Fields() []string {
	fs := make([]string, 0, len(e))
	for f := range e {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	return fs
}

// Add records msg for field unless the field already has a message: the first
// problem found is the one worth telling.
func (e Errors) Add(field, msg string) {
	if _, ok := e[field]; !ok {
		e[field] = msg
	}
}

// Check adds msg for field when ok is false.
func (e Errors) Check(ok bool, field, msg string) {
	if !ok {
		e.Add(field, msg)
	}
}

// Err returns e as an error, or nil when there are no messages.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// Required reports whether s has something other than spaces.
func Required(s string) bool { return strings.TrimSpace(s) != "" }

// MaxLen reports whether s has at most n characters.
func MaxLen(s string, n int) bool { return utf8.RuneCountInString(s) <= n }
