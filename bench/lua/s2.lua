-- S2: GET /api/v1/products/{id}, ids uniformly at random over the seeded products.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.headers["Authorization"] = "Bearer " .. bench.env("BENCH_TOKEN")
local pmin, pmax = bench.products()

function request()
  return wrk.format("GET", "/api/v1/products/" .. math.random(pmin, pmax))
end
