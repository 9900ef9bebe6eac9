// Package orders holds the rules of orders and customers: placing an order (prices
// and totals computed here, stock reserved so it is never oversold), the status
// state machine with its timeline, restocking, the order and customer lists, and the
// dashboard's figures. The admin pages and the JSON API both call it, so each rule
// lives here once and both transports behave alike.
//
// Every write is one transaction through store.InTx that also appends an order
// event (the timeline) and an audit row, by the audit.Actor the caller passes.
// Errors are the project's own: validator.Errors for bad input (field names as in
// the JSON API: "email", "lines[1].quantity"), *ShortStockError when a line cannot
// be filled and *TransitionError for a move the state machine refuses (both wrap
// store.ErrConflict: 409), store.ErrStale for a stale version (412) and
// store.ErrNotFound for a missing row.
package orders

import (
	"time"

	"github.com/stockroom-dev/stockroom/internal/store"
)

// The resources the audit log files order and customer changes under.
const (
	ResourceOrders    = "orders"
	ResourceCustomers = "customers"
)

// Config is what orders take from the configuration.
type Config struct {
	Currency string // STOCKROOM_CURRENCY: the ISO 4217 code orders are placed in
	TaxRate  int    // STOCKROOM_TAX_RATE_BPS: basis points (1900 is 19%), 0 to MaxTaxRate
	// Location is the shop's time zone: where "today" starts for the date filters
	// and the dashboard, an IANA zone (time.LoadLocation). nil is UTC.
	Location *time.Location
	// Now is the clock; nil is time.Now. Tests fix it.
	Now func() time.Time
}

// Orders is the orders and customers of one database.
type Orders struct {
	st        *store.Store
	cfg       Config
	selective int // SelectiveSearch; tests lower it to reach the other path
}

// New returns the orders of st. An empty currency is EUR, as the config's default.
func New(st *store.Store, cfg Config) *Orders {
	if cfg.Currency == "" {
		cfg.Currency = "EUR"
	}
	if cfg.Location == nil || cfg.Location == time.Local {
		cfg.Location = time.UTC // Local has no name PostgreSQL knows
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.TaxRate = min(max(cfg.TaxRate, 0), MaxTaxRate)
	return &Orders{st: st, cfg: cfg, selective: SelectiveSearch}
}

// TaxRate is the tax rate in basis points that new orders are charged.
func (o *Orders) TaxRate() int { return o.cfg.TaxRate }

// Currency is the ISO 4217 code new orders are placed in.
func (o *Orders) Currency() string { return o.cfg.Currency }
