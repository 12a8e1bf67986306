#!/usr/bin/env bash
# Public answers through the nginx cache: requests/s of one public report
# (GET /v1/public/reports/{id}, a published snapshot made public) with wrk
# at each of --conns, three ways, in one run on one machine:
#   (a) civcasd directly;
#   (b) through deploy/nginx.conf's cache in front of civcasd: every
#       measured request a HIT (the warm-up fills the cache, and civcasd's
#       /metrics must show no request for the report during the run);
#   (c) the same nginx serving the same bytes from a static file with the
#       same headers (location /bench/static-report).
# Goal: (b) >= 0.9 x (c); (b)/(a) is reported. --rounds per concurrency,
# the order reversed every other round (a, b, c; then c, b, a); means
# reported, and every run with the 1-minute load average before it and
# the CPU (cores busy) of civcasd, nginx, PostgreSQL, wrk, everything else
# and the whole machine over its middle: the machine may be shared.
#
# Usage: bench/cache.sh [--duration S] [--warmup S] [--conns "64 256"]
#                       [--rounds R] [--incidents N] [--wait S] [--out FILE]
#   --duration S   seconds of each measured run (default 20)
#   --warmup S     seconds of wrk before each (default 3)
#   --conns LIST   concurrencies (default "64 256")
#   --rounds R     rounds per concurrency (default 2)
#   --incidents N  incidents bench/generate.sql loads (default 20000): the
#                  report is the first half of 2025 of them, verified only
#   --wait S       how long to wait for other benchmarks, tests or fuzzers
#                  to finish first (default 0: only warn, and measure)
#   --out FILE     also copy the report to FILE
# Environment: CIVCAS_THREADS, CIVCAS_IO_THREADS, CIVCAS_DB_POOL go to
# civcasd serve (unset: its defaults); PERF_CIVCASD=PATH measures that
# binary instead of build/civcasd (built beforehand: nothing is built).
#
# nginx: deploy/nginx.conf rendered by bench/cache_nginx.py (the tests'
# rewrites, then plain HTTP, no rate or connection limits, and the static
# location; each rewrite must match an exact number of lines), with
# worker_processes = the machine's cores. Uses the private PostgreSQL of
# deploy/common.sh and a fresh database civcas_bench_cache, dropped at the
# end. wrk is installed when missing (Debian's package). Raw output and
# report.md go to var/bench/cache-<UTC time>/.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,38s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

DURATION=20
WARMUP=3
CONNS="64 256"
ROUNDS=2
INCIDENTS=20000
WAIT=0
REPORT_COPY=""
bench_options --duration DURATION --warmup WARMUP --conns CONNS --rounds ROUNDS \
	--incidents INCIDENTS --wait WAIT --out REPORT_COPY -- "$@"
# shellcheck disable=SC2086 # CONNS is a list
bench_need_positive "$DURATION" "$WARMUP" "$ROUNDS" "$INCIDENTS" $CONNS
bench_need_numbers "$WAIT"
[ "$DURATION" -ge 6 ] || civcas_die "--duration: at least 6 s (the CPU is read over its middle)"
PERF_DB=civcas_bench_cache

# Everything runs from main, which bash reads whole before it starts: the
# script can be edited while it runs.
main() {
	[ -n "${PERF_CIVCASD:-}" ] || bench_need_built_civcasd
	bench_lock
	bench_need_tools wrk nginx
	bench_wait_quiet "$WAIT"
	bench_out cache
	bench_copy_civcasd
	NGINX_PID=""
	stop_nginx() {
		[ -n "$NGINX_PID" ] || return 0
		kill -QUIT "$NGINX_PID" 2>/dev/null || true
		wait "$NGINX_PID" 2>/dev/null || true
		NGINX_PID=""
	}
	drop_db() {
		[ -z "${DSN:-}" ] ||
			"$PSQL" "$(civcas_dsn postgres)" -X -q -c "DROP DATABASE IF EXISTS $PERF_DB WITH (FORCE)" ||
			true
	}
	trap 'stop_nginx; drop_db; bench_cleanup' EXIT
	RESULTS="$OUT/results.jsonl"
	: >"$RESULTS"
	LOAD_START="$(bench_load_average)"

	# ---- the report ---------------------------------------------------------------
	civcas_pg_start
	bench_fresh_db
	civcas_log "bench: $INCIDENTS incidents (bench/generate.sql), rollup rebuild"
	"$PSQL" "$DSN" -X -q -v n="$INCIDENTS" -v seed=7 -f "$ROOT/bench/generate.sql" >/dev/null
	CIVCAS_DATABASE_URL="$DSN" "$CIVCASD" rollup rebuild >/dev/null
	CIVCAS_DATABASE_URL="$DSN" "$CIVCASD" signing-key create "$OUT/signing.pem" >/dev/null
	export CIVCAS_SIGNING_KEY="$OUT/signing.pem" CIVCAS_PUBLIC=1
	POSTMASTER="$(head -n 1 "$CIVCAS_PG_DIR/data/postmaster.pid")"
	bench_server_start
	printf 'Authorization: Bearer %s\n' "$ADMIN_KEY" >"$OUT/admin.header"
	chmod 600 "$OUT/admin.header"
	local id
	id="$(curl -fsS -H @"$OUT/admin.header" -H 'Content-Type: application/json' \
		-d '{"from":"2025-01-01","to":"2025-06-30","years":5,"title":"Mid-year 2025"}' \
		"$URL/v1/reports/poc/publish" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])')"
	curl -fsS -o /dev/null -X POST -H @"$OUT/admin.header" "$URL/v1/reports/$id/public"
	rm -f "$OUT/admin.header"
	REPORT="/v1/public/reports/$id"
	curl -fsS -D "$OUT/direct.headers" -o "$OUT/report.json" "$URL$REPORT"
	local etag made bytes
	etag="$(sed -n 's/^[Ee][Tt]ag: \(.*\)\r$/\1/p' "$OUT/direct.headers")"
	made="$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["made_public_at"])' "$OUT/report.json")"
	bytes="$(wc -c <"$OUT/report.json")"
	[ -n "$etag" ] || civcas_die "the public report has no ETag: $OUT/direct.headers"

	# ---- nginx ------------------------------------------------------------------------
	NGINX_DIR="$OUT/nginx"
	mkdir -p "$NGINX_DIR/static"
	cp "$OUT/report.json" "$NGINX_DIR/static/report.json"
	touch -d "$made" "$NGINX_DIR/static/report.json" # Last-Modified: the report's
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-keyout "$NGINX_DIR/civcas.key" -out "$NGINX_DIR/civcas.crt" >/dev/null 2>&1
	NGINX_PORT="$(bench_free_port)"
	"$PY" "$ROOT/bench/cache_nginx.py" "$NGINX_DIR" "$NGINX_PORT" "$(bench_free_port)" \
		"${URL##*:}" "$NGINX_DIR/static/report.json" "$etag" "$(nproc)" >"$OUT/render.txt"
	nginx -t -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/log/error.log" \
		>"$NGINX_DIR/test.txt" 2>&1 || civcas_die "nginx -t: $(cat "$NGINX_DIR/test.txt")"
	nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/log/error.log" \
		2>"$NGINX_DIR/stderr" &
	NGINX_PID=$!
	NGINX="http://127.0.0.1:$NGINX_PORT"
	bench_wait_http "$NGINX/healthz" "$NGINX_PID" "$NGINX_DIR/stderr"

	# The three serve the same bytes; (b) is a HIT from its second request.
	curl -fsS -o /dev/null "$NGINX$REPORT"
	curl -fsS -D "$OUT/cached.headers" -o "$OUT/cached.json" "$NGINX$REPORT"
	curl -fsS -D "$OUT/static.headers" -o "$OUT/static.json" "$NGINX/bench/static-report"
	cmp -s "$OUT/report.json" "$OUT/cached.json" || civcas_die "(b) serves other bytes than civcasd"
	cmp -s "$OUT/report.json" "$OUT/static.json" || civcas_die "(c) serves other bytes than civcasd"
	grep -q '^X-Cache-Status: HIT' "$OUT/cached.headers" ||
		civcas_die "the second request through nginx was not a HIT: $OUT/cached.headers"

	# ---- runs ---------------------------------------------------------------------------
	target_url() {
		case "$1" in
		a) echo "$URL$REPORT" ;;
		b) echo "$NGINX$REPORT" ;;
		c) echo "$NGINX/bench/static-report" ;;
		esac
	}
	# How many requests for the report civcasd has answered (/metrics).
	civcasd_answered() {
		curl -fsS "$URL/metrics" | awk '/^civcas_http_requests_total\{route="\/v1\/public\/reports\/\{id\}",/ { n += $2 } END { print n + 0 }'
	}
	run() { # TARGET CONNS ROUND
		local target="$1" c="$2" r="$3" label="$1-$2-$3" url load before after lp
		url="$(target_url "$target")"
		civcas_log "bench: ($target) at $c connections, round $r"
		wrk -t2 -c"$c" -d"${WARMUP}s" --timeout 10s "$url" >/dev/null
		load="$(cut -d ' ' -f 1 /proc/loadavg)"
		before="$(civcasd_answered)"
		wrk -t2 -c"$c" -d"${DURATION}s" --timeout 10s -s "$PERF_DIR/summary.lua" "$url" \
			>"$OUT/$label.out" 2>&1 &
		lp=$!
		sleep 2
		"$PY" "$TOOL" cpu --seconds "$((DURATION - 4))" --tree "civcasd=$SERVER_PID" \
			--tree "nginx=$NGINX_PID" --tree "postgres=$POSTMASTER" --tree "client=$lp" \
			>"$OUT/$label.cpu"
		wait "$lp" || civcas_die "wrk failed: $(tail -n 5 "$OUT/$label.out")"
		after="$(civcasd_answered)"
		"$PY" - "$RESULTS" "$target" "$c" "$r" "$load" "$((after - before))" \
			"$OUT/$label.out" "$OUT/$label.cpu" <<'EOF'
import json, sys
results, target, c, r, load, civcasd, out, cpu = sys.argv[1:]
line = [l for l in open(out) if l.startswith('{')][-1]
rec = {'target': target, 'c': int(c), 'round': int(r), 'load1': float(load),
       'civcasd_answered': int(civcasd), 'wrk': json.loads(line),
       'cpu': json.loads(open(cpu).read())}
open(results, 'a').write(json.dumps(rec) + '\n')
EOF
		# nginx's access log grows by a line a request: emptied between runs.
		: >"$NGINX_DIR/log/civcas.access.log"
	}
	for c in $CONNS; do
		for ((r = 1; r <= ROUNDS; r++)); do
			order="a b c"
			[ $((r % 2)) = 1 ] || order="c b a"
			for t in $order; do
				run "$t" "$c" "$r"
			done
		done
	done
	LOAD_END="$(cut -d ' ' -f 1-3 /proc/loadavg)"

	# ---- report -------------------------------------------------------------------------
	local commit dirty=""
	commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
	[ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] ||
		dirty=" (with uncommitted changes)"
	{
		printf '## bench/cache.sh, %s\n\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
		printf 'Command: `bench/cache.sh --duration %s --warmup %s --conns "%s" --rounds %s --incidents %s`; ' \
			"$DURATION" "$WARMUP" "$CONNS" "$ROUNDS" "$INCIDENTS"
		printf 'commit %s%s; binary: %s.\n\n' "$commit" "$dirty" "${PERF_CIVCASD:-build/civcasd of this checkout}"
		printf 'Machine: %s; %s with worker_processes %s (the cores).\n\n' \
			"$(bench_machine_text)" "$(nginx -v 2>&1 | sed 's/^nginx version: //')" "$(nproc)"
		printf 'Load average (1, 5, 15 min): %s at the start, %s at the end. ' \
			"$(awk '{ print $1 }' <<<"$LOAD_START")" "$LOAD_END"
		printf '%s\n\n' "\"others\" below: the cores busy with work other than this benchmark's (the machine's busy time less civcasd, nginx, PostgreSQL and wrk)."
		printf 'The report: `GET %s`, %s bytes (%s incidents, first half of 2025), ' "$REPORT" "$bytes" "$INCIDENTS"
		printf 'ETag %s. (a) civcasd at %s; (b) nginx at %s%s; (c) %s/bench/static-report. ' \
			"$etag" "$URL" "$NGINX" "$REPORT" "$NGINX"
		printf 'wrk -t2 with bench/perf/summary.lua, %s s warm-up, %s s measured.\n\n' "$WARMUP" "$DURATION"
		printf 'Headers of (b), a cached answer:\n```\n%s\n```\nHeaders of (c):\n```\n%s\n```\n\n' \
			"$(tr -d '\r' <"$OUT/cached.headers" | sed '/^$/d')" "$(tr -d '\r' <"$OUT/static.headers" | sed '/^$/d')"
		"$PY" - "$RESULTS" <<'EOF'
import json, statistics, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
names = {'a': '(a) civcasd', 'b': '(b) nginx cache', 'c': '(c) nginx static'}
print('| conns | round | target | req/s | p50 ms | p99 ms | non-2xx | socket errors '
      '| civcasd asked | load1 before | CPU (cores busy) |')
print('|---|---|---|---|---|---|---|---|---|---|---|')
for r in recs:
    w, cpu = r['wrk'], r['cpu']
    ours = ('civcasd', 'nginx', 'postgres', 'client')
    others = max(0.0, cpu['machine_busy'] - sum(cpu.get(k, 0) for k in ours))
    cpu_text = ', '.join('%s %.2f' % (k, cpu[k]) for k in ours if k in cpu) + \
        ', others %.2f, machine %.2f/%d' % (others, cpu['machine_busy'], cpu['cores'])
    print('| %d | %d | %s | %.0f | %.2f | %.2f | %d | %d | %d | %.2f | %s |' % (
        r['c'], r['round'], names[r['target']], w['rps'], w['p50_ms'], w['p99_ms'],
        w['non_2xx'], w['socket_errors'], r['civcasd_answered'], r['load1'], cpu_text))
print()
print('| conns | (a) civcasd req/s | (b) nginx cache req/s | (c) nginx static req/s '
      '| (b)/(c) (goal >= 0.9) | (b)/(a) | req/s per core of nginx, (b) / (c) |')
print('|---|---|---|---|---|---|---|')
verdicts = []
for c in sorted({r['c'] for r in recs}):
    runs = {t: [r for r in recs if r['c'] == c and r['target'] == t] for t in 'abc'}
    mean = {t: statistics.mean(r['wrk']['rps'] for r in runs[t]) for t in 'abc'}
    # What a request costs nginx, whatever share of the cores it got.
    per_core = {t: sum(r['wrk']['requests'] for r in runs[t]) /
                max(1e-9, sum(r['cpu']['nginx'] * r['wrk']['duration_s'] for r in runs[t]))
                for t in 'bc'}
    bc, ba = mean['b'] / mean['c'], mean['b'] / mean['a']
    verdicts.append('%d connections: (b)/(c) %.2f, %s' % (c, bc, 'met' if bc >= 0.9 else 'not met'))
    print('| %d | %.0f | %.0f | %.0f | %.2f | %.2f | %.0f / %.0f (%.2f) |' % (
        c, mean['a'], mean['b'], mean['c'], bc, ba, per_core['b'], per_core['c'],
        per_core['b'] / per_core['c']))
print()
hits = all(r['civcasd_answered'] == 0 for r in recs if r['target'] == 'b')
errors = sum(r['wrk']['non_2xx'] + r['wrk']['socket_errors'] for r in recs)
others = [max(0.0, r['cpu']['machine_busy'] - sum(r['cpu'].get(k, 0) for k in
                                                   ('civcasd', 'nginx', 'postgres', 'client')))
          for r in recs]
print('Other work on the machine: %.2f cores busy on average over the runs (%.2f to %.2f).'
      % (statistics.mean(others), min(others), max(others)))
print()
print('Means of the rounds. (b) all hits: %s (civcasd answered %s requests for the '
      'report during the (b) runs). Non-2xx and socket errors, all runs: %d. Goal: %s.'
      % ('yes' if hits else 'NO', sum(r['civcasd_answered'] for r in recs if r['target'] == 'b'),
         errors, '; '.join(verdicts)))
EOF
		printf '\nRaw output: %s\n' "$OUT"
	} >"$OUT/report.md"
	cat "$OUT/report.md"
	[ -z "$REPORT_COPY" ] || cp "$OUT/report.md" "$REPORT_COPY"
}

main
