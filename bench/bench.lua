-- wrk script for bench/run.py: sends the requests of a plan and checks every response.
--
-- The plan (a Lua file returning a table, path in BENCH_PLAN) is written by bench/wrk.py:
--   requests = { {method=, path=, headers={...}, bodies={...}}, ... }
--   mode     = "cycle": requests are sent round and round (a request with several bodies
--              sends them in turn, e.g. an answer changed at each autosave);
--              "once": each request is sent once (a quiz started, an attempt submitted, a
--              check-in), the threads sharing them out; a thread with none left stops.
--   expect   = { status=, location=, not_location=, body= }: what a good response is.
--   threads  = wrk's -t, to share "once" requests out.
-- done() prints one line "BENCH_RESULT {json}" for bench/wrk.py to read.

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec_t;
int clock_gettime(int clk_id, bench_timespec_t *tp);
]]
local ts = ffi.new("bench_timespec_t")
local function now()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local threads = {}
local count = 0

function setup(thread)
  thread:set("tid", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  plan = dofile(os.getenv("BENCH_PLAN"))
  mine = {}
  for i, r in ipairs(plan.requests) do
    if plan.mode ~= "once" or (i - 1) % plan.threads == tid then
      local raw = {}
      for j, body in ipairs(r.bodies or {""}) do
        local headers = {}
        for k, v in pairs(r.headers or {}) do headers[k] = v end
        raw[j] = wrk.format(r.method, r.path, headers, body ~= "" and body or nil)
      end
      table.insert(mine, {raw = raw, turn = 0})
    end
  end
  idx = 0
  ok = 0
  bad = 0
  body_bytes = 0
  first_bad = ""
  exhausted = 0
  started = now()
  last = started
end

function request()
  local entry
  if plan.mode == "once" then
    idx = idx + 1
    entry = mine[idx]
    if entry == nil then
      -- Nothing left to send: stop this thread; the rate is then counted up to the last response.
      exhausted = 1
      wrk.thread:stop()
      return mine[#mine].raw[1]
    end
  else
    idx = idx % #mine + 1
    entry = mine[idx]
  end
  entry.turn = entry.turn % #entry.raw + 1
  return entry.raw[entry.turn]
end

function response(status, headers, body)
  last = now()
  local e = plan.expect
  local location = headers["Location"] or headers["location"] or ""
  local good = status == e.status
  if good and e.location then good = string.find(location, e.location, 1, true) ~= nil end
  if good and e.not_location then good = string.find(location, e.not_location, 1, true) == nil end
  if good and e.body then good = string.find(body, e.body, 1, true) ~= nil end
  if good then
    ok = ok + 1
    body_bytes = body_bytes + #body
  else
    bad = bad + 1
    if first_bad == "" then
      first_bad = status .. " " .. location .. " " .. string.sub(body, 1, 300)
    end
  end
end

local function quote(s)
  s = string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local total_ok, total_bad, bytes, any_exhausted = 0, 0, 0, 0
  local first, t0, t1, bad_text = nil, nil, nil, ""
  for _, t in ipairs(threads) do
    total_ok = total_ok + t:get("ok")
    total_bad = total_bad + t:get("bad")
    bytes = bytes + t:get("body_bytes")
    any_exhausted = math.max(any_exhausted, t:get("exhausted"))
    local s, l = t:get("started"), t:get("last")
    if t0 == nil or s < t0 then t0 = s end
    if t1 == nil or l > t1 then t1 = l end
    if bad_text == "" then bad_text = t:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_s":%.6f,"ok":%d,"bad":%d,"body_bytes":%d,' ..
    '"exhausted":%d,"active_s":%.6f,"p50_ms":%.3f,"p95_ms":%.3f,"p99_ms":%.3f,"mean_ms":%.3f,"max_ms":%.3f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"first_bad":%s}\n',
    summary.requests, summary.duration / 1e6, total_ok, total_bad, bytes, any_exhausted, t1 - t0,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.mean / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout, quote(bad_text)))
end
