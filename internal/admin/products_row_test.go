package admin

import (
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/db"
)

// A list row carries its cells as the template used to format them: the price
// range, grouped stock with its class, the date, the other variants' count.
func TestProductRowOf(t *testing.T) {
	s := &Server{money: moneyOf("EUR")}
	at := time.Date(2026, 3, 4, 23, 30, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		p    db.ProductListing
		want productRow
	}{
		{"in stock, one price", db.ProductListing{ID: 7, Name: "Oak chair", Status: "active", CategoryName: "Furniture",
			FirstSku: "SR-1", VariantCount: 1, PriceMinCents: 12900, PriceMaxCents: 12900, StockTotal: 12345, UpdatedAt: at},
			productRow{ID: 7, Name: "Oak chair", FirstSku: "SR-1", Category: "Furniture", Status: "active",
				Price: "129.00", Stock: "12,345", StockClass: "num", Updated: "2026-03-04"}},
		{"low, a range", db.ProductListing{ID: 8, VariantCount: 3, PriceMinCents: 500, PriceMaxCents: 1999, StockTotal: 5, UpdatedAt: at},
			productRow{ID: 8, Others: 2, Price: "5.00–19.99", Stock: "5", StockClass: "num stock-low", Updated: "2026-03-04"}},
		{"out of stock", db.ProductListing{ID: 9, VariantCount: 2, StockTotal: 0, UpdatedAt: at},
			productRow{ID: 9, Others: 1, Price: "0.00", Stock: "0", StockClass: "num stock-out", Updated: "2026-03-04"}},
		{"no variants", db.ProductListing{ID: 10, StockTotal: 6, UpdatedAt: at},
			productRow{ID: 10, Price: "0.00", Stock: "6", StockClass: "num", Updated: "2026-03-04"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.productRowOf(tt.p, 5); got != tt.want {
				t.Errorf("productRowOf = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
