package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// UserInput is what a form or the CLI may set on a user. Password is read only by
// CreateUser.
type UserInput struct {
	Email     string
	Name      string
	Active    bool
	Superuser bool
	GroupIDs  []int64
	PermIDs   []int64 // direct permissions
	Password  string
}

// User is a user with their memberships and direct permissions, for the edit form.
type User struct {
	db.User
	GroupIDs []int64
	PermIDs  []int64
}

// validate checks the fields every write shares and normalises them.
func (in *UserInput) validate(errs validator.Errors) {
	in.Email = NormalizeEmail(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	errs.Check(validator.Required(in.Email), "email", "is required")
	errs.Check(validator.MaxLen(in.Email, 254), "email", "must be at most 254 characters")
	errs.Check(validEmail(in.Email), "email", "is not an email address")
	errs.Check(validator.MaxLen(in.Name, 200), "name", "must be at most 200 characters")
}

// validEmail is the same shape users_email_check enforces: one @, something on each
// side, no spaces. Whether it receives mail is not ours to know.
func validEmail(e string) bool {
	local, domain, ok := strings.Cut(e, "@")
	return ok && local != "" && domain != "" && !strings.ContainsAny(e, " \t\r\n") && !strings.Contains(domain, "@")
}

// userFieldError turns a violated constraint into the field error a form shows.
func userFieldError(err error) error {
	switch store.Constraint(err) {
	case "users_email_key":
		return validator.Errors{"email": "is already used"}
	case "users_email_check":
		return validator.Errors{"email": "is not an email address"}
	case "user_groups_group_id_fkey":
		return validator.Errors{"groups": "names a group that no longer exists"}
	case "user_permissions_permission_id_fkey":
		return validator.Errors{"permissions": "names a permission that does not exist"}
	}
	return err
}

// CreateUser adds a staff user with in's fields, groups, permissions and password.
// actor is who does it (nil for the CLI, which may do anything).
func (s *Service) CreateUser(ctx context.Context, actor *Principal, in UserInput) (db.User, error) {
	errs := validator.Errors{}
	in.validate(errs)
	if msg := ValidatePassword(in.Password, in.Email, in.Name); msg != "" {
		errs.Add("password", msg)
	}
	if err := errs.Err(); err != nil {
		return db.User{}, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return db.User{}, fmt.Errorf("hash password: %w", err)
	}
	var u db.User
	err = s.st.InTx(ctx, func(q *db.Queries) error {
		if err := s.checkGrants(ctx, q, actor, nil, in, errs); err != nil {
			return err
		}
		u, err = q.CreateUser(ctx, db.CreateUserParams{
			Email: in.Email, Name: in.Name, PasswordHash: hash, IsActive: in.Active, IsSuperuser: in.Superuser,
		})
		if err != nil {
			return err
		}
		if err := setMemberships(ctx, q, u.ID, in); err != nil {
			return err
		}
		n, err := loadNames(ctx, q)
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, actor.Actor(), audit.ActionCreate, ResourceUsers, u.ID, u.Email,
			audit.Diff(nil, n.user(u, in.GroupIDs, in.PermIDs)))
	})
	if err != nil {
		return db.User{}, userFieldError(err)
	}
	s.log.InfoContext(ctx, "user created", "user_id", u.ID, "email", u.Email, "superuser", u.IsSuperuser,
		"groups", in.GroupIDs, "permissions", in.PermIDs, "by", actorID(actor))
	return u, nil
}

// setMemberships replaces a user's groups and direct permissions: two set-based
// statements each, whatever their number.
func setMemberships(ctx context.Context, q *db.Queries, id int64, in UserInput) error {
	if err := q.ClearUserGroups(ctx, id); err != nil {
		return err
	}
	if err := q.AddUserGroups(ctx, db.AddUserGroupsParams{UserID: id, GroupIds: dedupe(in.GroupIDs)}); err != nil {
		return err
	}
	if err := q.ClearUserPermissions(ctx, id); err != nil {
		return err
	}
	return q.AddUserPermissions(ctx, db.AddUserPermissionsParams{UserID: id, PermissionIds: dedupe(in.PermIDs)})
}

func dedupe(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// GetUser returns a user with their groups and direct permissions.
func (s *Service) GetUser(ctx context.Context, id int64) (User, error) {
	var u User
	err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		if u.User, err = q.GetUser(ctx, id); err != nil {
			return err
		}
		if u.GroupIDs, err = q.UserGroupIDs(ctx, id); err != nil {
			return err
		}
		u.PermIDs, err = q.UserPermissionIDs(ctx, id)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("load user %d: %w", id, err)
	}
	return u, nil
}

// UpdateUser saves in over user id if nobody saved it since version was read
// (store.ErrStale otherwise). Users may not remove their own superuser status or
// deactivate themselves (they would lock themselves out); only a superuser may change
// anyone's superuser status, and nobody grants a permission they do not hold.
// Deactivation ends the user's sessions.
func (s *Service) UpdateUser(ctx context.Context, actor *Principal, id int64, version int32, in UserInput) (db.User, error) {
	errs := validator.Errors{}
	in.validate(errs)
	if actor != nil && actor.UserID == id {
		errs.Check(in.Active, "is_active", "you cannot deactivate yourself")
		if actor.Superuser {
			errs.Check(in.Superuser, "is_superuser", "you cannot remove your own superuser status")
		}
	}
	if errs.Err() != nil {
		return db.User{}, errs
	}
	var before, after User
	err := s.st.InTx(ctx, func(q *db.Queries) (err error) {
		if before.User, err = q.GetUser(ctx, id); err != nil {
			return err
		}
		if before.PermIDs, err = q.UserPermissionIDs(ctx, id); err != nil {
			return err
		}
		if before.GroupIDs, err = q.UserGroupIDs(ctx, id); err != nil {
			return err
		}
		if before.Version != version {
			return store.ErrStale
		}
		if err := s.checkGrants(ctx, q, actor, &before, in, errs); err != nil {
			return err
		}
		after.User, err = q.UpdateUser(ctx, db.UpdateUserParams{
			ID: id, Version: version, Email: in.Email, Name: in.Name, IsActive: in.Active, IsSuperuser: in.Superuser,
		})
		if store.IsNotFound(err) {
			return store.ErrStale // it existed a moment ago: someone saved in between
		}
		if err != nil {
			return err
		}
		if err := setMemberships(ctx, q, id, in); err != nil {
			return err
		}
		n, err := loadNames(ctx, q)
		if err != nil {
			return err
		}
		changes := audit.Diff(n.user(before.User, before.GroupIDs, before.PermIDs), n.user(after.User, in.GroupIDs, in.PermIDs))
		if len(changes) > 0 {
			return audit.Record(ctx, q, actor.Actor(), audit.ActionUpdate, ResourceUsers, id, after.Email, changes)
		}
		return nil
	})
	if err != nil {
		return db.User{}, userFieldError(err)
	}
	s.logUserChange(ctx, actor, before, after.User, in)
	return after.User, nil
}

// checkGrants returns field errors (with those already in errs) for what actor may
// not grant: the superuser flag (superusers only), direct permissions the actor does
// not hold, and membership of a group holding such permissions (a group is a bundle of
// grants). Without that, anyone with users.change could make themselves a superuser or
// join a more powerful group.
func (s *Service) checkGrants(ctx context.Context, q *db.Queries, actor *Principal, before *User, in UserInput, errs validator.Errors) error {
	if actor != nil && !actor.Superuser {
		was := before != nil && before.IsSuperuser
		errs.Check(in.Superuser == was, "is_superuser", "only a superuser can change this")
		var had []int64
		if before != nil {
			had = before.PermIDs
		}
		if err := grantCheck(ctx, q, actor, had, in.PermIDs); err != nil {
			if fe, ok := err.(validator.Errors); ok {
				errs.Add("permissions", fe["permissions"])
			} else {
				return err
			}
		}
		var inGroups []int64
		if before != nil {
			inGroups = before.GroupIDs
		}
		var joining []int64
		for _, g := range in.GroupIDs {
			if !slices.Contains(inGroups, g) {
				joining = append(joining, g)
			}
		}
		if len(joining) > 0 {
			codenames, err := q.GroupsPermissionCodenames(ctx, joining)
			if err != nil {
				return err
			}
			for _, c := range codenames {
				if !actor.Can(c) {
					errs.Add("groups", "you can only add people to groups whose permissions you hold yourself")
					break
				}
			}
		}
	}
	return errs.Err()
}

// logUserChange records who changed what about a user's standing and permissions.
func (s *Service) logUserChange(ctx context.Context, actor *Principal, before User, after db.User, in UserInput) {
	s.log.InfoContext(ctx, "user changed", "user_id", after.ID, "email", after.Email, "by", actorID(actor),
		"active", fmt.Sprintf("%t→%t", before.IsActive, after.IsActive),
		"superuser", fmt.Sprintf("%t→%t", before.IsSuperuser, after.IsSuperuser),
		"groups", fmt.Sprintf("%v→%v", before.GroupIDs, dedupe(in.GroupIDs)),
		"permissions", fmt.Sprintf("%v→%v", before.PermIDs, dedupe(in.PermIDs)))
}

// SetPassword gives user id a new password and ends all their sessions (the caller
// keeps its own with Sessions.KeepSignedIn when it is the user's own). It returns the
// user's new auth_version.
func (s *Service) SetPassword(ctx context.Context, actor *Principal, id int64, password string) (int32, error) {
	var u db.User
	if err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		u, err = q.GetUser(ctx, id)
		return err
	}); err != nil {
		return 0, fmt.Errorf("load user %d: %w", id, err)
	}
	if msg := ValidatePassword(password, u.Email, u.Name); msg != "" {
		return 0, validator.Errors{"password": msg}
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return 0, fmt.Errorf("hash password: %w", err)
	}
	var v int32
	err = s.st.InTx(ctx, func(q *db.Queries) (err error) {
		if v, err = q.SetUserPassword(ctx, db.SetUserPasswordParams{ID: id, PasswordHash: hash}); err != nil {
			return err
		}
		return audit.Append(ctx, q, actor.Actor(), audit.Event{Action: ActionSetPassword, Resource: ResourceUsers,
			ObjectID: id, Repr: u.Email, Note: "their sessions ended"})
	})
	if err != nil {
		return 0, fmt.Errorf("set password of user %d: %w", id, err)
	}
	s.log.InfoContext(ctx, "password changed", "user_id", id, "email", u.Email, "by", actorID(actor))
	return v, nil
}

// ChangeOwnPassword is SetPassword for the signed-in user, who must give the current
// password first; a wrong one is a field error on "current".
func (s *Service) ChangeOwnPassword(ctx context.Context, p *Principal, current, password string) (int32, error) {
	var u db.User
	if err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		u, err = q.GetUser(ctx, p.UserID)
		return err
	}); err != nil {
		return 0, fmt.Errorf("load user %d: %w", p.UserID, err)
	}
	ok, _, err := s.hasher.Verify(ctx, current, u.PasswordHash)
	if err != nil {
		return 0, fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		return 0, validator.Errors{"current": "is not your current password"}
	}
	return s.SetPassword(ctx, p, p.UserID, password)
}

// SetPasswordByEmail is SetPassword for the CLI, which knows the email.
func (s *Service) SetPasswordByEmail(ctx context.Context, email, password string) error {
	var u db.User
	if err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		u, err = q.GetUserByEmail(ctx, NormalizeEmail(email))
		return err
	}); err != nil {
		return fmt.Errorf("user %s: %w", email, err)
	}
	_, err := s.SetPassword(ctx, nil, u.ID, password)
	return err
}

// DeleteUser removes user id. Nobody deletes themselves.
func (s *Service) DeleteUser(ctx context.Context, actor *Principal, id int64) error {
	if actor != nil && actor.UserID == id {
		return validator.Errors{"user": "you cannot delete yourself"}
	}
	err := s.st.InTx(ctx, func(q *db.Queries) error {
		u, err := q.GetUser(ctx, id)
		if err != nil {
			return err
		}
		groups, err := q.UserGroupIDs(ctx, id)
		if err != nil {
			return err
		}
		perms, err := q.UserPermissionIDs(ctx, id)
		if err != nil {
			return err
		}
		n, err := loadNames(ctx, q)
		if err != nil {
			return err
		}
		if deleted, err := q.DeleteUser(ctx, id); err != nil {
			return err
		} else if deleted == 0 {
			return store.ErrNotFound
		}
		return audit.Record(ctx, q, actor.Actor(), audit.ActionDelete, ResourceUsers, id, u.Email,
			audit.Diff(n.user(u, groups, perms), nil))
	})
	if err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	s.log.InfoContext(ctx, "user deleted", "user_id", id, "by", actorID(actor))
	return nil
}

// UserList is a page request for the users list.
type UserList struct {
	Search    string // substring of email or name
	Active    *bool
	Superuser *bool
	Sort      string // email, name, last_login, created
	Desc      bool
	AfterKey  string // keyset cursor: the sort key and id of the last row shown
	AfterID   int64
	HasAfter  bool
	Limit     int
}

// likePattern makes a user's search text a substring ILIKE pattern, its own % and _
// taken literally.
func likePattern(s string) *string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	p := "%" + r.Replace(s) + "%"
	return &p
}

// ListUsers returns one page of users (Limit rows at most).
func (s *Service) ListUsers(ctx context.Context, l UserList) ([]db.ListUsersRow, error) {
	var rows []db.ListUsersRow
	err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		rows, err = q.ListUsers(ctx, db.ListUsersParams{
			Sort: l.Sort, Search: likePattern(l.Search), Active: l.Active, Superuser: l.Superuser,
			HasAfter: l.HasAfter, Descending: l.Desc, AfterKey: l.AfterKey, AfterID: l.AfterID, RowLimit: int32(l.Limit),
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return rows, nil
}

// CountUsers counts the users l's filters match (the policy is keyset.CountOf).
func (s *Service) CountUsers(ctx context.Context, l UserList) (keyset.Count, error) {
	return s.st.Count(ctx, func(q *db.Queries, _ int32) (int64, error) {
		return q.CountUsers(ctx, db.CountUsersParams{Search: likePattern(l.Search), Active: l.Active, Superuser: l.Superuser})
	})
}

func actorID(p *Principal) any {
	if p == nil {
		return "cli"
	}
	return p.UserID
}
