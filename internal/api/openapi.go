package api

import (
	"crypto/sha256"
	_ "embed" // the OpenAPI document
	"encoding/base64"
	"net/http"
	"strconv"
)

// openAPIDocument is the API's OpenAPI 3.1 description, kept in the repository and
// served as is. The tests validate every response they get against it.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPI answers GET /api/v1/openapi.json, public, with an ETag so tools revalidate.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	sum := sha256.Sum256(openAPIDocument)
	tag := `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	if notModified(w, r, tag) {
		return nil
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(openAPIDocument)))
	h.Set("ETag", tag)
	h.Set("Cache-Control", "public, no-cache")
	w.WriteHeader(http.StatusOK)
	w.Write(openAPIDocument)
	return nil
}
