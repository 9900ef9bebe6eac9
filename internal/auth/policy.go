package auth

import "fmt"

// Policy is STOCKROOM_REQUIRE_2FA: whose accounts must have a second factor. A user
// it covers who has none is sent to enrolment after the password and can do nothing
// else until they have one. API tokens are outside it: a token is a credential of
// its own, and programs cannot type codes.
type Policy string

// The policies. The zero value is PolicyOff.
const (
	PolicyOff        Policy = "off"
	PolicySuperusers Policy = "superusers"
	PolicyStaff      Policy = "staff" // every staff user, superusers included
)

// ParsePolicy reads a policy's name.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case PolicyOff, PolicySuperusers, PolicyStaff:
		return p, nil
	}
	return "", fmt.Errorf("want one of %s, %s, %s", PolicySuperusers, PolicyStaff, PolicyOff)
}

// Covers reports whether the policy requires p to have a second factor.
func (pol Policy) Covers(p *Principal) bool {
	switch {
	case p == nil || p.TokenID != 0:
		return false
	case pol == PolicyStaff:
		return true
	case pol == PolicySuperusers:
		return p.Superuser
	}
	return false
}

// Blocks reports whether p must enrol a second factor before anything else.
func (pol Policy) Blocks(p *Principal) bool { return pol.Covers(p) && !p.SecondFactor }
