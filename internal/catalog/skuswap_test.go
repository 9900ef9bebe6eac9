package catalog_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// SKUs may move between the variants of one product in one save: a swap, a
// rotation of three, a change of case. Taking another product's SKU in the same save
// is still refused on the variant that asked for it, with nothing written.
func TestUpdateProductMovesSKUsBetweenVariants(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.create(t, product("Tee", "TEE-S", "TEE-M", "TEE-L"))

	in := catalog.InputOf(p)
	in.Variants[0].SKU, in.Variants[1].SKU = "TEE-M", "TEE-S" // a swap
	p, err := e.cat.UpdateProduct(ctx, editor, p.ID, p.Version, in)
	if err != nil {
		t.Fatalf("swap: %v", err)
	}
	if got := skusOf(p); got != "TEE-M TEE-S TEE-L" {
		t.Errorf("after the swap: %s", got)
	}

	in = catalog.InputOf(p)
	in.Variants[0].SKU, in.Variants[1].SKU, in.Variants[2].SKU = "tee-s", "TEE-L", "TEE-M" // a rotation, one in lower case
	if p, err = e.cat.UpdateProduct(ctx, editor, p.ID, p.Version, in); err != nil {
		t.Fatalf("rotation: %v", err)
	}
	if got := skusOf(p); got != "tee-s TEE-L TEE-M" {
		t.Errorf("after the rotation: %s", got)
	}
	if n := e.scalar(t, "SELECT count(*) FROM audit_log WHERE object_id = $1 AND resource = 'products' AND action = 'update'", p.ID); n != 2 {
		t.Errorf("%d update audit rows, want 2 (one a save)", n)
	}

	e.create(t, product("Cap", "CAP-1"))
	before := e.rows(t)
	in = catalog.InputOf(p)
	in.Variants[1].SKU, in.Variants[2].SKU = "TEE-M", "TEE-L" // a swap, parked first ...
	in.Variants[0].SKU = "CAP-1"                              // ... and another product's SKU
	_, err = e.cat.UpdateProduct(ctx, editor, p.ID, p.Version, in)
	wantFields(t, err, validator.Errors{"variants[0].sku": "is already used"})
	if after := e.rows(t); after != before {
		t.Errorf("rows %v after a refused save, want %v", after, before)
	}
	if got := skusOf(e.load(t, p.ID)); got != "tee-s TEE-L TEE-M" {
		t.Errorf("after a refused save: %s", got)
	}
}

func skusOf(p *catalog.Product) string {
	var s []string
	for _, v := range p.Variants {
		s = append(s, v.Sku)
	}
	return strings.Join(s, " ")
}

func (e *env) load(t testing.TB, id int64) *catalog.Product {
	t.Helper()
	p, err := e.cat.Product(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
