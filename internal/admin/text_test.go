package admin

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"image/color"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The pieces of our own forms a test reads: a form by its action, and the named
// fields in it with the values the page gave them.
var (
	formRe     = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	actionRe   = regexp.MustCompile(`\baction="([^"]*)"`)
	methodRe   = regexp.MustCompile(`\bmethod="([^"]*)"`)
	inputRe    = regexp.MustCompile(`<input\b[^>]*>`)
	textareaRe = regexp.MustCompile(`(?s)<textarea\b([^>]*)>(.*?)</textarea>`)
	selectRe   = regexp.MustCompile(`(?s)<select\b([^>]*)>(.*?)</select>`)
	optionRe   = regexp.MustCompile(`<option\b[^>]*>`)
	attrRe     = regexp.MustCompile(`\b(name|value|type)="([^"]*)"`)
)

// pageForm is one form of a page: its fields' names in order, and the values the
// page filled in (as a browser would submit them untouched).
type pageForm struct {
	names     []string
	values    url.Values
	hidden    []string // the names of hidden inputs and checkboxes: no typed text
	multipart bool
}

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(tag, -1) {
		m[a[1]] = html.UnescapeString(a[2])
	}
	return m
}

// formsOf returns the forms of body with method (post or get) whose action is
// action (query string aside).
func formsOf(body, method, action string) []pageForm {
	var out []pageForm
	for _, f := range formRe.FindAllStringSubmatch(body, -1) {
		m := methodRe.FindStringSubmatch(f[1])
		a := actionRe.FindStringSubmatch(f[1])
		if m == nil || !strings.EqualFold(m[1], method) || a == nil {
			continue
		}
		if got, _, _ := strings.Cut(html.UnescapeString(a[1]), "?"); got != action {
			continue
		}
		pf := pageForm{values: url.Values{}, multipart: strings.Contains(f[1], "multipart/form-data")}
		add := func(name, value string, send bool) {
			if name == "" {
				return
			}
			if !slices.Contains(pf.names, name) {
				pf.names = append(pf.names, name)
			}
			if send {
				pf.values.Add(name, value)
			}
		}
		for _, in := range inputRe.FindAllString(f[2], -1) {
			at := attrs(in)
			switch at["type"] {
			case "submit", "button", "file", "image", "reset":
				continue
			case "checkbox", "radio":
				add(at["name"], at["value"], strings.Contains(in, " checked"))
				pf.hidden = append(pf.hidden, at["name"])
			case "hidden":
				add(at["name"], at["value"], true)
				pf.hidden = append(pf.hidden, at["name"])
			default:
				add(at["name"], at["value"], true)
			}
		}
		for _, ta := range textareaRe.FindAllStringSubmatch(f[2], -1) {
			add(attrs(ta[1])["name"], html.UnescapeString(ta[2]), true)
		}
		for _, sel := range selectRe.FindAllStringSubmatch(f[2], -1) {
			value := ""
			for i, o := range optionRe.FindAllString(sel[2], -1) {
				if i == 0 || strings.Contains(o, " selected") {
					value = attrs(o)["value"]
				}
			}
			add(attrs(sel[1])["name"], value, true)
		}
		out = append(out, pf)
	}
	return out
}

// writes is what any admin write leaves behind: audit rows (every write has one),
// and the rows and versions of the tables the admin changes.
func (a *testApp) writes() string {
	a.t.Helper()
	var s string
	err := a.st.Pool().QueryRow(context.Background(), `SELECT concat_ws(' ',
		(SELECT count(*) FROM audit_log), (SELECT count(*) FROM events), (SELECT count(*) FROM api_tokens),
		(SELECT count(*) || '/' || coalesce(sum(version), 0) FROM users),
		(SELECT count(*) || '/' || coalesce(sum(version), 0) FROM groups),
		(SELECT count(*) || '/' || coalesce(sum(version), 0) FROM products),
		(SELECT count(*) || '/' || coalesce(sum(version), 0) FROM product_variants),
		(SELECT count(*) || '/' || coalesce(sum(version), 0) FROM product_images),
		(SELECT count(*) || '/' || coalesce(sum(version), 0) FROM categories),
		(SELECT count(*) || '/' || coalesce(sum(version), 0) FROM customers),
		(SELECT count(*) || '/' || coalesce(sum(version), 0) FROM orders),
		(SELECT count(*) FROM order_events))`).Scan(&s)
	if err != nil {
		a.t.Fatal(err)
	}
	return s
}

// formPage is where the form that posts to path is drawn: the page at path itself
// (new, edit, delete, password forms), else its parent (a product's images, an
// order's notes and moves, a list's bulk actions).
func formPage(path string) []string {
	parent := path[:strings.LastIndex(strings.TrimSuffix(path, "/"), "/")+1]
	pages := []string{path, parent}
	if strings.HasSuffix(path, "/images/edit") {
		pages = append(pages, strings.TrimSuffix(path, "images/edit"))
	}
	return pages
}

// formAgain are the POST routes that show their own form again, with the message
// at the field; the others (confirmations, moves, bulk actions) answer with the
// error page, which names the field.
var formAgain = []string{
	"POST /admin/login", "POST /admin/password",
	"POST /admin/users/new", "POST /admin/users/{id}/{$}", "POST /admin/groups/new", "POST /admin/groups/{id}/{$}",
	"POST /admin/tokens/new", "POST /admin/products/new", "POST /admin/products/{id}/{$}",
	"POST /admin/categories/new", "POST /admin/categories/{id}/{$}", "POST /admin/customers/new",
	"POST /admin/customers/{id}/{$}", "POST /admin/orders/new", "POST /admin/orders/{id}/notes",
}

// Every field of every admin form (found on the pages, not listed here) with a NUL
// or bytes that are not UTF-8, PostgreSQL's two refusals, is refused: the form
// again (or, where there is no form to show, the error page) saying which field and
// why, nothing written, never a 500. So is every parameter of every GET form.
func TestFormTextPostgreSQLRefuses(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.signedIn(superEmail)
	const nul = "must not contain the NUL character"
	tested := 0
	for _, rt := range a.routes {
		method, path := requestFor(t, a, rt)
		if method != "POST" || strings.HasSuffix(path, "/logout") {
			continue
		}
		if strings.HasSuffix(path, "/images/edit") {
			a.image(a.ids[fmt.Sprint("product", len(a.ids)-1)], color.White)
		}
		var form *pageForm
		for _, page := range formPage(path) {
			if fs := formsOf(c.get(page).body, "post", path); len(fs) > 0 {
				form = &fs[0]
				break
			}
		}
		stray := form == nil || len(form.names) == 0
		if stray {
			// No page draws a field for it (an order's moves for this fixture, a
			// button alone): a stray field must not make it fail. A route that
			// reads the form refuses it (422); one that reads no field may ignore
			// it, and act.
			form = &pageForm{names: []string{"stray"}, values: url.Values{}, hidden: []string{"stray"}}
		}
		for _, name := range form.names {
			for _, bad := range []struct{ kind, text, want string }{
				{"NUL", "a\x00b", nul}, {"not UTF-8", "a\xffb", "must be UTF-8 text"},
			} {
				t.Run(rt.Pattern+"/"+name+"/"+bad.kind, func(t *testing.T) {
					tested++
					before := a.writes()
					v := url.Values{}
					for k, vs := range form.values {
						v[k] = slices.Clone(vs)
					}
					v.Set(name, bad.text)
					var r response
					if form.multipart {
						r = c.postMultipart(path, v)
					} else {
						r = c.post(path, v)
					}
					if stray && r.status != http.StatusUnprocessableEntity {
						if r.status >= 500 {
							t.Fatalf("status %d; body:\n%.1500s\n%s", r.status, r.body, r.logged)
						}
						return
					}
					if r.status != http.StatusUnprocessableEntity {
						t.Fatalf("status %d, want 422; body:\n%.1500s\n%s", r.status, r.body, r.logged)
					}
					if !strings.Contains(r.body, bad.want) {
						t.Errorf("the answer does not say %q:\n%.3000s", bad.want, r.body)
					}
					typed := !slices.Contains(form.hidden, name)
					if slices.Contains(formAgain, rt.Pattern) && typed && !strings.Contains(r.body, `name="`+name+`"`) {
						t.Errorf("the form is not shown again with its %s field:\n%.3000s", name, r.body)
					}
					if after := a.writes(); after != before {
						t.Errorf("writes before %s, after %s", before, after)
					}
				})
			}
		}
	}
	if tested < 100 {
		t.Errorf("%d fields tested; the form walk found too few", tested)
	}

	// Every parameter of every GET form (list filters, search), and any other.
	for _, rt := range a.routes {
		method, path := requestFor(t, a, rt)
		if method != "GET" || !strings.HasSuffix(path, "/") || strings.HasPrefix(path, "/static/") {
			continue
		}
		names := []string{"stray"}
		for _, f := range formsOf(c.get(path).body, "get", path) {
			names = append(names, f.names...)
		}
		for _, name := range names {
			t.Run(rt.Pattern+"?"+name, func(t *testing.T) {
				r := c.get(path + "?" + url.Values{name: {"a\x00b"}}.Encode())
				if r.status != http.StatusBadRequest || !strings.Contains(r.body, "The parameter "+name+" "+nul) {
					t.Errorf("status %d, want 400 naming %s; body:\n%.2000s\n%s", r.status, name, r.body, r.logged)
				}
			})
		}
	}
}

// postMultipart posts form as multipart/form-data, as a browser sends a form with
// a file input, with a small PNG as its file after the fields.
func (c *client) postMultipart(path string, form url.Values) response {
	c.a.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, k := range slices.Sorted(maps.Keys(form)) {
		for _, v := range form[k] {
			if err := mw.WriteField(k, v); err != nil {
				c.a.t.Fatal(err)
			}
		}
	}
	fw, err := mw.CreateFormFile("image", "swatch.png")
	if err != nil {
		c.a.t.Fatal(err)
	}
	fw.Write(pngBytes(c.a.t, 4, 3, color.Black))
	if err := mw.Close(); err != nil {
		c.a.t.Fatal(err)
	}
	req, err := http.NewRequest("POST", c.a.srv.URL+path, &body)
	if err != nil {
		c.a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}
