// Package templates holds the HTML templates and static files, embedded into the
// binary: layout/ frames every page, partials/ are shared pieces, pages/<resource>/
// are the pages, static/ is served as is (css, js, icons).
package templates

import "embed"

// FS holds layout/, partials/, pages/ and static/.
//
//go:embed static
var FS embed.FS
