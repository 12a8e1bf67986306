#!/usr/bin/env bash
# How many trend answers a second one primary gives: bench/trends.sh loads
# N incidents (or finds them loaded), rebuilds the rollups unless told not
# to, checks its six answers against GROUP BY and leaves civcasd serving;
# then wrk asks each of the trend queries (a)-(d) for D seconds at each of
# the connection counts, with an analyst's key, and prints requests/s and
# latency per query. The figures docs/scaling.md starts from.
#
# Usage: bench/scaling.sh [--n N] [--duration D] [--connections "C ..."]
#                         [--skip-rebuild]
#   --n N            incidents (default 1000000; bench/trends.sh's --n)
#   --duration D     seconds per wrk run (default 15)
#   --connections L  space-separated connection counts (default "16 64")
#   --skip-rebuild   passed to bench/trends.sh (data loaded and rebuilt by
#                    an earlier run on the same N)
# wrk runs 2 threads. civcasd's request rate limits are off (bench_server_start),
# so the figures are the server's, not the limiter's. The data go in the
# database civcas_bench_scaling (env BENCH_DB). Raw output goes to
# var/bench/scaling-<time>/.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

N=1000000
DURATION=15
CONNECTIONS="16 64"
skip_rebuild=0
bench_options --n N --duration DURATION --connections CONNECTIONS \
	--skip-rebuild skip_rebuild=1 -- "$@"
bench_need_positive "$N" "$DURATION"
for c in $CONNECTIONS; do bench_need_positive "$c"; done
bench_need_tools wrk

bench_out scaling
# Its own database, so that other benchmarks' data at other sizes stay.
export BENCH_DB="${BENCH_DB:-civcas_bench_scaling}"
trends_args=(--n "$N" --reps 30 --sql-reps 10 --keep-server)
[ "$skip_rebuild" -eq 0 ] || trends_args+=(--skip-rebuild)
civcas_log "bench: bench/trends.sh ${trends_args[*]}"
"$ROOT/bench/trends.sh" "${trends_args[@]}" >"$OUT/trends.out" 2>&1 ||
	civcas_die "bench/trends.sh failed: $OUT/trends.out"
serving="$(grep -m1 'civcasd still serves' "$OUT/trends.out")" ||
	civcas_die "bench/trends.sh left no server: $OUT/trends.out"
URL="$(printf '%s' "$serving" | sed 's/.*serves \([^ ]*\) (pid.*/\1/')"
SERVER_PID="$(printf '%s' "$serving" | sed 's/.*(pid \([0-9]*\)).*/\1/')"
KEY="$(printf '%s' "$serving" | sed 's/.*analyst key //')"
# The server trends.sh left holds var/bench/.lock (it inherited the
# descriptor), so no other benchmark starts until bench_cleanup stops it.
trap 'bench_cleanup' EXIT
civcas_pg_start
DSN="$(civcas_dsn "$BENCH_DB")"
trends_out="$(sed -n 's/.*bench: raw data in //p' "$OUT/trends.out" | tail -n 1)"
CIVCASD="$trends_out/civcasd"
[ -x "$CIVCASD" ] || civcas_die "no civcasd in $trends_out"
cp "$trends_out/report.txt" "$OUT/trends-report.txt"

bench_trend_queries
declare -A QUERY=([a]="$Q_A" [b]="${Q_B[4]}" [c]="$Q_C" [d]="$Q_D")
load_start="$(cut -d ' ' -f 1 /proc/loadavg)"
{
	printf 'scaling: %s incidents; %s\n' "$N" "$(bench_machine_text)"
	printf 'commit %s; load average at the start %s\n' \
		"$(git -C "$ROOT" rev-parse --short HEAD)" "$load_start"
	printf '%-5s %-12s %12s %10s %10s %10s\n' query connections 'requests/s' 'p50 ms' 'p99 ms' 'non-2xx'
	for q in a b c d; do
		for c in $CONNECTIONS; do
			wrk -t2 -c"$c" -d3s -H "Authorization: Bearer $KEY" "$URL${QUERY[$q]}" >/dev/null
			wrk -t2 -c"$c" -d"${DURATION}s" --latency -H "Authorization: Bearer $KEY" \
				"$URL${QUERY[$q]}" >"$OUT/wrk-$q-$c.txt"
			"$PY" - "$OUT/wrk-$q-$c.txt" "$q" "$c" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r'^\s*%s\s+([\d.]+)(us|ms|s)\s*$' % label, text, re.M)
    if not m:
        return float('nan')
    return float(m.group(1)) * {'us': 0.001, 'ms': 1, 's': 1000}[m.group(2)]
rps = float(re.search(r'Requests/sec:\s+([\d.]+)', text).group(1))
bad = re.search(r'Non-2xx or 3xx responses: (\d+)', text)
print('%-5s %-12s %12.0f %10.2f %10.2f %10s' % (
    sys.argv[2], sys.argv[3], rps, ms('50%'), ms('99%'), bad.group(1) if bad else 0))
PY
		done
	done
	printf 'load average at the end %s\n' "$(cut -d ' ' -f 1 /proc/loadavg)"
} | tee "$OUT/report.txt"
civcas_log "bench: raw data in $OUT"
