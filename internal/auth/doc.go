// Package auth signs staff in: passwords, API tokens, permissions and throttling. The
// HTTP side of staff sessions (cookies, flash messages) is internal/web/session.
package auth
