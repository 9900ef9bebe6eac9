package main

import (
	"fmt"
	"math/rand/v2"
	"net/url"
)

// scenario is one kind of request the bench loads the server with. wrk sends it
// through bench/lua/<script>; request builds one the same way in Go, for the query
// budget pass.
type scenario struct {
	name    string
	title   string
	script  string // in bench/lua
	static  bool   // every request is the same: wrk sends request's path without Lua
	floor   bool   // the floor and pgbench answer it too
	session bool   // signed in with the admin cookie instead of a token
	writes  bool   // changes the catalog: the harness vacuums after it
	request func(in *inputs, rng *rand.Rand) (method, path, body string)
}

// inputs are what the scenarios pick from: the seeded ids and words.
type inputs struct {
	pmin, pmax int64 // product ids, contiguous
	vmin       int64 // product pmin+i's first variant is vmin+3i
	words      []string
	s6Variants []int64 // variants with plenty of stock
	s5Path     string
}

func (in *inputs) product(rng *rand.Rand) int64 { return in.pmin + rng.Int64N(in.pmax-in.pmin+1) }

// scenarios are S1–S6 of issue #8, in the order they run.
var scenarios = []*scenario{
	{name: "S1", title: "GET /api/v1/products?limit=50", script: "s1.lua", static: true, floor: true,
		request: func(*inputs, *rand.Rand) (string, string, string) {
			return "GET", "/api/v1/products?limit=50", ""
		}},
	{name: "S2", title: "GET /api/v1/products/{id}", script: "s2.lua", floor: true,
		request: func(in *inputs, rng *rand.Rand) (string, string, string) {
			return "GET", fmt.Sprintf("/api/v1/products/%d", in.product(rng)), ""
		}},
	{name: "S3", title: `PATCH /api/v1/products/{id}/variants/{vid} {"stock": K}`, script: "s3.lua", floor: true, writes: true,
		request: func(in *inputs, rng *rand.Rand) (string, string, string) {
			p := in.product(rng)
			return "PATCH", fmt.Sprintf("/api/v1/products/%d/variants/%d", p, in.vmin+3*(p-in.pmin)),
				fmt.Sprintf(`{"stock": %d}`, rng.IntN(1001))
		}},
	{name: "S4", title: "GET /api/v1/products?q=<word>&limit=50", script: "s4.lua", floor: true,
		request: func(in *inputs, rng *rand.Rand) (string, string, string) {
			return "GET", "/api/v1/products?q=" + url.QueryEscape(in.words[rng.IntN(len(in.words))]) + "&limit=50", ""
		}},
	{name: "S5", title: "GET /admin/products/ (100 rows, count shown), signed in", script: "s5.lua", static: true, session: true,
		request: func(in *inputs, _ *rand.Rand) (string, string, string) {
			return "GET", in.s5Path, ""
		}},
	{name: "S6", title: "POST /api/v1/orders (one line, Idempotency-Key)", script: "s6.lua", writes: true,
		request: func(in *inputs, rng *rand.Rand) (string, string, string) {
			return "POST", "/api/v1/orders", fmt.Sprintf(s6Body, in.s6Variants[rng.IntN(len(in.s6Variants))])
		}},
}

// s6Body is S6's order with %d for the variant; bench/lua/s6.lua sends the same.
const s6Body = `{"customer": {"email": "bench-buyer@example.com", "name": "Bench Buyer"}, ` +
	`"lines": [{"variant_id": %d, "quantity": 1}], ` +
	`"shipping_address": {"name": "Bench Buyer", "line1": "1 Load Street", "city": "Localhost", "country": "gb"}}`

func scenarioByName(name string) *scenario {
	for _, s := range scenarios {
		if s.name == name {
			return s
		}
	}
	return nil
}
