#!/usr/bin/env bash
# Write-path cost of rollup maintenance: POST /v1/incidents
# throughput with wrk and bench/post.lua, civcasd started with
# CIVCAS_ROLLUP_WRITES=1 (the default: rollups kept in the write's
# transaction) and with CIVCAS_ROLLUP_WRITES=0 (measuring only), each on a
# freshly created database, at the same concurrency.
#
# Usage: bench/writes.sh [--duration S] [--connections C] [--threads T]
#                        [--rounds R] [--record widened|plain]
#   --duration S     seconds per measured run (default 20)
#   --connections C  wrk connections (default 16)
#   --threads T      wrk threads (default 2)
#   --rounds R       pairs of runs (1 then 0), alternated (default 2)
#   --record K       widened (default): the incidents carry attribution,
#                    impacts, low/high ranges, roles and abductions in the
#                    mix of bench/generate.sql; plain: none of them (the
#                    documents measured before the record widened)
# Each run: a fresh database civcas_bench_writes on the private PostgreSQL of
# deploy/common.sh, migrate, taxonomy, a monitor key, civcasd serve on a free
# port, a 3 s warm-up at the same concurrency, then the measured run. After a
# run with rollups, `civcasd rollup verify` must pass. Prints requests/s, p50
# and p99 latency per run and the throughput ratio. Raw output goes to
# var/bench/writes-<time>/.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,24s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

DURATION=20
CONNECTIONS=16
THREADS=2
ROUNDS=2
RECORD=widened
bench_options --duration DURATION --connections CONNECTIONS --threads THREADS \
	--rounds ROUNDS --record RECORD -- "$@"
bench_need_positive "$DURATION" "$CONNECTIONS" "$THREADS" "$ROUNDS"
case "$RECORD" in widened | plain) ;; *) civcas_die "--record must be widened or plain" ;; esac

PERF_DB=civcas_bench_writes
bench_need_built_civcasd
bench_need_tools wrk

bench_lock
load_start="$(bench_load_average)"
bench_out writes
bench_copy_civcasd
trap bench_cleanup EXIT

civcas_pg_start
ADMIN_DSN="$(civcas_dsn postgres)"

# run_once MODE LABEL: one measured run with CIVCAS_ROLLUP_WRITES=MODE;
# leaves LABEL.wrk (wrk's output, last line JSON) and LABEL.json in $OUT.
run_once() {
	local mode="$1" label="$2"
	civcas_log "bench: $label: fresh database, CIVCAS_ROLLUP_WRITES=$mode"
	bench_fresh_db
	CIVCAS_ROLLUP_WRITES="$mode" bench_server_start "$label.civcasd.log"
	"$PSQL" "$DSN" -X -q -c CHECKPOINT
	wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s "$ROOT/bench/post.lua" "$URL" \
		-- "$WRITER_KEY" "$label-warmup" "$RECORD" >"$OUT/$label.warmup.wrk"
	"$PSQL" "$DSN" -X -q -c CHECKPOINT
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s \
		-s "$ROOT/bench/post.lua" "$URL" -- "$WRITER_KEY" "$label" "$RECORD" >"$OUT/$label.wrk"
	bench_server_stop
	tail -n 1 "$OUT/$label.wrk" >"$OUT/$label.json"
	"$PSQL" "$DSN" -X -At -c "SELECT count(*) FROM incidents" >"$OUT/$label.incidents"
	if [ "$mode" = 1 ]; then
		CIVCAS_DATABASE_URL="$DSN" "$CIVCASD" rollup verify >"$OUT/$label.verify" 2>&1 ||
			civcas_die "rollup verify failed after $label: $(head -n 5 "$OUT/$label.verify")"
	fi
	civcas_log "bench: $label: $(cat "$OUT/$label.json")"
}

for ((r = 1; r <= ROUNDS; r++)); do
	run_once 1 "rollup-on-$r"
	run_once 0 "rollup-off-$r"
done
"$PSQL" "$ADMIN_DSN" -X -q -c "DROP DATABASE IF EXISTS $PERF_DB WITH (FORCE)"

{
	printf 'date: %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
	printf 'machine: %s cores, %s MiB memory, load average (1 min) %s before this run; PostgreSQL %s; %s\n' \
		"$(nproc)" "$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)" "$load_start" \
		"$("$PSQL" "$ADMIN_DSN" -X -At -c 'SHOW server_version')" \
		"$("$CIVCASD" --version | head -n 1)"
	if [ "$RECORD" = widened ]; then
		record='3 casualty groups (none on 3% of incidents), some with a range or a role; attribution; impacts on 15%; abductions'
	else
		record='3 casualty groups; nothing of the widened record'
	fi
	printf 'wrk -t%s -c%s -d%ss -s bench/post.lua, record %s (%s; 3 sources; unique Idempotency-Key)\n' \
		"$THREADS" "$CONNECTIONS" "$DURATION" "$RECORD" "$record"
	printf 'civcasd serve with default threads and pool; wrk, civcasd and PostgreSQL share the machine\n\n'
	"$PY" - "$OUT" "$ROUNDS" <<'EOF'
import json, os, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
rows, rps = [], {'on': [], 'off': []}
for r in range(1, rounds + 1):
    for mode in ('on', 'off'):
        label = 'rollup-%s-%d' % (mode, r)
        d = json.load(open(os.path.join(out, label + '.json')))
        n = int(open(os.path.join(out, label + '.incidents')).read())
        rps[mode].append(d['rps'])
        rows.append((label, 'CIVCAS_ROLLUP_WRITES=%d' % (mode == 'on'),
                     '%.0f' % d['rps'], '%.2f' % d['p50_ms'], '%.2f' % d['p99_ms'],
                     str(d['requests']), str(d['non_2xx'] + d['socket_errors']), str(n)))
head = ('run', 'setting', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'failed', 'incidents*')
w = [max(len(x[i]) for x in rows + [head]) for i in range(len(head))]
fmt = lambda r: '  '.join(c.ljust(w[i]) if i < 2 else c.rjust(w[i]) for i, c in enumerate(r))
print(fmt(head))
print(fmt(['-' * x for x in w]))
for r in rows:
    print(fmt(r))
on, off = statistics.mean(rps['on']), statistics.mean(rps['off'])
drop = (1 - on / off) * 100
print('* incidents in the database after the run, warm-up included')
print()
print('mean req/s: with rollups %.0f, without %.0f; with/without = %.3f; '
      'throughput %.1f%% lower with rollups (goal: under 15%%) -> %s'
      % (on, off, on / off, drop, 'met' if drop < 15 else 'NOT met'))
bad = [r[0] for r in rows if r[6] != '0']
if bad:
    print('failed requests in: ' + ', '.join(bad))
    sys.exit(1)
EOF
} | tee "$OUT/report.txt"
civcas_log "bench: raw data in $OUT"
