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

// GroupInput is what a form may set on a group.
type GroupInput struct {
	Name    string
	PermIDs []int64
}

// Group is a group with its permissions, for the edit form.
type Group struct {
	db.Group
	PermIDs []int64
}

func (in *GroupInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	errs := validator.Errors{}
	errs.Check(validator.Required(in.Name), "name", "is required")
	errs.Check(validator.MaxLen(in.Name, 150), "name", "must be at most 150 characters")
	return errs.Err()
}

func groupFieldError(err error) error {
	switch store.Constraint(err) {
	case "groups_name_key":
		return validator.Errors{"name": "is already used"}
	case "group_permissions_permission_id_fkey":
		return validator.Errors{"permissions": "names a permission that does not exist"}
	}
	return err
}

// grantCheck refuses, for a non-superuser actor, permissions newly given to a group
// that the actor does not hold: a group is a way to grant them too.
func grantCheck(ctx context.Context, q *db.Queries, actor *Principal, had, want []int64) error {
	if actor == nil || actor.Superuser {
		return nil
	}
	perms, err := q.ListPermissions(ctx)
	if err != nil {
		return err
	}
	for _, p := range perms {
		if slices.Contains(want, p.ID) && !slices.Contains(had, p.ID) && !actor.Can(p.Codename) {
			return validator.Errors{"permissions": "you can only grant permissions you hold yourself"}
		}
	}
	return nil
}

// CreateGroup adds a group with its permissions.
func (s *Service) CreateGroup(ctx context.Context, actor *Principal, in GroupInput) (db.Group, error) {
	if err := in.validate(); err != nil {
		return db.Group{}, err
	}
	var g db.Group
	err := s.st.InTx(ctx, func(q *db.Queries) (err error) {
		if err := grantCheck(ctx, q, actor, nil, in.PermIDs); err != nil {
			return err
		}
		if g, err = q.CreateGroup(ctx, in.Name); err != nil {
			return err
		}
		if err := q.AddGroupPermissions(ctx, db.AddGroupPermissionsParams{GroupID: g.ID, PermissionIds: dedupe(in.PermIDs)}); err != nil {
			return err
		}
		n, err := loadNames(ctx, q)
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, actor.Actor(), audit.ActionCreate, ResourceGroups, g.ID, g.Name,
			audit.Diff(nil, n.group(g.Name, in.PermIDs)))
	})
	if err != nil {
		return db.Group{}, groupFieldError(err)
	}
	s.log.InfoContext(ctx, "group created", "group_id", g.ID, "name", g.Name, "permissions", dedupe(in.PermIDs), "by", actorID(actor))
	return g, nil
}

// GetGroup returns a group with its permissions.
func (s *Service) GetGroup(ctx context.Context, id int64) (Group, error) {
	var g Group
	err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		if g.Group, err = q.GetGroup(ctx, id); err != nil {
			return err
		}
		g.PermIDs, err = q.GroupPermissionIDs(ctx, id)
		return err
	})
	if err != nil {
		return Group{}, fmt.Errorf("load group %d: %w", id, err)
	}
	return g, nil
}

// UpdateGroup saves in over group id if nobody saved it since version was read
// (store.ErrStale otherwise).
func (s *Service) UpdateGroup(ctx context.Context, actor *Principal, id int64, version int32, in GroupInput) (db.Group, error) {
	if err := in.validate(); err != nil {
		return db.Group{}, err
	}
	var before []int64
	var g db.Group
	err := s.st.InTx(ctx, func(q *db.Queries) (err error) {
		cur, err := q.GetGroup(ctx, id)
		if err != nil {
			return err
		}
		if cur.Version != version {
			return store.ErrStale
		}
		if before, err = q.GroupPermissionIDs(ctx, id); err != nil {
			return err
		}
		if err := grantCheck(ctx, q, actor, before, in.PermIDs); err != nil {
			return err
		}
		g, err = q.UpdateGroup(ctx, db.UpdateGroupParams{ID: id, Version: version, Name: in.Name})
		if store.IsNotFound(err) {
			return store.ErrStale
		} else if err != nil {
			return err
		}
		if err := q.ClearGroupPermissions(ctx, id); err != nil {
			return err
		}
		if err := q.AddGroupPermissions(ctx, db.AddGroupPermissionsParams{GroupID: id, PermissionIds: dedupe(in.PermIDs)}); err != nil {
			return err
		}
		n, err := loadNames(ctx, q)
		if err != nil {
			return err
		}
		if changes := audit.Diff(n.group(cur.Name, before), n.group(g.Name, in.PermIDs)); len(changes) > 0 {
			return audit.Record(ctx, q, actor.Actor(), audit.ActionUpdate, ResourceGroups, id, g.Name, changes)
		}
		return nil
	})
	if err != nil {
		return db.Group{}, groupFieldError(err)
	}
	s.log.InfoContext(ctx, "group changed", "group_id", id, "name", g.Name, "by", actorID(actor),
		"permissions", fmt.Sprintf("%v→%v", before, dedupe(in.PermIDs)))
	return g, nil
}

// DeleteGroup removes a group; its members lose what it granted.
func (s *Service) DeleteGroup(ctx context.Context, actor *Principal, id int64) error {
	err := s.st.InTx(ctx, func(q *db.Queries) error {
		g, err := q.GetGroup(ctx, id)
		if err != nil {
			return err
		}
		perms, err := q.GroupPermissionIDs(ctx, id)
		if err != nil {
			return err
		}
		n, err := loadNames(ctx, q)
		if err != nil {
			return err
		}
		if deleted, err := q.DeleteGroup(ctx, id); err != nil {
			return err
		} else if deleted == 0 {
			return store.ErrNotFound
		}
		return audit.Record(ctx, q, actor.Actor(), audit.ActionDelete, ResourceGroups, id, g.Name,
			audit.Diff(n.group(g.Name, perms), nil))
	})
	if err != nil {
		return fmt.Errorf("delete group %d: %w", id, err)
	}
	s.log.InfoContext(ctx, "group deleted", "group_id", id, "by", actorID(actor))
	return nil
}

// AllGroups lists every group, for the user form's checkboxes.
func (s *Service) AllGroups(ctx context.Context) ([]db.AllGroupsRow, error) {
	var gs []db.AllGroupsRow
	err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		gs, err = q.AllGroups(ctx)
		return err
	})
	return gs, err
}

// Permissions lists every permission by codename, for the grouped checkboxes.
func (s *Service) Permissions(ctx context.Context) ([]db.Permission, error) {
	var ps []db.Permission
	err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		ps, err = q.ListPermissions(ctx)
		return err
	})
	return ps, err
}

// GroupList is a page request for the groups list.
type GroupList struct {
	Search   string
	Sort     string // name, created
	Desc     bool
	AfterKey string
	AfterID  int64
	HasAfter bool
	Limit    int
}

// ListGroups returns one page of groups with their member and permission counts.
func (s *Service) ListGroups(ctx context.Context, l GroupList) ([]db.ListGroupsRow, error) {
	var rows []db.ListGroupsRow
	err := s.st.Read(ctx, func(q *db.Queries) (err error) {
		rows, err = q.ListGroups(ctx, db.ListGroupsParams{
			Sort: l.Sort, Search: likePattern(l.Search),
			HasAfter: l.HasAfter, Descending: l.Desc, AfterKey: l.AfterKey, AfterID: l.AfterID, RowLimit: int32(l.Limit),
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return rows, nil
}

// CountGroups counts the groups l's search matches, like CountUsers.
func (s *Service) CountGroups(ctx context.Context, l GroupList) (keyset.Count, error) {
	return s.st.Count(ctx, func(q *db.Queries, _ int32) (int64, error) {
		return q.CountGroups(ctx, likePattern(l.Search))
	})
}
