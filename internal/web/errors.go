package web

import (
	"context"
	"errors"
	"net/http"
	"syscall"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// Errors both transports map. Domain packages return these (or wrap them); Status
// decides what they become on the wire.
var (
	// ErrUnauthenticated: nobody is signed in, or the credentials are not valid.
	ErrUnauthenticated = errors.New("not signed in")
	// ErrForbidden: signed in, but not allowed to do this. It is auth's sentinel, so
	// a domain call's refusal (auth.Allow) maps like a transport's own.
	ErrForbidden = auth.ErrForbidden
	// ErrBadRequest: the request itself is malformed (not a field error).
	ErrBadRequest = errors.New("bad request")
	// ErrTooMany: throttled; the wrap says for how long.
	ErrTooMany = errors.New("too many requests")
	// ErrMethodNotAllowed: the path exists, but not with this method.
	ErrMethodNotAllowed = errors.New("method not allowed")
	// ErrUnsupportedMediaType: the request body is not in a format the route reads.
	ErrUnsupportedMediaType = errors.New("unsupported media type")
)

// StatusClientClosed is nginx's 499 "client closed request": what the access log
// and the metrics record for a request whose client went away before the answer. It
// is never sent: nobody is left to read it.
const StatusClientClosed = 499

// ClientGone reports whether err only means that the client went away: the
// request's context was canceled (whatever the database driver wrapped around it) or
// the connection broke while the answer was being written. Neither is the server's
// failure, so neither is logged as one or counted as a 5xx.
func ClientGone(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}

// Status says which HTTP status err becomes. Nothing else makes that choice.
func Status(err error) int {
	switch {
	case ClientGone(err):
		return StatusClientClosed
	case errors.As(err, new(validator.Errors)):
		return http.StatusUnprocessableEntity
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrReferenced):
		return http.StatusConflict
	case errors.Is(err, store.ErrStale):
		return http.StatusPreconditionFailed
	case errors.Is(err, store.ErrCheck), errors.Is(err, store.ErrText):
		return http.StatusUnprocessableEntity
	case errors.Is(err, ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, ErrTooMany):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrUnsupportedMediaType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, store.ErrRetry):
		return http.StatusServiceUnavailable
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError // the cause goes to the log, not the client
}
