#!/usr/bin/env bash
# Figures as of a moment: queries (a)-(d) of bench/trends.sh answered now
# and as of 1, 7 and 30 days (env BENCH_DAYS, a list) before the last
# revision, on the benchmark's incidents with three revisions each.
#
# Usage: bench/as_of.sh [--reps R] [--keep-db]
#   --reps R   timed requests per query and moment (default 30; env BENCH_REPS)
#   --keep-db  leave the database for the next run (it takes minutes to make)
# Environment: BENCH_DB (default civcas_bench), the database bench/trends.sh
# fills (1,000,000 incidents); BENCH_PG_HOST, the socket directory of a
# cluster that already holds it (default: the private cluster of
# deploy/common.sh). The database is copied to $BENCH_DB_as_of (so that
# the shared one keeps its migrations), migrated, and given its revisions
# by bench/as_of_revisions.sql. Raw timings go to var/bench/as_of-<time>/.
#
# Each request is timed on one keep-alive connection (curl); the table
# printed has per query the median of today's answer, then per moment the
# median, the ratio to today's and the revisions after the moment. (b) is
# its five requests, each timed on its own. Goal: every median under 1 s.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

REPS="${BENCH_REPS:-30}"
SOURCE_DB="${BENCH_DB:-civcas_bench}"
DB="${SOURCE_DB}_as_of"
keep_db=0
bench_options --reps REPS --keep-db keep_db=1 -- "$@"
bench_need_numbers "$REPS"
bench_need_built_civcasd
bench_lock
bench_out as_of
bench_copy_civcasd
drop_db() {
	[ "$keep_db" -eq 1 ] ||
		"$PSQL" "$(civcas_dsn postgres)" -X -q -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" || true
}
trap 'bench_cleanup; drop_db' EXIT

if [ -n "${BENCH_PG_HOST:-}" ]; then
	export CIVCAS_PG_HOST="$BENCH_PG_HOST"
else
	civcas_pg_start
fi
admin() { "$PSQL" "$(civcas_dsn postgres)" -X -q -v ON_ERROR_STOP=1 "$@"; }
exists="$(admin -At -c "SELECT count(*) FROM pg_database WHERE datname = '$DB'")"
if [ "$exists" = 0 ]; then
	civcas_log "bench: copying $SOURCE_DB to $DB"
	admin -c "CREATE DATABASE \"$DB\" TEMPLATE \"$SOURCE_DB\""
fi
DSN="$(civcas_dsn "$DB")"
export CIVCAS_DATABASE_URL="$DSN"
psql_q() { "$PSQL" "$DSN" -X -q -v ON_ERROR_STOP=1 "$@"; }
"$CIVCASD" migrate >/dev/null
if [ "$(psql_q -At -c 'SELECT count(*) FROM incident_revisions')" = 0 ]; then
	civcas_log "bench: three revisions for each incident"
	t0="$(date +%s)"
	psql_q -v anchor="$(date -u +%Y-%m-%dT%H:%M:%SZ)" -f "$ROOT/bench/as_of_revisions.sql"
	psql_q -c 'VACUUM (ANALYZE) incident_revisions, revision_facts_undo, revision_victim_facts_kept'
	civcas_log "bench: revisions took $(($(date +%s) - t0)) s"
fi
psql_q -At -F ' ' -c "SELECT (SELECT count(*) FROM incidents), count(*),
                              to_char(max(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                              pg_size_pretty(pg_total_relation_size('incident_revisions'))
                         FROM incident_revisions" >"$OUT/sizes.txt"
read -r n_incidents n_revisions anchor revisions_size <"$OUT/sizes.txt"
civcas_log "bench: $n_incidents incidents, $n_revisions revisions ($revisions_size), last at $anchor"

key="$("$CIVCASD" keys create --role analyst --name bench-as-of | tail -n 1)"
[ -n "$key" ] || civcas_die "keys create printed no key"
bench_server_start

# times FILE URL...: REPS timed requests of each URL after one untimed.
times() {
	local file="$1" cfg="$OUT/curl.cfg" i u
	shift
	{
		printf 'header = "Authorization: Bearer %s"\n' "$key"
		for u in "$@"; do
			for ((i = 0; i < REPS + 1; i++)); do
				printf 'url = "%s%s"\noutput = "/dev/null"\n' "$URL" "$u"
			done
		done
	} >"$cfg"
	curl -sS -K "$cfg" -w '%{http_code} %{time_total}\n' >"$file"
	rm -f "$cfg"
	! grep -qv '^200 ' "$file" || civcas_die "a request of $file did not answer 200: $(grep -v '^200 ' "$file" | head -n 1)"
}

bench_trend_queries
read -r -a DAYS <<<"${BENCH_DAYS:-1 7 30}"
moment() { date -u -d "$anchor - $1 days" +%Y-%m-%dT%H:%M:%SZ; }

run() {
	local name="$1" d t
	shift
	times "$OUT/$name.now" "$@"
	for d in "${DAYS[@]}"; do
		t="$(moment "$d")"
		local with=()
		for u in "$@"; do with+=("$u&as_of=$t"); done
		times "$OUT/$name.$d" "${with[@]}"
	done
}
civcas_log "bench: (a)"
run a "$Q_A"
civcas_log "bench: (b)"
run b "${Q_B[@]}"
civcas_log "bench: (c)"
run c "$Q_C"
civcas_log "bench: (d)"
run d "$Q_D"

for d in "${DAYS[@]}"; do
	printf '%s %s\n' "$d" "$(psql_q -At -c "SELECT count(*) FROM incident_revisions
	                                          WHERE at > timestamptz '$(moment "$d")'")"
done >"$OUT/after.txt"
"$PY" - "$OUT" "$REPS" "${DAYS[@]}" <<'PYEOF' | tee "$OUT/summary.txt"
import statistics
import sys
out, reps, days = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
after = dict(l.split() for l in open(out + '/after.txt'))

def median_ms(path):
    rows = [float(l.split()[1]) for l in open(path)]
    per = reps + 1
    timed = [t for i, t in enumerate(rows) if i % per]  # the first of each URL warms up
    return statistics.median(timed) * 1000

print('query  now (ms)  ' + '  '.join('as of -%sd (ms, x now, revisions after)' % d for d in days))
for q in 'abcd':
    now = median_ms('%s/%s.now' % (out, q))
    cells = []
    for d in days:
        m = median_ms('%s/%s.%s' % (out, q, d))
        cells.append('%8.1f %6.1fx %8s' % (m, m / now, after[d]))
    print('(%s)  %8.2f  %s' % (q, now, '  '.join(cells)))
PYEOF
