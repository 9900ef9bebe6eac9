package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

type groupRow = db.ListGroupsRow

// groupListSpec declares the groups list.
func (s *Server) groupListSpec() *ListSpec[groupRow] {
	toList := func(req PageRequest) auth.GroupList {
		l := auth.GroupList{Search: req.Search, Sort: req.Sort, Desc: req.Desc, Limit: req.Limit}
		if req.After != nil {
			l.HasAfter, l.AfterKey, l.AfterID = true, req.After.Value, req.After.ID
		}
		return l
	}
	return &ListSpec[groupRow]{
		Path: "/admin/groups/", Singular: "group", Plural: "groups",
		Columns: []Column{{Key: "name", Label: "Name"}, {Label: "Members"}, {Label: "Permissions"},
			{Key: "created", Label: "Added"}},
		Search:      "Search name",
		DefaultSort: "name",
		Fetch: func(ctx context.Context, req PageRequest) ([]groupRow, error) {
			return s.auth.ListGroups(ctx, toList(req))
		},
		Cursor: func(g groupRow, _ string) Cursor { return Cursor{Value: g.SortKey, ID: g.ID} },
		Count: func(ctx context.Context, q ListQuery) (keyset.Count, error) {
			return s.auth.CountGroups(ctx, toList(PageRequest{Search: q.Search}))
		},
	}
}

// groupsPage is the groups list.
type groupsPage struct {
	Layout
	List   *List[groupRow]
	CanAdd bool
}

func (p *groupsPage) list() framed { return p.List }

// listGroups is GET /admin/groups/.
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) error {
	l, err := s.groups.Load(r.Context(), s.groups.Parse(r.URL.Query()))
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "groups/list", &groupsPage{Layout: Layout{Title: "Groups"}, List: l,
		CanAdd: auth.FromContext(r.Context()).Can("groups.add")})
}

// groupForm is the group form's values.
type groupForm struct {
	ID      int64
	Version int32
	Name    string
	PermIDs []int64
}

// groupPage is the add and edit form of a group.
type groupPage struct {
	Layout
	Form      groupForm
	New       bool
	ReadOnly  bool
	CanDelete bool
	Errors    validator.Errors
	Perms     []PermGroup
	Conflicts []Conflict
}

func (s *Server) groupPage(ctx context.Context, title string) (*groupPage, error) {
	perms, err := s.auth.Permissions(ctx)
	if err != nil {
		return nil, fmt.Errorf("load permissions: %w", err)
	}
	p := auth.FromContext(ctx)
	return &groupPage{Layout: Layout{Title: title}, Perms: groupPerms(perms),
		ReadOnly: !p.Can("groups.change"), CanDelete: p.Can("groups.delete")}, nil
}

func postedGroup(r *http.Request) auth.GroupInput {
	return auth.GroupInput{Name: r.PostFormValue("name"), PermIDs: formIDs(r, "permissions")}
}

// newGroupForm is GET /admin/groups/new.
func (s *Server) newGroupForm(w http.ResponseWriter, r *http.Request) error {
	pg, err := s.groupPage(r.Context(), "Add group")
	if err != nil {
		return err
	}
	pg.New, pg.ReadOnly = true, false
	return s.render(w, r, http.StatusOK, "groups/form", pg)
}

// createGroup is POST /admin/groups/new.
func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) error {
	bad, err := readForm(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	in := postedGroup(r)
	g, err := saveUnless(bad, func() (db.Group, error) { return s.auth.CreateGroup(ctx, auth.FromContext(ctx), in) })
	if fe := fieldErrors(err); fe != nil {
		pg, err := s.groupPage(ctx, "Add group")
		if err != nil {
			return err
		}
		pg.New, pg.ReadOnly, pg.Errors = true, false, fe
		pg.Form = groupForm{Name: in.Name, PermIDs: in.PermIDs}
		return s.render(w, r, http.StatusUnprocessableEntity, "groups/form", pg)
	} else if err != nil {
		return err
	}
	return s.redirect(w, r, fmt.Sprintf("/admin/groups/%d/", g.ID), fmt.Sprintf("Group %s was added.", g.Name))
}

// editGroupForm is GET /admin/groups/{id}/.
func (s *Server) editGroupForm(w http.ResponseWriter, r *http.Request) error {
	g, err := byPathID(r, s.auth.GetGroup)
	if err != nil {
		return err
	}
	pg, err := s.groupPage(r.Context(), g.Name)
	if err != nil {
		return err
	}
	pg.Form = groupForm{ID: g.ID, Version: g.Version, Name: g.Name, PermIDs: g.PermIDs}
	return s.render(w, r, http.StatusOK, "groups/form", pg)
}

// updateGroup is POST /admin/groups/{id}/, version-checked like updateUser.
func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request) error {
	id, version, bad, err := readEdit(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	in := postedGroup(r)
	g, err := saveUnless(bad, func() (db.Group, error) { return s.auth.UpdateGroup(ctx, auth.FromContext(ctx), id, version, in) })
	switch {
	case errors.Is(err, store.ErrStale):
		cur, err := s.auth.GetGroup(ctx, id)
		if err != nil {
			return err
		}
		pg, err := s.groupPage(ctx, cur.Name)
		if err != nil {
			return err
		}
		pg.Form = groupForm{ID: cur.ID, Version: cur.Version, Name: cur.Name, PermIDs: cur.PermIDs}
		if cur.Name != strings.TrimSpace(in.Name) {
			pg.Conflicts = append(pg.Conflicts, Conflict{"Name", cur.Name, strings.TrimSpace(in.Name)})
		}
		if theirs, yours := permNames(pg.Perms, cur.PermIDs), permNames(pg.Perms, in.PermIDs); theirs != yours {
			pg.Conflicts = append(pg.Conflicts, Conflict{"Permissions", theirs, yours})
		}
		return s.render(w, r, http.StatusConflict, "groups/form", pg)
	case fieldErrors(err) != nil:
		pg, lerr := s.groupPage(ctx, in.Name)
		if lerr != nil {
			return lerr
		}
		pg.Form = groupForm{ID: id, Version: version, Name: in.Name, PermIDs: in.PermIDs}
		pg.Errors = fieldErrors(err)
		return s.render(w, r, http.StatusUnprocessableEntity, "groups/form", pg)
	case err != nil:
		return err
	}
	return s.redirect(w, r, "/admin/groups/", fmt.Sprintf("Group %s was saved.", g.Name))
}

// Tab is which tab of an edit page is open.
func (p *groupPage) Tab() string { return "edit" }

// EditHref is the group's form.
func (p *groupPage) EditHref() string { return fmt.Sprintf("/admin/groups/%d/", p.Form.ID) }

// HistoryHref is the group's history tab.
func (p *groupPage) HistoryHref() string { return p.EditHref() + "history" }

// permNames lists the codenames of ids, in the order the form shows them.
func permNames(groups []PermGroup, ids []int64) string {
	var names []string
	for _, grp := range groups {
		for _, p := range grp.Perms {
			if slices.Contains(ids, p.ID) {
				names = append(names, p.Codename)
			}
		}
	}
	return strings.Join(names, ", ")
}

func (s *Server) groupDeletePage(r *http.Request) (*deletePage, error) {
	g, err := byPathID(r, s.auth.GetGroup)
	if err != nil {
		return nil, err
	}
	id := g.ID
	return &deletePage{Layout: Layout{Title: "Delete " + g.Name}, Kind: "group", Name: g.Name,
		Action: fmt.Sprintf("/admin/groups/%d/delete", id), Cancel: fmt.Sprintf("/admin/groups/%d/", id),
		Effects: []string{
			fmt.Sprintf("%d permission(s) it grants, which its members lose", len(g.PermIDs)),
			"every membership of it",
		}}, nil
}

// deleteGroupForm is GET /admin/groups/{id}/delete.
func (s *Server) deleteGroupForm(w http.ResponseWriter, r *http.Request) error {
	pg, err := s.groupDeletePage(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "confirm/delete", pg)
}

// deleteGroup is POST /admin/groups/{id}/delete.
func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	pg, err := s.groupDeletePage(r)
	if err != nil {
		return err
	}
	id, _ := pathID(r)
	if err := s.auth.DeleteGroup(r.Context(), auth.FromContext(r.Context()), id); err != nil {
		return err
	}
	return s.redirect(w, r, "/admin/groups/", fmt.Sprintf("Group %s was deleted.", pg.Name))
}
