package catalog

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// The product statuses.
const (
	StatusDraft    = "draft"
	StatusActive   = "active"
	StatusArchived = "archived"
)

// Statuses lists the product statuses in the order forms offer them.
var Statuses = []string{StatusDraft, StatusActive, StatusArchived}

// Limits on input, each checked with a field message; the database checks the same
// where it can.
const (
	MaxName        = 200
	MaxDescription = 20000
	MaxVariants    = 100
	MaxSKU         = 64
	MaxTitle       = 200
	MaxOptions     = 10
	MaxOptionName  = 50
	MaxOptionValue = 100
	MaxPriceCents  = 1_000_000_000_00 // a billion in major units: sums stay far from overflow
	MaxStock       = math.MaxInt32
)

// ProductInput is a product as a form or an API payload gives it. Variants is the
// whole list: on update, stored variants missing from it are deleted, and the order
// is the display order.
type ProductInput struct {
	Name        string
	Slug        string // "" generates one from the name (made unique with -2, -3, ...)
	Description string
	Status      string // one of Statuses; "" is draft
	CategoryID  *int64 // nil: no category
	Variants    []VariantInput
}

// VariantInput is one variant of a ProductInput, or the body of a variant write.
type VariantInput struct {
	ID                  int64 // 0 for a new variant; the stored variant's id to change that one
	Version             int32 // the stored variant's version as the caller read it; 0 skips the check
	SKU                 string
	Title               string
	Options             map[string]string // option name → value, such as "size": "M"
	PriceCents          int64
	CompareAtPriceCents *int64
	CostCents           *int64
	Stock               int64
}

// CategoryInput is a category as a form or an API payload gives it.
type CategoryInput struct {
	Name        string
	Slug        string // "" generates one from the name
	Description string
	ParentID    *int64 // nil: a top-level category
	Position    int32  // order among its siblings
}

// normalize trims what people pad by accident and fills defaults.
func (in ProductInput) normalize() ProductInput {
	in.Name = strings.TrimSpace(in.Name)
	in.Slug = strings.TrimSpace(in.Slug)
	in.Status = strings.TrimSpace(in.Status)
	if in.Status == "" {
		in.Status = StatusDraft
	}
	in.Variants = slices.Clone(in.Variants)
	for i := range in.Variants {
		in.Variants[i] = in.Variants[i].normalize()
	}
	return in
}

func (v VariantInput) normalize() VariantInput {
	v.SKU = strings.TrimSpace(v.SKU)
	v.Title = strings.TrimSpace(v.Title)
	if v.Options == nil {
		v.Options = map[string]string{} // none and empty are one thing: no diff between them
	}
	return v
}

// Validate checks the input without the database and returns a message per bad
// field ("name", "variants[1].sku", ...), or nil. What only the database can tell (a
// slug or SKU already in use, a category that does not exist) comes back from the
// write as the same kind of error. Text is stored as typed: escaping is the
// renderer's job.
func (in ProductInput) Validate() validator.Errors {
	in = in.normalize()
	errs := validator.Errors{}
	checkName(errs, "name", in.Name)
	checkSlug(errs, "slug", in.Slug)
	errs.Check(validator.MaxLen(in.Description, MaxDescription), "description", fmt.Sprintf("must be at most %d characters", MaxDescription))
	errs.Check(slices.Contains(Statuses, in.Status), "status", "must be one of "+strings.Join(Statuses, ", "))
	errs.Check(in.CategoryID == nil || *in.CategoryID > 0, "category_id", "does not exist")
	switch {
	case len(in.Variants) == 0:
		errs.Add("variants", "a product needs at least one variant")
	case len(in.Variants) > MaxVariants:
		errs.Add("variants", fmt.Sprintf("at most %d variants", MaxVariants))
	}
	seen := map[string]int{}
	for i, v := range in.Variants {
		prefix := fmt.Sprintf("variants[%d].", i)
		v.check(errs, prefix)
		key := strings.ToLower(v.SKU)
		if first, dup := seen[key]; dup && key != "" {
			errs.Add(prefix+"sku", fmt.Sprintf("is used twice in this product (also variant %d)", first+1))
		} else {
			seen[key] = i
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Validate checks one variant on its own (an API variant write), with field names
// without a prefix ("sku", "price_cents").
func (v VariantInput) Validate() validator.Errors {
	errs := validator.Errors{}
	v.normalize().check(errs, "")
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func (v VariantInput) check(errs validator.Errors, prefix string) {
	switch {
	case v.SKU == "":
		errs.Add(prefix+"sku", "is required")
	case !validator.MaxLen(v.SKU, MaxSKU):
		errs.Add(prefix+"sku", fmt.Sprintf("must be at most %d characters", MaxSKU))
	case strings.IndexFunc(v.SKU, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0:
		errs.Add(prefix+"sku", "must not contain spaces")
	}
	errs.Check(validator.MaxLen(v.Title, MaxTitle), prefix+"title", fmt.Sprintf("must be at most %d characters", MaxTitle))
	checkCents(errs, prefix+"price_cents", &v.PriceCents)
	checkCents(errs, prefix+"compare_at_price_cents", v.CompareAtPriceCents)
	checkCents(errs, prefix+"cost_cents", v.CostCents)
	switch {
	case v.Stock < 0:
		errs.Add(prefix+"stock", "must be zero or more")
	case v.Stock > MaxStock:
		errs.Add(prefix+"stock", fmt.Sprintf("must be at most %d", MaxStock))
	}
	if len(v.Options) > MaxOptions {
		errs.Add(prefix+"options", fmt.Sprintf("at most %d options", MaxOptions))
	}
	for name, value := range v.Options {
		switch {
		case strings.TrimSpace(name) == "" || !validator.MaxLen(name, MaxOptionName):
			errs.Add(prefix+"options", fmt.Sprintf("option names must have 1 to %d characters", MaxOptionName))
		case !validator.MaxLen(value, MaxOptionValue):
			errs.Add(prefix+"options", fmt.Sprintf("option values must have at most %d characters", MaxOptionValue))
		}
	}
}

// Validate checks a category without the database, like ProductInput.Validate.
func (in CategoryInput) Validate() validator.Errors {
	in = in.normalize()
	errs := validator.Errors{}
	checkName(errs, "name", in.Name)
	checkSlug(errs, "slug", in.Slug)
	errs.Check(validator.MaxLen(in.Description, MaxDescription), "description", fmt.Sprintf("must be at most %d characters", MaxDescription))
	errs.Check(in.ParentID == nil || *in.ParentID > 0, "parent_id", "does not exist")
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func (in CategoryInput) normalize() CategoryInput {
	in.Name = strings.TrimSpace(in.Name)
	in.Slug = strings.TrimSpace(in.Slug)
	return in
}

func checkName(errs validator.Errors, field, name string) {
	switch {
	case name == "":
		errs.Add(field, "is required")
	case !validator.MaxLen(name, MaxName):
		errs.Add(field, fmt.Sprintf("must be at most %d characters", MaxName))
	}
}

func checkSlug(errs validator.Errors, field, slug string) {
	errs.Check(slug == "" || validSlug(slug), field,
		fmt.Sprintf("must be lowercase letters, digits and single hyphens, at most %d characters", MaxSlug))
}

func checkCents(errs validator.Errors, field string, cents *int64) {
	switch {
	case cents == nil:
	case *cents < 0:
		errs.Add(field, "must be zero or more")
	case *cents > MaxPriceCents:
		errs.Add(field, fmt.Sprintf("must be at most %d", int64(MaxPriceCents)))
	}
}

// InputOf is the input that would store p as it is: a form's starting values, and
// what an API PATCH applies its fields to. Variants carry their ids and versions.
func InputOf(p *Product) ProductInput {
	in := ProductInput{
		Name: p.Name, Slug: p.Slug, Description: p.Description, Status: p.Status,
		CategoryID: p.CategoryID, Variants: make([]VariantInput, len(p.Variants)),
	}
	for i, v := range p.Variants {
		in.Variants[i] = VariantInputOf(v)
	}
	return in
}

// VariantInputOf is the input that would store v as it is, version included.
func VariantInputOf(v db.ProductVariant) VariantInput {
	return VariantInput{
		ID: v.ID, Version: v.Version, SKU: v.Sku, Title: v.Title, Options: decodeOptions(v.OptionValues),
		PriceCents: v.PriceCents, CompareAtPriceCents: v.CompareAtPriceCents, CostCents: v.CostCents,
		Stock: int64(v.Stock),
	}
}

// decodeOptions reads a variant's option_values; the column is always a JSON object
// of strings written by encodeOptions (or by the seed), so a failure yields none.
func decodeOptions(raw json.RawMessage) map[string]string {
	m := map[string]string{}
	_ = json.Unmarshal(raw, &m)
	return m
}

func encodeOptions(m map[string]string) json.RawMessage {
	if m == nil {
		m = map[string]string{}
	}
	b, _ := json.Marshal(m) // a map of strings always encodes
	return b
}

// FieldDiff is one field on which a stored product and a user's input differ, for
// the conflict page: the stored value and the user's, as text.
type FieldDiff struct {
	Field  string // "name", "variants[SKU-1].price_cents"
	Stored string
	Yours  string
}

// Compare lists the fields on which in differs from stored, sorted by field name.
// After a ConflictError it shows the user what the other save changed and what
// theirs would change; variants are matched by id and named by their stored SKU.
func Compare(stored *Product, in ProductInput) []FieldDiff {
	changes := audit.Diff(productSnapshot(InputOf(stored), stored), productSnapshot(in.normalize(), stored))
	out := make([]FieldDiff, 0, len(changes))
	for f, c := range changes {
		out = append(out, FieldDiff{Field: f, Stored: show(c[0]), Yours: show(c[1])})
	}
	slices.SortFunc(out, func(a, b FieldDiff) int { return strings.Compare(a.Field, b.Field) })
	return out
}

// show renders a snapshot value as text: "" for none.
func show(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case *int64:
		if v == nil {
			return ""
		}
		return fmt.Sprint(*v)
	case map[string]string:
		return FormatOptions(v)
	}
	return fmt.Sprint(v)
}

// FormatOptions writes a variant's options as "color: red, size: M", sorted by
// name: how Compare shows them, and how the admin's form writes them for editing.
func FormatOptions(m map[string]string) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + ": " + m[n]
	}
	return strings.Join(parts, ", ")
}

// productSnapshot flattens a product input into the fields the audit log and
// Compare name: the product's own fields, then each variant's as
// "variants[KEY].field". KEY is the SKU the variant has in stored (matched by id),
// so an edited SKU reads as a change of one variant; a new variant's key is its
// own SKU.
func productSnapshot(in ProductInput, stored *Product) map[string]any {
	m := map[string]any{
		"name": in.Name, "slug": in.Slug, "description": in.Description,
		"status": in.Status, "category_id": in.CategoryID,
	}
	for i, v := range in.Variants {
		key := v.SKU
		if stored != nil && v.ID != 0 {
			if sv := stored.Variant(v.ID); sv != nil {
				key = sv.Sku
			}
		}
		for f, val := range variantSnapshot(v, i) {
			m["variants["+key+"]."+f] = val
		}
	}
	return m
}

// variantSnapshot is a variant's fields for the audit log, position included.
func variantSnapshot(v VariantInput, position int) map[string]any {
	return map[string]any{
		"sku": v.SKU, "title": v.Title, "options": v.Options, "price_cents": v.PriceCents,
		"compare_at_price_cents": v.CompareAtPriceCents, "cost_cents": v.CostCents,
		"stock": v.Stock, "position": position,
	}
}

// categorySnapshot is a category's fields for the audit log.
func categorySnapshot(c db.Category) map[string]any {
	return map[string]any{
		"name": c.Name, "slug": c.Slug, "description": c.Description,
		"parent_id": c.ParentID, "position": c.Position,
	}
}
