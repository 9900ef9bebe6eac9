-- S1: GET /api/v1/products?limit=50 with a bearer token (the path is in the URL).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.headers["Authorization"] = "Bearer " .. bench.env("BENCH_TOKEN")
