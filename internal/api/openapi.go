package api

import (
	"crypto/sha256"
	_ "embed" // the OpenAPI document
	"encoding/base64"
	"net/http"
)

// openAPIDocument is the API's OpenAPI 3.1 description, kept in the repository and
// served as is. The tests validate every response they get against it.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPI answers GET /api/v1/openapi.json, public, with an ETag so tools revalidate.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	sum := sha256.Sum256(openAPIDocument)
	w.Header().Set("Cache-Control", "public, no-cache")
	return writeRepresentation(w, r, http.StatusOK, openAPIDocument, `"`+base64.RawURLEncoding.EncodeToString(sum[:12])+`"`)
}
