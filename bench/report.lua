-- wrk: one JSON line with the numbers bench/run.py reads (latencies in microseconds).
-- wrk's own --latency prints no p95, so the percentiles come from here.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50": %d, "p95": %d, "p99": %d, ' ..
    '"non_2xx": %d, "socket_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.status, e.connect + e.read + e.write, e.timeout))
end
