package auth

import "errors"

// ErrForbidden is a refusal: the principal is signed in but may not do this. The
// transports map it (web.ErrForbidden is the same value) to 403.
var ErrForbidden = errors.New("permission denied")

// PermissionError is a refusal for want of one permission, so a transport can say
// which (and, for a read token, that the scope is why).
type PermissionError struct {
	Perm string // the codename the principal lacks, e.g. "orders.refund"
}

func (e *PermissionError) Error() string { return "permission denied: needs " + e.Perm }

// Is makes a *PermissionError an ErrForbidden for errors.Is.
func (e *PermissionError) Is(target error) bool { return target == ErrForbidden }

// Allow returns nil when p may do perm, else a *PermissionError. It is how a domain
// call enforces a rule that depends on its arguments (the status an order moves to)
// rather than on the route. A nil principal is the system (the command line, seed
// data, jobs), which may do anything, as in UpdateUser; transports always pass the
// request's principal, never nil.
func Allow(p *Principal, perm string) error {
	if p == nil || p.Can(perm) {
		return nil
	}
	return &PermissionError{Perm: perm}
}
