#!/usr/bin/env bash
# Memory soak of civcasd: POST /v1/incidents at half of
# the measured POST capacity for 10 minutes, civcasd's VmRSS sampled every
# 10 s; the report gives the samples, a least-squares slope and whether RSS
# trends upward.
#
# Usage: bench/perf/soak.sh [--minutes M] [--rate R] [--connections C]
#                           [--wait S] [--out FILE]
#   --minutes M      length of the soak (default 10)
#   --rate R         requests/s to hold; default: half of the capacity
#                    measured first on the same server (wrk, bench/post.lua,
#                    16 connections, 20 s after a 3 s warm-up)
#   --connections C  wrk connections of the soak (default 32: enough free
#                    connections that the pacing, not the server, sets the
#                    rate)
#   --wait S         how long to wait for other benchmarks or ctest first
#                    (default 3600; 0: do not wait, only warn)
#   --out FILE       also copy the report to FILE
# How the rate is held: wrk with bench/perf/pace.lua, which gives each of
# wrk's 2 threads half the rate and starts requests one interval apart on a
# monotonic clock (see pace.lua). The achieved rate is reported beside the
# target. Environment as bench/perf/run.sh (CIVCAS_THREADS, CIVCAS_IO_THREADS, CIVCAS_DB_POOL,
# PERF_NO_BUILD). A fresh database civcas_perf; raw output and report.txt
# in var/bench/soak-<time>/. Stops everything it starts.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

usage() { sed -n '2,25s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

MINUTES=10
RATE=""
CONNECTIONS=32
WAIT=3600
REPORT_COPY=""
bench_options --minutes MINUTES --rate RATE --connections CONNECTIONS --wait WAIT \
	--out REPORT_COPY -- "$@"
bench_need_positive "$MINUTES" "$CONNECTIONS" ${RATE:+"$RATE"}
bench_need_numbers "$WAIT"

# Everything runs from main, which bash reads whole before it starts: the
# script can be edited while it runs.
main() {
	bench_out soak
	trap bench_cleanup EXIT

	bench_need_tools
	bench_wait_quiet "$WAIT"
	bench_build
	civcas_pg_start
	bench_fresh_db
	bench_server_start
	THREADS=2

	if [ -z "$RATE" ]; then
		civcas_log "soak: measuring POST capacity (16 connections, 20 s)"
		wrk -t"$THREADS" -c16 -d3s -s "$ROOT/bench/post.lua" "$URL" -- "$WRITER_KEY" warm >"$OUT/capacity.warmup"
		"$PSQL" "$DSN" -X -q -c CHECKPOINT
		wrk -t"$THREADS" -c16 -d20s --timeout 10s -s "$ROOT/bench/post.lua" "$URL" \
			-- "$WRITER_KEY" capacity >"$OUT/capacity.wrk"
		capacity="$(tail -n 1 "$OUT/capacity.wrk" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["rps"])')"
		RATE="$("$PY" -c "print(max(1, round($capacity / 2)))")"
		civcas_log "soak: capacity $capacity req/s; soak rate $RATE req/s"
		capacity_text="half of the capacity measured first ($capacity req/s: wrk -t$THREADS -c16 -d20s, bench/post.lua)"
	else
		capacity_text="given with --rate"
	fi

	SECONDS_TOTAL=$((MINUTES * 60))
	bench_phase soak
	bench_rss_start 10 "$OUT/rss.samples"
	civcas_log "soak: $MINUTES min at $RATE req/s, $CONNECTIONS connections; RSS every 10 s"
	CIVCAS_POST_LUA="$ROOT/bench/post.lua" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_TOTAL}s" \
		--timeout 10s -s "$PERF_DIR/pace.lua" "$URL" -- "$WRITER_KEY" soak "$RATE" "$THREADS" \
		>"$OUT/soak.wrk" 2>&1
	# One sample after the load stops.
	bench_phase after
	sleep 10
	bench_rss_stop
	"$PY" "$TOOL" metrics "$URL/metrics" >"$OUT/metrics.after"
	incidents="$("$PSQL" "$DSN" -X -At -c 'SELECT count(*) FROM incidents')"
	bench_server_stop

	{
		printf 'bench/perf/soak.sh, %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
		printf 'command: bench/perf/soak.sh --minutes %s --connections %s%s\n' "$MINUTES" \
			"$CONNECTIONS" "$([ "$capacity_text" = "given with --rate" ] && echo " --rate $RATE")"
		printf 'machine: %s\n' "$(bench_machine_text)"
		printf 'rate: %s req/s, %s; held by wrk -t%s -c%s with bench/perf/pace.lua\n' \
			"$RATE" "$capacity_text" "$THREADS" "$CONNECTIONS"
		printf 'incidents in the database afterwards: %s; /metrics afterwards: %s\n\n' \
			"$incidents" "$(cat "$OUT/metrics.after")"
		"$PY" "$TOOL" soak-report "$OUT/rss.samples" "$OUT/soak.wrk" "$RATE"
		printf '\nraw output: %s\n' "$OUT"
	} >"$OUT/report.txt"
	cat "$OUT/report.txt"
	[ -z "$REPORT_COPY" ] || cp "$OUT/report.txt" "$REPORT_COPY"
}

main
