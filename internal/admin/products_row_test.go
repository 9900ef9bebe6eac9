package admin

import (
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/db"
)

// A list row carries what its cells show: the price range, the stock with its
// class, the date in UTC, the other variants' count. The template formats them
// (fragments_test checks the cells).
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
				PriceMin: 12900, PriceMax: 12900, Stock: 12345, StockClass: "num", Updated: at.UTC()}},
		{"low, a range", db.ProductListing{ID: 8, VariantCount: 3, PriceMinCents: 500, PriceMaxCents: 1999, StockTotal: 5, UpdatedAt: at},
			productRow{ID: 8, Others: 2, PriceMin: 500, PriceMax: 1999, Stock: 5, StockClass: "num stock-low", Updated: at.UTC()}},
		{"out of stock", db.ProductListing{ID: 9, VariantCount: 2, StockTotal: 0, UpdatedAt: at},
			productRow{ID: 9, Others: 1, StockClass: "num stock-out", Updated: at.UTC()}},
		{"no variants", db.ProductListing{ID: 10, StockTotal: 6, UpdatedAt: at},
			productRow{ID: 10, Stock: 6, StockClass: "num", Updated: at.UTC()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.productRowOf(tt.p, 5); got != tt.want {
				t.Errorf("productRowOf = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
