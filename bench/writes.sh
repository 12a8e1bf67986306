#!/usr/bin/env bash
# Write-path cost of rollup maintenance (issue 3): POST /v1/incidents
# throughput with wrk and bench/post.lua, civcasd started with
# CIVCAS_ROLLUP_WRITES=1 (the default: rollups kept in the write's
# transaction) and with CIVCAS_ROLLUP_WRITES=0 (measuring only), each on a
# freshly created database, at the same concurrency.
#
# Usage: bench/writes.sh [--duration S] [--connections C] [--threads T]
#                        [--rounds R]
#   --duration S     seconds per measured run (default 20)
#   --connections C  wrk connections (default 16)
#   --threads T      wrk threads (default 2)
#   --rounds R       pairs of runs (1 then 0), alternated (default 2)
# Each run: a fresh database civcas_bench_writes on the private PostgreSQL of
# deploy/common.sh, migrate, taxonomy, a monitor key, civcasd serve on a free
# port, a 3 s warm-up at the same concurrency, then the measured run. After a
# run with rollups, `civcasd rollup verify` must pass. Prints requests/s, p50
# and p99 latency per run and the throughput ratio. Raw output goes to
# var/bench/writes-<time>/.

# shellcheck source-path=SCRIPTDIR source=../deploy/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../deploy/common.sh"

usage() { sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

DURATION=20
CONNECTIONS=16
THREADS=2
ROUNDS=2
while [ $# -gt 0 ]; do
	case "$1" in
	--duration) DURATION="${2:?}"; shift ;;
	--connections) CONNECTIONS="${2:?}"; shift ;;
	--threads) THREADS="${2:?}"; shift ;;
	--rounds) ROUNDS="${2:?}"; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
for v in "$DURATION" "$CONNECTIONS" "$THREADS" "$ROUNDS"; do
	case "$v" in '' | *[!0-9]* | 0) civcas_die "positive numbers expected, got '$v'" ;; esac
done

CIVCASD="$ROOT/build/civcasd"
PY=/usr/bin/python3
PSQL="$CIVCAS_PG_BIN/psql"
DB=civcas_bench_writes
[ -x "$CIVCASD" ] || civcas_die "$CIVCASD missing: cmake -S $ROOT -B $ROOT/build && cmake --build $ROOT/build"
"$CIVCASD" --help 2>&1 | grep -q 'rollup' ||
	civcas_die "this civcasd has no 'rollup' command: rebuild it"
if ! command -v wrk >/dev/null 2>&1; then
	civcas_log "bench: installing wrk"
	civcas_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk ||
		civcas_die "wrk is missing (apt-get install wrk)"
fi

# One benchmark at a time: two would time each other (and share databases).
mkdir -p "$ROOT/var/bench"
exec 9>"$ROOT/var/bench/.lock"
if ! flock -n 9; then
	civcas_log "bench: another benchmark holds var/bench/.lock: waiting"
	flock 9
fi
# Other work on the machine shows up in every figure: say so.
busy_check() {
	local load
	load="$(cut -d ' ' -f 1 /proc/loadavg)"
	if awk -v l="$load" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
		civcas_warn "load average $load on $(nproc) cores before starting: figures will be noisy"
	fi
	printf '%s\n' "$load"
}
load_start="$(busy_check)"

OUT="$ROOT/var/bench/writes-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
# A copy: the build tree may be rebuilt while this runs.
cp "$CIVCASD" "$OUT/civcasd"
CIVCASD="$OUT/civcasd"
server_pid=""
cleanup() {
	[ -z "$server_pid" ] || civcas_stop_pid "$server_pid" || true
	[ "${CIVCAS_PG_STARTED:-0}" != 1 ] || civcas_pg_stop || true
}
trap cleanup EXIT

civcas_pg_start
ADMIN_DSN="$(civcas_dsn postgres)"
DSN="$(civcas_dsn "$DB")"

# run_once MODE LABEL: one measured run with CIVCAS_ROLLUP_WRITES=MODE;
# leaves LABEL.wrk (wrk's output, last line JSON) and LABEL.json in $OUT.
run_once() {
	local mode="$1" label="$2" key port url i
	civcas_log "bench: $label: fresh database, CIVCAS_ROLLUP_WRITES=$mode"
	"$PSQL" "$ADMIN_DSN" -X -q -v ON_ERROR_STOP=1 \
		-c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
	CIVCAS_DATABASE_URL="$DSN" "$CIVCASD" migrate >/dev/null
	CIVCAS_DATABASE_URL="$DSN" "$CIVCASD" taxonomy load "$ROOT/schema/taxonomy-unama.json" >/dev/null
	key="$(CIVCAS_DATABASE_URL="$DSN" "$CIVCASD" keys create --role monitor --name bench-writer | tail -n 1)"
	[ -n "$key" ] || civcas_die "keys create printed no key"
	port="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
	url="http://127.0.0.1:$port"
	CIVCAS_DATABASE_URL="$DSN" CIVCAS_ROLLUP_WRITES="$mode" \
		"$CIVCASD" serve --listen "127.0.0.1:$port" 2>"$OUT/$label.civcasd.log" &
	server_pid=$!
	for ((i = 0; i < 100; i++)); do
		curl -fsS -o /dev/null "$url/healthz" 2>/dev/null && break
		kill -0 "$server_pid" 2>/dev/null || civcas_die "civcasd serve exited; log: $OUT/$label.civcasd.log"
		sleep 0.1
	done
	"$PSQL" "$DSN" -X -q -c CHECKPOINT
	wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s "$ROOT/bench/post.lua" "$url" \
		-- "$key" "$label-warmup" >"$OUT/$label.warmup.wrk"
	"$PSQL" "$DSN" -X -q -c CHECKPOINT
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s \
		-s "$ROOT/bench/post.lua" "$url" -- "$key" "$label" >"$OUT/$label.wrk"
	civcas_stop_pid "$server_pid"
	server_pid=""
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
"$PSQL" "$ADMIN_DSN" -X -q -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"

{
	printf 'date: %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
	printf 'machine: %s cores, %s MiB memory, load average (1 min) %s before this run; PostgreSQL %s; %s\n' \
		"$(nproc)" "$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)" "$load_start" \
		"$("$PSQL" "$ADMIN_DSN" -X -At -c 'SHOW server_version')" \
		"$("$CIVCASD" --version | head -n 1)"
	printf 'wrk -t%s -c%s -d%ss -s bench/post.lua (3 casualty groups, 3 sources, unique Idempotency-Key)\n' \
		"$THREADS" "$CONNECTIONS" "$DURATION"
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
