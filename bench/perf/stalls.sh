#!/usr/bin/env bash
# Stalls under bursts of keep-alive clients: R runs of wrk -c256 -d2s on
# GET /healthz against one civcasd, each run a new burst of 256
# connections. A run below a tenth of the median rate is a stall: every
# connection waited with its request unread (seen with libmicrohttpd's
# epoll mode; docs/performance.md). Prints each run's requests/s and the
# number of stalls.
#
# Usage: bench/perf/stalls.sh [--runs R] [--connections C] [--seconds S]
#   --runs R         bursts (default 100)
#   --connections C  wrk connections (default 256)
#   --seconds S      length of each run (default 2)
# Environment: PERF_CIVCASD=PATH measures that binary instead of
# build/civcasd. Uses the private PostgreSQL of deploy/common.sh and a
# fresh database civcas_perf; raw output in var/bench/stalls-<time>/.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

usage() { sed -n '2,16s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

RUNS=100
CONNS=256
SECONDS_EACH=2
bench_options --runs RUNS --connections CONNS --seconds SECONDS_EACH -- "$@"
bench_need_positive "$RUNS" "$CONNS" "$SECONDS_EACH"

main() {
	bench_out stalls
	trap 'bench_cleanup' EXIT
	bench_need_tools
	bench_build
	civcas_pg_start
	bench_fresh_db
	bench_server_start
	local i rates=()
	for ((i = 1; i <= RUNS; i++)); do
		wrk -t2 -c"$CONNS" -d"${SECONDS_EACH}s" --timeout 10s "$URL/healthz" >"$OUT/run-$i.wrk" 2>&1 ||
			civcas_die "wrk failed: $(tail -n 3 "$OUT/run-$i.wrk")"
		rates+=("$(awk '/^Requests\/sec/ {printf "%d", $2}' "$OUT/run-$i.wrk")")
	done
	printf '%s\n' "${rates[@]}" >"$OUT/rates.txt"
	"$PY" - "$OUT/rates.txt" "$CONNS" "$SECONDS_EACH" <<'PYEOF' | tee "$OUT/report.txt"
import statistics, sys
rates = [int(x) for x in open(sys.argv[1]) if x.strip()]
median = statistics.median(rates)
stalls = [i + 1 for i, r in enumerate(rates) if r < median / 10]
print('runs: %d x wrk -c%s -d%ss on /healthz' % (len(rates), sys.argv[2], sys.argv[3]))
print('requests/s: median %d, mean %d, min %d, max %d' % (median, statistics.mean(rates), min(rates), max(rates)))
print('stalls (runs below a tenth of the median): %d of %d%s' % (
    len(stalls), len(rates), (' (runs %s)' % ', '.join(map(str, stalls))) if stalls else ''))
PYEOF
	civcas_log "stalls: raw data in $OUT"
}

main "$@"
