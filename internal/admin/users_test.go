package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// userForm builds a posted user form.
func userFormValues(version int, email, name string, active, superuser bool, extra ...string) url.Values {
	v := url.Values{"email": {email}, "name": {name}}
	if version > 0 {
		v.Set("version", fmt.Sprint(version))
	}
	if active {
		v.Set("is_active", "on")
	}
	if superuser {
		v.Set("is_superuser", "on")
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Add(extra[i], extra[i+1])
	}
	return v
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.signedIn(superEmail)
	g := a.group("Warehouse")
	perm := a.permIDs("groups.view")[0]
	form := userFormValues(0, " Ada@Example.com ", "Ada Lovelace", true, false,
		"password", "analytical engine", "password2", "analytical engine",
		"groups", fmt.Sprint(g), "permissions", fmt.Sprint(perm))
	r := c.post("/admin/users/new", form)
	if r.status != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", r.status, r.body)
	}
	must(t, c.get(r.header.Get("Location")), http.StatusOK, "User Ada@Example.com was added.", `value="Ada Lovelace"`,
		fmt.Sprintf(`id="group-%d" name="groups" value="%d" checked`, g, g),
		fmt.Sprintf(`id="perm-%d" name="permissions" value="%d" checked`, perm, perm))
	if r := a.client().login("ada@example.com", "analytical engine"); r.status != http.StatusSeeOther {
		t.Errorf("the new user cannot sign in: %d", r.status)
	}
}

// Invalid input: 422, the form again with a message per field, input kept, the
// password never sent back.
func TestCreateUserInvalid(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.signedIn(superEmail)
	tests := []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"no email", userFormValues(0, "", "Ada", true, false, "password", "analytical engine", "password2", "analytical engine"), "email", "is required"},
		{"bad email", userFormValues(0, "ada at example", "Ada", true, false, "password", "analytical engine", "password2", "analytical engine"), "email", "is not an email address"},
		{"email taken", userFormValues(0, "STAFF@example.com", "Ada", true, false, "password", "analytical engine", "password2", "analytical engine"), "email", "is already used"},
		{"short password", userFormValues(0, "ada@example.com", "Ada", true, false, "password", "short", "password2", "short"), "password", "must be at least 12 characters"},
		{"password is the email", userFormValues(0, "ada@example.com", "Ada", true, false, "password", "ada@example.com", "password2", "ada@example.com"), "password", "must not be your email address"},
		{"passwords differ", userFormValues(0, "ada@example.com", "Ada", true, false, "password", "analytical engine", "password2", "difference engine"), "password2", "does not match the password"},
		{"name too long", userFormValues(0, "ada@example.com", strings.Repeat("n", 201), true, false, "password", "analytical engine", "password2", "analytical engine"), "name", "must be at most 200 characters"},
		{"unknown group", userFormValues(0, "ada@example.com", "Ada", true, false, "password", "analytical engine", "password2", "analytical engine", "groups", "987654"), "groups", "names a group that no longer exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.post("/admin/users/new", tt.form)
			must(t, r, http.StatusUnprocessableEntity, tt.want,
				fmt.Sprintf(`aria-describedby="%s-error`, tt.field), fmt.Sprintf(`id="%s-error"`, tt.field))
			if email := tt.form.Get("email"); email != "" && !strings.Contains(r.body, `value="`+email+`"`) {
				t.Errorf("the email %q was not kept", email)
			}
			if strings.Contains(r.body, "analytical engine") {
				t.Error("the page echoes the password")
			}
		})
	}
}

// Editing is version-checked: the second of two editors who opened the same version
// gets a conflict page with both values, and the first one's save stands.
func TestStaleUserEdit(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c1, c2 := a.signedIn(superEmail), a.signedIn(superEmail)
	id := a.ids[staffEmail]
	p := fmt.Sprintf("/admin/users/%d/", id)
	must(t, c1.get(p), http.StatusOK, `name="version" value="1"`)
	if r := c1.post(p, userFormValues(1, staffEmail, "First Editor", true, false)); r.status != http.StatusSeeOther {
		t.Fatalf("first save: %d\n%s", r.status, r.body)
	}
	r := c2.post(p, userFormValues(1, staffEmail, "Second Editor", true, false))
	must(t, r, http.StatusConflict, "Someone else saved this while you were editing", "First Editor", "Second Editor",
		`name="version" value="2"`)
	if u := a.getUser(id); u.Name != "First Editor" || u.Version != 2 {
		t.Errorf("after the stale save: name %q version %d; want the first save's", u.Name, u.Version)
	}
	// Saving again from the refreshed form works.
	if r := c2.post(p, userFormValues(2, staffEmail, "Second Editor", true, false)); r.status != http.StatusSeeOther {
		t.Errorf("save from the conflict page: %d", r.status)
	}
}

// Nobody demotes, deactivates or deletes themselves.
func TestSelfProtection(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.signedIn(superEmail)
	id := a.ids[superEmail]
	p := fmt.Sprintf("/admin/users/%d/", id)
	must(t, c.post(p, userFormValues(1, superEmail, "", true, false)), http.StatusUnprocessableEntity,
		"you cannot remove your own superuser status")
	must(t, c.post(p, userFormValues(1, superEmail, "", false, true)), http.StatusUnprocessableEntity,
		"you cannot deactivate yourself")
	must(t, c.get(p+"delete"), http.StatusOK, "You cannot delete yourself.")
	must(t, c.post(p+"delete", nil), http.StatusUnprocessableEntity, "You cannot delete yourself.")
	if u := a.getUser(id); !u.IsSuperuser || !u.IsActive || u.Version != 1 {
		t.Errorf("after refused self-edits: superuser %t active %t version %d", u.IsSuperuser, u.IsActive, u.Version)
	}
	must(t, c.get("/admin/"), http.StatusOK)
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.signedIn(superEmail)
	id := a.ids[staffEmail]
	must(t, c.get(fmt.Sprintf("/admin/users/%d/delete", id)), http.StatusOK, "Delete user “staff@example.com”?", "Yes, delete")
	r := c.post(fmt.Sprintf("/admin/users/%d/delete", id), nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/users/" {
		t.Fatalf("delete: %d %q", r.status, r.header.Get("Location"))
	}
	must(t, c.get("/admin/users/"), http.StatusOK, "User staff@example.com was deleted.")
	must(t, c.get(fmt.Sprintf("/admin/users/%d/", id)), http.StatusNotFound, "Not found")
	must(t, c.get("/admin/users/abc/"), http.StatusNotFound)
}

func TestGroups(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.signedIn(superEmail)
	perms := a.permIDs("users.view", "users.change")
	form := url.Values{"name": {"Support"}, "permissions": {fmt.Sprint(perms[0]), fmt.Sprint(perms[1])}}
	r := c.post("/admin/groups/new", form)
	if r.status != http.StatusSeeOther {
		t.Fatalf("create group: %d\n%s", r.status, r.body)
	}
	edit := r.header.Get("Location")
	must(t, c.get(edit), http.StatusOK, "Group Support was added.", `value="Support"`)
	must(t, c.post("/admin/groups/new", url.Values{"name": {"support"}}), http.StatusUnprocessableEntity, "is already used")
	must(t, c.post("/admin/groups/new", url.Values{"name": {"  "}}), http.StatusUnprocessableEntity, "is required")

	// A member gets the group's permissions on their next request.
	staff := a.signedIn(staffEmail)
	if r := staff.get("/admin/users/"); r.status != http.StatusForbidden {
		t.Fatalf("before joining: %d, want 403", r.status)
	}
	var gid int64
	fmt.Sscanf(edit, "/admin/groups/%d/", &gid)
	uid := a.ids[staffEmail]
	if r := c.post(fmt.Sprintf("/admin/users/%d/", uid), userFormValues(1, staffEmail, "", true, false, "groups", fmt.Sprint(gid))); r.status != http.StatusSeeOther {
		t.Fatalf("join group: %d", r.status)
	}
	must(t, staff.get("/admin/users/"), http.StatusOK, "staff@example.com")

	// Stale group edits conflict; deleting the group takes its permissions away.
	if r := c.post(edit, url.Values{"version": {"1"}, "name": {"Support desk"}}); r.status != http.StatusSeeOther {
		t.Fatalf("rename: %d", r.status)
	}
	must(t, c.post(edit, url.Values{"version": {"1"}, "name": {"Helpdesk"}}), http.StatusConflict, "Support desk", "Helpdesk")
	must(t, c.get("/admin/groups/?q=desk"), http.StatusOK, "Support desk", "1 group")
	if r := c.post(edit+"delete", nil); r.status != http.StatusSeeOther {
		t.Fatalf("delete group: %d", r.status)
	}
	if r := staff.get("/admin/users/"); r.status != http.StatusForbidden {
		t.Errorf("after the group was deleted: %d, want 403", r.status)
	}
}

func TestErrorPages(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.signedIn(staffEmail)
	must(t, c.get("/admin/no/such/page"), http.StatusNotFound, "Not found", "request id")
	r := c.get("/admin/users/")
	must(t, r, http.StatusForbidden, "Permission denied")
	if !strings.Contains(r.body, r.header.Get("X-Request-Id")) {
		t.Error("the error page lacks the request id")
	}
	// Navigation shows only what the user may open.
	home := c.get("/admin/")
	if strings.Contains(home.body, `href="/admin/users/"`) || !strings.Contains(home.body, `href="/admin/password"`) {
		t.Errorf("staff without permissions sees the wrong navigation:\n%s", home.body)
	}
	if !strings.Contains(a.signedIn(viewEmail).get("/admin/").body, `href="/admin/users/"`) {
		t.Error("a viewer does not see Users in the navigation")
	}
}

func TestStaticFiles(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.client()
	home := c.get("/admin/login")
	i := strings.Index(home.body, "/static/app.css?v=")
	if i < 0 {
		t.Fatal("the page does not link the stylesheet with its hash")
	}
	link := home.body[i : i+strings.IndexByte(home.body[i:], '"')]
	r := c.get(link)
	if r.status != http.StatusOK || !strings.Contains(r.header.Get("Cache-Control"), "immutable") || !strings.Contains(r.header.Get("Content-Type"), "text/css") {
		t.Errorf("GET %s: %d %q %q", link, r.status, r.header.Get("Cache-Control"), r.header.Get("Content-Type"))
	}
	if r := c.get("/static/app.css?v=old"); r.header.Get("Cache-Control") != "public, max-age=300" {
		t.Errorf("stale hash: Cache-Control %q", r.header.Get("Cache-Control"))
	}
	if r := c.get("/static/htmx.min.js"); r.status != http.StatusOK || !strings.Contains(r.body, "htmx") {
		t.Errorf("htmx: %d", r.status)
	}
	if r := c.get("/static/"); r.status != http.StatusNotFound {
		t.Errorf("directory listing: %d, want 404", r.status)
	}
	// The pages carry no inline script or style: the CSP would block them.
	for _, bad := range []string{"<script>", "style=", "<style"} {
		if strings.Contains(home.body, bad) {
			t.Errorf("the sign-in page has %s", bad)
		}
	}
}
