package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// ApplyBatch is how many products one apply transaction writes: large enough that
// a 100,000-row file is a few hundred transactions, small enough that a batch holds
// its row locks for a moment only and a cancel takes effect soon.
const ApplyBatch = 500

// The outcomes of a planned change.
const (
	OutcomePending  = "pending"
	OutcomeApplied  = "applied"
	OutcomeConflict = "conflict"
	OutcomeFailed   = "failed"
)

// Run does what import id is waiting for: plans it if it is queued (or was being
// planned by a worker that died), then applies it if that was asked for (or resumes
// an apply that died). A plan with errors that was to be applied at once ends failed,
// with nothing written. This is the background job's body; it is safe to run again
// after a crash at any point.
func (s *Service) Run(ctx context.Context, id int64) (imp db.Import, err error) {
	// One worker per import at a time, across the cluster: a job River rescues (or
	// the periodic resume starts) while another worker still runs it finds the lock
	// taken and leaves the import to that worker.
	ran, err := s.st.Exclusive(ctx, lockSpace, int32(id), func() error {
		imp, err = s.run(ctx, id)
		return err
	})
	if err == nil && !ran {
		return s.Get(ctx, id)
	}
	return imp, err
}

// lockSpace is the advisory lock space of imports (store.Exclusive): the issue's
// number, which no other package uses.
const lockSpace = 17

func (s *Service) run(ctx context.Context, id int64) (db.Import, error) {
	imp, err := s.Plan(ctx, id)
	if err != nil {
		return db.Import{}, err
	}
	if imp.Status == StatusPlanned && imp.ApplyRequested && imp.ErrorRows > 0 {
		return s.finish(ctx, id, StatusFailed,
			fmt.Sprintf("%d rows have errors, so nothing was applied: correct the file and import it again", imp.ErrorRows))
	}
	if imp.Status == StatusPlanned && imp.ApplyRequested || imp.Status == StatusApplying {
		return s.Apply(ctx, id)
	}
	return imp, nil
}

// Apply writes import id's plan in batches of ApplyBatch products, each in one
// transaction with its audit rows, its outcomes and the import's counts, so that a
// crash between batches loses nothing and a rerun resumes with the next. Between
// batches it stops if cancelled (the import ends cancelled, what was applied stays)
// or if ctx ends (the import stays applying, for the next run to resume).
func (s *Service) Apply(ctx context.Context, id int64) (db.Import, error) {
	a, imp, err := s.startApply(ctx, id)
	if a == nil || err != nil {
		return imp, err
	}
	for {
		var cancelled bool
		if err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
			cancelled, err = q.ImportCancelRequested(ctx, id)
			return err
		}); err != nil {
			return db.Import{}, fmt.Errorf("apply import %d: %w", id, err)
		}
		if cancelled {
			return s.finish(ctx, id, StatusCancelled, "")
		}
		n, err := a.batch(ctx, ApplyBatch)
		if err != nil {
			return db.Import{}, fmt.Errorf("apply import %d: %w", id, err)
		}
		if n == 0 {
			return s.finish(ctx, id, StatusApplied, "")
		}
	}
}

// startApply makes a confirmed, planned import applying (or takes up one found
// applying, to resume it) and returns its applier; nil when there is nothing to
// apply.
func (s *Service) startApply(ctx context.Context, id int64) (*applier, db.Import, error) {
	imp, err := s.Get(ctx, id)
	if err != nil {
		return nil, db.Import{}, err
	}
	switch {
	case imp.Status == StatusPlanned && imp.ApplyRequested && imp.ErrorRows == 0:
		err = s.st.Primary(ctx, func(q *db.Queries) (err error) {
			imp, err = q.StartImportPhase(ctx, db.StartImportPhaseParams{ID: id, FromStatus: StatusPlanned,
				ToStatus: StatusApplying, RowsTotal: imp.ToCreate + imp.ToUpdate})
			if err != nil {
				return err
			}
			return progressed(ctx, q, id)
		})
		if store.IsNotFound(err) {
			imp, err = s.Get(ctx, id)
			return nil, imp, err
		}
		if err != nil {
			return nil, db.Import{}, fmt.Errorf("start applying import %d: %w", id, err)
		}
	case imp.Status == StatusApplying: // resume
	default:
		return nil, imp, nil
	}
	a := &applier{s: s, imp: imp, actor: audit.Actor{Label: imp.ActorLabel}, note: fmt.Sprintf("import %d (%s)", imp.ID, imp.FileName)}
	if imp.ActorUserID != nil {
		a.actor.UserID = *imp.ActorUserID
	}
	if imp.ActorTokenID != nil {
		a.actor.TokenID = *imp.ActorTokenID
	}
	return a, imp, nil
}

func (s *Service) finish(ctx context.Context, id int64, status, failure string) (db.Import, error) {
	var imp db.Import
	err := s.st.Primary(ctx, func(q *db.Queries) (err error) {
		if imp, err = q.FinishImport(ctx, db.FinishImportParams{ID: id, Status: status, Failure: failure}); err != nil {
			return err
		}
		return progressed(ctx, q, id)
	})
	if store.IsNotFound(err) {
		return s.Get(ctx, id) // already ended
	}
	if err != nil {
		return db.Import{}, fmt.Errorf("end import %d %s: %w", id, status, err)
	}
	return imp, nil
}

// applier writes an import's batches.
type applier struct {
	s     *Service
	imp   db.Import
	actor audit.Actor
	note  string
}

// userError says whether err is the database refusing a row for a reason a person
// can fix (a SKU or slug taken since the preview, a category deleted): then only
// that product fails, not the import.
func userError(err error) bool {
	return errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrCheck) || errors.Is(err, store.ErrReferenced)
}

// batch applies the pending changes of the next limit products and returns how many
// changes it settled (0: none were left). When the database refuses one product of
// a batch, the batch is rolled back and its products are applied one at a time, so
// only the product at fault is marked failed.
func (a *applier) batch(ctx context.Context, limit int) (int, error) {
	var n int
	err := a.s.st.InTx(ctx, func(q *db.Queries) error {
		if _, err := q.LockImport(ctx, a.imp.ID); err != nil {
			return err
		}
		changes, err := q.ListPendingImportChanges(ctx, db.ListPendingImportChangesParams{ImportID: a.imp.ID, GroupLimit: int32(limit)})
		if err != nil || len(changes) == 0 {
			return err
		}
		n = len(changes)
		return a.write(ctx, q, changes)
	})
	switch {
	case err == nil:
		return n, nil
	case !userError(err):
		return 0, err
	case limit > 1:
		for i := 0; i < limit; i++ {
			m, err := a.batch(ctx, 1)
			if err != nil || m == 0 {
				return n, err
			}
		}
		return n, nil
	}
	// One product the database refuses: mark its rows failed, with the reason.
	msg := failureMessage(err)
	err = a.s.st.InTx(ctx, func(q *db.Queries) error {
		if _, err := q.LockImport(ctx, a.imp.ID); err != nil {
			return err
		}
		changes, err := q.ListPendingImportChanges(ctx, db.ListPendingImportChangesParams{ImportID: a.imp.ID, GroupLimit: 1})
		if err != nil || len(changes) == 0 {
			return err
		}
		n = len(changes)
		o := outcomes{}
		for _, c := range changes {
			o.add(c.RowNumber, OutcomeFailed, msg, 0)
		}
		return o.save(ctx, q, a.imp.ID)
	})
	return n, err
}

// failureMessage tells a person why the database refused a product.
func failureMessage(err error) string {
	switch c := store.Constraint(err); c {
	case "product_variants_sku_key":
		return "the SKU was taken by another product since the preview: nothing of this product was written"
	case "products_slug_key":
		return "the slug was taken by another product since the preview: nothing of this product was written"
	case "products_category_id_fkey":
		return "the category was deleted since the preview: nothing of this product was written"
	default:
		return "the database refused this product (" + c + "): nothing of it was written"
	}
}

// outcomes collects the settled rows of a batch for MarkImportChanges.
type outcomes struct {
	rows                      []int32
	outcomes, messages        []string
	productIDs                []int64
	applied, conflicts, fails int32
}

func (o *outcomes) add(row int32, outcome, msg string, productID int64) {
	o.rows = append(o.rows, row)
	o.outcomes = append(o.outcomes, outcome)
	o.messages = append(o.messages, msg)
	o.productIDs = append(o.productIDs, productID)
	switch outcome {
	case OutcomeApplied:
		o.applied++
	case OutcomeConflict:
		o.conflicts++
	case OutcomeFailed:
		o.fails++
	}
}

func (o *outcomes) save(ctx context.Context, q *db.Queries, importID int64) error {
	if err := q.MarkImportChanges(ctx, db.MarkImportChangesParams{ImportID: importID, RowNumbers: o.rows,
		Outcomes: o.outcomes, Messages: o.messages, ProductIds: o.productIDs}); err != nil {
		return err
	}
	if err := q.AddImportApplied(ctx, db.AddImportAppliedParams{ID: importID, Applied: o.applied,
		Conflicts: o.conflicts, Failed: o.fails, Done: int32(len(o.rows))}); err != nil {
		return err
	}
	return progressed(ctx, q, importID)
}

// fieldsOf decodes a change's fields; a key present with null (category_id: none)
// stays apart from a key absent.
func fieldsOf(c db.ImportChange) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(c.Fields, &m); err != nil {
		return nil, fmt.Errorf("import row %d: fields: %w", c.RowNumber, err)
	}
	return m, nil
}

func changesOf(c db.ImportChange) (map[string][2]any, error) {
	var m map[string][2]any
	if err := json.Unmarshal(c.Changes, &m); err != nil {
		return nil, fmt.Errorf("import row %d: changes: %w", c.RowNumber, err)
	}
	return m, nil
}

// write applies one batch's changes (whole products, grouped by GroupKey) through q.
func (a *applier) write(ctx context.Context, q *db.Queries, changes []db.ImportChange) error {
	groups := map[int64][]db.ImportChange{}
	var order []int64
	for _, c := range changes {
		if _, ok := groups[c.GroupKey]; !ok {
			order = append(order, c.GroupKey)
		}
		groups[c.GroupKey] = append(groups[c.GroupKey], c)
	}
	o := &outcomes{}
	if err := a.updates(ctx, q, groups, order, o); err != nil {
		return err
	}
	if err := a.creates(ctx, q, groups, order, o); err != nil {
		return err
	}
	return o.save(ctx, q, a.imp.ID)
}

// updates writes the batch's changes to stored products: each product only if it
// and every variant the rows name are still at the versions the preview saw.
func (a *applier) updates(ctx context.Context, q *db.Queries, groups map[int64][]db.ImportChange, order []int64, o *outcomes) error {
	var ids, variantIDs []int64
	for _, k := range order {
		if k > 0 {
			ids = append(ids, k)
			for _, c := range groups[k] {
				variantIDs = append(variantIDs, *c.VariantID)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	locked, err := q.LockImportProducts(ctx, ids)
	if err != nil {
		return err
	}
	products := make(map[int64]db.Product, len(locked))
	for _, p := range locked {
		products[p.ID] = p
	}
	vrows, err := q.ListVariantVersions(ctx, variantIDs)
	if err != nil {
		return err
	}
	variants := make(map[int64]db.ListVariantVersionsRow, len(vrows))
	for _, v := range vrows {
		variants[v.ID] = v
	}
	var pu db.UpdateImportedProductsParams
	var vu db.UpdateImportedVariantsParams
	var objs []audit.Object
	var written []int64
	for _, k := range ids {
		rows := groups[k]
		p, ok := products[k]
		conflict := ""
		if !ok {
			conflict = "the product was deleted since the preview"
		}
		for _, c := range rows {
			v, vok := variants[*c.VariantID]
			switch {
			case conflict != "":
			case p.Version != c.ProductVersion:
				conflict = "the product was changed since the preview (by someone else): left as they saved it; import a fresh export to change it"
			case !vok || v.ProductID != k:
				conflict = "the variant with this SKU was deleted or moved since the preview"
			case v.Version != c.VariantVersion:
				conflict = "the variant was changed since the preview (its price or stock, by someone else): left as it is; import a fresh export to change it"
			}
		}
		if conflict != "" {
			for _, c := range rows {
				o.add(c.RowNumber, OutcomeConflict, conflict, 0)
			}
			continue
		}
		name, slug, status, category := p.Name, p.Slug, p.Status, p.CategoryID
		productChanged := false
		all := audit.Changes{}
		for _, c := range rows {
			f, err := fieldsOf(c)
			if err != nil {
				return err
			}
			ch, err := changesOf(c)
			if err != nil {
				return err
			}
			price, stock := int64(-1), int32(-1)
			for field, raw := range f {
				var err error
				switch field {
				case "name":
					err = json.Unmarshal(raw, &name)
				case "slug":
					err = json.Unmarshal(raw, &slug)
				case "status":
					err = json.Unmarshal(raw, &status)
				case "category_id":
					category = nil
					err = json.Unmarshal(raw, &category)
				case "price_cents":
					err = json.Unmarshal(raw, &price)
				case "stock":
					err = json.Unmarshal(raw, &stock)
				}
				if err != nil {
					return fmt.Errorf("import row %d: %s: %w", c.RowNumber, field, err)
				}
				if field == "price_cents" || field == "stock" {
					all["variants["+c.Sku+"]."+field] = ch[field]
				} else {
					productChanged = true
					all[field] = ch[field]
				}
			}
			if price >= 0 || stock >= 0 {
				vu.Ids = append(vu.Ids, *c.VariantID)
				vu.PriceCents = append(vu.PriceCents, price)
				vu.Stocks = append(vu.Stocks, stock)
			}
			o.add(c.RowNumber, OutcomeApplied, "", 0)
		}
		if productChanged {
			pu.Ids = append(pu.Ids, k)
			pu.Names = append(pu.Names, name)
			pu.Slugs = append(pu.Slugs, slug)
			pu.Statuses = append(pu.Statuses, status)
			var cat int64
			if category != nil {
				cat = *category
			}
			pu.CategoryIds = append(pu.CategoryIds, cat)
		}
		written = append(written, k)
		objs = append(objs, audit.Object{ID: k, Repr: name, Changes: all})
	}
	if len(pu.Ids) > 0 {
		if err := q.UpdateImportedProducts(ctx, pu); err != nil {
			return err
		}
	}
	if len(vu.Ids) > 0 {
		if err := q.UpdateImportedVariants(ctx, vu); err != nil {
			return err
		}
		if err := q.RefreshProductSummaries(ctx, written); err != nil {
			return err
		}
	}
	return audit.RecordMany(ctx, q, a.actor, audit.ActionUpdate, catalog.ResourceProducts, objs, a.note)
}

// creates writes the batch's new products with their variants.
func (a *applier) creates(ctx context.Context, q *db.Queries, groups map[int64][]db.ImportChange, order []int64, o *outcomes) error {
	var pc db.CreateImportedProductsParams
	type newVariant struct {
		group      int64
		sku        string
		price      int64
		stock      int32
		position   int32
		row        int32
		changes    map[string][2]any
		name, slug string
	}
	var vs []newVariant
	used := map[string]bool{}
	slugOf := map[int64]string{}
	for _, k := range order {
		if k > 0 {
			continue
		}
		for i, c := range groups[k] {
			var f struct {
				Name, Slug, Status string
				CategoryID         *int64 `json:"category_id"`
				PriceCents         int64  `json:"price_cents"`
				Stock              int32
				Position           int32
			}
			if err := json.Unmarshal(c.Fields, &f); err != nil {
				return fmt.Errorf("import row %d: fields: %w", c.RowNumber, err)
			}
			ch, err := changesOf(c)
			if err != nil {
				return err
			}
			if i == 0 {
				slug := f.Slug
				if slug == "" {
					if slug, err = a.freeSlug(ctx, q, f.Name, c.Sku, used); err != nil {
						return err
					}
				}
				used[slug] = true
				slugOf[k] = slug
				var cat int64
				if f.CategoryID != nil {
					cat = *f.CategoryID
				}
				pc.Names = append(pc.Names, f.Name)
				pc.Slugs = append(pc.Slugs, slug)
				pc.Statuses = append(pc.Statuses, f.Status)
				pc.CategoryIds = append(pc.CategoryIds, cat)
			}
			vs = append(vs, newVariant{group: k, sku: c.Sku, price: f.PriceCents, stock: f.Stock, position: f.Position,
				row: c.RowNumber, changes: ch, name: groups[k][0].Repr, slug: slugOf[k]})
		}
	}
	if len(pc.Names) == 0 {
		return nil
	}
	created, err := q.CreateImportedProducts(ctx, pc)
	if err != nil {
		return err
	}
	idOf := make(map[string]int64, len(created))
	for _, r := range created {
		idOf[r.Slug] = r.ID
	}
	var vc db.CreateImportedVariantsParams
	all := map[int64]audit.Changes{}
	var ids []int64
	for _, v := range vs {
		id := idOf[v.slug]
		vc.ProductIds = append(vc.ProductIds, id)
		vc.Skus = append(vc.Skus, v.sku)
		vc.PriceCents = append(vc.PriceCents, v.price)
		vc.Stocks = append(vc.Stocks, v.stock)
		vc.Positions = append(vc.Positions, v.position)
		if _, ok := all[id]; !ok {
			all[id] = audit.Changes{}
			ids = append(ids, id)
		}
		for f, c := range v.changes {
			if f == "price_cents" || f == "stock" {
				f = "variants[" + v.sku + "]." + f
			}
			all[id][f] = c
		}
		if v.position == 0 && v.changes["slug"][1] == "" {
			all[id]["slug"] = [2]any{nil, v.slug}
		}
		o.add(v.row, OutcomeApplied, "", id)
	}
	if err := q.CreateImportedVariants(ctx, vc); err != nil {
		return err
	}
	if err := q.RefreshProductSummaries(ctx, ids); err != nil {
		return err
	}
	objs := make([]audit.Object, 0, len(ids))
	names := map[int64]string{}
	for _, v := range vs {
		if _, ok := names[idOf[v.slug]]; !ok {
			names[idOf[v.slug]] = v.name
		}
	}
	for _, id := range ids {
		objs = append(objs, audit.Object{ID: id, Repr: names[id], Changes: all[id]})
	}
	return audit.RecordMany(ctx, q, a.actor, audit.ActionCreate, catalog.ResourceProducts, objs, a.note)
}

// freeSlug is a slug for a new product whose row gives none, made from its name as
// the form would (catalog.Slugify), free in the database and in this batch.
func (a *applier) freeSlug(ctx context.Context, q *db.Queries, name, sku string, used map[string]bool) (string, error) {
	base := catalog.Slugify(name)
	if base == "" {
		base = "product"
	}
	for _, b := range []string{base, base + "-" + catalog.Slugify(sku)} {
		slug, err := q.FreeProductSlug(ctx, db.FreeProductSlugParams{Base: b, SelfID: 0})
		if err != nil {
			return "", err
		}
		if !used[slug] {
			return slug, nil
		}
	}
	return "", fmt.Errorf("%w: products_slug_key: no free slug for %q", store.ErrConflict, name)
}
