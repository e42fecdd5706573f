-- wrk script for the SIGMA-AETL benchmarks: POST bodies made from templates, a fresh id per request,
-- and the results as one JSON line (latencies in microseconds).
-- Arguments after "--": id prefix, templates file (templates separated by the byte 0x1E), content type,
-- then any more headers as name, value pairs.

local counter = 0
local templates = {}
local prefix = "bench"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

function init(args)
  prefix = args[1] .. "-" .. thread_no
  local handle = assert(io.open(args[2], "rb"))
  local data = handle:read("*a")
  handle:close()
  for template in string.gmatch(data, "[^\30]+") do
    table.insert(templates, template)
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = args[3]
  for i = 4, #args - 1, 2 do
    wrk.headers[args[i]] = args[i + 1]
  end
end

function request()
  counter = counter + 1
  local template = templates[(counter % #templates) + 1]
  local body = string.gsub(template, "@@ID@@", prefix .. "-" .. counter)
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
