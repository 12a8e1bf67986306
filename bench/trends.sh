#!/usr/bin/env bash
# Trend engine benchmark: six trend queries through HTTP against
# the same answers computed by GROUP BY over the raw tables, on a synthetic
# history of 1,000,000 incidents (about 3,000,000 casualty groups).
#
# Usage: bench/trends.sh [--n N] [--seed S] [--reps R] [--sql-reps R]
#                        [--regenerate] [--skip-rebuild] [--keep-server]
#   --n N          incidents to generate (default 1000000; env BENCH_N)
#   --seed S       generator seed (default 1; env BENCH_SEED)
#   --reps R       timed HTTP repetitions per query (default 50, at least 30;
#                  env BENCH_REPS)
#   --sql-reps R   timed GROUP BY repetitions (default 30; a query slower than
#                  1 s gets 10; env BENCH_SQL_REPS)
#   --regenerate   load the data again even when N and seed match
#   --skip-rebuild reuse the rollup as it is (only after a run that rebuilt
#                  it on the same data: the answers are checked either way)
#   --keep-server  leave civcasd (its URL is printed) and PostgreSQL running
# Uses the private PostgreSQL of deploy/common.sh, database civcas_bench
# (env BENCH_DB). Raw timings, answers and logs go to var/bench/trends-<time>/.
#
# Steps: start PostgreSQL, create and migrate the database, load the
# taxonomy, run bench/generate.sql unless the database already holds the
# same N and seed from the same generate.sql (recorded as the database's
# comment), `civcasd rollup rebuild`, start `civcasd serve` on a free port,
# then per query: check that the HTTP answer equals the GROUP BY answer
# (every cell, period total and total), warm up, time R requests on one
# keep-alive connection (curl %{time_total}) and the GROUP BY with psql's
# \timing in one session; print median and p95 of both and their ratio.
# A query civcasd refuses (4xx/5xx) is reported as such, its GROUP BY still
# timed, and the script exits 1 at the end.
#
# Queries: (a) monthly killed and injured by party, Jan-Jun 2025; (b)
# Jan-Jun of each year 2021-2025 by category, 5 requests; (c) every measure
# by month and tactic, 2021-2025; (d) weekly incidents by district of
# Kandahar, 2025; (e) monthly incidents by impact, 2025 (the series
# overlap); (f) killed low/best/high by party group, Jan-Jun 2025
# (range=true). Goals: median under 10 ms each; (a)-(d) at least 100x
# their GROUP BY ((e) and (f): the ratio is reported).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,21s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

N="${BENCH_N:-1000000}"
SEED="${BENCH_SEED:-1}"
REPS="${BENCH_REPS:-50}"
SQL_REPS="${BENCH_SQL_REPS:-30}"
DB="${BENCH_DB:-civcas_bench}"
regenerate=0
rebuild=1
keep_server=0
bench_options --n N --seed SEED --reps REPS --sql-reps SQL_REPS --regenerate regenerate=1 \
	--skip-rebuild rebuild=0 --keep-server keep_server=1 -- "$@"
bench_need_numbers "$N" "$SEED" "$REPS" "$SQL_REPS"
[ "$REPS" -ge 30 ] || civcas_die "--reps must be at least 30"
[ "$SQL_REPS" -ge 10 ] || civcas_die "--sql-reps must be at least 10"

BENCH="$ROOT/bench"
bench_need_built_civcasd
command -v curl >/dev/null || civcas_die "curl is missing (apt-get install curl)"

bench_lock
load_start="$(bench_load_average)"
bench_out trends
bench_copy_civcasd
trap '[ "$keep_server" -eq 1 ] || bench_cleanup' EXIT

# --- database -----------------------------------------------------------------

bench_history "$DB" "$N" "$SEED" "$regenerate"
load_s="$LOAD_S"

if [ "$rebuild" -eq 1 ] || [ "$load_s" != "(already loaded)" ]; then
	civcas_log "bench: civcasd rollup rebuild"
	t0="$(date +%s.%N)"
	"$CIVCASD" rollup rebuild | tee "$OUT/rebuild.log"
	t1="$(date +%s.%N)"
	rebuild_s="$(bench_seconds "$t0" "$t1")"
	civcas_log "bench: rebuild took $rebuild_s"
else
	rebuild_s="(skipped)"
fi

# The rebuild rewrote the rollup: vacuum it now rather than have
# autovacuum do it during the measurements.
bench_psql -q -c 'VACUUM (ANALYZE)' >/dev/null
bench_psql -At -F ' ' -c "SELECT count(*), (SELECT count(*) FROM casualty_groups),
                              pg_size_pretty(pg_database_size(current_database()))
                         FROM incidents" >"$OUT/sizes.txt"
read -r n_incidents n_groups db_size <"$OUT/sizes.txt"
bench_psql -At -F ' ' -c "SELECT (SELECT count(DISTINCT incident_id) FROM incident_impacts),
                              (SELECT count(*) FROM incidents WHERE killed + injured = 0),
                              count(*) FILTER (WHERE count_min IS NOT NULL OR count_max IS NOT NULL),
                              count(*) FILTER (WHERE role IS NOT NULL),
                              (SELECT count(DISTINCT incident_id) FROM incident_abductions)
                         FROM casualty_groups" >"$OUT/fields.txt"
read -r n_impacted n_unharmed n_ranged n_roles n_abductions <"$OUT/fields.txt"
# The rollup tables are the lead's; list whatever is called rollup*.
bench_psql -At -F ' ' -c "SELECT c.relname, c.reltuples::bigint,
                              pg_size_pretty(pg_total_relation_size(c.oid))
                         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'm')
                          AND c.relname LIKE '%rollup%'
                        ORDER BY 1" >"$OUT/rollups.txt"

# --- server -------------------------------------------------------------------

key="$("$CIVCASD" keys create --role analyst --name bench-analyst | tail -n 1)"
[ -n "$key" ] || civcas_die "keys create printed no key"
bench_server_start

# --- measuring ----------------------------------------------------------------

# http_times FILE ID URL...: requests the URLs in order, REPS times over, on
# one keep-alive connection after 3 untimed rounds; writes one line per
# round: the seconds of each URL's request, space-separated. The requests
# carry X-Request-Id ID, so that the server's log can tell its own time.
http_times() {
	local file="$1" id="$2" cfg="$OUT/curl.cfg" i u
	shift 2
	{
		printf 'header = "Authorization: Bearer %s"\n' "$key"
		printf 'header = "X-Request-Id: %s"\n' "$id"
		for ((i = 0; i < REPS + 3; i++)); do
			for u in "$@"; do
				printf 'url = "%s%s"\noutput = "/dev/null"\n' "$URL" "$u"
			done
		done
	} >"$cfg"
	curl -sS -K "$cfg" -w '%{http_code} %{time_total} %{num_connects}\n' >"$file.raw"
	rm -f "$cfg"
	"$PY" - "$file.raw" "$#" "$file" <<'EOF'
import sys
raw, per, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = [l.split() for l in open(raw) if l.strip()]
bad = [r for r in rows if r[0] != '200']
if bad:
    sys.exit('HTTP status %s in %d of %d requests' % (bad[0][0], len(bad), len(rows)))
connects = sum(int(r[2]) for r in rows)
if connects != 1:
    sys.exit('expected one keep-alive connection, curl made %d' % connects)
times = [r[1] for r in rows][3 * per:]
with open(out, 'w') as f:
    for i in range(0, len(times), per):
        f.write(' '.join(times[i:i + per]) + '\n')
EOF
}

# sql_times FILE SQLFILE: runs the query twice untimed, then SQL_REPS times
# (10 when one run takes over a second) in one psql session with \timing;
# writes the seconds of each run, one per line.
sql_times() {
	local file="$1" sql="$2" reps="$SQL_REPS" first
	first="$( (printf '\\timing on\n\\o /dev/null\n'; cat "$sql" "$sql") | bench_psql |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1)"
	if awk -v ms="${first:-0}" 'BEGIN { exit !(ms > 1000) }' && [ "$reps" -gt 10 ]; then
		reps=10
	fi
	(
		printf '\\timing on\n\\o /dev/null\n'
		for ((i = 0; i < reps; i++)); do cat "$sql"; done
	) | bench_psql | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' |
		awk '{ printf "%.6f\n", $1 / 1000 }' >"$file"
}

bench_trend_queries

# run_query NAME BASELINE URL...: the answers and timings of query NAME
# through HTTP (the URLs) and by GROUP BY (bench/baseline/BASELINE.sql, and
# BASELINE.totals.sql where the series overlap: the totals, untimed). A
# request civcasd refuses leaves NAME.http.error and no HTTP timings.
run_query() {
	local name="$1" sql="$BENCH/baseline/$2.sql" totals="$BENCH/baseline/$2.totals.sql"
	local i=0 u status
	shift 2
	civcas_log "bench: ($name) answers"
	rm -f "$OUT/$name.http.error"
	for u in "$@"; do
		i=$((i + 1))
		status="$(curl -sS -o "$OUT/$name.http.$i.json" -w '%{http_code}' \
			-H "Authorization: Bearer $key" "$URL$u")" ||
			civcas_die "GET $u failed: curl exit $?"
		if [ "$status" != 200 ]; then
			printf 'GET %s: %s %s\n' "$u" "$status" "$(cat "$OUT/$name.http.$i.json")" \
				>"$OUT/$name.http.error"
			civcas_warn "($name) $(cat "$OUT/$name.http.error")"
			break
		fi
	done
	"$PSQL" "$DSN" -X -q --csv -f "$sql" >"$OUT/$name.sql.csv"
	[ ! -f "$totals" ] || "$PSQL" "$DSN" -X -q --csv -f "$totals" >"$OUT/$name.sql.totals.csv"
	if [ ! -f "$OUT/$name.http.error" ]; then
		civcas_log "bench: ($name) HTTP x $REPS"
		http_times "$OUT/$name.http.times" "bench-$name" "$@"
	fi
	civcas_log "bench: ($name) GROUP BY"
	sql_times "$OUT/$name.sql.times" "$sql"
}

run_query a monthly_by_party_h1_2025 "$Q_A"
run_query b h1_by_category_2021_2025 "${Q_B[@]}"
run_query c monthly_by_tactic_2021_2025 "$Q_C"
run_query d weekly_by_district_kandahar_2025 "$Q_D"
run_query e monthly_incidents_by_impact_2025 "$Q_E"
run_query f h1_killed_range_by_party_group_2025 "$Q_F"

# --- report -------------------------------------------------------------------

pg_version="$(bench_psql -At -c 'SHOW server_version')"
{
	printf 'date: %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
	printf 'machine: %s cores (%s), %s MiB memory; load average (1 min) %s before this run\n' \
		"$(nproc)" "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)" \
		"$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)" "$load_start"
	printf 'PostgreSQL %s; %s; commit %s\n' "$pg_version" \
		"$("$CIVCASD" --version | head -n 1)" \
		"$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(
			git -C "$ROOT" diff --quiet HEAD -- server migrations 2>/dev/null || echo '+changes')"
	printf 'data: %s incidents, %s casualty groups, database %s; seed %s\n' \
		"$n_incidents" "$n_groups" "$db_size" "$SEED"
	printf 'new fields: %s incidents with impacts (%s of them without casualties), %s incidents with persons abducted; %s casualty groups with a range, %s with a role\n' \
		"$n_impacted" "$n_unharmed" "$n_abductions" "$n_ranged" "$n_roles"
	printf 'load (generate.sql): %s; civcasd rollup rebuild: %s\n' "$load_s" "$rebuild_s"
	if [ -s "$OUT/rollups.txt" ]; then
		printf 'rollup tables:'
		awk '{ printf " %s (~%s rows, %s %s)", $1, $2, $3, $4 }' "$OUT/rollups.txt"
		printf '\n'
	fi
	printf 'HTTP: curl, one keep-alive connection, %s timed requests per query after 3 untimed;\n' "$REPS"
	printf '      "server" = the time civcasd logged for the request (duration_ms)\n'
	printf 'GROUP BY: psql \\timing in one session, after 2 untimed runs\n\n'
	"$PY" "$BENCH/trends_report.py" "$OUT"
} | tee "$OUT/report.txt"
civcas_log "bench: raw data in $OUT"
if [ "$keep_server" -eq 1 ]; then
	civcas_log "bench: civcasd still serves $URL (pid $SERVER_PID), analyst key $key"
fi
