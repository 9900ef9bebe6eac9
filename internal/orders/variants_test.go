package orders_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/keyset"
)

func TestVariantsByRef(t *testing.T) {
	e := newEnv(t)
	mug := e.variant(t, "MUG-1", 1_999, 10)
	digits := e.variant(t, "12345", 500, 1)
	lamp := e.variant(t, "Lamp-Brass", 4_500, 3)
	got, err := e.orders.VariantsByRef(context.Background(), []string{
		" mug-1 ", "LAMP-BRASS", fmt.Sprint(mug.ID), "12345", "NOPE", "", fmt.Sprint(digits.ID + 1000)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"mug-1": mug.ID, "LAMP-BRASS": lamp.ID, fmt.Sprint(mug.ID): mug.ID, "12345": digits.ID}
	if len(got) != len(want) {
		t.Errorf("got %d references resolved, want %d: %+v", len(got), len(want), got)
	}
	for ref, id := range want {
		if got[ref].ID != id {
			t.Errorf("%q → variant %d, want %d", ref, got[ref].ID, id)
		}
	}
	if v := got["LAMP-BRASS"]; v.SKU != "Lamp-Brass" || v.PriceCents != 4_500 || v.Stock != 3 || v.ProductName != "Product Lamp-Brass" || v.ProductStatus != "active" {
		t.Errorf("lamp = %+v", v)
	}
	if n := e.queries.During(func() { e.orders.VariantsByRef(context.Background(), []string{"a", "b", "c"}) }); n != 1 {
		t.Errorf("%d statements, want 1", n)
	}
}

func TestFindVariants(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		e.variant(t, fmt.Sprintf("MUG-%d", i), 1_000, 1)
	}
	e.variant(t, "LAMP-1", 1_000, 1)
	got, err := e.orders.FindVariants(context.Background(), "mug", 3)
	if err != nil {
		t.Fatal(err)
	}
	var skus []string
	for _, v := range got {
		skus = append(skus, v.SKU)
	}
	if !slices.Equal(skus, []string{"MUG-0", "MUG-1", "MUG-2"}) {
		t.Errorf("find mug = %v", skus)
	}
	if got, err := e.orders.FindVariants(context.Background(), "  ", 3); err != nil || len(got) != 0 {
		t.Errorf("empty search = %v, %v", got, err)
	}
}

func TestOrdersByID(t *testing.T) {
	e := newEnv(t)
	v := e.variant(t, "MUG-1", 1_000, 10)
	c := e.customer(t, "ada@example.com", "Ada")
	a := e.place(t, c.ID, line(v, 1))
	b := e.place(t, c.ID, line(v, 1))
	got, err := e.orders.OrdersByID(context.Background(), []int64{a.ID, 9999, b.ID})
	if err != nil || len(got) != 2 || got[0].Number == got[1].Number || got[0].CustomerEmail != "ada@example.com" {
		t.Errorf("OrdersByID = %+v, %v", got, err)
	}
	if _, err := e.orders.OrdersByID(context.Background(), make([]int64, keyset.MaxLimit+1)); !fieldError(err, "ids") {
		t.Errorf("too many ids: %v", err)
	}
}
