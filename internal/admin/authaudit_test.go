package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/keyset"
)

// auditRows returns the audit log, oldest first, as "resource action object_id
// actor: field before→after; ..." lines: what a test compares.
func (a *testApp) auditRows() []string {
	a.t.Helper()
	page, err := audit.New(a.st).List(context.Background(), audit.Filter{}, "", keyset.MaxLimit)
	if err != nil {
		a.t.Fatal(err)
	}
	var out []string
	for i := len(page.Entries) - 1; i >= 0; i-- {
		e := page.Entries[i]
		var fields []string
		for _, f := range e.Fields {
			fields = append(fields, fmt.Sprintf("%s %v→%v", f.Field, f.Before, f.After))
		}
		out = append(out, fmt.Sprintf("%s %s %d %s: %s", e.Resource, e.Action, e.ObjectID, e.ActorLabel, strings.Join(fields, "; ")))
	}
	return out
}

// Sign-in, a failed sign-in, sign-out and changes to who may do what are in the
// audit log, by whom and on whom.
func TestAuthChangesAudited(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	before := len(a.auditRows()) // the fixture users' creation
	c := a.signedIn(superEmail)
	a.client().login(staffEmail, "wrong password")
	a.client().login("nobody@example.com", "wrong password")

	g := a.group("Warehouse")
	form := url.Values{"version": {"1"}, "name": {"Warehouse staff"}}
	for _, p := range a.permIDs("products.view", "products.change") {
		form.Add("permissions", fmt.Sprint(p))
	}
	must(t, c.post(fmt.Sprintf("/admin/groups/%d/", g), form), http.StatusSeeOther)
	staff := a.ids[staffEmail]
	must(t, c.post(fmt.Sprintf("/admin/users/%d/", staff), userFormValues(1, staffEmail, "", true, false,
		"groups", fmt.Sprint(g), "permissions", fmt.Sprint(a.permIDs("audit.view")[0]))), http.StatusSeeOther)
	must(t, c.post(fmt.Sprintf("/admin/users/%d/password", staff), url.Values{"password": {"a new passphrase"}, "password2": {"a new passphrase"}}), http.StatusSeeOther)
	must(t, c.post(fmt.Sprintf("/admin/groups/%d/delete", g), nil), http.StatusSeeOther)
	must(t, c.post("/admin/logout", nil), http.StatusSeeOther)

	rows := a.auditRows()[before:]
	super := a.ids[superEmail]
	want := []string{
		fmt.Sprintf("sessions sign_in %d %s: ", super, superEmail),
		fmt.Sprintf("sessions sign_in_failed %d %s: ", staff, staffEmail),
		"sessions sign_in_failed 0 nobody@example.com: ",
		fmt.Sprintf("groups create %d cli: name <nil>→Warehouse; permissions <nil>→[]", g),
		fmt.Sprintf("groups update %d %s: name Warehouse→Warehouse staff; permissions []→[products.change products.view]", g, superEmail),
		fmt.Sprintf("users update %d %s: groups []→[Warehouse staff]; permissions []→[audit.view]", staff, superEmail),
		fmt.Sprintf("users set_password %d %s: ", staff, superEmail),
		fmt.Sprintf("groups delete %d %s: name Warehouse staff→<nil>; permissions [products.change products.view]→<nil>", g, superEmail),
		fmt.Sprintf("sessions sign_out %d %s: ", super, superEmail),
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}
