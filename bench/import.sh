#!/usr/bin/env bash
# civcasd import against PostgreSQL's own COPY: N generated incidents
# (about three casualty groups each, bench/import_generate.py) imported
# into a fresh database, and the same rows, pre-shaped, loaded with COPY
# into incidents and casualty_groups of another fresh database in the same
# run. Prints rows/s of both, their ratio and civcasd's peak RSS. With
# --floor, also the time of COPY of every row the import stored (incidents
# and all their children, revisions, idempotency records; not the rollups)
# into a third: the least any import storing those rows can take, and the
# import's ratio to it (the goal's comparison: the same rows into the same
# tables).
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: bench/import.sh [--rows N] [--writers N] [--floor] [--admin-dsn URL] [--app-role ROLE]
  --rows N          incidents to generate (default 1000000)
  --writers N       civcasd import's --writers (default: its own, 2)
  --floor           also time COPY of every row the import stored
  --admin-dsn URL   superuser libpq URL of the cluster's postgres database
                    (default: the private cluster of var/pg)
  --app-role ROLE   owner of the bench databases (default civcas_app)
Builds build-bench/ (RelWithDebInfo), writes var/bench/import-<UTC time>/,
and drops its databases (civcas_import_bench, civcas_import_bench_copy,
civcas_import_bench_floor).
USAGE
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROWS=1000000
ADMIN_DSN="${CIVCAS_BENCH_ADMIN_DSN:-postgresql:///postgres?host=$ROOT/../main/var/pg/run&user=civcas}"
APP_ROLE=civcas_app
FLOOR=0
WRITERS=
while [ $# -gt 0 ]; do
	case "$1" in
	--rows) ROWS="${2:?--rows needs a value}"; shift ;;
	--writers) WRITERS="${2:?--writers needs a value}"; shift ;;
	--floor) FLOOR=1 ;;
	--admin-dsn) ADMIN_DSN="${2:?}"; shift ;;
	--app-role) APP_ROLE="${2:?}"; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
case "$ROWS" in '' | *[!0-9]* | 0) echo "--rows: a positive number" >&2; exit 2 ;; esac

OUT="$ROOT/var/bench/import-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
DB=civcas_import_bench
COPY_DB=civcas_import_bench_copy
FLOOR_DB=civcas_import_bench_floor
# What the import stores besides the rollups, parents before children.
FLOOR_TABLES="incidents casualty_groups casualty_personal incident_impacts incident_abductions incident_sources incident_revisions idempotency_keys"
dsn_of() { # the admin DSN with database $1, as the app role
	local base="${ADMIN_DSN%%\?*}" query="${ADMIN_DSN#*\?}"
	query="$(printf '%s' "$query" | tr '&' '\n' | grep -v '^user=' | paste -sd '&')"
	printf '%s/%s?%s&user=%s' "${base%/*}" "$1" "$query" "$APP_ROLE"
}
cleanup() {
	for d in "$DB" "$COPY_DB" "$FLOOR_DB"; do
		psql -X -q "$ADMIN_DSN" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" || true
	done
}
trap cleanup EXIT

fresh_db() {
	psql -X -q "$ADMIN_DSN" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" \
		-c "CREATE DATABASE $1 OWNER $APP_ROLE"
	CIVCAS_DATABASE_URL="$(dsn_of "$1")" "$CIVCASD" migrate >/dev/null
	CIVCAS_DATABASE_URL="$(dsn_of "$1")" "$CIVCASD" taxonomy load \
		"$ROOT/schema/taxonomy-unama.json" >/dev/null
}
now() { date +%s.%N; }

cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$ROOT/build-bench" -j2 --target civcasd >/dev/null
CIVCASD="$OUT/civcasd"
cp "$ROOT/build-bench/civcasd" "$CIVCASD"

echo "generating $ROWS incidents in $OUT"
/usr/bin/python3 "$ROOT/bench/import_generate.py" "$ROWS" "$OUT"
NGROUPS="$(wc -l <"$OUT/copy_groups.csv")"

echo "civcasd import"
fresh_db "$DB"
t0="$(now)"
CIVCAS_DATABASE_URL="$(dsn_of "$DB")" /usr/bin/time -v -o "$OUT/import.time" \
	"$CIVCASD" import ${WRITERS:+--writers "$WRITERS"} "$OUT/incidents.csv" \
	>"$OUT/import.out" 2>"$OUT/import.err"
t1="$(now)"
cat "$OUT/import.out"
CIVCAS_DATABASE_URL="$(dsn_of "$DB")" "$CIVCASD" rollup verify | tail -1

if [ "$FLOOR" = 1 ]; then
	for t in api_keys $FLOOR_TABLES; do
		psql -X -q -v ON_ERROR_STOP=1 "$(dsn_of "$DB")" -c "\\copy $t TO '$OUT/floor_$t.copy'"
	done
fi

echo "COPY"
fresh_db "$COPY_DB"
CIVCAS_DATABASE_URL="$(dsn_of "$COPY_DB")" "$CIVCASD" keys create --role admin --name copy >/dev/null
t2="$(now)"
psql -X -q -v ON_ERROR_STOP=1 "$(dsn_of "$COPY_DB")" <<SQL
BEGIN;
\copy incidents (id, occurred_on, date_precision, admin1, admin2, tactic, weapon, perpetrator, attribution, external_ref, killed, injured, source_types, created_by) FROM '$OUT/copy_incidents.csv' (FORMAT csv)
\copy casualty_groups (incident_id, ordinal, outcome, sex, age_group, count) FROM '$OUT/copy_groups.csv' (FORMAT csv)
COMMIT;
SQL
t3="$(now)"

t4=0 t5=0
if [ "$FLOOR" = 1 ]; then
	echo "COPY of every row the import stored"
	fresh_db "$FLOOR_DB"
	psql -X -q -v ON_ERROR_STOP=1 "$(dsn_of "$FLOOR_DB")" \
		-c "\\copy api_keys FROM '$OUT/floor_api_keys.copy'"
	{
		echo "BEGIN;"
		for t in $FLOOR_TABLES; do echo "\\copy $t FROM '$OUT/floor_$t.copy'"; done
		echo "COMMIT;"
	} >"$OUT/floor.sql"
	t4="$(now)"
	psql -X -q -v ON_ERROR_STOP=1 "$(dsn_of "$FLOOR_DB")" -f "$OUT/floor.sql"
	t5="$(now)"
	rm -f "$OUT"/floor_*.copy
fi

rss_kb="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/import.time")"
/usr/bin/python3 - "$ROWS" "$NGROUPS" "$t0" "$t1" "$t2" "$t3" "$rss_kb" "$t4" "$t5" <<'PY' | tee "$OUT/summary.txt"
import os, sys
rows, groups = int(sys.argv[1]), int(sys.argv[2])
t0, t1, t2, t3 = map(float, sys.argv[3:7])
rss = int(sys.argv[7])
t4, t5 = map(float, sys.argv[8:10])
imp, cp = rows / (t1 - t0), rows / (t3 - t2)
print('incidents %d, casualty groups %d; %d cores, load %.2f' % (
    rows, groups, os.cpu_count(), os.getloadavg()[0]))
print('civcasd import: %.1f s, %.0f incidents/s, peak RSS %.1f MB' % (
    t1 - t0, imp, rss / 1024))
print('COPY (incidents + casualty_groups): %.1f s, %.0f incidents/s' % (t3 - t2, cp))
print('ratio import/COPY: %.2f' % (imp / cp))
if t5 > t4:
    fl = rows / (t5 - t4)
    print('COPY of every row the import stored: %.1f s, %.0f incidents/s;'
          ' its ratio to COPY: %.2f' % (t5 - t4, fl, fl / cp))
    print('ratio import / COPY of every row it stored (the same rows into the'
          ' same tables; goal >= 0.5): %.2f' % (imp / fl))
PY
