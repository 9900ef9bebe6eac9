package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/validator"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// body is a decoded request object: which members it had, so PATCH can tell "absent"
// (leave alone) from "null" (clear), as JSON merge patch (RFC 7396) has it.
type body struct {
	members map[string]json.RawMessage
}

// has reports whether the request named field, with any value (null included).
func (b body) has(field string) bool {
	_, ok := b.members[field]
	return ok
}

// null reports whether the request set field to null.
func (b body) null(field string) bool {
	v, ok := b.members[field]
	return ok && string(bytes.TrimSpace(v)) == "null"
}

// decode reads the request's JSON object into dst, a pointer to a struct whose json
// tags are the writable fields (pointers, for PATCH). It refuses, in this order:
// a body that is not JSON by its Content-Type (415), over 1 MiB (413), malformed
// JSON (400, with the byte offset), anything but one object (400), members that are
// unknown or read-only (422, naming every one: no mass assignment), and values of the
// wrong type (422). readOnly lists the fields a client sees but may not set.
func decode(r *http.Request, dst any, readOnly ...string) (body, error) {
	if err := checkJSONType(r); err != nil {
		return body{}, err
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return body{}, fmt.Errorf("read body: %w", err) // a *http.MaxBytesError is a 413
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return body{}, badRequest("The request body is empty: send a JSON object.")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var members map[string]json.RawMessage
	if err := dec.Decode(&members); err != nil {
		return body{}, syntaxError(err, raw)
	}
	if members == nil {
		return body{}, badRequest("The request body must be a JSON object, not null.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return body{}, badRequest("Malformed JSON: unexpected data after the object at byte offset %d.", dec.InputOffset())
	}
	if err := checkMembers(members, dst, readOnly); err != nil {
		return body{}, err
	}
	if err := checkText(raw); err != nil {
		return body{}, err
	}
	strict := json.NewDecoder(bytes.NewReader(raw))
	strict.DisallowUnknownFields() // checkMembers caught them; this is the backstop
	if err := strict.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return body{}, validator.Errors{te.Field: "must be " + jsonKind(te.Type)}
		}
		// A nested object's unknown member (a variant's, say): encoding/json names it
		// only in its message.
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return body{}, validator.Errors{strings.Trim(name, `"`): "is not a field"}
		}
		return body{}, badRequest("Malformed JSON: %s.", strings.TrimPrefix(err.Error(), "json: "))
	}
	return body{members: members}, nil
}

// checkText refuses a body with a string PostgreSQL could not store as text,
// naming every such member by its path ("variants[0].title"). JSON can only carry
// a NUL as the escape \u0000 (encoding/json turns bytes that are not UTF-8 into
// U+FFFD), so a body without that escape is passed without a second parse.
func checkText(raw []byte) error {
	if !bytes.Contains(raw, []byte(`\u0000`)) {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil // decode has parsed raw already: this cannot fail
	}
	errs := validator.Errors{}
	walkText(v, "", errs)
	return errs.Err()
}

// walkText adds to errs every string in v (keys included) that is not storable
// text, under its path from prefix.
func walkText(v any, prefix string, errs validator.Errors) {
	switch v := v.(type) {
	case string:
		if msg := validator.Storable(v); msg != "" {
			errs.Add(prefix, msg)
		}
	case []any:
		for i, e := range v {
			walkText(e, fmt.Sprintf("%s[%d]", prefix, i), errs)
		}
	case map[string]any:
		for k, e := range v {
			path := validator.FieldName(k)
			if prefix != "" {
				path = prefix + "." + path
			}
			if msg := validator.Storable(k); msg != "" {
				errs.Add(path, "is a member name that "+msg)
				continue
			}
			walkText(e, path, errs)
		}
	}
}

// checkJSONType accepts application/json and every application/*+json type
// (merge-patch+json for PATCH), in UTF-8.
func checkJSONType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	ok := err == nil && (mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
	if cs, set := params["charset"]; ok && set && !strings.EqualFold(cs, "utf-8") {
		ok = false
	}
	if !ok {
		if ct == "" {
			ct = "none"
		}
		return &clientError{kind: web.ErrUnsupportedMediaType, detail: fmt.Sprintf(
			"The request body must be JSON (Content-Type: application/json), not %s.", ct)}
	}
	return nil
}

// syntaxError turns a decoding failure of the whole body into a 400 that says where.
func syntaxError(err error, raw []byte) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return badRequest("Malformed JSON at byte offset %d: %s.", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("Malformed JSON at byte offset %d: the body ends in the middle of a value.", len(raw))
	case errors.As(err, &te):
		return badRequest("The request body must be a JSON object, not %s.", te.Value)
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return badRequest("Malformed JSON: %s.", strings.TrimPrefix(err.Error(), "json: "))
}

// checkMembers refuses every member that is not one of dst's writable fields.
func checkMembers(members map[string]json.RawMessage, dst any, readOnly []string) error {
	writable := jsonFields(reflect.TypeOf(dst).Elem())
	errs := validator.Errors{}
	for name := range members {
		switch {
		case slices.Contains(writable, name):
		case slices.Contains(readOnly, name):
			errs.Add(name, "is read-only")
		default:
			errs.Add(name, "is not a field")
		}
	}
	return errs.Err()
}

// jsonFields returns the JSON names of a struct type's fields.
func jsonFields(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}

// jsonKind names the JSON type a Go type decodes from, for "must be ..." messages.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// decodeMember decodes raw, one member of a body that decode left as
// json.RawMessage (an order's line, say), into dst as decode does: it must be an
// object whose members are dst's writable fields, of the right types. Its problems
// go into errs under prefix ("lines[2]."), so they name the member's path; the
// error is non-nil when there were any.
func decodeMember(raw json.RawMessage, dst any, prefix string, errs validator.Errors, readOnly ...string) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil {
		errs.Add(strings.TrimSuffix(prefix, "."), "must be an object")
		return errs
	}
	if err := checkMembers(members, dst, readOnly); err != nil {
		for f, msg := range err.(validator.Errors) {
			errs.Add(prefix+f, msg)
		}
		return errs
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			errs.Add(prefix+te.Field, "must be "+jsonKind(te.Type))
		} else {
			errs.Add(strings.TrimSuffix(prefix, "."), "is malformed")
		}
		return errs
	}
	return nil
}
