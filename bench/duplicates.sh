#!/usr/bin/env bash
# Duplicate candidates at scale: latency of GET /v1/incidents/{id}/duplicates
# through HTTP, and how well the ranking finds seeded duplicates.
#   bench/duplicates.sh [--n N] [--seed SEED] [--dups D] [--randoms R]
#                       [--db NAME] [--wait SECONDS] [--keep-server]
#   --n N          incidents to generate (default 1000000; env BENCH_N)
#   --seed SEED    generator and seeding seed (default 1)
#   --dups D       duplicates to seed (default 300); more are added to reach
#                  D on a later run, none taken away
#   --randoms R    random incidents whose candidates are timed too (default 300)
#   --db NAME      the database (default civcas_dups_bench; env BENCH_DB).
#                  Never civcas_bench: the trends benchmark owns that one,
#                  and this script writes to its database
#   --wait S       wait up to S seconds for other benchmarks to finish (300)
#   --keep-server  leave civcasd running
#
# The database is made like bench/trends.sh makes its own: migrated, the
# default taxonomy, bench/generate.sql at N unless it holds that already,
# then `civcasd rollup rebuild`. bench/duplicates_seed.sql then gives one
# incident in ten a narrative (once) and picks D originals; each copy
# (date shifted within the precision, a neighbouring district, counts off
# by one or two, the narrative reworded) is POSTed through the API, so the
# write path finds its pairs as it would in the field. Then every copy's,
# every original's and R random incidents' candidates are asked for once
# (limit=5), interleaved, on one keep-alive connection:
#   latency    median, p95 (client side, Python's perf_counter)
#   recall     the original among the copy's top 5 (and the other way)
#   precision  the partner first (@1); the partner's share of the top-5
#              lists; the partner's share of candidates scoring 0.5 or
#              more (the queue's threshold)
# Results: var/bench/duplicates-<time>/report.txt and results.json.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,33s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

N="${BENCH_N:-1000000}"
SEED="${BENCH_SEED:-1}"
DUPS=300
RANDOMS=300
DB="${BENCH_DB:-civcas_dups_bench}"
WAIT=300
keep_server=0
bench_options --n N --seed SEED --dups DUPS --randoms RANDOMS --db DB --wait WAIT \
	--keep-server keep_server=1 -- "$@"
bench_need_numbers "$N" "$SEED" "$WAIT"
bench_need_positive "$DUPS" "$RANDOMS"
[ "$DB" != civcas_bench ] ||
	civcas_die "civcas_bench is the trends benchmark's database; this script writes to its own (--db)"

BENCH="$ROOT/bench"
bench_need_built_civcasd
bench_lock
bench_wait_quiet "$WAIT"
load_start="$(bench_load_average)"
bench_out duplicates
bench_copy_civcasd
trap '[ "$keep_server" -eq 1 ] || bench_cleanup' EXIT

# --- database -----------------------------------------------------------------

civcas_pg_start
civcas_createdb "$DB"
DSN="$(civcas_dsn "$DB")"
export CIVCAS_DATABASE_URL="$DSN"
psql_q() { "$PSQL" "$DSN" -X -q -v ON_ERROR_STOP=1 "$@"; }

rc=0
"$CIVCASD" migrate >/dev/null || rc=$?
[ "$rc" -eq 0 ] || civcas_die "civcasd migrate failed (exit $rc); $DB may hold another schema: drop it"
"$CIVCASD" taxonomy load "$ROOT/schema/taxonomy-unama.json" >/dev/null

gen_sum="$(sha256sum "$BENCH/generate.sql" | cut -c1-12)"
marker="civcas bench generate.sql n=$N seed=$SEED sha256=$gen_sum"
have_marker="$(psql_q -At -c "SELECT coalesce(shobj_description(oid, 'pg_database'), '')
                                FROM pg_database WHERE datname = current_database()")"
if [ "$have_marker" != "$marker" ]; then
	[ "$(psql_q -At -c 'SELECT count(*) FROM incidents')" = 0 ] ||
		civcas_die "$DB holds other data than '$marker': drop it and run again"
	loader="$("$CIVCASD" keys create --role monitor --name bench-loader | tail -n 1)"
	[ -n "$loader" ] || civcas_die "keys create printed no key"
	loader_id="$(psql_q -At -c "SELECT max(id) FROM api_keys WHERE name = 'bench-loader'")"
	civcas_log "bench: generating $N incidents (seed $SEED)"
	psql_q -v n="$N" -v seed="$SEED" -v created_by="$loader_id" \
		-f "$BENCH/generate.sql" >"$OUT/generate.log"
	psql_q -c "COMMENT ON DATABASE \"$DB\" IS '$marker'"
	"$CIVCASD" rollup rebuild >"$OUT/rebuild.log"
else
	civcas_log "bench: $DB already holds $N incidents of seed $SEED"
fi

key="$("$CIVCASD" keys create --role reviewer --name bench-dups | tail -n 1)"
[ -n "$key" ] || civcas_die "keys create printed no key"

# --- seeding --------------------------------------------------------------------

civcas_log "bench: seeding duplicates up to $DUPS"
psql_q -v dups="$DUPS" -v seed="$SEED" -f "$BENCH/duplicates_seed.sql" >"$OUT/copies.jsonl"
psql_q -q -c 'VACUUM (ANALYZE) incidents' >/dev/null
bench_server_start
new_pairs="$OUT/new-pairs.csv"
: >"$new_pairs"
"$PY" "$BENCH/duplicates_run.py" create "$URL" "$key" "$OUT/copies.jsonl" "$new_pairs" |
	tee "$OUT/create.txt"
sed "s/\$/,$SEED/" "$new_pairs" >"$OUT/new-seeds.csv"
psql_q -c "\\copy bench_dup_seeds (original, copy, seed) FROM '$OUT/new-seeds.csv' WITH (FORMAT csv)"
psql_q -At -F , -c "SELECT original, copy FROM bench_dup_seeds ORDER BY original
                     LIMIT $DUPS" >"$OUT/pairs.csv"
psql_q -At -c "SELECT id FROM incidents i WHERE status IN ('reported', 'verified')
                AND NOT EXISTS (SELECT 1 FROM bench_dup_seeds s WHERE i.id IN (s.original, s.copy))
              ORDER BY md5(id::text || 'random-$SEED') LIMIT $((RANDOMS + 30))" >"$OUT/random-ids.txt"

# --- measuring ------------------------------------------------------------------

civcas_log "bench: measuring"
"$PY" "$BENCH/duplicates_run.py" measure "$URL" "$key" "$OUT/pairs.csv" \
	"$OUT/random-ids.txt" "$OUT/results.json" >/dev/null
load_end="$(bench_load_average)"
queued="$(psql_q -At -c "SELECT count(*) FROM duplicate_pairs")"

{
	printf 'bench/duplicates.sh --n %s --seed %s --dups %s --randoms %s (%s)\n' \
		"$N" "$SEED" "$DUPS" "$RANDOMS" "$(date -u +%Y-%m-%dT%H:%MZ)"
	bench_machine_text
	printf '\nload average before %s, after %s\n' "$load_start" "$load_end"
	printf 'incidents %s; pairs queued (score >= 0.5) %s\n' \
		"$(psql_q -At -c 'SELECT count(*) FROM incidents')" "$queued"
	cat "$OUT/create.txt"
	"$PY" - "$OUT/results.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print('GET /v1/incidents/{id}/duplicates?limit=5, each asked once:')
for kind, q in r['latency'].items():
    print('  %-9s n=%-4d median %6.2f ms  p95 %6.2f ms  max %6.2f ms'
          % (kind, q['n'], q['median_ms'], q['p95_ms'], q['max_ms']))
q = r['latency_all']
print('  %-9s n=%-4d median %6.2f ms  p95 %6.2f ms  max %6.2f ms'
      % ('all', q['n'], q['median_ms'], q['p95_ms'], q['max_ms']))
print('recall within the top 5: %.3f from the copy, %.3f from the original (%d pairs)'
      % (r['recall_top5_from_copy'], r['recall_top5_from_original'], r['pairs']))
print('precision: @1 %.3f; share of the top-5 lists %.3f; at score >= 0.5 %.3f (%d candidates)'
      % (r['precision_at_1'], r['precision_top5'], r['precision_at_threshold'],
         r['candidates_at_threshold']))
EOF
} | tee "$OUT/report.txt"
civcas_log "bench: $OUT/report.txt"
