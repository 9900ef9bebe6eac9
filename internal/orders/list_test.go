package orders_test

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/orders"
)

// listFixture places eight orders for three customers, on fixed days before now,
// and returns their numbers by name.
func listFixture(t *testing.T, e *env) map[string]db.Order {
	t.Helper()
	cheap := e.variant(t, "CHEAP-1", 1_000, 1_000) // 11.90 with tax
	dear := e.variant(t, "DEAR-1", 50_000, 1_000)  // 595.00 with tax
	ada := e.customer(t, "ada@example.com", "Ada Lovelace")
	bob := e.customer(t, "bob@shop.test", "Robert Tables")
	eve := e.customer(t, "eve@example.com", "Eve")
	day := func(days int, hour int) time.Time {
		return time.Date(2026, 3, 18-days, hour, 0, 0, 0, time.UTC)
	}
	specs := []struct {
		name   string
		cust   int64
		v      db.ProductVariant
		qty    int64
		placed time.Time
		path   []string
	}{
		{"ada-today", ada.ID, cheap, 1, day(0, 9), nil},
		{"bob-today", bob.ID, dear, 1, day(0, 11), []string{"paid"}},
		{"ada-3d", ada.ID, cheap, 2, day(3, 10), []string{"paid", "fulfilled"}},
		{"eve-6d", eve.ID, dear, 2, day(6, 0), []string{"paid"}},
		{"bob-7d", bob.ID, cheap, 3, day(7, 23), []string{"cancelled"}},
		{"ada-20d", ada.ID, dear, 1, day(20, 12), []string{"paid", "fulfilled", "delivered"}},
		{"eve-29d", eve.ID, cheap, 1, day(29, 0), []string{"paid", "refunded"}},
		{"bob-45d", bob.ID, dear, 3, day(45, 8), []string{"paid", "fulfilled", "delivered"}},
	}
	out := map[string]db.Order{}
	for _, s := range specs {
		o := e.place(t, s.cust, line(s.v, s.qty))
		e.move(t, o.ID, s.path...)
		e.setPlaced(t, o.ID, s.placed)
		back, err := e.orders.Order(context.Background(), o.ID)
		if err != nil {
			t.Fatal(err)
		}
		out[s.name] = back.Order
	}
	return out
}

func TestListOrdersFilters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fx := listFixture(t, e)
	today, _, _ := e.orders.PlacedRange("today", "", "")
	week, _, _ := e.orders.PlacedRange("7d", "", "")
	month, _, _ := e.orders.PlacedRange("30d", "", "")
	from, to, err := e.orders.PlacedRange("custom", "2026-02-20", "2026-03-11")
	if err != nil {
		t.Fatal(err)
	}
	ptr := func(n int64) *int64 { return &n }
	tests := []struct {
		name string
		f    orders.Filter
		want []string // newest first
	}{
		{"all", orders.Filter{}, []string{"bob-today", "ada-today", "ada-3d", "eve-6d", "bob-7d", "ada-20d", "eve-29d", "bob-45d"}},
		{"status", orders.Filter{Status: "paid"}, []string{"bob-today", "eve-6d"}},
		{"customer", orders.Filter{CustomerID: fx["ada-3d"].CustomerID}, []string{"ada-today", "ada-3d", "ada-20d"}},
		{"today", orders.Filter{PlacedFrom: today}, []string{"bob-today", "ada-today"}},
		{"7 days", orders.Filter{PlacedFrom: week}, []string{"bob-today", "ada-today", "ada-3d", "eve-6d"}},
		{"30 days", orders.Filter{PlacedFrom: month}, []string{"bob-today", "ada-today", "ada-3d", "eve-6d", "bob-7d", "ada-20d", "eve-29d"}},
		{"custom", orders.Filter{PlacedFrom: from, PlacedTo: to}, []string{"bob-7d", "ada-20d"}},
		{"total from", orders.Filter{TotalMin: ptr(59_500)}, []string{"bob-today", "eve-6d", "ada-20d", "bob-45d"}},
		{"total range", orders.Filter{TotalMin: ptr(2_380), TotalMax: ptr(59_499)}, []string{"ada-3d", "bob-7d"}},
		{"number", orders.Filter{Q: fx["eve-6d"].Number[3:]}, []string{"eve-6d"}},
		{"email", orders.Filter{Q: "SHOP.TEST"}, []string{"bob-today", "bob-7d", "bob-45d"}},
		{"name", orders.Filter{Q: "lovelace"}, []string{"ada-today", "ada-3d", "ada-20d"}},
		{"wildcards are literal", orders.Filter{Q: "%"}, nil},
		{"combined", orders.Filter{Q: "example.com", Status: "paid", PlacedFrom: week}, []string{"eve-6d"}},
	}
	// A search is matched by ids when it is selective and row by row when it is
	// broad: both ways must agree.
	for _, way := range []struct {
		name      string
		selective int
	}{{"by ids", orders.SelectiveSearch}, {"row by row", 0}} {
		orders.SetSelectiveSearch(e.orders, way.selective)
		for _, tt := range tests {
			t.Run(way.name+"/"+tt.name, func(t *testing.T) {
				page, err := e.orders.ListOrders(ctx, orders.ListParams{Filter: tt.f})
				if err != nil {
					t.Fatalf("ListOrders: %v", err)
				}
				var want []string
				for _, n := range tt.want {
					want = append(want, fx[n].Number)
				}
				if got := numbers(page.Items); !slices.Equal(got, want) {
					t.Errorf("got %v, want %v", got, want)
				}
				n, err := e.orders.CountOrders(ctx, tt.f)
				if err != nil {
					t.Fatalf("CountOrders: %v", err)
				}
				if n.N != int64(len(want)) || !n.Exact {
					t.Errorf("count = %+v, want exactly %d", n, len(want))
				}
			})
		}
	}
}

func TestListOrdersPaging(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	listFixture(t, e)
	all, err := e.orders.ListOrders(ctx, orders.ListParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []orders.Sort{orders.DefaultSort, {Key: orders.SortPlaced}, {Key: orders.SortTotal}, {Key: orders.SortTotal, Desc: true}} {
		t.Run(s.String(), func(t *testing.T) {
			want := sorted(all.Items, s)
			var got []string
			var pages []orders.Page
			p := orders.ListParams{Sort: s, Limit: 3}
			for {
				page, err := e.orders.ListOrders(ctx, p)
				if err != nil {
					t.Fatalf("ListOrders: %v", err)
				}
				pages = append(pages, page)
				got = append(got, numbers(page.Items)...)
				if page.Next == "" {
					break
				}
				p.Cursor = page.Next
			}
			if !slices.Equal(got, want) || len(pages) != 3 {
				t.Fatalf("pages give %v in %d pages, want %v in 3", got, len(pages), want)
			}
			// Back from the last page to the one before.
			prev, err := e.orders.ListOrders(ctx, orders.ListParams{Sort: s, Limit: 3, Cursor: pages[2].Prev})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(numbers(prev.Items), numbers(pages[1].Items)) || prev.Next == "" || prev.Prev == "" {
				t.Errorf("prev page = %v (next %q, prev %q), want %v with both links", numbers(prev.Items), prev.Next, prev.Prev, numbers(pages[1].Items))
			}
			last, err := e.orders.ListOrders(ctx, orders.ListParams{Sort: s, Limit: 3, Last: true})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(numbers(last.Items), want[5:]) || last.Next != "" {
				t.Errorf("last page = %v, want %v", numbers(last.Items), want[5:])
			}
		})
	}
}

// sorted orders rows as s would.
func sorted(rows []db.OrderListing, s orders.Sort) []string {
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b db.OrderListing) int {
		c := a.PlacedAt.Compare(b.PlacedAt)
		if s.Key == orders.SortTotal {
			c = cmp.Compare(a.TotalCents, b.TotalCents)
		}
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		if s.Desc {
			return -c
		}
		return c
	})
	return numbers(rows)
}

func numbers(rows []db.OrderListing) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Number)
	}
	return out
}

func TestListOrdersInvalid(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	neg, low := int64(-1), int64(5)
	high := int64(10)
	tests := []struct {
		name  string
		p     orders.ListParams
		field string
	}{
		{"status", orders.ListParams{Filter: orders.Filter{Status: "lost"}}, "status"},
		{"negative total", orders.ListParams{Filter: orders.Filter{TotalMin: &neg}}, "total_min"},
		{"inverted totals", orders.ListParams{Filter: orders.Filter{TotalMin: &high, TotalMax: &low}}, "total_max"},
		{"limit", orders.ListParams{Limit: keyset.MaxLimit + 1}, "limit"},
		{"cursor garbage", orders.ListParams{Cursor: "not-a-cursor"}, "cursor"},
		{"cursor of another ordering", orders.ListParams{Cursor: cursorFor(t, e), Sort: orders.Sort{Key: orders.SortTotal}}, "cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.orders.ListOrders(ctx, tt.p); !fieldError(err, tt.field) {
				t.Errorf("ListOrders: %v, want a field error on %s", err, tt.field)
			}
		})
	}
	if _, err := orders.ParseSort("name"); err == nil {
		t.Error("ParseSort(name): no error")
	}
	if s, err := orders.ParseSort("-total"); err != nil || s != (orders.Sort{Key: orders.SortTotal, Desc: true}) {
		t.Errorf("ParseSort(-total) = %v, %v", s, err)
	}
}

// cursorFor places two orders and returns the default ordering's next cursor.
func cursorFor(t *testing.T, e *env) string {
	t.Helper()
	v := e.variant(t, "CUR-1", 100, 10)
	c := e.customer(t, "cursor@example.com", "")
	e.place(t, c.ID, line(v, 1))
	e.place(t, c.ID, line(v, 1))
	page, err := e.orders.ListOrders(context.Background(), orders.ListParams{Limit: 1})
	if err != nil || page.Next == "" {
		t.Fatalf("ListOrders: %v, next %q", err, page.Next)
	}
	return page.Next
}

func TestPlacedRange(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// 23:30 UTC on 28 March 2026 is already 29 March in Berlin, the day the clocks go
	// forward.
	o := orders.New(nil, orders.Config{Location: berlin, Now: func() time.Time {
		return time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC)
	}})
	at := func(s string) time.Time {
		t, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			panic(err)
		}
		return t
	}
	tests := []struct {
		preset, from, to string
		wantFrom, wantTo time.Time
		field            string
	}{
		{"", "", "", time.Time{}, time.Time{}, ""},
		{"today", "", "", at("2026-03-29 00:00"), time.Time{}, ""},
		{"7d", "", "", at("2026-03-23 00:00"), time.Time{}, ""},
		{"30d", "", "", at("2026-02-28 00:00"), time.Time{}, ""},
		{"custom", "2026-03-01", "2026-03-29", at("2026-03-01 00:00"), at("2026-03-30 00:00"), ""},
		{"custom", "2026-03-01", "", at("2026-03-01 00:00"), time.Time{}, ""},
		{"custom", "", "2026-03-01", time.Time{}, at("2026-03-02 00:00"), ""},
		{"custom", "March", "", time.Time{}, time.Time{}, "placed_from"},
		{"custom", "", "2026-13-01", time.Time{}, time.Time{}, "placed_to"},
		{"custom", "2026-03-02", "2026-03-01", time.Time{}, time.Time{}, "placed_to"},
		{"yesterday", "", "", time.Time{}, time.Time{}, "placed"},
	}
	for _, tt := range tests {
		from, to, err := o.PlacedRange(tt.preset, tt.from, tt.to)
		if tt.field != "" {
			if !fieldError(err, tt.field) {
				t.Errorf("PlacedRange(%q, %q, %q): %v, want a field error on %s", tt.preset, tt.from, tt.to, err, tt.field)
			}
			continue
		}
		if err != nil || !from.Equal(tt.wantFrom) || !to.Equal(tt.wantTo) {
			t.Errorf("PlacedRange(%q, %q, %q) = %v, %v, %v; want %v, %v", tt.preset, tt.from, tt.to, from, to, err, tt.wantFrom, tt.wantTo)
		}
	}
}

// TestQueryBudget: the order page, the list, the customer page and the dashboard
// run a fixed number of statements, however many rows they show.
func TestQueryBudget(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.variant(t, "QB-1", 100, 10_000)
	c := e.customer(t, "budget@example.com", "")
	small := e.place(t, c.ID, line(v, 1))
	var lines []orders.LineInput
	for i := range 12 {
		lines = append(lines, line(e.variant(t, sku(i), 100, 10), 1))
	}
	big := e.place(t, c.ID, lines...)
	e.move(t, big.ID, "paid", "fulfilled", "delivered")
	for range 5 {
		if _, err := e.orders.AddNote(ctx, staff, big.ID, "note"); err != nil {
			t.Fatal(err)
		}
	}
	budget := func(name string, want int64, fn func() error) {
		t.Helper()
		var err error
		if got := e.queries.During(func() { err = fn() }); got != want || err != nil {
			t.Errorf("%s ran %d statements (err %v), want %d", name, got, err, want)
		}
	}
	for _, id := range []int64{small.ID, big.ID} {
		budget("Order", 3, func() error { _, err := e.orders.Order(ctx, id); return err })
	}
	list := func() error {
		_, err := e.orders.ListOrders(ctx, orders.ListParams{Limit: 100})
		return err
	}
	search := func() error {
		_, err := e.orders.ListOrders(ctx, orders.ListParams{Filter: orders.Filter{Q: "budget", Status: "pending"}, Limit: 100})
		return err
	}
	budget("ListOrders with 2 orders", 1, list)
	budget("ListOrders searching 2 orders", 2, search)
	for range 40 {
		e.place(t, c.ID, line(v, 1))
	}
	budget("ListOrders with 42 orders", 1, list)
	budget("ListOrders searching 42 orders", 2, search)
	budget("Customer", 3, func() error { _, err := e.orders.Customer(ctx, c.ID); return err })
	budget("Dashboard", 2, func() error { _, err := e.orders.Dashboard(ctx); return err })
	budget("ListCustomers", 1, func() error {
		_, err := e.orders.ListCustomers(ctx, orders.CustomerListParams{Q: "budget"})
		return err
	})
}
