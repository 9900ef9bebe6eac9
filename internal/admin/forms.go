package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// maxFormBytes bounds a form body: the admin's forms are small, and a hostile one
// should cost us nothing.
const maxFormBytes = 1 << 20

// parseForm reads a posted form, at most maxFormBytes. An oversized body becomes 413
// through web.Status; a malformed one 400; a field whose text PostgreSQL could not
// store (see readForm) a 422 naming it. Handlers that show a form call readForm
// instead, to show those errors on the form.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	bad, err := readForm(w, r)
	if err != nil {
		return err
	}
	return bad.Err()
}

// readForm reads a posted form like parseForm, and returns the fields whose text
// PostgreSQL could not store (a NUL, bytes that are not UTF-8), each with its
// message, for the form to show: every form field is checked here, where it is
// read, so no field can forget. The caller must not save when there are any.
func readForm(w http.ResponseWriter, r *http.Request) (validator.Errors, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", web.ErrBadRequest, err)
	}
	bad := validator.Errors{}
	for name, values := range r.PostForm {
		if msg := validator.Storable(name); msg != "" {
			bad.Add(validator.FieldName(name), "is a field name that "+msg)
			continue
		}
		for _, v := range values {
			if msg := validator.Storable(v); msg != "" {
				bad.Add(name, msg)
			}
		}
	}
	return bad, nil
}

// pathID reads the {id} path value; a malformed id is not found, like an unknown one.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, store.ErrNotFound
	}
	return id, nil
}

// byPathID loads the row the {id} path value names with get: what every edit,
// password and delete page of a resource starts with.
func byPathID[T any](r *http.Request, get func(context.Context, int64) (T, error)) (T, error) {
	id, err := pathID(r)
	if err != nil {
		var zero T
		return zero, err
	}
	return get(r.Context(), id)
}

// formIDs reads the checked ids of a checkbox list; anything not an id is dropped.
func formIDs(r *http.Request, name string) []int64 {
	var ids []int64
	for _, v := range r.PostForm[name] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

// parseEdit reads a posted edit form: the {id} path value, the form, and its hidden
// version field (the version the editor read, for the optimistic check). Text
// PostgreSQL could not store is a 422, as in parseForm; readEdit hands it back.
func parseEdit(w http.ResponseWriter, r *http.Request) (id int64, version int32, err error) {
	id, version, bad, err := readEdit(w, r)
	if err != nil {
		return 0, 0, err
	}
	return id, version, bad.Err()
}

// readEdit is parseEdit for a handler that shows its form again: the fields with
// text PostgreSQL could not store come back as errors (see readForm).
func readEdit(w http.ResponseWriter, r *http.Request) (id int64, version int32, bad validator.Errors, err error) {
	if id, err = pathID(r); err != nil {
		return 0, 0, nil, err
	}
	if bad, err = readForm(w, r); err != nil {
		return 0, 0, nil, err
	}
	v, err := strconv.ParseInt(r.PostFormValue("version"), 10, 32)
	if err != nil && bad["version"] != "" {
		return 0, 0, nil, validator.Errors{"version": bad["version"]}
	} else if err != nil {
		return 0, 0, nil, fmt.Errorf("%w: version %q", web.ErrBadRequest, r.PostFormValue("version"))
	}
	return id, int32(v), bad, nil
}

// withText is own, the errors a form found reading its values, with bad (readForm's)
// over them: the text that cannot be stored is the first thing to fix.
func withText(own, bad validator.Errors) validator.Errors {
	if len(bad) == 0 {
		return own
	}
	if own == nil {
		own = validator.Errors{}
	}
	for k, v := range bad {
		own[k] = v
	}
	return own
}

// saveUnless runs save only when bad (readForm's errors) is empty; else bad is the
// error, which the handler shows on its form like the domain's own field errors.
func saveUnless[T any](bad validator.Errors, save func() (T, error)) (T, error) {
	if err := bad.Err(); err != nil {
		var zero T
		return zero, err
	}
	return save()
}

// Field is what the input partials need to draw one labelled input with its error,
// built in templates with the field func.
type Field struct {
	Name, Label, Type, Value, Error string
	Checked                         bool     // checkboxes
	Required                        bool     // marks the label and sets required
	Autocomplete                    string   // the autocomplete token
	Hint                            string   // help shown under the input
	Options                         []Option // a select's choices
	Empty                           string   // a select's first choice, valued "": "(none)"
}

// DescribedBy is the aria-describedby value: the ids of the error and the hint.
func (f Field) DescribedBy() string {
	var ids []string
	if f.Error != "" {
		ids = append(ids, f.Name+"-error")
	}
	if f.Hint != "" {
		ids = append(ids, f.Name+"-hint")
	}
	return strings.Join(ids, " ")
}

// newField is the template func field: name, label, type, value (a string, or a bool
// for a checkbox), the error, then options: "required", "autocomplete=TOKEN",
// "hint=TEXT".
func newField(name, label, typ string, value any, err string, opts ...string) Field {
	f := Field{Name: name, Label: label, Type: typ, Error: err}
	switch v := value.(type) {
	case string:
		f.Value = v
	case bool:
		f.Checked = v
	}
	for _, o := range opts {
		if o == "required" {
			f.Required = true
		} else if tok, ok := strings.CutPrefix(o, "autocomplete="); ok {
			f.Autocomplete = tok
		} else if hint, ok := strings.CutPrefix(o, "hint="); ok {
			f.Hint = hint
		} else if empty, ok := strings.CutPrefix(o, "empty="); ok {
			f.Empty = empty
		}
	}
	return f
}

// newChoice is the template func choice: a select field, as field with its
// options (options as for field, and "empty=TEXT" for a first choice of "").
func newChoice(name, label string, options []Option, value, err string, opts ...string) Field {
	f := newField(name, label, "select", value, err, opts...)
	f.Options = options
	return f
}

// pathOptions are categories as select options, named by their path.
func pathOptions(tree []catalog.CategoryNode) []Option {
	opts := make([]Option, len(tree))
	for i, n := range tree {
		opts[i] = Option{strconv.FormatInt(n.ID, 10), n.Path}
	}
	return opts
}

// PermGroup is the permissions of one resource, for one fieldset of checkboxes.
type PermGroup struct {
	Resource string
	Perms    []db.Permission
}

// groupPerms splits permissions (sorted by codename) by resource.
func groupPerms(perms []db.Permission) []PermGroup {
	var out []PermGroup
	for _, p := range perms {
		res, _, _ := strings.Cut(p.Codename, ".")
		if len(out) == 0 || out[len(out)-1].Resource != res {
			out = append(out, PermGroup{Resource: res})
		}
		out[len(out)-1].Perms = append(out[len(out)-1].Perms, p)
	}
	return out
}

// fieldErrors returns err's field errors, or nil when err is something else.
func fieldErrors(err error) validator.Errors {
	var fe validator.Errors
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}

// Cell is one input of an inline row (a product's variant), built in templates
// with the cell func: row index, field, label, value, the row's errors, inputmode.
type Cell struct {
	ID, Name, Label, Value, Error, Mode string
	Row                                 int // 1-based, for the label
}

func newCell(i int, field, label, value string, errs validator.Errors, mode string) Cell {
	return Cell{ID: fmt.Sprintf("v%d-%s", i, field), Name: fmt.Sprintf("variants[%d].%s", i, field), Label: label,
		Value: value, Error: errs[field], Mode: mode, Row: i + 1}
}
