package admin

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
)

// Fixture image colours.
var (
	colorRed  = color.RGBA{200, 30, 30, 255}
	colorBlue = color.RGBA{30, 30, 200, 255}
)

func rgb(r, g, b uint8) color.Color { return color.RGBA{r, g, b, 255} }

// fixture is the actor of the test fixtures' catalog writes.
var fixture = audit.Actor{Label: "fixture"}

// fixtureStaff makes the fixtures' order moves, which take a principal; it is
// "fixture" in the audit log and the timeline, as fixture is.
var fixtureStaff = auth.NewPrincipal(0, "fixture", "", true, nil)

// product creates an active product with a variant per SKU, each 10.00 with 10 in
// stock, in category (0: none).
func (a *testApp) product(name string, category int64, skus ...string) *catalog.Product {
	a.t.Helper()
	in := catalog.ProductInput{Name: name, Status: catalog.StatusActive}
	if category != 0 {
		in.CategoryID = &category
	}
	for _, sku := range skus {
		in.Variants = append(in.Variants, catalog.VariantInput{SKU: sku, PriceCents: 1000, Stock: 10})
	}
	p, err := a.cat.CreateProduct(context.Background(), fixture, in)
	if err != nil {
		a.t.Fatalf("create product %q: %v", name, err)
	}
	return p
}

// category creates a category under parent (0: at the top).
func (a *testApp) category(name string, parent int64) int64 {
	a.t.Helper()
	in := catalog.CategoryInput{Name: name}
	if parent != 0 {
		in.ParentID = &parent
	}
	c, err := a.cat.CreateCategory(context.Background(), fixture, in)
	if err != nil {
		a.t.Fatalf("create category %q: %v", name, err)
	}
	return c.ID
}

// image adds a small PNG of colour c to product id.
func (a *testApp) image(id int64, c color.Color) db.ProductImage {
	a.t.Helper()
	img, err := a.cat.AddImage(context.Background(), fixture, id, bytes.NewReader(pngBytes(a.t, 4, 3, c)), "a swatch")
	if err != nil {
		a.t.Fatal(err)
	}
	return img
}

// loadProduct reads a product as stored.
func (a *testApp) loadProduct(id int64) *catalog.Product {
	a.t.Helper()
	p, err := a.cat.Product(context.Background(), id)
	if err != nil {
		a.t.Fatal(err)
	}
	return p
}

func pngBytes(t testing.TB, w, h int, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// counts are the rows a refused write must not add: products, variants, images,
// categories, audit entries.
func (a *testApp) counts() string {
	a.t.Helper()
	var out []string
	for _, table := range []string{"products", "product_variants", "product_images", "categories", "audit_log"} {
		var n int64
		if err := a.st.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			a.t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s=%d", table, n))
	}
	return strings.Join(out, " ")
}
