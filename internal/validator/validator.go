// Package validator holds field errors and the small checks that forms and JSON
// payloads share. It imports only the standard library.
package validator

import (
	"sort"
	"strconv"
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

// Storable says what keeps s from being stored as PostgreSQL text, or "" when
// nothing does: PostgreSQL refuses the NUL character and bytes that are not UTF-8.
// Both transports check every string from outside with it where they read it (the
// JSON decoder, the form parser, the query string), so no field can forget it.
func Storable(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return NotNUL
	case !utf8.ValidString(s):
		return NotUTF8
	}
	return ""
}

// Storable's messages.
const (
	NotNUL  = "must not contain the NUL character (U+0000)"
	NotUTF8 = "must be UTF-8 text"
)

// Unstorable returns the errors of e that Storable gave, as "field message"
// sentences in field order: a form lists them above itself, since a hidden field
// has no place to show its own.
func (e Errors) Unstorable() []string {
	var out []string
	for _, f := range e.Fields() {
		if strings.HasSuffix(e[f], NotNUL) || strings.HasSuffix(e[f], NotUTF8) {
			out = append(out, f+" "+e[f]+".")
		}
	}
	return out
}

// FieldName is name fit to show as a field in a message: a name that is itself not
// storable text comes back quoted, with its bad bytes escaped.
func FieldName(name string) string {
	if Storable(name) != "" {
		return strconv.QuoteToASCII(name)
	}
	return name
}
