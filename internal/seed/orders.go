package seed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/orders"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// ErrHasOrders refuses to seed orders into a shop that has some, unless
// OrderOptions.Append is set.
var ErrHasOrders = errors.New("the shop already has orders")

// ErrNothingForSale: seeded orders are made of active products' variants, and there
// are none.
var ErrNothingForSale = errors.New("the catalog has no active products to order: seed products first")

const (
	// OrderDays is how far back seeded orders go.
	OrderDays = 90
	// seedVariants is how many variants (of active products, the first by id)
	// seeded orders choose from.
	seedVariants = 2000
	// orderSeed is the fixed seed of the order generator's random streams.
	orderSeed = 0x5eed_0d_e5
)

// OrderOptions says what orders to add.
type OrderOptions struct {
	Orders    int
	Customers int       // customers to create for them (0: one per ten orders, at least one)
	Now       time.Time // the end of the OrderDays they are spread over (zero: time.Now)
	Currency  string    // "" is EUR
	TaxRate   int       // basis points, as orders.Config.TaxRate
	Append    bool      // add to a shop that has orders
}

// OrderResult says what a run added.
type OrderResult struct {
	Customers, Orders, Lines, Events int
}

// Orders adds customers and orders spread over the OrderDays before opts.Now, in one
// transaction and with COPY, as Run adds products (into an empty order book without
// the secondary indexes, built at the end).
//
// The data is deterministic the way Run's is: order number i of a run has the same
// customer, lines, amounts, status and history (relative to Now) in every run
// against the same catalog. Orders are placed in id order, evenly over the days.
// Their status follows their age: the last day's are mostly pending or paid, a few
// days old on their way, older ones mostly delivered, with some cancelled and
// refunded (restocked_at set, as if restocked). The dashboard's order_stats get the
// orders added in one statement at the end rather than through the trigger. Amounts are computed by
// orders.ComputeTotals at opts.TaxRate, as PlaceOrder computes them. The variants'
// stock is not touched: this is history, not new sales; and, like Run, it writes no
// audit rows.
func Orders(ctx context.Context, st *store.Store, opts OrderOptions) (OrderResult, error) {
	if opts.Orders < 0 || opts.Customers < 0 {
		return OrderResult{}, errors.New("seed orders: counts must not be negative")
	}
	if opts.Orders == 0 {
		return OrderResult{}, nil
	}
	if opts.Customers == 0 {
		opts.Customers = max(1, opts.Orders/10)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Currency == "" {
		opts.Currency = "EUR"
	}
	g := &orderGenerator{
		now: opts.Now.UTC().Truncate(time.Second), total: opts.Orders, customers: opts.Customers,
		currency: opts.Currency, taxRate: opts.TaxRate,
	}
	var res OrderResult
	err := st.InTx(ctx, func(q *db.Queries) error {
		// Writers of customers and orders wait until the load commits; readers go on.
		if err := q.LockOrdersForSeed(ctx); err != nil {
			return err
		}
		existing, err := q.CountAllOrders(ctx)
		if err != nil {
			return err
		}
		if existing > 0 && !opts.Append {
			return fmt.Errorf("%w (%d): seed adds orders to a shop without any; use --append to add more", ErrHasOrders, existing)
		}
		if g.variants, err = q.ListSeedVariants(ctx, seedVariants); err != nil {
			return err
		}
		if len(g.variants) == 0 {
			return ErrNothingForSale
		}
		if err := g.reserve(ctx, q); err != nil {
			return err
		}
		if existing == 0 {
			if err := deferOrderIndexes(ctx, q); err != nil {
				return err
			}
		}
		if err := q.PauseOrderStats(ctx); err != nil {
			return err
		}
		if err := g.load(ctx, q, &res); err != nil {
			return err
		}
		err = q.AddOrderStats(ctx, db.AddOrderStatsParams{FirstID: g.firstOrder, LastID: g.firstOrder + int64(g.total) - 1})
		if err != nil {
			return err
		}
		if err := q.ResumeOrderStats(ctx); err != nil {
			return err
		}
		if existing == 0 {
			if err := q.RestoreDeferredIndexes(ctx); err != nil {
				return fmt.Errorf("build indexes: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return OrderResult{}, fmt.Errorf("seed orders: %w", err)
	}
	// All-visible pages, so that counts are index-only scans at once, and fresh
	// statistics for the planner's estimates.
	if err := st.Read(ctx, func(q *db.Queries) error { return q.VacuumOrders(ctx) }); err != nil {
		return OrderResult{}, fmt.Errorf("seed orders: vacuum: %w", err)
	}
	return res, nil
}

// deferOrderIndexes drops the indexes of the order tables, and of customers when
// that is empty too, until RestoreDeferredIndexes.
func deferOrderIndexes(ctx context.Context, q *db.Queries) error {
	if err := q.RaiseMaintenanceMemory(ctx); err != nil {
		return err
	}
	customers, err := q.CountAllCustomers(ctx)
	if err != nil {
		return err
	}
	if customers == 0 {
		if err := q.DeferCustomerIndexes(ctx); err != nil {
			return err
		}
	}
	return q.DeferOrderIndexes(ctx)
}

// orderGenerator makes the customers and orders of one run.
type orderGenerator struct {
	now           time.Time
	total         int // orders
	customers     int
	currency      string
	taxRate       int
	variants      []db.ListSeedVariantsRow
	firstCustomer int64 // customer number i gets id firstCustomer+i
	firstOrder    int64 // order number i gets id firstOrder+i
	firstNumber   int64 // and number SR-(firstNumber+i)
	addresses     []json.RawMessage
}

// reserve takes blocks of customer ids, order ids and order numbers from their
// sequences, so that inserts after the load cannot run into the ones it gives
// explicitly. It runs under LockOrdersForSeed.
func (g *orderGenerator) reserve(ctx context.Context, q *db.Queries) (err error) {
	if g.firstCustomer, err = q.NextCustomerID(ctx); err != nil {
		return err
	}
	if err := q.SkipCustomerIDs(ctx, g.firstCustomer+int64(g.customers)-1); err != nil {
		return err
	}
	if g.firstOrder, err = q.NextOrderID(ctx); err != nil {
		return err
	}
	if err := q.SkipOrderIDs(ctx, g.firstOrder+int64(g.total)-1); err != nil {
		return err
	}
	if g.firstNumber, err = q.NextOrderNumber(ctx); err != nil {
		return err
	}
	return q.SkipOrderNumbers(ctx, g.firstNumber+int64(g.total)-1)
}

// orderBatch is one chunk's rows.
type orderBatch struct {
	orders []db.CopyOrdersParams
	lines  []db.CopyOrderLinesParams
	events []db.CopyOrderEventsParams
}

// load copies the customers, then the orders chunk by chunk, and counts them in res.
func (g *orderGenerator) load(ctx context.Context, q *db.Queries, res *OrderResult) error {
	customers := make([]db.CopyCustomersParams, g.customers)
	g.addresses = make([]json.RawMessage, g.customers)
	for i := range customers {
		customers[i] = g.customer(i)
		g.addresses[i] = customers[i].ShippingAddress
	}
	if _, err := q.CopyCustomers(ctx, customers); err != nil {
		return fmt.Errorf("copy customers: %w", err)
	}
	res.Customers = len(customers)
	return pipeline(ctx, (g.total+chunk-1)/chunk, g.chunk, func(b orderBatch) error {
		if _, err := q.CopyOrders(ctx, b.orders); err != nil {
			return fmt.Errorf("copy orders: %w", err)
		}
		if _, err := q.CopyOrderLines(ctx, b.lines); err != nil {
			return fmt.Errorf("copy order lines: %w", err)
		}
		if _, err := q.CopyOrderEvents(ctx, b.events); err != nil {
			return fmt.Errorf("copy order events: %w", err)
		}
		res.Orders += len(b.orders)
		res.Lines += len(b.lines)
		res.Events += len(b.events)
		return nil
	})
}

// customer generates customer number i. Their email carries their id, so that an
// appended run never collides with an earlier one.
func (g *orderGenerator) customer(i int) db.CopyCustomersParams {
	rng := rand.New(rand.NewPCG(orderSeed, 1<<40|uint64(i)))
	id := g.firstCustomer + int64(i)
	first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
	city := cities[rng.IntN(len(cities))]
	name := first + " " + last
	addr, _ := json.Marshal(orders.Address{ // strings always encode
		Name: name, Line1: strconv.Itoa(1+rng.IntN(200)) + " " + streets[rng.IntN(len(streets))],
		City: city.name, PostalCode: fmt.Sprintf("%05d", rng.IntN(100_000)), Country: city.country,
	})
	created := g.now.AddDate(0, 0, -OrderDays-1-rng.IntN(365))
	local := strings.ToLower(strings.NewReplacer(" ", "", "-", "").Replace(first + "." + last))
	return db.CopyCustomersParams{
		ID: id, Email: local + "." + strconv.FormatInt(id, 10) + "@example.com",
		Name: name, Phone: fmt.Sprintf("+%s %07d", city.dial, rng.IntN(10_000_000)),
		ShippingAddress: addr, BillingAddress: addr, CreatedAt: created, UpdatedAt: created,
	}
}

// chunk generates orders chunk c. Its random stream is seeded with c alone, which
// makes the data independent of how many orders the run adds beyond it.
func (g *orderGenerator) chunk(c int) orderBatch {
	rng := rand.New(rand.NewPCG(orderSeed, uint64(c)))
	var b orderBatch
	for i := c * chunk; i < min((c+1)*chunk, g.total); i++ {
		g.order(rng, i, &b)
	}
	return b
}

// order generates order number i with its lines and timeline into b. It is placed at
// a random moment of its own slot of the OrderDays, so ids follow placing times.
func (g *orderGenerator) order(rng *rand.Rand, i int, b *orderBatch) {
	id := g.firstOrder + int64(i)
	span := time.Duration(OrderDays) * 24 * time.Hour
	slot := max(span/time.Duration(g.total), 1)
	placed := g.now.Add(-span + time.Duration(i)*slot + time.Duration(rng.Int64N(int64(slot)))).Truncate(time.Microsecond)

	// A tenth of the customers place about a third of the orders.
	cust := rng.IntN(g.customers)
	if rng.IntN(10) < 3 {
		cust = rng.IntN(max(1, g.customers/10))
	}

	n := min(pick(rng.IntN(100), []int{55, 80, 93}, []int{1, 2, 3, 4}), len(g.variants))
	picked := make([]int, 0, n)
	lines := make([]orders.Line, 0, n)
	var subtotal int64
	for len(picked) < n {
		k := rng.IntN(len(g.variants))
		if slices.Contains(picked, k) {
			continue
		}
		qty := pick(rng.IntN(100), []int{80, 95}, []int64{1, 2, 3})
		picked = append(picked, k)
		lines = append(lines, orders.Line{UnitPrice: g.variants[k].PriceCents, Quantity: qty})
		subtotal += g.variants[k].PriceCents * qty
	}
	shipping := int64(495)
	if subtotal >= 10_000 {
		shipping = 0 // free from 100.00
	}
	totals, lineTotals, err := orders.ComputeTotals(lines, shipping, g.taxRate)
	if err != nil {
		panic(fmt.Sprintf("seed: order %d: %v", i, err)) // catalog prices keep sums far from overflow
	}
	for k, vi := range picked {
		v := g.variants[vi]
		b.lines = append(b.lines, db.CopyOrderLinesParams{
			OrderID: id, VariantID: &v.ID, Sku: v.Sku, Name: v.ProductName, Title: v.Title,
			UnitPriceCents: v.PriceCents, Quantity: int32(lines[k].Quantity), LineTotalCents: lineTotals[k], Position: int32(k),
		})
	}

	path := history(rng, g.now.Sub(placed))
	at := placed
	var restocked *time.Time
	for k, kind := range path {
		if k > 0 {
			at = at.Add(stepAfter(rng, kind))
			if at.After(g.now) {
				at = g.now
			}
		}
		b.events = append(b.events, db.CopyOrderEventsParams{OrderID: id, At: at, ActorLabel: audit.System.Label, Kind: kind})
		if kind == orders.StatusCancelled || kind == orders.StatusRefunded {
			t := at
			restocked = &t
		}
	}
	status := path[len(path)-1]
	if status == orders.EventCreated {
		status = orders.StatusPending
	}
	b.orders = append(b.orders, db.CopyOrdersParams{
		ID: id, Number: "SR-" + strconv.FormatInt(g.firstNumber+int64(i), 10), CustomerID: g.firstCustomer + int64(cust),
		Status: status, SubtotalCents: totals.Subtotal, ShippingCents: totals.Shipping, TaxCents: totals.Tax,
		TotalCents: totals.Total, Currency: g.currency, ShippingAddress: g.addresses[cust], BillingAddress: g.addresses[cust],
		PlacedAt: placed, UpdatedAt: at, Version: int32(len(path)), RestockedAt: restocked,
	})
}

// history is the timeline of an order of age: "created" and the statuses it went
// through. The younger the order, the earlier in its life it still is.
func history(rng *rand.Rand, age time.Duration) []string {
	const day = 24 * time.Hour
	created := []string{orders.EventCreated}
	paid := append(created, orders.StatusPaid)
	fulfilled := append(paid[:2:2], orders.StatusFulfilled)
	delivered := append(fulfilled[:3:3], orders.StatusDelivered)
	cancelled := append(created[:1:1], orders.StatusCancelled)
	if rng.IntN(2) == 0 {
		cancelled = append(paid[:2:2], orders.StatusCancelled)
	}
	refunded := append(delivered[:4:4], orders.StatusRefunded)
	if rng.IntN(3) == 0 {
		refunded = append(paid[:2:2], orders.StatusRefunded)
	}
	r := rng.IntN(100)
	switch {
	case age < day:
		return pick(r, []int{40, 85, 90}, [][]string{created, paid, fulfilled, cancelled})
	case age < 3*day:
		return pick(r, []int{3, 20, 80, 90}, [][]string{created, paid, fulfilled, delivered, cancelled})
	case age < 10*day:
		return pick(r, []int{2, 20, 88, 94}, [][]string{paid, fulfilled, delivered, cancelled, refunded})
	}
	return pick(r, []int{86, 93}, [][]string{delivered, cancelled, refunded})
}

// pick returns the choice of the first bound r is below, else the last choice.
func pick[T any](r int, bounds []int, choices []T) T {
	for i, b := range bounds {
		if r < b {
			return choices[i]
		}
	}
	return choices[len(choices)-1]
}

// stepAfter is how long after the step before a move to kind comes.
func stepAfter(rng *rand.Rand, kind string) time.Duration {
	switch kind {
	case orders.StatusPaid:
		return time.Duration(1+rng.IntN(60)) * time.Minute
	case orders.StatusFulfilled:
		return time.Duration(2+rng.IntN(28)) * time.Hour
	case orders.StatusDelivered:
		return time.Duration(24+rng.IntN(72)) * time.Hour
	case orders.StatusCancelled:
		return time.Duration(10+rng.IntN(700)) * time.Minute
	}
	return time.Duration(1+rng.IntN(7)) * 24 * time.Hour // refunded
}
