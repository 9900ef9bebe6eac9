package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/store"
)

// represent encodes v, the representation of resource id at version, and returns the
// bytes with their strong ETag, "<id>-<version>-<digest>". The digest covers every
// byte shown, so the tag moves whenever the representation does, including the parts
// a resource's own version does not guard (a product's variants and stock, its
// category's name): If-None-Match never answers 304 for a changed body.
func represent(id int64, version int32, v any) ([]byte, string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, "", fmt.Errorf("encode response: %w", err)
	}
	b = append(b, '\n')
	sum := sha256.Sum256(b)
	return b, `"` + strconv.FormatInt(id, 10) + "-" + strconv.FormatInt(int64(version), 10) + "-" +
		hex.EncodeToString(sum[:4]) + `"`, nil
}

// etagOf is the ETag of v, the representation of resource id at version.
func etagOf(id int64, version int32, v any) (string, error) {
	_, tag, err := represent(id, version, v)
	return tag, err
}

// writeRepresentation answers with a single resource and its ETag. A GET whose
// If-None-Match already names the tag gets 304 and no body.
func writeRepresentation(w http.ResponseWriter, r *http.Request, status int, body []byte, tag string) error {
	w.Header().Set("ETag", tag)
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if inm := r.Header.Get("If-None-Match"); inm != "" && matches(inm, tag, true) {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	writeBody(w, status, body)
	return nil
}

// ifMatch refuses (412) a write whose If-Match names no current representation:
// the client read something that has changed since. Without If-Match there is no
// condition (and "*" only asks that the resource exist, which the caller's read
// showed). Either way the write itself checks, in SQL, the version the caller read,
// so a change landing between this check and the write is a 412 too, never a lost
// update.
func ifMatch(r *http.Request, current string) error {
	im := r.Header.Get("If-Match")
	if im == "" || matches(im, current, false) {
		return nil
	}
	return &clientError{kind: store.ErrStale, detail: fmt.Sprintf(
		"If-Match %s does not match the current ETag: fetch the resource again and retry with its ETag.", im)}
}

// The API's one rule for writes to a resource that has a version (PATCH, DELETE, an
// order's transition): with If-Match, the write applies only to the representation
// it names: the current ETag is compared first (412 on a mismatch) and the write
// itself checks in SQL the version that was read, so a change landing in between is
// a 412 too. Without If-Match the client set no condition and the last write wins: a
// PATCH reads the resource, applies the patch and saves at that version, and runs
// again on ErrStale (retryStale); a DELETE or a transition applies to whatever the
// version is. loadForWrite and conditionalVersion are the only places that read
// If-Match for a write.

// loadForWrite reads the resource a write starts from with load and checks the
// request's If-Match against its ETag (etag, called only when there is an If-Match:
// without one the representation is not worth encoding).
func loadForWrite[T any](r *http.Request, load func(context.Context) (T, error), etag func(T) (string, error)) (T, error) {
	v, err := load(r.Context())
	if err != nil || r.Header.Get("If-Match") == "" {
		return v, err
	}
	tag, err := etag(v)
	if err != nil {
		return v, err
	}
	return v, ifMatch(r, tag)
}

// conditionalVersion is the version a write that replaces nothing (a DELETE, an
// order's transition) is made at: 0, any version, without If-Match; with it, the
// version check returns after comparing the ETag (a loadForWrite).
func conditionalVersion(r *http.Request, check func() (int32, error)) (int32, error) {
	if r.Header.Get("If-Match") == "" {
		return 0, nil
	}
	return check()
}

// retryStale runs write again when it fails with store.ErrStale and the request
// has no If-Match, at most three times. Such a client set no precondition, so a
// change that landed between our read and our write is not theirs to resolve: the
// next attempt reads it and applies their change on top. With If-Match, the first
// ErrStale stands: it is the 412 they asked for.
func retryStale(r *http.Request, write func() error) error {
	for attempt := 1; ; attempt++ {
		err := write()
		if !errors.Is(err, store.ErrStale) || r.Header.Get("If-Match") != "" || attempt == 3 {
			return err
		}
	}
}

// matches reports whether the header's list of tags (or "*") names tag. weak lets
// W/ tags match (If-None-Match); If-Match compares strongly, so a W/ tag never
// matches there.
func matches(header, tag string, weak bool) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		if w, ok := strings.CutPrefix(t, "W/"); ok {
			if !weak {
				continue
			}
			t = w
		}
		if t == tag {
			return true
		}
	}
	return false
}
