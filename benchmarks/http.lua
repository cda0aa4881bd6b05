-- wrk script: POST a new deed each request (unique external_id, valid IDs
-- cycled from ids.lua), with the API key from the environment.
local ids = dofile(os.getenv("BENCH_IDS"))
local key = os.getenv("BENCH_KEY")
local path = os.getenv("BENCH_PATH") or "/api/v1/deeds"
local day = os.getenv("BENCH_DAY")
local counter = 0
local thread_id = 0

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

request = function()
  counter = counter + 1
  local nid = ids[(counter * 7 + tid * 13) % #ids + 1]
  local body = string.format(
    '{"national_id":"%s","deed_type":"%s","quantity":1,"occurred_on":"%s","province":"TH-10","evidence":"","external_id":"w%d-%d"}',
    nid, os.getenv("BENCH_TYPE"), day, tid, counter)
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}, body)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
