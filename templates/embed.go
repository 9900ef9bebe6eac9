// Package templates holds the HTML templates and static files, embedded into the
// binary: layout/ frames every page, partials/ are shared pieces, pages/<resource>/
// are the pages, static/ is served as is (css, js, icons).
package templates

import "embed"

// FS holds layout/, partials/, pages/ and static/ (htmx.min.js is htmx 2.0.11, see
// static/htmx.VERSION).
//
//go:embed layout partials pages static
var FS embed.FS
