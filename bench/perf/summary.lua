-- wrk script of bench/perf/run.sh: no request() (wrk sends the URL's GET,
-- prepared once: the cheapest client for the HTTP ceiling), only a JSON
-- summary line at the end, the one every wrk script of bench/ writes:
-- requests, rps, latency percentiles (ms), responses that were not 2xx or
-- failed on the socket. bench/perf/get.lua and bench/post.lua load it for
-- their own summaries.
--
-- Usage: wrk ... -s bench/perf/summary.lua http://HOST:PORT/healthz

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        '{"requests": %d, "duration_s": %.3f, "rps": %.1f, "p50_ms": %.3f, ' ..
        '"p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "non_2xx": %d, ' ..
        '"socket_errors": %d}\n',
        summary.requests, summary.duration / 1e6,
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000, e.status,
        e.connect + e.read + e.write + e.timeout))
end
