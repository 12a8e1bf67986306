#!/usr/bin/env bash
# Rollup rebuild benchmark: `civcasd rollup rebuild` of this tree against
# that of an earlier commit, on the same generated history, in one run.
#
# Usage: bench/rebuild.sh [--n N] [--seed S] [--before REV] [--rounds R]
#                         [--regenerate] [--verify] [--work-mem SIZE]
#                         [--hash-mem-multiplier X]
#   --n N          incidents (default 3000000, the most whose earlier
#                  rebuild fits the project machine's disk; env BENCH_N)
#   --seed S       generator seed (default 1; env BENCH_SEED)
#   --before REV   the commit whose rebuild is compared (default 370905a,
#                  the last with the rebuild of one GROUP BY over every
#                  grouping set; env BENCH_BEFORE); "none": this tree's
#                  rebuilds alone
#   --rounds R     rounds of the three rebuilds below (default 1)
#   --regenerate   load the data again even when N and seed match
#   --verify       close with `civcasd rollup verify` of this tree (the
#                  cells are compared with REV's in any case)
#   --work-mem SIZE, --hash-mem-multiplier X
#                  PostgreSQL's work_mem and hash_mem_multiplier for the
#                  database while the script runs (ALTER DATABASE; this
#                  tree's rebuild sets its own, 256MB and 8). With hash
#                  memory above the planner's estimate (about 5 kB a cell,
#                  and it guesses ten times the cells: at 10M work_mem 8GB
#                  and multiplier 10) REV's GROUP BY hashes the cells in
#                  memory (about 6 kB a cell) instead of sorting on disk,
#                  and the disk check below is skipped. The report's
#                  column of temporary files shows which it did.
# REV's rebuild sorts about 9 kB per incident on disk (a GROUP BY of every
# incident's facts once per grouping set), and `rollup verify` more (at 3M
# incidents over 29 GB): the script refuses an N whose rebuild by REV would
# take more than half the free space of the cluster's disk (unless
# --work-mem is given), and sets temp_file_limit to that half meanwhile.
# Uses the private PostgreSQL of deploy/common.sh, database civcas_bench
# (env BENCH_DB), which bench/trends.sh shares: data loaded by one is
# reused by the other. Raw output goes to var/bench/rebuild-<time>/.
#
# Steps: build REV's civcasd (git archive of REV, cmake, only civcasd) in
# the output directory; load the data as bench/trends.sh does unless it is
# there; then per round, each rebuild timed on its own with the 1-minute
# load average before it, and VACUUM of rollup_cells after it (untimed,
# so that none inherits the dead rows of another):
#   1. REV's rebuild, over the cells as they are;
#   2. this tree's rebuild over the cells REV's left (the usual case: the
#      cells mostly right);
#   3. this tree's rebuild after the cells were emptied (TRUNCATE), so
#      that it writes every cell.
# After each rebuild the cells are dumped in key order and hashed
# (sha256): every hash must be the same, or the script exits 1.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,49s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

N="${BENCH_N:-3000000}"
SEED="${BENCH_SEED:-1}"
BEFORE="${BENCH_BEFORE:-370905a}"
ROUNDS=1
DB="${BENCH_DB:-civcas_bench}"
regenerate=0
verify=0
WORK_MEM=""
HASH_MEM_MULTIPLIER=""
bench_options --n N --seed SEED --before BEFORE --rounds ROUNDS --regenerate regenerate=1 \
	--verify verify=1 --work-mem WORK_MEM --hash-mem-multiplier HASH_MEM_MULTIPLIER -- "$@"
case "$WORK_MEM" in
'' | [1-9]*[kMG]B) ;;
*) civcas_die "--work-mem: a size such as 8GB, 512MB or 65536kB expected, got '$WORK_MEM'" ;;
esac
case "$HASH_MEM_MULTIPLIER" in
'' | [1-9] | [1-9][0-9] | [1-9].[0-9]) ;;
*) civcas_die "--hash-mem-multiplier: a number from 1 to 99 expected, got '$HASH_MEM_MULTIPLIER'" ;;
esac
bench_need_positive "$N" "$ROUNDS"
bench_need_numbers "$SEED"

bench_need_built_civcasd
bench_lock
load_start="$(bench_load_average)"
bench_out rebuild
bench_copy_civcasd
unlimit() {
	[ -z "${DSN:-}" ] || bench_psql -c "ALTER DATABASE \"$DB\" RESET temp_file_limit" \
		-c "ALTER DATABASE \"$DB\" RESET work_mem" \
		-c "ALTER DATABASE \"$DB\" RESET hash_mem_multiplier" || true
	bench_cleanup
}
trap unlimit EXIT

# The disk the sort of REV's rebuild would fill.
civcas_pg_start
half_free_kb=$(($(df -Pk "$CIVCAS_PG_DIR" | awk 'NR == 2 { print $4 }') / 2))
if [ "$BEFORE" != none ] && [ -z "$WORK_MEM" ] && [ $((N * 9)) -gt "$half_free_kb" ]; then
	civcas_die "$N incidents: the earlier rebuild sorts about $((N * 9 / 1048576)) GB on disk, more than half the $((half_free_kb / 524288)) GB free; try a smaller --n, or --before none"
fi

# --- REV's civcasd ----------------------------------------------------------------

before_rev=none
if [ "$BEFORE" != none ]; then
	before_rev="$(git -C "$ROOT" rev-parse --short "$BEFORE^{commit}")" ||
		civcas_die "--before $BEFORE is not a commit"
	civcas_log "bench: building civcasd of $before_rev"
	mkdir -p "$OUT/before-src"
	git -C "$ROOT" archive "$before_rev" | tar -x -C "$OUT/before-src"
	{
		cmake -S "$OUT/before-src" -B "$OUT/before-build" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
			cmake --build "$OUT/before-build" -j"$(nproc)" --target civcasd
	} >"$OUT/before-build.log" 2>&1 || civcas_die "building $before_rev failed: $OUT/before-build.log"
	BEFORE_CIVCASD="$OUT/before-build/civcasd"
fi

# --- data ---------------------------------------------------------------------------

bench_history "$DB" "$N" "$SEED" "$regenerate"
bench_psql -c "ALTER DATABASE \"$DB\" SET temp_file_limit = '${half_free_kb}kB'"
# civcasd's connections set their own options, so PGOPTIONS would not reach them.
[ -z "$WORK_MEM" ] || bench_psql -c "ALTER DATABASE \"$DB\" SET work_mem = '$WORK_MEM'"
[ -z "$HASH_MEM_MULTIPLIER" ] ||
	bench_psql -c "ALTER DATABASE \"$DB\" SET hash_mem_multiplier = $HASH_MEM_MULTIPLIER"
read -r n_incidents n_groups <<<"$(bench_psql -At -F ' ' -c \
	'SELECT count(*), (SELECT count(*) FROM casualty_groups) FROM incidents')"

# --- rebuilds -----------------------------------------------------------------------

KEYS='gset, status, period, admin1, admin2, party, tactic, weapon, attribution, impacts'
results="$OUT/results.txt"
: >"$results"
first_hash=""
identical=yes

# The database's temporary file bytes so far (statistics a backend sends
# as it ends: wait for the rebuild's to arrive).
temp_bytes() {
	sleep 2
	bench_psql -At -c 'SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()'
}

# rebuild NAME BINARY: times BINARY's rebuild; one line in results.txt:
# name, seconds, cells, load average before, sha256 of the cells, bytes
# of temporary files it wrote.
rebuild() {
	local name="$1" bin="$2" load t0 t1 cells hash temp0 temp1
	temp0="$(temp_bytes)"
	load="$(cut -d ' ' -f 1 /proc/loadavg)"
	civcas_log "bench: $name (load average $load)"
	t0="$(date +%s.%N)"
	"$bin" rollup rebuild >"$OUT/$name.out" 2>"$OUT/$name.err" ||
		civcas_die "$name failed: $(cat "$OUT/$name.err")"
	t1="$(date +%s.%N)"
	temp1="$(temp_bytes)"
	cells="$(sed -n 's/^rollup rebuilt: \([0-9]*\) cells.*/\1/p' "$OUT/$name.out")"
	bench_psql -c 'VACUUM rollup_cells'
	hash="$(bench_psql -c "COPY (SELECT * FROM rollup_cells ORDER BY $KEYS) TO STDOUT" |
		sha256sum | cut -c1-64)"
	printf '%s %s %s %s %s %s\n' "$name" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" \
		"$cells" "$load" "$hash" "$((temp1 - temp0))" | tee -a "$results"
	[ -n "$first_hash" ] || first_hash="$hash"
	[ "$hash" = "$first_hash" ] || identical=no
}

for ((round = 1; round <= ROUNDS; round++)); do
	[ "$before_rev" = none ] || rebuild "before-$round" "$BEFORE_CIVCASD"
	rebuild "after-$round" "$CIVCASD"
	bench_psql -c 'TRUNCATE rollup_cells'
	rebuild "after-empty-$round" "$CIVCASD"
done

verify_s="(not run)"
verified=yes
if [ "$verify" -eq 1 ]; then
	civcas_log "bench: civcasd rollup verify"
	t0="$(date +%s.%N)"
	"$CIVCASD" rollup verify >"$OUT/verify.out" 2>&1 || verified=no
	t1="$(date +%s.%N)"
	verify_s="$(tail -n 1 "$OUT/verify.out"), $(bench_seconds "$t0" "$t1")"
fi

# --- report -------------------------------------------------------------------------

{
	printf 'date: %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
	printf 'machine: %s cores (%s), %s MiB memory; load average (1 min) %s before this run, %s after\n' \
		"$(nproc)" "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)" \
		"$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)" "$load_start" \
		"$(cut -d ' ' -f 1 /proc/loadavg)"
	printf 'PostgreSQL %s; before: %s; after: %s (%s)\n' \
		"$(bench_psql -At -c 'SHOW server_version')" "$before_rev" \
		"$(git -C "$ROOT" rev-parse --short HEAD)$(
			git -C "$ROOT" diff --quiet HEAD -- server migrations 2>/dev/null || echo '+changes')" \
		"$("$CIVCASD" --version | head -n 1)"
	printf 'data: %s incidents, %s casualty groups; seed %s; load (generate.sql): %s\n' \
		"$n_incidents" "$n_groups" "$SEED" "$LOAD_S"
	printf 'the database'"'"'s work_mem %s, hash_mem_multiplier %s\n' \
		"$(bench_psql -At -c 'SHOW work_mem')" "$(bench_psql -At -c 'SHOW hash_mem_multiplier')"
	printf '%-16s %10s %10s %8s %14s\n' rebuild seconds cells load 'temp files MB'
	awk '{ printf "%-16s %10s %10s %8s %14.0f\n", $1, $2, $3, $4, $6 / 1048576 }' "$results"
	awk '$1 ~ /^before-/ { b += $2; nb++ } $1 ~ /^after-[0-9]/ { a += $2; na++ }
	     $1 ~ /^after-empty-/ { e += $2; ne++ }
	     END { if (nb) printf "before / after: %.2fx (cells as left), %.2fx (cells emptied first)\n",
	                          (b / nb) / (a / na), (b / nb) / (e / ne) }' "$results"
	printf 'cells identical after every rebuild: %s (sha256 %s)\n' "$identical" "$first_hash"
	printf 'rollup verify: %s\n' "$verify_s"
} | tee "$OUT/report.txt"
civcas_log "bench: raw data in $OUT"
[ "$identical" = yes ] || civcas_die "the rebuilds left different cells"
[ "$verified" = yes ] || civcas_die "rollup verify failed: $OUT/verify.out"
