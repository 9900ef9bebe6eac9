-- S3: PATCH /api/v1/products/{id}/variants/{vid} {"stock": K}: a random product, its
-- first variant, a random stock level.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.headers["Authorization"] = "Bearer " .. bench.env("BENCH_TOKEN")
wrk.headers["Content-Type"] = "application/json"
local pmin, pmax, vmin = bench.products()

function request()
  local p = math.random(pmin, pmax)
  local path = "/api/v1/products/" .. p .. "/variants/" .. (vmin + 3 * (p - pmin))
  return wrk.format("PATCH", path, nil, '{"stock": ' .. math.random(0, 1000) .. '}')
end
