package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/store"
)

// etag is a single resource's entity tag: its id and version. It is strong: the
// version rises with every change, so equal tags mean the same stored row.
func etag(id int64, version int32) string {
	return `"` + strconv.FormatInt(id, 10) + "-" + strconv.FormatInt(int64(version), 10) + `"`
}

// notModified answers 304 when the client's If-None-Match already names tag (weak
// comparison, RFC 9110 13.1.2) and reports whether it did.
func notModified(w http.ResponseWriter, r *http.Request, tag string) bool {
	inm := r.Header.Get("If-None-Match")
	if inm == "" || !matches(inm, tag, true) {
		return false
	}
	w.Header().Set("ETag", tag)
	w.WriteHeader(http.StatusNotModified)
	return true
}

// expectedVersion returns the version a PATCH or DELETE of resource id must find:
// the one the client's If-Match names, or without If-Match the current one (the
// client takes the last-writer-wins risk). The write itself checks the version in
// SQL (WHERE version = @version), so a change landing between this check and the
// write is a 412 too, never a lost update. current loads the stored version.
func expectedVersion(r *http.Request, id int64, current func() (int32, error)) (int32, error) {
	im := strings.TrimSpace(r.Header.Get("If-Match"))
	if im == "" || im == "*" {
		return current() // "*": any current representation, so a missing one is a 404
	}
	if v, ok := parseTag(im, id); ok {
		return v, nil // one tag of ours: no read needed, the SQL compares
	}
	// Several tags, or foreign ones: compare with the stored version.
	v, err := current()
	if err != nil {
		return 0, err
	}
	if !matches(im, etag(id, v), false) {
		return 0, stale(im)
	}
	return v, nil
}

// stale is the 412 for an If-Match that names no current version.
func stale(ifMatch string) error {
	return &clientError{kind: store.ErrStale, detail: fmt.Sprintf(
		"If-Match %s does not match the current version: fetch the resource again and retry with its ETag.", ifMatch)}
}

// parseTag reads a single strong tag of resource id ("12-3") and returns its version.
func parseTag(v string, id int64) (int32, bool) {
	s, ok := strings.CutPrefix(v, `"`+strconv.FormatInt(id, 10)+"-")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, `"`)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 1 {
		return 0, false
	}
	return int32(n), true
}

// matches reports whether the header's list of tags (or "*") names tag. weak allows
// W/ tags to match (If-None-Match); If-Match compares strongly, so a W/ tag never
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
