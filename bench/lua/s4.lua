-- S4: GET /api/v1/products?q=<word>&limit=50, a random word of the seed's name words.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.headers["Authorization"] = "Bearer " .. bench.env("BENCH_TOKEN")
local words = bench.split(bench.env("BENCH_WORDS"), ",")

function request()
  return wrk.format("GET", "/api/v1/products?q=" .. words[math.random(#words)] .. "&limit=50")
end
