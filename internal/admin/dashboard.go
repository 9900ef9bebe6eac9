package admin

import (
	"net/http"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
)

// dashboardRows is how many products each stock list and how many changes the
// recent list shows.
const dashboardRows = 8

// dashboardPage is the admin's home: the catalog at a glance and what changed
// lately, each part shown to those who may see it.
type dashboardPage struct {
	Layout
	CanProducts bool
	Products    string // "about 1,000,000 products"
	Out, Low    []db.ProductListing
	LowStock    int
	CanAudit    bool
	Recent      []entryView
}

// dashboard is GET /admin/: a fixed handful of statements (a count that is the
// planner's estimate when large, two short stock lists, the latest audit entries).
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p := auth.FromContext(ctx)
	pg := &dashboardPage{Layout: Layout{Title: "Dashboard"}, CanProducts: p.Can("products.view"),
		CanAudit: p.Can("audit.view"), LowStock: s.catalog.LowStock()}
	if pg.CanProducts {
		n, err := s.catalog.CountProducts(ctx, catalog.Filter{})
		if err != nil {
			return err
		}
		pg.Products = countText(n.N, n.Exact, "product", "products")
		if pg.Out, pg.Low, err = s.catalog.StockAlerts(ctx, dashboardRows); err != nil {
			return err
		}
	}
	if pg.CanAudit {
		page, err := s.audit.List(ctx, audit.Filter{}, "", dashboardRows)
		if err != nil {
			return err
		}
		tree, err := s.catalog.CategoryTree(ctx)
		if err != nil {
			return err
		}
		pg.Recent = s.entryViews(page.Entries, tree)
	}
	return s.render(w, r, http.StatusOK, "dashboard/index", pg)
}
