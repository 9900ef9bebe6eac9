// Package seed fills the catalog with generated demo data: a category tree and any
// number of products with variants, loaded with COPY so a million products take
// well under a minute.
//
// The data is deterministic: product number i (counting from the first product a
// run adds) has the same name, status, category, variants, prices and stock in every
// run, however many products the run adds; only
// its id, and with it its slug and SKUs, depend on the ids free at the time.
//
// A run refuses a catalog that already has products unless Options.Append is set.
// Appending is safe: the run reserves a block of ids under a table lock and derives
// slugs ("rustic-oak-chair-1234") and SKUs ("SR-0001234-2") from those ids, so they
// cannot collide with each other or with an earlier run. A hand-made product whose
// SKU happens to follow the same pattern makes the load fail on the unique index,
// and nothing is added.
//
// Seeded rows are bulk data, not changes someone made: they get no audit rows.
package seed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// ErrNotEmpty refuses to seed a catalog that already has products without Append.
var ErrNotEmpty = errors.New("the catalog already has products")

// Defaults.
const (
	DefaultCategories = 100
	// chunk is how many products one COPY carries and one random stream makes: the
	// unit of determinism.
	chunk = 5000
	// maxVariants is the most variants a generated product has; each product gets a
	// block of this many variant ids.
	maxVariants = 3
	// seed is the fixed seed of every run's random streams.
	seed = 0x5eed_57_0c_4200
)

// epoch is when the first generated product was created; later ones follow every
// 17 seconds, so a million span about six months.
var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Options says what to add.
type Options struct {
	Products   int  // products to add
	Categories int  // categories to create when there are none (0: DefaultCategories); existing ones are used otherwise
	Append     bool // add to a catalog that already has products
}

// Result says what a run added.
type Result struct {
	Categories int // categories created (0 when existing ones were used)
	Products   int
	Variants   int
	FirstID    int64 // the first product's id
}

// Run adds what opts asks for, all in one transaction: a failure adds nothing.
//
// Into an empty catalog it loads without the secondary indexes and builds them at
// the end (DeferCatalogIndexes), several times faster than maintaining them row by
// row; the indexes are gone only inside the transaction, which holds the tables
// locked against writers throughout. Appending keeps the indexes. Generation runs in
// a goroutine of its own, a chunk ahead of the COPY, so the two overlap.
func Run(ctx context.Context, st *store.Store, opts Options) (Result, error) {
	if opts.Products < 0 || opts.Categories < 0 {
		return Result{}, errors.New("seed: counts must not be negative")
	}
	if opts.Categories == 0 {
		opts.Categories = DefaultCategories
	}
	var res Result
	err := st.InTx(ctx, func(q *db.Queries) error {
		// Writers wait until the load commits; readers go on.
		if err := q.LockCatalogForSeed(ctx); err != nil {
			return err
		}
		existing, err := q.CountAllProducts(ctx)
		if err != nil {
			return err
		}
		if existing > 0 && !opts.Append {
			return fmt.Errorf("%w (%d): seed fills an empty catalog; use --append to add to it", ErrNotEmpty, existing)
		}
		categories, err := q.ListCategoryIDs(ctx)
		if err != nil {
			return err
		}
		if len(categories) == 0 {
			if categories, err = createCategories(ctx, q, opts.Categories); err != nil {
				return err
			}
			res.Categories = len(categories)
		}
		if opts.Products == 0 {
			return nil
		}
		g := generator{categories: categories, total: opts.Products}
		// Take blocks of ids from the sequences, so that inserts after the load
		// cannot run into the ids it gave explicitly.
		if g.firstID, err = q.NextProductID(ctx); err != nil {
			return err
		}
		if err := q.SkipProductIDs(ctx, g.firstID+int64(opts.Products)-1); err != nil {
			return err
		}
		if g.firstVariant, err = q.NextVariantID(ctx); err != nil {
			return err
		}
		if err := q.SkipVariantIDs(ctx, g.firstVariant+int64(maxVariants*opts.Products)-1); err != nil {
			return err
		}
		if existing == 0 {
			if err := q.RaiseMaintenanceMemory(ctx); err != nil {
				return err
			}
			if err := q.DeferCatalogIndexes(ctx); err != nil {
				return err
			}
		}
		if res.Variants, err = g.load(ctx, q); err != nil {
			return err
		}
		if existing == 0 {
			if err := q.RestoreCatalogIndexes(ctx); err != nil {
				return fmt.Errorf("build indexes: %w", err)
			}
		}
		res.Products, res.FirstID = opts.Products, g.firstID
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("seed: %w", err)
	}
	if res.Products > 0 {
		// Fresh statistics, so that the planner's estimates (and the "about N"
		// counts built on them) are right from the first page, and pages marked
		// all-visible, so that the first reads do not rewrite them.
		if err := st.Read(ctx, func(q *db.Queries) error { return q.VacuumCatalog(ctx) }); err != nil {
			return Result{}, fmt.Errorf("seed: vacuum: %w", err)
		}
	}
	return res, nil
}

// batch is one chunk's rows.
type batch struct {
	products []db.CopyProductsParams
	variants []db.CopyVariantsParams
}

// load copies every chunk, generated one ahead in a goroutine, and returns the
// number of variants.
func (g generator) load(ctx context.Context, q *db.Queries) (int, error) {
	variants := 0
	err := pipeline(ctx, (g.total+chunk-1)/chunk, g.chunk, func(b batch) error {
		if _, err := q.CopyProducts(ctx, b.products); err != nil {
			return fmt.Errorf("copy products: %w", err)
		}
		if _, err := q.CopyVariants(ctx, b.variants); err != nil {
			return fmt.Errorf("copy variants: %w", err)
		}
		variants += len(b.variants)
		return nil
	})
	return variants, err
}

// createCategories makes n categories: departments at the top, sections under them,
// and every fifth of the rest one level deeper. It returns their ids.
func createCategories(ctx context.Context, q *db.Queries, n int) ([]int64, error) {
	type node struct {
		id   int64
		name string
	}
	tops := min(n, len(departments))
	rest := n - tops
	deep := rest / 5
	var all, top, mid []node
	add := func(parent *int64, name string, position int) (node, error) {
		c, err := q.CreateCategory(ctx, db.CreateCategoryParams{
			ParentID: parent, Name: name, Slug: catalog.Slugify(name), Position: int32(position),
			Description: "Everything " + name + ".",
		})
		if err != nil {
			return node{}, fmt.Errorf("category %q: %w", name, err)
		}
		nd := node{id: c.ID, name: c.Name}
		all = append(all, nd)
		return nd, nil
	}
	for i := range tops {
		nd, err := add(nil, departments[i], i)
		if err != nil {
			return nil, err
		}
		top = append(top, nd)
	}
	for i := range rest - deep {
		parent := top[i%tops]
		name := parent.name + " " + sections[i/tops%len(sections)]
		if round := i / (tops * len(sections)); round > 0 {
			name += " " + strconv.Itoa(round+1)
		}
		nd, err := add(&parent.id, name, i/tops)
		if err != nil {
			return nil, err
		}
		mid = append(mid, nd)
	}
	for i := range deep {
		parent := mid[i%len(mid)]
		name := parent.name + " " + subsections[i/len(mid)%len(subsections)]
		if round := i / (len(mid) * len(subsections)); round > 0 {
			name += " " + strconv.Itoa(round+1)
		}
		if _, err := add(&parent.id, name, i/len(mid)); err != nil {
			return nil, err
		}
	}
	ids := make([]int64, len(all))
	for i, nd := range all {
		ids[i] = nd.id
	}
	return ids, nil
}

// generator makes the products of one run.
type generator struct {
	categories   []int64 // to spread products over, in id order
	firstID      int64   // product number i gets id firstID+i
	firstVariant int64   // and variant ids from firstVariant+maxVariants*i
	total        int
}

// chunk generates chunk c's products and variants. Its random stream is seeded with
// c alone, which is what makes the data independent of the number of products.
func (g generator) chunk(c int) batch {
	rng := rand.New(rand.NewPCG(seed, uint64(c)))
	var b batch
	for i := c * chunk; i < min((c+1)*chunk, g.total); i++ {
		p, vs := g.product(rng, i)
		b.products = append(b.products, p)
		b.variants = append(b.variants, vs...)
	}
	return b
}

// product generates product number i and its variants.
func (g generator) product(rng *rand.Rand, i int) (db.CopyProductsParams, []db.CopyVariantsParams) {
	id := g.firstID + int64(i)
	name := styles[rng.IntN(len(styles))] + " " + materials[rng.IntN(len(materials))] + " " + things[rng.IntN(len(things))]
	created := epoch.Add(time.Duration(i) * 17 * time.Second)
	updated := created.Add(time.Duration(rng.Int64N(int64(60 * 24 * time.Hour))))
	p := db.CopyProductsParams{
		ID: id, Name: name, Slug: catalog.Slugify(name) + "-" + strconv.FormatInt(id, 10),
		Description: blurbs[rng.IntN(len(blurbs))], CreatedAt: created, UpdatedAt: updated,
	}
	switch r := rng.IntN(100); {
	case r < 75:
		p.Status = catalog.StatusActive
	case r < 90:
		p.Status = catalog.StatusDraft
	default:
		p.Status = catalog.StatusArchived
	}
	if len(g.categories) > 0 && rng.IntN(50) > 0 { // one in fifty has no category
		p.CategoryID = &g.categories[rng.IntN(len(g.categories))]
	}
	n := 1
	switch r := rng.IntN(100); {
	case r >= 75:
		n = 3
	case r >= 40:
		n = 2
	}
	stockClass := rng.IntN(100) // < 6: out of stock, < 16: low, else plenty
	base := int64(500+rng.IntN(30000))/100*100 + 99
	options := sizes
	key := "size"
	if rng.IntN(2) == 0 {
		options, key = colors, "color"
	}
	first := rng.IntN(len(options) - n + 1)
	vs := make([]db.CopyVariantsParams, n)
	for k := range n {
		v := db.CopyVariantsParams{
			ID: g.firstVariant + int64(maxVariants*i+k), ProductID: id,
			Sku:        "SR-" + pad7(id) + "-" + strconv.Itoa(k+1),
			PriceCents: base + int64(k)*(base/1000*100), Position: int32(k),
			CreatedAt: created, UpdatedAt: updated,
		}
		cost := v.PriceCents * 55 / 100
		v.CostCents = &cost
		if rng.IntN(5) == 0 {
			compare := v.PriceCents * 12 / 10 / 100 * 100
			v.CompareAtPriceCents = &compare
		}
		switch {
		case stockClass < 6:
		case stockClass < 16:
			if k == 0 {
				v.Stock = int32(1 + rng.IntN(5))
			}
		default:
			v.Stock = int32(6 + rng.IntN(300))
		}
		if n > 1 {
			v.Title = options[first+k]
			v.OptionValues, _ = json.Marshal(map[string]string{key: v.Title}) // strings always encode
		} else {
			v.OptionValues = json.RawMessage(`{}`)
		}
		vs[k] = v
		p.StockTotal += int64(v.Stock)
		if k == 0 || v.PriceCents < p.PriceMinCents {
			p.PriceMinCents = v.PriceCents
		}
		p.PriceMaxCents = max(p.PriceMaxCents, v.PriceCents)
	}
	skus := make([]string, n)
	for k, v := range vs {
		skus[k] = v.Sku
	}
	p.VariantCount, p.FirstSku, p.Skus = int32(n), vs[0].Sku, strings.Join(skus, " ")
	return p, vs
}

// pad7 writes id with at least seven digits: SR-0001234-1 sorts like its id.
func pad7(id int64) string {
	s := strconv.FormatInt(id, 10)
	for len(s) < 7 {
		s = "0" + s
	}
	return s
}
