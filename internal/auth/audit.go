package auth

import (
	"context"
	"slices"
	"strconv"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
)

// Audit resource names and the actions of sign-in and account changes. Sign-ins and
// sign-outs are recorded on "sessions" with the user's id as the object (0 for a
// failed sign-in with an unknown email); changes to a user's standing, groups and
// permissions on "users", to a group's on "groups".
const (
	ResourceSessions = "sessions"
	ResourceUsers    = "users"
	ResourceGroups   = "groups"

	ActionSignIn       = "sign_in"
	ActionSignOut      = "sign_out"
	ActionSignInFailed = "sign_in_failed"
	ActionSetPassword  = "set_password"
)

// Actor is who p is in the audit log and an order's timeline, the one way a person
// is named in any history: their email (unique, and what they sign in with; a
// name is optional and may change, so the same person would read two ways), and
// for a change made through a token, the token's name too, which says what acted:
// "ada@example.com (token erp sync)". The ids are kept beside the label. A nil
// principal is the command line ("cli").
func (p *Principal) Actor() audit.Actor {
	if p == nil {
		return audit.Actor{Label: "cli"}
	}
	a := userActor(p.UserID, p.Email)
	if p.TokenID != 0 {
		a.TokenID = p.TokenID
		name := p.TokenName
		if name == "" {
			name = strconv.FormatInt(p.TokenID, 10)
		}
		a.Label += " (token " + name + ")"
	}
	return a
}

// userActor is user id with email acting themselves, before there is a principal
// (a sign-in, a reset link): the label Actor gives a session.
func userActor(id int64, email string) audit.Actor {
	return audit.Actor{UserID: id, Label: email}
}

// names maps group and permission ids to their names for the audit log's
// snapshots: ids mean nothing to a reader and are reused by nothing, names do both.
type names struct {
	groups map[int64]string
	perms  map[int64]string
}

// loadNames reads every group's name and every permission's codename: two
// statements whatever the counts.
func loadNames(ctx context.Context, q *db.Queries) (names, error) {
	n := names{groups: map[int64]string{}, perms: map[int64]string{}}
	groups, err := q.AllGroups(ctx)
	if err != nil {
		return n, err
	}
	for _, g := range groups {
		n.groups[g.ID] = g.Name
	}
	perms, err := q.ListPermissions(ctx)
	if err != nil {
		return n, err
	}
	for _, p := range perms {
		n.perms[p.ID] = p.Codename
	}
	return n, nil
}

// of returns the names of ids in m, sorted; an id m lacks is left out.
func of(m map[int64]string, ids []int64) []string {
	out := []string{}
	for _, id := range ids {
		if name, ok := m[id]; ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// user is what the audit log keeps of a user: their standing, their groups and
// direct permissions by name, never the password.
func (n names) user(u db.User, groupIDs, permIDs []int64) map[string]any {
	return map[string]any{
		"email": u.Email, "name": u.Name, "is_active": u.IsActive, "is_superuser": u.IsSuperuser,
		"groups": of(n.groups, groupIDs), "permissions": of(n.perms, permIDs),
	}
}

// group is what the audit log keeps of a group.
func (n names) group(name string, permIDs []int64) map[string]any {
	return map[string]any{"name": name, "permissions": of(n.perms, permIDs)}
}
