// Package auth signs staff in: passwords, sessions, API tokens, permissions and throttling.
package auth
