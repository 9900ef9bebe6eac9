-- S5: the admin's product list, signed in (the path is in the URL).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.headers["Cookie"] = bench.env("BENCH_COOKIE")
