-- common.lua: what every scenario script shares. The harness (bench/run) passes its
-- inputs in BENCH_* environment variables; each scenario script dofile()s this first.
--
-- setup numbers the threads, init seeds each thread's random stream from that number
-- and BENCH_RUN, which is new for every wrk invocation, and done prints one line the
-- harness parses: the summary, errors and latency percentiles in microseconds.
--
-- A seed fixed across invocations made each measured window replay its warm-up's
-- draws: S3 then set every variant's stock to the value the warm-up had just set, so
-- most measured PATCHes changed nothing and wrote no event (a webhook run saw 1,311
-- deliveries for 1,965 PATCHes).

bench = {}

function bench.env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then
    error("missing environment variable " .. name)
  end
  return v
end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
  table.insert(threads, thread)
end

function init(args)
  -- the last nine digits of BENCH_RUN (nanoseconds) keep the seed exact in a double
  local run = tonumber(string.sub(bench.env("BENCH_RUN"), -9))
  math.randomseed(run + 1000 * (thread_id or 0))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end

-- The seeded products have contiguous ids, and product pmin+i's first variant is
-- vmin+3*i (internal/seed gives each product a block of three variant ids); the
-- harness checks both before it runs a scenario that relies on them.
function bench.products()
  return tonumber(bench.env("BENCH_PMIN")), tonumber(bench.env("BENCH_PMAX")), tonumber(bench.env("BENCH_VMIN"))
end

function bench.split(s, sep)
  local out = {}
  for item in string.gmatch(s, "[^" .. sep .. "]+") do
    table.insert(out, item)
  end
  return out
end
