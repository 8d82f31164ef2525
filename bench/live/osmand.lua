-- wrk script for bench/bench_live.py: OsmAnd reports `GET /osmand?id=..&lat=..&lon=..&timestamp=..`
--
--   wrk -t1 -c16 -d20s --latency --timeout 30s -s bench/live/osmand.lua http://127.0.0.1:PORT -- TAGS_FILE
--
-- TAGS_FILE has one line per tag: "TAG00001 51.445210 -0.020911" (id, home lat, lon). Requests
-- cycle over the tags (each wrk thread over its own share), every request is a new fix: the
-- timestamp is the wall clock in epoch milliseconds, bumped by 1 ms where needed so that a
-- tag's timestamps strictly increase (one fix per (device, ts)). Positions jitter ~10 m
-- around the tag's home, which is inside its curfew zone and far from its exclusion zone.
-- done() prints one JSON line (prefixed "WRKJSON ") that the harness reads.

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + math.floor(tonumber(tv.tv_usec) / 1000)
end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1] or error("osmand.lua: give the tags file after --")
  local nthreads = tonumber(args[2] or "1")
  ids, lats, lons, last = {}, {}, {}, {}
  local i = 0
  for line in io.lines(path) do
    local id, lat, lon, key = line:match("^(%S+)%s+(%S+)%s+(%S+)%s*(%S*)")
    if id then
      if i % nthreads == tid then
        table.insert(ids, id); table.insert(lats, tonumber(lat)); table.insert(lons, tonumber(lon)); devkey = key
        table.insert(last, 0)
      end
      i = i + 1
    end
  end
  n = #ids
  math.randomseed(12345 + tid)
end

function request()
  local k = counter % n + 1
  counter = counter + 1
  local ts = now_ms()
  if ts <= last[k] then ts = last[k] + 1 end
  last[k] = ts
  local lat = lats[k] + (math.random() - 0.5) * 0.0002
  local lon = lons[k] + (math.random() - 0.5) * 0.0003
  local path = string.format("/osmand?id=%s&lat=%.6f&lon=%.6f&timestamp=%d&accuracy=10&batt=%d&key=%s",
                             ids[k], lat, lon, ts, 80 + (k % 20), devkey or "")
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"err_connect":%d,"err_read":%d,"err_write":%d,' ..
    '"err_status":%d,"err_timeout":%d,"lat_p50_us":%d,"lat_p90_us":%d,"lat_p99_us":%d,"lat_max_us":%d,' ..
    '"lat_mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
