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

type userRow = db.ListUsersRow

// userListSpec declares the users list.
func (s *Server) userListSpec() *ListSpec[userRow] {
	toList := func(req PageRequest) auth.UserList {
		l := auth.UserList{Search: req.Search, Sort: req.Sort, Desc: req.Desc, Limit: req.Limit,
			Active: boolOf(req.Filters, "active"), Superuser: boolOf(req.Filters, "superuser")}
		if req.After != nil {
			l.HasAfter, l.AfterKey, l.AfterID = true, req.After.Value, req.After.ID
		}
		return l
	}
	return &ListSpec[userRow]{
		Path: "/admin/users/", Singular: "user", Plural: "users",
		Columns: []Column{{Key: "email", Label: "Email"}, {Key: "name", Label: "Name"}, {Label: "Active"},
			{Label: "Superuser"}, {Key: "last_login", Label: "Last sign-in"}, {Key: "created", Label: "Added"}},
		Filters:     []Filter{boolFilter("active", "Active"), boolFilter("superuser", "Superuser")},
		Search:      "Search email or name",
		DefaultSort: "email",
		Fetch: func(ctx context.Context, req PageRequest) ([]userRow, error) {
			return s.auth.ListUsers(ctx, toList(req))
		},
		Cursor: func(u userRow, _ string) Cursor { return Cursor{Value: u.SortKey, ID: u.ID} },
		Count: func(ctx context.Context, q ListQuery) (keyset.Count, error) {
			return s.auth.CountUsers(ctx, toList(PageRequest{Search: q.Search, Filters: q.Filters}))
		},
	}
}

// usersPage is the users list.
type usersPage struct {
	Layout
	List    *List[userRow]
	CanAdd  bool
	CanEdit bool
}

func (p *usersPage) list() framed { return p.List }

// listUsers is GET /admin/users/.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	l, err := s.users.Load(r.Context(), s.users.Parse(r.URL.Query()))
	if err != nil {
		return err
	}
	p := auth.FromContext(r.Context())
	return s.render(w, r, http.StatusOK, "users/list", &usersPage{Layout: Layout{Title: "Users"}, List: l,
		CanAdd: p.Can("users.add")})
}

// userForm is the user form's values: what was loaded, or what was posted.
type userForm struct {
	ID        int64
	Version   int32
	Email     string
	Name      string
	Active    bool
	Superuser bool
	GroupIDs  []int64
	PermIDs   []int64
}

// Conflict is one field two editors set differently: what is stored now (theirs)
// and what this form posted (yours).
type Conflict struct {
	Field, Theirs, Yours string
}

// userPage is the add and edit form of a user.
type userPage struct {
	Layout
	Form      userForm
	User      *auth.User // nil when adding
	New       bool
	ReadOnly  bool // the viewer lacks users.change
	CanDelete bool
	CanSetPW  bool
	CanReset  bool // may reset the user's second factor (superusers, on others)
	Errors    validator.Errors
	Groups    []db.AllGroupsRow
	Perms     []PermGroup
	Conflicts []Conflict
}

// userChoices fills in the groups and permissions the form offers.
func (s *Server) userChoices(ctx context.Context, pg *userPage) error {
	var err error
	if pg.Groups, err = s.auth.AllGroups(ctx); err != nil {
		return fmt.Errorf("load groups: %w", err)
	}
	perms, err := s.auth.Permissions(ctx)
	if err != nil {
		return fmt.Errorf("load permissions: %w", err)
	}
	pg.Perms = groupPerms(perms)
	return nil
}

func formOfUser(u auth.User) userForm {
	return userForm{ID: u.ID, Version: u.Version, Email: u.Email, Name: u.Name, Active: u.IsActive,
		Superuser: u.IsSuperuser, GroupIDs: u.GroupIDs, PermIDs: u.PermIDs}
}

// postedUser reads the user form.
func postedUser(r *http.Request) auth.UserInput {
	return auth.UserInput{
		Email:     r.PostFormValue("email"),
		Name:      r.PostFormValue("name"),
		Active:    r.PostFormValue("is_active") == "on",
		Superuser: r.PostFormValue("is_superuser") == "on",
		GroupIDs:  formIDs(r, "groups"),
		PermIDs:   formIDs(r, "permissions"),
		Password:  r.PostFormValue("password"),
	}
}

func formOfInput(in auth.UserInput) userForm {
	return userForm{Email: in.Email, Name: in.Name, Active: in.Active, Superuser: in.Superuser,
		GroupIDs: in.GroupIDs, PermIDs: in.PermIDs}
}

// newUserForm is GET /admin/users/new.
func (s *Server) newUserForm(w http.ResponseWriter, r *http.Request) error {
	pg := &userPage{Layout: Layout{Title: "Add user"}, New: true, Form: userForm{Active: true}}
	if err := s.userChoices(r.Context(), pg); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "users/form", pg)
}

// createUser is POST /admin/users/new.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	bad, err := readForm(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	in := postedUser(r)
	errs := withText(validator.Errors{}, bad)
	errs.Check(in.Password == r.PostFormValue("password2"), "password2", "does not match the password")
	err = errs.Err()
	var u db.User
	if err == nil {
		u, err = s.auth.CreateUser(ctx, auth.FromContext(ctx), in)
	}
	if fe := fieldErrors(err); fe != nil {
		for k, v := range errs {
			fe.Add(k, v)
		}
		pg := &userPage{Layout: Layout{Title: "Add user"}, New: true, Form: formOfInput(in), Errors: fe}
		if err := s.userChoices(ctx, pg); err != nil {
			return err
		}
		return s.render(w, r, http.StatusUnprocessableEntity, "users/form", pg)
	} else if err != nil {
		return err
	}
	return s.redirect(w, r, fmt.Sprintf("/admin/users/%d/", u.ID), fmt.Sprintf("User %s was added.", u.Email))
}

// editUserForm is GET /admin/users/{id}/: the form, read-only without users.change.
func (s *Server) editUserForm(w http.ResponseWriter, r *http.Request) error {
	u, err := byPathID(r, s.auth.GetUser)
	if err != nil {
		return err
	}
	pg := s.editUserPage(r, u)
	pg.Form = formOfUser(u)
	if err := s.userChoices(r.Context(), pg); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "users/form", pg)
}

func (s *Server) editUserPage(r *http.Request, u auth.User) *userPage {
	p := auth.FromContext(r.Context())
	return &userPage{Layout: Layout{Title: u.Email}, User: &u, ReadOnly: !p.Can("users.change"),
		CanDelete: p.Can("users.delete") && p.UserID != u.ID, CanSetPW: p.Can("users.change"),
		CanReset: p.Superuser && p.UserID != u.ID}
}

// updateUser is POST /admin/users/{id}/. A save over someone else's newer one is
// refused with both versions side by side, never applied.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	id, version, bad, err := readEdit(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	in := postedUser(r)
	u, err := saveUnless(bad, func() (db.User, error) { return s.auth.UpdateUser(ctx, auth.FromContext(ctx), id, version, in) })
	switch {
	case errors.Is(err, store.ErrStale):
		cur, err := s.auth.GetUser(ctx, id)
		if err != nil {
			return err
		}
		pg := s.editUserPage(r, cur)
		pg.Form = formOfUser(cur)
		if err := s.userChoices(ctx, pg); err != nil {
			return err
		}
		pg.Conflicts = userConflicts(cur, in, pg)
		return s.render(w, r, http.StatusConflict, "users/form", pg)
	case fieldErrors(err) != nil:
		cur, lerr := s.auth.GetUser(ctx, id)
		if lerr != nil {
			return lerr
		}
		pg := s.editUserPage(r, cur)
		pg.Form = formOfInput(in)
		pg.Form.ID, pg.Form.Version = id, version
		pg.Errors = fieldErrors(err)
		if err := s.userChoices(ctx, pg); err != nil {
			return err
		}
		return s.render(w, r, http.StatusUnprocessableEntity, "users/form", pg)
	case err != nil:
		return err
	}
	return s.redirect(w, r, "/admin/users/", fmt.Sprintf("User %s was saved.", u.Email))
}

// Tab is which tab of an edit page is open.
func (p *userPage) Tab() string { return "edit" }

// EditHref is the user's form.
func (p *userPage) EditHref() string { return fmt.Sprintf("/admin/users/%d/", p.Form.ID) }

// HistoryHref is the user's history tab.
func (p *userPage) HistoryHref() string { return p.EditHref() + "history" }

// userConflicts lists the fields where the stored user and the posted form differ.
func userConflicts(cur auth.User, in auth.UserInput, pg *userPage) []Conflict {
	var out []Conflict
	add := func(field, theirs, yours string) {
		if theirs != yours {
			out = append(out, Conflict{field, theirs, yours})
		}
	}
	yesNo := map[bool]string{true: "yes", false: "no"}
	add("Email", cur.Email, auth.NormalizeEmail(in.Email))
	add("Name", cur.Name, strings.TrimSpace(in.Name))
	add("Active", yesNo[cur.IsActive], yesNo[in.Active])
	add("Superuser", yesNo[cur.IsSuperuser], yesNo[in.Superuser])
	groupName := func(ids []int64) string {
		var names []string
		for _, g := range pg.Groups {
			if slices.Contains(ids, g.ID) {
				names = append(names, g.Name)
			}
		}
		return strings.Join(names, ", ")
	}
	add("Groups", groupName(cur.GroupIDs), groupName(in.GroupIDs))
	add("Permissions", permNames(pg.Perms, cur.PermIDs), permNames(pg.Perms, in.PermIDs))
	return out
}

// userPasswordPage sets another user's password.
type userPasswordPage struct {
	Layout
	User   auth.User
	Errors validator.Errors
}

// userPasswordForm is GET /admin/users/{id}/password.
func (s *Server) userPasswordForm(w http.ResponseWriter, r *http.Request) error {
	u, err := byPathID(r, s.auth.GetUser)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "users/password", &userPasswordPage{Layout: Layout{Title: "Set password"}, User: u})
}

// setUserPassword is POST /admin/users/{id}/password: the user's sessions end (the
// caller's own goes on if it is their own account).
func (s *Server) setUserPassword(w http.ResponseWriter, r *http.Request) error {
	u, err := byPathID(r, s.auth.GetUser)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx, id := r.Context(), u.ID
	p := auth.FromContext(ctx)
	pw := r.PostFormValue("password")
	var v int32
	if pw != r.PostFormValue("password2") {
		err = validator.Errors{"password2": "does not match the password"}
	} else {
		v, err = s.auth.SetPassword(ctx, p, id, pw)
	}
	if fe := fieldErrors(err); fe != nil {
		return s.render(w, r, http.StatusUnprocessableEntity, "users/password",
			&userPasswordPage{Layout: Layout{Title: "Set password"}, User: u, Errors: fe})
	} else if err != nil {
		return err
	}
	if id == p.UserID {
		if err := s.sessions.KeepSignedIn(ctx, v); err != nil {
			return err
		}
	}
	return s.redirect(w, r, fmt.Sprintf("/admin/users/%d/", id), fmt.Sprintf("The password of %s was changed; their sessions have ended.", u.Email))
}

// deletePage confirms a deletion, naming what goes with it.
type deletePage struct {
	Layout
	Kind    string // "user", "group"
	Name    string
	Action  string // where the confirmation posts
	Cancel  string
	Effects []string
	Error   string // why it cannot be deleted: no button
	Notice  string // something to check before confirming again
	Version int32  // sent back with the confirmation when not 0
	Back    string // where the list was, sent back when not ""
}

// deleteUserForm is GET /admin/users/{id}/delete.
func (s *Server) deleteUserForm(w http.ResponseWriter, r *http.Request) error {
	pg, err := s.userDeletePage(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "confirm/delete", pg)
}

func (s *Server) userDeletePage(r *http.Request) (*deletePage, error) {
	u, err := byPathID(r, s.auth.GetUser)
	if err != nil {
		return nil, err
	}
	id := u.ID
	pg := &deletePage{Layout: Layout{Title: "Delete " + u.Email}, Kind: "user", Name: u.Email,
		Action: fmt.Sprintf("/admin/users/%d/delete", id), Cancel: fmt.Sprintf("/admin/users/%d/", id),
		Effects: []string{
			fmt.Sprintf("their membership of %d group(s)", len(u.GroupIDs)),
			fmt.Sprintf("%d direct permission(s)", len(u.PermIDs)),
			"every session they have open",
		}}
	if p := auth.FromContext(r.Context()); p.UserID == id {
		pg.Error = "You cannot delete yourself."
	}
	return pg, nil
}

// deleteUser is POST /admin/users/{id}/delete.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	pg, err := s.userDeletePage(r)
	if err != nil {
		return err
	}
	id, _ := pathID(r)
	err = s.auth.DeleteUser(r.Context(), auth.FromContext(r.Context()), id)
	if fe := fieldErrors(err); fe != nil {
		pg.Error = "You cannot delete yourself."
		return s.render(w, r, http.StatusUnprocessableEntity, "confirm/delete", pg)
	} else if err != nil {
		return err
	}
	return s.redirect(w, r, "/admin/users/", fmt.Sprintf("User %s was deleted.", pg.Name))
}
