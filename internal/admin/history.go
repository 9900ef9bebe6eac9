package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/orders"
)

// entryView is one audit entry as a page shows it: who, when, what, and each
// changed field with its value before and after, in words.
type entryView struct {
	At         time.Time
	Who        string
	Action     string
	Resource   string
	Object     string
	ObjectHref string
	Note       string
	Changes    []changeView
}

// changeView is one changed field. A field that had no value before (a created
// object) or has none after (a deleted one) shows just the other side.
type changeView struct {
	Field, Before, After string
	HasBefore, HasAfter  bool
}

// resourceNouns name one object of each audited resource, after the action:
// "update product", "sign in" (a session needs no noun).
var resourceNouns = map[string]string{
	catalog.ResourceProducts: "product", catalog.ResourceCategories: "category",
	auth.ResourceUsers: "user", auth.ResourceGroups: "group", auth.ResourceSessions: "",
	orders.ResourceOrders: "order", orders.ResourceCustomers: "customer",
}

// entryViews turns audit entries into what the pages show. Category ids become
// category paths, amounts in cents become money; tree is the category tree.
func (s *Server) entryViews(entries []audit.Entry, tree []catalog.CategoryNode) []entryView {
	out := make([]entryView, len(entries))
	for i, e := range entries {
		noun, known := resourceNouns[e.Resource]
		if !known {
			noun = e.Resource
		}
		v := entryView{At: e.At, Who: e.ActorLabel, Action: strings.ReplaceAll(e.Action, "_", " "), Resource: noun,
			Object: e.ObjectRepr, ObjectHref: objectHref(e.Resource, e.ObjectID), Note: e.Note}
		if v.Who == "" {
			v.Who = "system"
		}
		for _, c := range e.Fields {
			field := c.Field
			before, after := s.valueText(field, c.Before, tree), s.valueText(field, c.After, tree)
			if e.Resource == catalog.ResourceProducts {
				field = s.fieldLabel(field)
			} else {
				field = capitalize(strings.ReplaceAll(strings.TrimSuffix(strings.TrimSuffix(field, "_id"), "_cents"), "_", " "))
			}
			// On an update, nothing is a value too: "(none) → Garden".
			update := e.Action != audit.ActionCreate && e.Action != audit.ActionDelete
			v.Changes = append(v.Changes, changeView{Field: field, Before: before, After: after,
				HasBefore: c.Before != nil || update, HasAfter: c.After != nil || update})
		}
		out[i] = v
	}
	return out
}

// objectHref links an entry to its object's page; "" where there is none.
func objectHref(resource string, id int64) string {
	if id <= 0 {
		return ""
	}
	switch resource {
	case catalog.ResourceProducts:
		return fmt.Sprintf("%s%d/", productsPath, id)
	case catalog.ResourceCategories:
		return fmt.Sprintf("%s%d/", categoriesPath, id)
	case auth.ResourceUsers, auth.ResourceSessions:
		return fmt.Sprintf("/admin/users/%d/", id)
	case auth.ResourceGroups:
		return fmt.Sprintf("/admin/groups/%d/", id)
	case orders.ResourceOrders:
		return fmt.Sprintf("%s%d/", ordersPath, id)
	case orders.ResourceCustomers:
		return fmt.Sprintf("%s%d/", customersPath, id)
	}
	return ""
}

// valueText writes one audit value (decoded JSON) for reading: nothing as "—",
// category ids as paths, cents as money, lists and option maps as text.
func (s *Server) valueText(field string, v any, tree []catalog.CategoryNode) string {
	switch v := v.(type) {
	case nil:
		return "(none)"
	case json.Number:
		switch {
		case strings.HasSuffix(field, "category_id") || strings.HasSuffix(field, "parent_id"):
			return categoryName(tree, v.String())
		case strings.HasSuffix(field, "_cents"):
			return s.centsText(v.String())
		}
		return v.String()
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case string:
		if v == "" {
			return "(empty)"
		}
		return v
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = s.valueText("", x, tree)
		}
		if len(parts) == 0 {
			return "(none)"
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + s.valueText("", v[k], tree)
		}
		if len(parts) == 0 {
			return "(none)"
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

// historyPage is the history tab of one object.
type historyPage struct {
	Layout
	Kind        string // "product"
	Name        string
	EditHref    string // the object's form
	HistoryHref string // this tab
	Entries     []entryView
	First       string // the newest entries, when this page is not them
	Next        string // older entries
}

// Tab is which tab of an edit page is open.
func (p *historyPage) Tab() string { return "history" }

// historyHandler serves GET <base>{id}/history for one resource: the object's
// audit entries, newest first, keyset paged. name loads the object's name (and 404s
// for an unknown one).
func (s *Server) historyHandler(resource, kind, base string, name func(ctx context.Context, id int64) (string, error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, err := pathID(r)
		if err != nil {
			return err
		}
		n, err := name(ctx, id)
		if err != nil {
			return err
		}
		cursor := r.URL.Query().Get("cursor")
		if !validToken(cursor) {
			cursor = ""
		}
		page, err := s.audit.History(ctx, resource, id, cursor, keyset.DefaultLimit)
		if fieldErrors(err) != nil {
			cursor = ""
			page, err = s.audit.History(ctx, resource, id, "", keyset.DefaultLimit)
		}
		if err != nil {
			return err
		}
		tree, err := s.catalog.CategoryTree(ctx)
		if err != nil {
			return err
		}
		edit := fmt.Sprintf("%s%d/", base, id)
		history := edit + "history"
		if back := r.URL.Query().Get("back"); back != "" && resource == catalog.ResourceProducts {
			back = safeLocal(back, productsPath, productsPath)
			edit, history = editURL(id, back), history+"?back="+url.QueryEscape(back)
		}
		pg := &historyPage{Layout: Layout{Title: "History of " + n}, Kind: kind, Name: n, EditHref: edit,
			HistoryHref: history, Entries: s.entryViews(page.Entries, tree)}
		if cursor != "" {
			pg.First = history
		}
		if page.Next != "" {
			pg.Next = addParam(history, "cursor", page.Next)
		}
		return s.render(w, r, http.StatusOK, "audit/history", pg)
	}
}

// addParam appends name=value to a URL that may have a query already.
func addParam(u, name, value string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + name + "=" + url.QueryEscape(value)
}

// productName, categoryName... load an object's name for its history page.
func (s *Server) productName(ctx context.Context, id int64) (string, error) {
	p, err := s.catalog.Product(ctx, id)
	if err != nil {
		return "", err
	}
	return p.Name, nil
}

func (s *Server) categoryTitle(ctx context.Context, id int64) (string, error) {
	c, err := s.catalog.Category(ctx, id)
	return c.Name, err
}

func (s *Server) userTitle(ctx context.Context, id int64) (string, error) {
	u, err := s.auth.GetUser(ctx, id)
	return u.Email, err
}

func (s *Server) groupTitle(ctx context.Context, id int64) (string, error) {
	g, err := s.auth.GetGroup(ctx, id)
	return g.Name, err
}

// auditResources are the resources the audit log filter offers.
var auditResources = []Option{
	{catalog.ResourceProducts, "Products"}, {catalog.ResourceCategories, "Categories"},
	{auth.ResourceUsers, "Users"}, {auth.ResourceGroups, "Groups"}, {auth.ResourceSessions, "Sign-ins"},
}

// auditPage is the global audit log.
type auditPage struct {
	Layout
	Entries   []entryView
	Users     []Option
	Resources []Option
	User      string // the filters as given
	Resource  string
	Since     string
	Until     string
	Errors    map[string]string
	First     string
	Next      string
}

// listAudit is GET /admin/audit/: every change, newest first, filtered by who, by
// resource and by a date range (whole days, UTC), keyset paged.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	pg := &auditPage{Layout: Layout{Title: "Audit log"}, Resources: auditResources, Errors: map[string]string{},
		User: q.Get("user"), Resource: q.Get("resource"), Since: q.Get("since"), Until: q.Get("until")}
	var f audit.Filter
	kept := url.Values{}
	if id, err := strconv.ParseInt(pg.User, 10, 64); err == nil && id > 0 {
		f.UserID = id
		kept.Set("user", pg.User)
	}
	if slices.ContainsFunc(auditResources, func(o Option) bool { return o.Value == pg.Resource }) {
		f.Resource = pg.Resource
		kept.Set("resource", pg.Resource)
	}
	day := func(name, v string) time.Time {
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			pg.Errors[name] = "is not a date like 2026-01-31"
			return time.Time{}
		}
		kept.Set(name, v)
		return t
	}
	f.Since = day("since", pg.Since)
	if until := day("until", pg.Until); !until.IsZero() {
		f.Until = until.AddDate(0, 0, 1) // through the whole day
	}
	cursor := q.Get("cursor")
	if !validToken(cursor) {
		cursor = ""
	}
	page, err := s.audit.List(ctx, f, cursor, keyset.DefaultLimit)
	if fieldErrors(err) != nil {
		cursor = ""
		page, err = s.audit.List(ctx, f, "", keyset.DefaultLimit)
	}
	if err != nil {
		return err
	}
	users, err := s.auth.ListUsers(ctx, auth.UserList{Sort: "email", Limit: keyset.MaxLimit})
	if err != nil {
		return err
	}
	for _, u := range users {
		pg.Users = append(pg.Users, Option{strconv.FormatInt(u.ID, 10), u.Email})
	}
	tree, err := s.catalog.CategoryTree(ctx)
	if err != nil {
		return err
	}
	pg.Entries = s.entryViews(page.Entries, tree)
	self := "/admin/audit/"
	if len(kept) > 0 {
		self += "?" + kept.Encode()
	}
	if cursor != "" {
		pg.First = self
	}
	if page.Next != "" {
		pg.Next = addParam(self, "cursor", page.Next)
	}
	return s.render(w, r, http.StatusOK, "audit/list", pg)
}
