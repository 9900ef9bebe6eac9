package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// problem is an RFC 9457 problem details object: the body of every API error.
type problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail"`
	Errors    []fieldError `json:"errors,omitempty"`
	RequestID string       `json:"request_id"`
}

// fieldError is one entry of a problem's errors: a body member, query parameter or
// header, and what is wrong with it.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// clientError is an error the client may read about: kind picks the status (through
// web.Status: web.ErrBadRequest, store.ErrStale, ...), detail says in words what went
// wrong, and fields, when set, become the problem's errors.
type clientError struct {
	kind   error
	detail string
	fields validator.Errors
}

func (e *clientError) Error() string { return e.detail }

// Unwrap exposes only kind: fields must not turn a 400 into a 422 in web.Status.
func (e *clientError) Unwrap() error { return e.kind }

// badRequest is a 400 whose detail is the formatted message.
func badRequest(format string, args ...any) error {
	return &clientError{kind: web.ErrBadRequest, detail: fmt.Sprintf(format, args...)}
}

// badParam is a 400 naming one query parameter (or header) and what is wrong with it.
func badParam(name, message string) error {
	return &clientError{kind: web.ErrBadRequest, detail: fmt.Sprintf("%s %s.", name, message),
		fields: validator.Errors{name: message}}
}

// defaultDetail is what a problem says when the error carries no words of its own.
var defaultDetail = map[int]string{
	http.StatusBadRequest:            "The request is malformed.",
	http.StatusUnauthorized:          "Authentication is required: send Authorization: Bearer <token>.",
	http.StatusForbidden:             "You lack the permission for this.",
	http.StatusNotFound:              "No such resource.",
	http.StatusMethodNotAllowed:      "This method is not allowed here.",
	http.StatusConflict:              "The request conflicts with the current state of the resource.",
	http.StatusPreconditionFailed:    "The resource has changed since it was read: fetch it again and retry with its new ETag.",
	http.StatusRequestEntityTooLarge: "The request body is larger than 1 MiB.",
	http.StatusUnsupportedMediaType:  "The request body must be JSON (Content-Type: application/json).",
	http.StatusUnprocessableEntity:   "The request has invalid fields: see errors.",
	http.StatusTooManyRequests:       "Too many requests: retry after the number of seconds in Retry-After.",
	http.StatusServiceUnavailable:    "The service is unavailable for a moment: retry.",
}

// problemFor describes err, whose status is status, to the client. A 5xx says
// nothing about its cause.
func problemFor(r *http.Request, err error, status int) problem {
	p := problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    defaultDetail[status],
		RequestID: web.RequestID(r.Context()),
	}
	if status >= 500 {
		if status == http.StatusInternalServerError {
			p.Detail = "internal error"
		}
		return p
	}
	if errors.Is(err, store.ErrText) { // the backstop: the decoder and query check name the field
		p.Detail = "The request holds text the database cannot store: a NUL character (U+0000), or bytes that are not UTF-8."
	}
	var ce *clientError
	if errors.As(err, &ce) {
		p.Detail = ce.detail
		p.Errors = fieldErrors(ce.fields)
	}
	if pe, ok := errors.AsType[*auth.PermissionError](err); ok { // a domain call's refusal
		p.Detail = forbiddenDetail(auth.FromContext(r.Context()), pe.Perm)
	}
	var fields validator.Errors
	if p.Errors == nil && errors.As(err, &fields) {
		p.Errors = fieldErrors(fields)
	}
	return p
}

func fieldErrors(errs validator.Errors) []fieldError {
	if len(errs) == 0 {
		return nil
	}
	out := make([]fieldError, 0, len(errs))
	for _, f := range errs.Fields() {
		out = append(out, fieldError{Field: f, Message: errs[f]})
	}
	return out
}

// writeProblem writes p as application/problem+json.
func writeProblem(w http.ResponseWriter, p problem) {
	b, err := json.Marshal(p)
	if err != nil { // a problem is strings and ints: this cannot fail
		panic(err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	h.Set("Cache-Control", "no-store")
	h.Del("ETag")
	w.WriteHeader(p.Status)
	w.Write(append(b, '\n'))
}
