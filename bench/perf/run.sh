#!/usr/bin/env bash
# Performance benchmarks of civcasd, all in one run on one machine:
#   1. submit: POST /v1/incidents (bench/post.lua: 3 casualty groups, 3
#      sources, a unique Idempotency-Key) with wrk at each of --conns,
#      against pgbench running civcasd's own transaction
#      (bench/perf/pgbench/submit.sql, -M prepared) at the same concurrency
#      on the same database: the database's ceiling. Goal: >= 0.9 of it.
#      --rounds pairs per concurrency, the order alternated; means reported.
#   2. HTTP ceiling: GET /healthz with wrk at 16, 64 and 256 connections,
#      against nginx answering the same body (bench/perf/nginx.conf).
#      Goal: >= 1.0 of nginx's requests/s.
#   3. reads: GET /v1/incidents/{id} and a 50-item list page at 64
#      connections (the incidents of step 1, at least --min-incidents).
#   4. memory: civcasd's VmRSS sampled every 0.2 s through all of it, with an
#      extra POST run at 256 connections. Goal: peak <= 50 MB.
#   5. /metrics: POST at 16 connections with and without a 1/s scraper,
#      twice each, the order alternated; pool waits read from /metrics;
#      then civcasd's CPU per /metrics (and /healthz) request, one client.
# The 10-minute soak is bench/perf/soak.sh.
#
# Usage: bench/perf/run.sh [--duration S] [--http-duration S]
#                          [--conns "1 4 16 64"] [--rounds R] [--min-incidents N]
#                          [--wait S] [--out FILE]
#   --duration S       seconds of each measured POST / pgbench / read run
#                      (default 20; each has a 3 s warm-up before it)
#   --http-duration S  seconds of each /healthz run (default 10)
#   --conns LIST       concurrencies of step 1 (default "1 4 16 64")
#   --rounds R         civcasd/pgbench pairs per concurrency (default 2)
#   --min-incidents N  incidents loaded before the reads (default 5000)
#   --wait S           how long to wait for other benchmarks or ctest to
#                      finish before starting (default 3600; 0: do not
#                      wait, only warn)
#   --out FILE         also copy the report to FILE
# Environment: CIVCAS_THREADS, CIVCAS_IO_THREADS, CIVCAS_DB_POOL go to civcasd serve
# (unset: its defaults); PERF_NO_BUILD=1 skips `cmake --build`;
# PERF_CIVCASD=PATH measures that binary instead of build/civcasd.
# Uses the private PostgreSQL of deploy/common.sh and a fresh database
# civcas_perf. Raw output and report.md go to var/bench/perf-<time>/.
# Stops everything it starts (and PostgreSQL if it started it).

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

usage() { sed -n '2,38s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

DURATION=20
HTTP_DURATION=10
CONNS="1 4 16 64"
ROUNDS=2
MIN_INCIDENTS=5000
WAIT=3600
REPORT_COPY=""
bench_options --duration DURATION --http-duration HTTP_DURATION --conns CONNS \
	--rounds ROUNDS --min-incidents MIN_INCIDENTS --wait WAIT --out REPORT_COPY -- "$@"
# shellcheck disable=SC2086 # CONNS is a list
bench_need_numbers "$DURATION" "$HTTP_DURATION" "$MIN_INCIDENTS" "$WAIT" "$ROUNDS" $CONNS
[ "$DURATION" -ge 8 ] && [ "$HTTP_DURATION" -ge 6 ] || civcas_die "durations: at least 8 s (POST) and 6 s (HTTP)"

# Everything runs from main, which bash reads whole before it starts: the
# script can be edited while it runs.
main() {
	bench_out perf
	RESULTS="$OUT/results.jsonl"
	NGINX_PID=""
	stop_nginx() {
		[ -n "$NGINX_PID" ] || return 0
		kill -QUIT "$NGINX_PID" 2>/dev/null || true
		wait "$NGINX_PID" 2>/dev/null || true
		NGINX_PID=""
	}
	trap 'stop_nginx; bench_cleanup' EXIT

	bench_need_tools
	bench_wait_quiet "$WAIT"
	bench_build
	civcas_pg_start
	bench_fresh_db
	POSTMASTER="$(head -n 1 "$CIVCAS_PG_DIR/data/postmaster.pid")"

	# The documents of pgbench's transaction, drawn like bench/post.lua's.
	NDOCS=20000
	"$PSQL" "$DSN" -X -q -v ON_ERROR_STOP=1 <<'EOF'
CREATE SCHEMA perf;
CREATE TABLE perf.pgbench_docs (n int PRIMARY KEY, doc text NOT NULL, changes text NOT NULL,
  response text NOT NULL, killed int NOT NULL, injured int NOT NULL, source_types int NOT NULL,
  categories text NOT NULL);
CREATE SEQUENCE perf.idem_seq;
EOF
	"$PY" "$TOOL" docs "$NDOCS" 1 | "$PSQL" "$DSN" -X -q -v ON_ERROR_STOP=1 -c '\copy perf.pgbench_docs FROM STDIN'
	"$PSQL" "$DSN" -X -q -c 'VACUUM ANALYZE perf.pgbench_docs'

	bench_server_start
	bench_phase idle
	bench_rss_start 0.2 "$OUT/rss.samples"
	"$PY" "$TOOL" record "$RESULTS" section=machine "text=$(bench_machine_text)"
	civcas_log "perf: $(bench_machine_text)"
	pidstat -u -h -C 'civcasd|postgres|wrk|pgbench|nginx' 5 >"$OUT/pidstat.txt" 2>&1 &
	PERF_PIDS+=($!)

	threads_for() { if [ "$1" -ge 2 ]; then echo 2; else echo 1; fi; }

	# measure LABEL SECONDS CMD...: runs the load generator CMD in the
	# background; CPU over its middle (seconds 2 .. S-2) into LABEL.cpu, one
	# /metrics read under load into LABEL.mid, one after into LABEL.after.
	measure() {
		local label="$1" seconds="$2"
		shift 2
		"$@" >"$OUT/$label.out" 2>&1 &
		local lp=$!
		sleep 2
		"$PY" "$TOOL" cpu --seconds "$((seconds - 4))" --tree "postgres=$POSTMASTER" \
			--tree "civcasd=$SERVER_PID" --tree "nginx=$NGINX_PID" --tree "client=$lp" \
			>"$OUT/$label.cpu"
		"$PY" "$TOOL" metrics "$URL/metrics" >"$OUT/$label.mid"
		wait "$lp" || civcas_die "$label failed: $(tail -n 5 "$OUT/$label.out")"
		"$PY" "$TOOL" metrics "$URL/metrics" >"$OUT/$label.after"
	}

	checkpoint() { "$PSQL" "$DSN" -X -q -c CHECKPOINT; }

	post_wrk() { # CONNS SECONDS RUN
		wrk -t"$(threads_for "$1")" -c"$1" -d"$2s" --timeout 10s -s "$ROOT/bench/post.lua" \
			"$URL" -- "$WRITER_KEY" "$3"
	}

	pgbench_run() { # CONNS SECONDS RUN [LOGPREFIX]
		local log=()
		[ -z "${4:-}" ] || log=(-l "--log-prefix=$4")
		"$PGBENCH" -n -M prepared -c "$1" -j "$(threads_for "$1")" -T "$2" \
			-D key_hash="$WRITER_HASH" -D key_id="$WRITER_ID" -D ndocs="$NDOCS" -D run="$3" \
			-f "$PERF_DIR/pgbench/submit.sql" "${log[@]}" "$DSN"
	}

	# ---- 1. submit throughput ---------------------------------------------------
	# civcasd_round C R / pgbench_round C R: one warmed-up, measured run.
	civcasd_round() {
		local c="$1" r="$2" label="submit-$1-$2"
		civcas_log "perf: submit at $c connections, round $r: civcasd"
		bench_phase "$label"
		checkpoint
		post_wrk "$c" 3 "warm$c$r" >"$OUT/$label.warmup" 2>&1
		checkpoint
		measure "$label" "$DURATION" post_wrk "$c" "$DURATION" "c$c$r"
		"$PY" "$TOOL" record "$RESULTS" section=submit target=civcasd c="$c" round="$r" \
			"load=@$OUT/$label.out" "cpu=@$OUT/$label.cpu" "mid=@$OUT/$label.mid" \
			"metrics=@$OUT/$label.after"
	}
	pgbench_round() {
		local c="$1" r="$2" label="pgbench-$1-$2"
		civcas_log "perf: submit at $c connections, round $r: pgbench"
		bench_phase "$label"
		checkpoint
		pgbench_run "$c" 3 "warm$c$r" >"$OUT/$label.warmup" 2>&1
		checkpoint
		measure "$label" "$DURATION" pgbench_run "$c" "$DURATION" "c$c$r" "$OUT/$label.log"
		"$PY" "$TOOL" pgbench "$OUT/$label.out" "$OUT/$label.log" >"$OUT/$label.json"
		"$PY" "$TOOL" record "$RESULTS" section=submit target=pgbench c="$c" round="$r" \
			"load=@$OUT/$label.json" "cpu=@$OUT/$label.cpu" "metrics=@$OUT/$label.after"
	}
	# Rounds alternate the order (civcasd first, then pgbench first): a
	# drift of the machine or the growing tables weighs on both sides.
	for c in $CONNS; do
		for ((r = 1; r <= ROUNDS; r++)); do
			if [ $((r % 2)) = 1 ]; then
				civcasd_round "$c" "$r"
				pgbench_round "$c" "$r"
			else
				pgbench_round "$c" "$r"
				civcasd_round "$c" "$r"
			fi
		done
	done

	# ---- 4a. memory at 256 connections doing real work ---------------------------
	civcas_log "perf: POST at 256 connections (memory)"
	bench_phase post-256
	measure post-256 "$HTTP_DURATION" post_wrk 256 "$HTTP_DURATION" c256
	"$PY" "$TOOL" record "$RESULTS" section=reads what="POST /v1/incidents (memory run)" c=256 "load=@$OUT/post-256.out" \
		"cpu=@$OUT/post-256.cpu" "mid=@$OUT/post-256.mid" "metrics=@$OUT/post-256.after"

	# ---- 2. HTTP ceiling -----------------------------------------------------------
	NGINX_DIR="$OUT/nginx"
	mkdir -p "$NGINX_DIR"
	NGINX_PORT="$(bench_free_port)"
	sed -e "s|@DIR@|$NGINX_DIR|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@USER@|$(id -un)|g" \
		-e "s|@GROUP@|$(id -gn)|g" "$PERF_DIR/nginx.conf" >"$NGINX_DIR/nginx.conf"
	nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" 2>"$NGINX_DIR/stderr" &
	NGINX_PID=$!
	bench_wait_http "http://127.0.0.1:$NGINX_PORT/healthz" "$NGINX_PID" "$NGINX_DIR/stderr"
	health_wrk() { # URL CONNS SECONDS
		wrk -t2 -c"$2" -d"$3s" --timeout 10s -s "$PERF_DIR/summary.lua" "$1/healthz"
	}
	for c in 16 64 256; do
		civcas_log "perf: GET /healthz at $c connections: civcasd, nginx"
		bench_phase "healthz-$c"
		health_wrk "$URL" "$c" 2 >/dev/null
		measure "healthz-$c" "$HTTP_DURATION" health_wrk "$URL" "$c" "$HTTP_DURATION"
		"$PY" "$TOOL" record "$RESULTS" section=http target=civcasd c="$c" \
			"load=@$OUT/healthz-$c.out" "cpu=@$OUT/healthz-$c.cpu" "metrics=@$OUT/healthz-$c.after"
		bench_phase "nginx-$c"
		health_wrk "http://127.0.0.1:$NGINX_PORT" "$c" 2 >/dev/null
		measure "nginx-$c" "$HTTP_DURATION" health_wrk "http://127.0.0.1:$NGINX_PORT" "$c" "$HTTP_DURATION"
		"$PY" "$TOOL" record "$RESULTS" section=http target=nginx c="$c" \
			"load=@$OUT/nginx-$c.out" "cpu=@$OUT/nginx-$c.cpu" "metrics=@$OUT/nginx-$c.after"
	done
	stop_nginx

	# ---- 3. reads --------------------------------------------------------------------
	count="$("$PSQL" "$DSN" -X -At -c 'SELECT count(*) FROM incidents')"
	if [ "$count" -lt "$MIN_INCIDENTS" ]; then
		civcas_log "perf: $count incidents; adding $((MIN_INCIDENTS - count)) with bench/generate.sql"
		"$PSQL" "$DSN" -X -q -v n="$((MIN_INCIDENTS - count))" -v seed=5 -f "$ROOT/bench/generate.sql" >/dev/null
	fi
	"$PSQL" "$DSN" -X -q -c 'VACUUM ANALYZE'
	read -r LO HI COUNT < <("$PSQL" "$DSN" -X -At -F ' ' -c 'SELECT min(id), max(id), count(*) FROM incidents')
	civcas_log "perf: reads over $COUNT incidents (ids $LO..$HI)"
	read_wrk() { # MODE ARGS... (64 connections)
		wrk -t2 -c64 -d"${READ_SECONDS}s" --timeout 10s -s "$PERF_DIR/get.lua" "$URL" -- "$@"
	}
	for what in incident list; do
		args=("$what" "$ADMIN_KEY")
		[ "$what" = list ] || args+=("$LO" "$HI")
		bench_phase "reads-$what"
		READ_SECONDS=3 read_wrk "${args[@]}" >/dev/null
		READ_SECONDS="$DURATION" measure "reads-$what" "$DURATION" read_wrk "${args[@]}"
		"$PY" "$TOOL" record "$RESULTS" section=reads what="GET /v1/incidents$([ "$what" = list ] &&
			echo '?limit=50&to=(random date)' || echo '/{id}') ($COUNT incidents)" c=64 \
			"load=@$OUT/reads-$what.out" "cpu=@$OUT/reads-$what.cpu" "mid=@$OUT/reads-$what.mid" \
			"metrics=@$OUT/reads-$what.after"
	done

	# ---- 5. /metrics scraping ---------------------------------------------------------
	# The order alternates (without, with; then with, without): the runs
	# grow the database, so later runs tend to be slower, and a fixed order
	# would charge that drift to the scraper.
	for round in 1 2; do
		order="0 1"
		[ "$round" = 2 ] && order="1 0"
		for scraper in $order; do
			label="metrics-$round-$scraper"
			civcas_log "perf: POST at 16 connections, scraper $([ "$scraper" = 1 ] && echo on || echo off), round $round"
			bench_phase "$label"
			checkpoint
			spid=""
			if [ "$scraper" = 1 ]; then
				"$PY" "$TOOL" scrape "$URL/metrics" --interval 1 >"$OUT/$label.scrape" &
				spid=$!
				PERF_PIDS+=("$spid")
			else
				: >"$OUT/$label.scrape"
			fi
			measure "$label" "$DURATION" post_wrk 16 "$DURATION" "m$round$scraper"
			if [ -n "$spid" ]; then
				kill -TERM "$spid"
				wait "$spid" || true
			fi
			"$PY" "$TOOL" record "$RESULTS" section=metrics scraper="$scraper" \
				label="$([ "$scraper" = 1 ] && echo "with 1/s scraper" || echo "without scraper"), round $round" \
				"load=@$OUT/$label.out" "cpu=@$OUT/$label.cpu" "scrape=@$OUT/$label.scrape" \
				"mid=@$OUT/$label.mid" "metrics=@$OUT/$label.after"
		done
	done
	# What one scrape costs, measured directly: civcasd's CPU while one
	# client reads /metrics back to back, per request (and /healthz beside
	# it). Identical POST runs differ by more than a scrape a second could
	# cost, so the rounds above cannot show it.
	for path in metrics healthz; do
		civcas_log "perf: GET /$path back to back on one connection (its CPU cost)"
		bench_phase "cost-$path"
		curl -fsS -o "$OUT/cost-$path.body" "$URL/$path"
		measure "cost-$path" "$HTTP_DURATION" wrk -t1 -c1 -d"${HTTP_DURATION}s" --timeout 10s \
			-s "$PERF_DIR/summary.lua" "$URL/$path"
		"$PY" "$TOOL" record "$RESULTS" section=scrape_cost path="/$path" \
			bytes="$(wc -c <"$OUT/cost-$path.body")" \
			"load=@$OUT/cost-$path.out" "cpu=@$OUT/cost-$path.cpu"
	done

	# ---- 4b. memory by phase -----------------------------------------------------------
	bench_phase end
	sleep 0.5
	bench_rss_stop
	mem_record() { # KEY LABEL PHASE-PATTERN
		local p
		for p in $(awk '{ print $2 }' "$OUT/rss.samples" | sort -u | grep -E "^($3)\$"); do
			"$PY" "$TOOL" rss-phase "$OUT/rss.samples" "$p"
		done >"$OUT/mem-$1.phases"
		"$PY" - "$OUT/mem-$1.phases" "$2" "$RESULTS" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rec = {'section': 'memory', 'phase': sys.argv[2],
       'peak_rss_kb': max(r['peak_rss_kb'] for r in rows),
       'end_rss_kb': rows[-1]['end_rss_kb'], 'hwm_kb': max(r['hwm_kb'] for r in rows)}
open(sys.argv[3], 'a').write(json.dumps(rec) + '\n')
EOF
	}
	mem_record idle "idle, after start" "idle"
	mem_record submit "write benchmark (POST at $(echo "$CONNS" | tr ' ' ',') connections)" "submit-[0-9]+-[0-9]+"
	mem_record post-256 "POST at 256 connections" "post-256"
	mem_record healthz-256 "GET /healthz at 256 connections" "healthz-256"
	mem_record reads "reads at 64 connections" "reads-.*"
	mem_record metrics "/metrics runs (POST at 16)" "metrics-.*"
	mem_record all "whole run" "[a-z].*"

	bench_server_stop

	# ---- diagnostic: what the request log costs the HTTP ceiling ---------------------
	# The same /healthz runs against a civcasd started with --log-level warn (no
	# per-request log line); compared with nginx's figures of step 2.
	civcas_log "perf: diagnostic: GET /healthz with CIVCAS_LOG_LEVEL=warn"
	CIVCAS_LOG_LEVEL=warn bench_server_start civcasd-quiet.log
	for c in 16 64 256; do
		bench_phase "quiet-healthz-$c"
		health_wrk "$URL" "$c" 2 >/dev/null
		measure "quiet-healthz-$c" "$HTTP_DURATION" health_wrk "$URL" "$c" "$HTTP_DURATION"
		"$PY" "$TOOL" record "$RESULTS" section=http target=civcasd-quiet c="$c" \
			"load=@$OUT/quiet-healthz-$c.out" "cpu=@$OUT/quiet-healthz-$c.cpu" \
			"metrics=@$OUT/quiet-healthz-$c.after"
	done
	bench_server_stop
	kill -TERM "${PERF_PIDS[@]}" 2>/dev/null || true

	{
		printf '## bench/perf/run.sh, %s\n\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
		printf 'Command: `bench/perf/run.sh --duration %s --http-duration %s --conns "%s" --rounds %s`; ' \
			"$DURATION" "$HTTP_DURATION" "$CONNS" "$ROUNDS"
		printf 'binary: %s. ' "${PERF_CIVCASD:-build/civcasd of this checkout}"
		printf 'wrk, pgbench, nginx, civcasd and PostgreSQL share the machine. '
		printf 'CPU columns: cores busy over the middle of each run (postgres = the whole cluster, client = wrk or pgbench, machine = all processes).\n\n'
		"$PY" "$TOOL" report "$RESULTS"
		printf '\nRaw output: %s\n' "$OUT"
	} >"$OUT/report.md"
	cat "$OUT/report.md"
	[ -z "$REPORT_COPY" ] || cp "$OUT/report.md" "$REPORT_COPY"
}

main
