-- S6: POST /api/v1/orders of one line (one unit of a variant with plenty of stock),
-- each with its own Idempotency-Key.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local token = bench.env("BENCH_TOKEN")
local run = bench.env("BENCH_RUN")
local variants = bench.split(bench.env("BENCH_S6_VARIANTS"), ",")
local n = 0

function request()
  n = n + 1
  local headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "bench-" .. run .. "-" .. (thread_id or 0) .. "-" .. n,
  }
  -- the same order as s6Body in bench/run/scenarios.go
  local body = '{"customer": {"email": "bench-buyer@example.com", "name": "Bench Buyer"}, ' ..
    '"lines": [{"variant_id": ' .. variants[math.random(#variants)] .. ', "quantity": 1}], ' ..
    '"shipping_address": {"name": "Bench Buyer", "line1": "1 Load Street", "city": "Localhost", "country": "gb"}}'
  return wrk.format("POST", "/api/v1/orders", headers, body)
end
