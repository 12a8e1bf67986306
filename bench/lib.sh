# shellcheck shell=bash
# Shared steps of the benchmarks (bench/trends.sh, bench/writes.sh,
# bench/cache.sh, bench/perf/run.sh, soak.sh and stalls.sh): options,
# tools, a quiet machine, a fresh database, civcasd, the memory sampler,
# cleanup.
#
# Sourced, never run. Sources deploy/common.sh (set -euo pipefail, ROOT, the
# private PostgreSQL). bench_out sets OUT, the output directory the other
# steps write to.

# shellcheck source-path=SCRIPTDIR source=../deploy/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../deploy/common.sh"

PERF_DIR="$ROOT/bench/perf"
PY=/usr/bin/python3
TOOL="$PERF_DIR/perftool.py"
PSQL="$CIVCAS_PG_BIN/psql"
PGBENCH="$CIVCAS_PG_BIN/pgbench"
PERF_DB="${PERF_DB:-civcas_perf}"

# What bench_cleanup stops: pids of processes this script started.
PERF_PIDS=()
SERVER_PID=""
RSS_PID=""

# bench_options SPEC... -- ARG...: parses the caller's arguments. A SPEC is
# an option and a variable: "--rounds ROUNDS" takes a value into ROUNDS,
# "--keep-server keep_server=1" is a flag that sets keep_server to 1.
# -h/--help prints the caller's usage() and exits; anything else is a usage
# error (exit 2).
bench_options() {
	local specs=() i var
	while [ "$1" != -- ]; do
		specs+=("$1")
		shift
	done
	shift
	while [ $# -gt 0 ]; do
		if [ "$1" = -h ] || [ "$1" = --help ]; then
			usage
			exit 0
		fi
		var=""
		for ((i = 0; i < ${#specs[@]}; i += 2)); do
			if [ "${specs[i]}" = "$1" ]; then
				var="${specs[i + 1]}"
				break
			fi
		done
		if [ -z "$var" ]; then
			usage >&2
			exit 2
		fi
		case "$var" in
		*=*) printf -v "${var%%=*}" '%s' "${var#*=}" ;;
		*)
			printf -v "$var" '%s' "${2:?"$1 needs a value"}"
			shift
			;;
		esac
		shift
	done
}

# bench_need_numbers VALUE...: dies unless every VALUE is a whole number;
# bench_need_positive VALUE...: unless every VALUE is one above 0.
bench_need_numbers() {
	local v
	for v in "$@"; do
		case "$v" in '' | *[!0-9]*) civcas_die "numbers expected, got '$v'" ;; esac
	done
}
bench_need_positive() {
	local v
	for v in "$@"; do
		case "$v" in '' | *[!0-9]* | 0) civcas_die "positive numbers expected, got '$v'" ;; esac
	done
}

# bench_out NAME: creates var/bench/NAME-<UTC time>/ and sets OUT to it.
bench_out() {
	OUT="$ROOT/var/bench/$1-$(date -u +%Y%m%dT%H%M%SZ)"
	mkdir -p "$OUT"
}

# bench_lock: one benchmark at a time (two would time each other, and share
# databases): waits for the lock var/bench/.lock, held until exit.
bench_lock() {
	mkdir -p "$ROOT/var/bench"
	exec 9>"$ROOT/var/bench/.lock"
	if ! flock -n 9; then
		civcas_log "bench: another benchmark holds var/bench/.lock: waiting"
		flock 9
	fi
}

# bench_load_average: prints the 1-minute load average, with a warning when
# other work on the machine will show up in every figure.
bench_load_average() {
	local load
	load="$(cut -d ' ' -f 1 /proc/loadavg)"
	if awk -v l="$load" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
		civcas_warn "load average $load on $(nproc) cores before starting: figures will be noisy"
	fi
	printf '%s\n' "$load"
}

# bench_need_tools [TOOL...]: installs whichever of the tools is missing,
# among wrk, nginx, pgbench (postgresql-contrib) and pidstat (default: all).
bench_need_tools() {
	local missing=() tool
	[ $# -gt 0 ] || set -- wrk nginx pgbench pidstat
	for tool in "$@"; do
		case "$tool" in
		wrk) command -v wrk >/dev/null 2>&1 || missing+=(wrk) ;;
		nginx) command -v nginx >/dev/null 2>&1 || missing+=(nginx-light) ;;
		pgbench) [ -x "$PGBENCH" ] || missing+=(postgresql-contrib) ;;
		pidstat) command -v pidstat >/dev/null 2>&1 || missing+=(sysstat) ;;
		*) civcas_die "bench_need_tools: unknown tool $tool" ;;
		esac
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	civcas_log "bench: installing ${missing[*]}"
	civcas_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y \
		--no-install-recommends "${missing[@]}" >/dev/null ||
		civcas_die "cannot install ${missing[*]}"
}

# bench_wait_quiet MAX_SECONDS: waits while another benchmark, a test run or
# a fuzzer uses the machine (2 cores: they would share it with ours); gives
# up after MAX_SECONDS. 0: only warns (for trying the scripts out).
bench_wait_quiet() {
	local max="$1" waited=0 busy
	while :; do
		# Skips this script and its own subshells (same command line).
		busy="$(ps -eo pid=,ppid=,args= | awk -v self="$$" '
			$1 == self || $2 == self { next }
			$3 ~ /(^|\/)(wrk|pgbench|ctest|fuzz_[a-z_]+)$/ { print; next }
			$3 ~ /bash$/ && /bench\/(trends|writes|cache)\.sh|bench\/perf\/(run|soak)\.sh|tests\/fuzz\/run\.sh/ { print }')"
		[ -z "$busy" ] && return 0
		if [ "$max" -eq 0 ]; then
			civcas_warn "not waiting (--wait 0) although the machine is busy: $busy"
			return 0
		fi
		if [ "$waited" -ge "$max" ]; then
			civcas_die "the machine is still busy after ${max}s: $busy"
		fi
		[ "$waited" -gt 0 ] ||
			civcas_log "bench: waiting for: $(printf '%s\n' "$busy" | head -n 3 | cut -c1-90 | tr '\n' ';')"
		sleep 10
		waited=$((waited + 10))
	done
}

# bench_build: builds civcasd, then bench_copy_civcasd. PERF_NO_BUILD=1
# skips the build; so does PERF_CIVCASD=PATH (that binary is measured).
bench_build() {
	if [ -z "${PERF_CIVCASD:-}" ] && [ "${PERF_NO_BUILD:-0}" != 1 ]; then
		civcas_log "bench: cmake --build $ROOT/build"
		[ -f "$ROOT/build/CMakeCache.txt" ] || cmake -S "$ROOT" -B "$ROOT/build" >/dev/null
		# The tree may be mid-edit: measure the last good binary then.
		if ! cmake --build "$ROOT/build" -j"$(nproc)" >"$OUT/build.log" 2>&1; then
			[ -x "$ROOT/build/civcasd" ] || civcas_die "the build failed: $OUT/build.log"
			civcas_warn "the build failed ($OUT/build.log): measuring the existing build/civcasd"
		fi
	fi
	bench_copy_civcasd
}

# bench_need_built_civcasd: build/civcasd exists and has the `rollup`
# command (for the scripts that measure the tree as built).
bench_need_built_civcasd() {
	[ -x "$ROOT/build/civcasd" ] ||
		civcas_die "$ROOT/build/civcasd missing: cmake -S $ROOT -B $ROOT/build && cmake --build $ROOT/build"
	# Not `--help | grep -q`: grep leaves at the first match, and under
	# pipefail the SIGPIPE civcasd may then get fails the test.
	local help
	help="$("$ROOT/build/civcasd" --help 2>&1 || true)"
	case "$help" in
	*rollup*) ;;
	*) civcas_die "this civcasd has no 'rollup' command: rebuild it" ;;
	esac
}

# bench_copy_civcasd: copies the binary to measure into $OUT (the tree may
# be rebuilt while a benchmark runs) and sets CIVCASD to the copy: the
# binary PERF_CIVCASD names (a build to compare), or build/civcasd.
bench_copy_civcasd() {
	if [ -n "${PERF_CIVCASD:-}" ]; then
		[ -x "$PERF_CIVCASD" ] || civcas_die "PERF_CIVCASD=$PERF_CIVCASD is not executable"
		cp "$PERF_CIVCASD" "$OUT/civcasd"
	else
		[ -x "$ROOT/build/civcasd" ] || civcas_die "$ROOT/build/civcasd missing"
		cp "$ROOT/build/civcasd" "$OUT/civcasd"
	fi
	CIVCASD="$OUT/civcasd"
}

# bench_psql ARG...: psql on $DSN, quiet, stopping at the first error.
bench_psql() { "$PSQL" "$DSN" -X -q -v ON_ERROR_STOP=1 "$@"; }

# bench_seconds T0 T1: "12.3 s" between two `date +%s.%N`.
bench_seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f s", b - a }'; }

# bench_history DB N SEED REGENERATE: starts the private PostgreSQL and
# fills database DB with N incidents of bench/generate.sql and SEED, unless
# it holds them already (recorded as the database's comment, with the
# generator's digest) and REGENERATE is 0; migrates it with $CIVCASD and
# loads the default taxonomy first. Sets DSN (exported as
# CIVCAS_DATABASE_URL) and LOAD_S, the load's time or "(already loaded)";
# the generator's report goes to $OUT/generate.log.
bench_history() {
	local db="$1" n="$2" seed="$3" regenerate="$4" rc=0
	civcas_pg_start
	civcas_createdb "$db"
	DSN="$(civcas_dsn "$db")"
	export CIVCAS_DATABASE_URL="$DSN"
	# Exit 4: an applied migration changed (a schema still under
	# development). The database holds nothing but generated data: start
	# over.
	"$CIVCASD" migrate >/dev/null || rc=$?
	if [ "$rc" -eq 4 ]; then
		civcas_warn "$db was migrated with other migration files: recreating it"
		"$PSQL" "$(civcas_dsn postgres)" -X -q -v ON_ERROR_STOP=1 \
			-c "DROP DATABASE \"$db\" WITH (FORCE)"
		civcas_createdb "$db"
		"$CIVCASD" migrate >/dev/null
	elif [ "$rc" -ne 0 ]; then
		civcas_die "civcasd migrate failed (exit $rc)"
	fi
	"$CIVCASD" taxonomy load "$ROOT/schema/taxonomy-unama.json" >/dev/null

	# The generator's own digest: data made by an older generate.sql is made again.
	local gen_sum marker have_marker have_n loader loader_id t0 t1
	gen_sum="$(sha256sum "$ROOT/bench/generate.sql" | cut -c1-12)"
	marker="civcas bench generate.sql n=$n seed=$seed sha256=$gen_sum"
	have_marker="$(bench_psql -At -c "SELECT coalesce(shobj_description(oid, 'pg_database'), '')
	                                   FROM pg_database WHERE datname = current_database()")"
	have_n="$(bench_psql -At -c 'SELECT count(*) FROM incidents')"
	LOAD_S="(already loaded)"
	if [ "$regenerate" -eq 0 ] && [ "$have_marker" = "$marker" ] && [ "$have_n" = "$n" ]; then
		civcas_log "bench: $db already holds $n incidents of seed $seed"
		return 0
	fi
	if [ "$have_n" != 0 ]; then
		civcas_log "bench: emptying $db (held $have_n incidents, '$have_marker')"
		bench_psql -c "COMMENT ON DATABASE \"$db\" IS NULL" \
			-c 'TRUNCATE incidents, casualty_groups, casualty_personal, incident_sources,
			             incident_impacts, incident_abductions, incident_revisions,
			             idempotency_keys RESTART IDENTITY CASCADE' 2>&1 |
			grep -v '^NOTICE:' || true
	fi
	loader="$("$CIVCASD" keys create --role monitor --name bench-loader | tail -n 1)"
	[ -n "$loader" ] || civcas_die "keys create printed no key"
	loader_id="$(bench_psql -At -c "SELECT max(id) FROM api_keys WHERE name = 'bench-loader'")"
	civcas_log "bench: generating $n incidents (seed $seed)"
	t0="$(date +%s.%N)"
	bench_psql -v n="$n" -v seed="$seed" -v created_by="$loader_id" \
		-f "$ROOT/bench/generate.sql" | tee "$OUT/generate.log"
	t1="$(date +%s.%N)"
	LOAD_S="$(bench_seconds "$t0" "$t1")"
	bench_psql -c "COMMENT ON DATABASE \"$db\" IS '$marker'"
	civcas_log "bench: load took $LOAD_S"
}

# bench_fresh_db: drops and creates $PERF_DB, migrates it, loads the
# taxonomy and makes two keys. Sets DSN, WRITER_KEY (monitor), WRITER_ID,
# WRITER_HASH (\x<hex>), ADMIN_KEY.
bench_fresh_db() {
	civcas_log "bench: fresh database $PERF_DB"
	"$PSQL" "$(civcas_dsn postgres)" -X -q -v ON_ERROR_STOP=1 \
		-c "DROP DATABASE IF EXISTS $PERF_DB WITH (FORCE)" -c "CREATE DATABASE $PERF_DB"
	DSN="$(civcas_dsn "$PERF_DB")"
	CIVCAS_DATABASE_URL="$DSN" "$CIVCASD" migrate >/dev/null
	CIVCAS_DATABASE_URL="$DSN" "$CIVCASD" taxonomy load "$ROOT/schema/taxonomy-unama.json" >/dev/null
	WRITER_KEY="$(CIVCAS_DATABASE_URL="$DSN" "$CIVCASD" keys create --role monitor --name perf-writer | tail -n 1)"
	ADMIN_KEY="$(CIVCAS_DATABASE_URL="$DSN" "$CIVCASD" keys create --role admin --name perf-reader | tail -n 1)"
	[ -n "$WRITER_KEY" ] && [ -n "$ADMIN_KEY" ] || civcas_die "keys create printed no key"
	WRITER_ID="$("$PSQL" "$DSN" -X -At -c "SELECT id FROM api_keys WHERE name = 'perf-writer'")"
	WRITER_HASH="\\x$(printf '%s' "$WRITER_KEY" | sha256sum | cut -c1-64)"
	[ "$("$PSQL" "$DSN" -X -At -c "SELECT count(*) FROM api_keys WHERE key_hash = '$WRITER_HASH'::bytea")" = 1 ] ||
		civcas_die "the key's sha256 is not what civcasd stored: update bench_fresh_db"
}

bench_free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# bench_wait_http URL PID LOG: until URL answers, or dies when PID exits.
bench_wait_http() {
	local i
	for ((i = 0; i < 100; i++)); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || civcas_die "server exited; log: $3"
		sleep 0.1
	done
	civcas_die "no answer from $1; log: $3"
}

# bench_server_start [LOG]: civcasd serve on a free port with the caller's
# CIVCAS_THREADS / CIVCAS_IO_THREADS / CIVCAS_DB_POOL (unset: civcasd's
# defaults), its stderr in $OUT/LOG (default civcasd.log). Sets SERVER_PID,
# URL, SERVER_THREADS, SERVER_IO, SERVER_POOL. The request rate limits are
# off unless the caller sets CIVCAS_RATE_ADDRESS / CIVCAS_RATE_KEY: at their
# defaults (50 a second per address and per key) every benchmark's one
# client and one key would measure the limiter's 429s.
SERVER_THREADS="?"
SERVER_POOL="?"
SERVER_IO="?"
bench_server_start() {
	local port log="$OUT/${1:-civcasd.log}"
	port="$(bench_free_port)"
	URL="http://127.0.0.1:$port"
	CIVCAS_DATABASE_URL="$DSN" CIVCAS_RATE_ADDRESS="${CIVCAS_RATE_ADDRESS:-0}" \
		CIVCAS_RATE_KEY="${CIVCAS_RATE_KEY:-0}" \
		"$CIVCASD" serve --listen "127.0.0.1:$port" 2>"$log" &
	SERVER_PID=$!
	bench_wait_http "$URL/healthz" "$SERVER_PID" "$log"
	# The "serving" line is at level info: absent with --log-level warn.
	local serving
	serving="$(grep -m1 '"msg":"serving"' "$log" || true)"
	if [ -n "$serving" ]; then
		SERVER_THREADS="$(printf '%s' "$serving" | sed 's/.*"threads":\([0-9]*\).*/\1/')"
		SERVER_POOL="$(printf '%s' "$serving" | sed 's/.*"db_pool":\([0-9]*\).*/\1/')"
		SERVER_IO="$(printf '%s' "$serving" | sed 's/.*"io_threads":\([0-9]*\).*/\1/')"
	fi
	civcas_log "bench: civcasd pid $SERVER_PID at $URL (threads $SERVER_THREADS, io threads $SERVER_IO, db pool $SERVER_POOL)"
}

bench_server_stop() {
	[ -n "$SERVER_PID" ] || return 0
	civcas_stop_pid "$SERVER_PID"
	SERVER_PID=""
}

# bench_rss_start INTERVAL FILE: samples civcasd's VmRSS/VmHWM, tagged with
# the phase written to $OUT/phase.
bench_rss_start() {
	"$PY" "$TOOL" rss --pid "$SERVER_PID" --interval "$1" --out "$2" \
		--phase-file "$OUT/phase" &
	RSS_PID=$!
}

bench_rss_stop() {
	[ -n "$RSS_PID" ] || return 0
	kill -TERM "$RSS_PID" 2>/dev/null || true
	wait "$RSS_PID" 2>/dev/null || true
	RSS_PID=""
}

bench_phase() { printf '%s\n' "$1" >"$OUT/phase"; }

bench_cleanup() {
	local pid
	bench_rss_stop
	for pid in "${PERF_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PERF_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	[ -z "$SERVER_PID" ] || civcas_stop_pid "$SERVER_PID" || true
	SERVER_PID=""
	[ "${CIVCAS_PG_STARTED:-0}" != 1 ] || civcas_pg_stop || true
}

# bench_machine_text: one line about the machine and the settings.
bench_machine_text() {
	local how=defaults
	[ -z "${CIVCAS_THREADS:-}${CIVCAS_IO_THREADS:-}${CIVCAS_DB_POOL:-}" ] || how="set by the caller"
	printf '%s cores (%s), %s MiB memory, kernel %s, %s; PostgreSQL %s (shared_buffers %s, synchronous_commit %s, max_connections %s); civcasd %s with CIVCAS_THREADS=%s CIVCAS_IO_THREADS=%s CIVCAS_DB_POOL=%s (%s); wrk %s' \
		"$(nproc)" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
		"$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)" "$(uname -r)" \
		"$(. /etc/os-release && printf '%s' "$PRETTY_NAME")" \
		"$("$PSQL" "$DSN" -X -At -c 'SHOW server_version')" \
		"$("$PSQL" "$DSN" -X -At -c 'SHOW shared_buffers')" \
		"$("$PSQL" "$DSN" -X -At -c 'SHOW synchronous_commit')" \
		"$("$PSQL" "$DSN" -X -At -c 'SHOW max_connections')" \
		"$("$CIVCASD" --version | head -n 1)" "$SERVER_THREADS" "$SERVER_IO" "$SERVER_POOL" "$how" \
		"$(dpkg-query -W -f='${Version}' wrk 2>/dev/null)"
}

# bench_trend_queries: sets Q_A .. Q_F (Q_B an array), the queries of
# bench/trends.sh, which bench/as_of.sh asks as of past moments too.
bench_trend_queries() {
	Q_A='/v1/trends?from=2025-01-01&to=2025-06-30&period=month&by=party&measures=killed,injured'
	Q_C='/v1/trends?from=2021-01-01&to=2025-12-31&period=month&by=tactic'
	Q_D='/v1/trends?from=2025-01-01&to=2025-12-31&period=week&by=admin2&admin1=AF27&measures=incidents'
	Q_B=()
	local y
	for y in 2021 2022 2023 2024 2025; do
		Q_B+=("/v1/trends?from=$y-01-01&to=$y-06-30&period=half&by=category&category=men,women,boys,girls&measures=killed,injured,casualties")
	done
	Q_E='/v1/trends?from=2025-01-01&to=2025-12-31&period=month&by=impact&measures=incidents'
	Q_F='/v1/trends?from=2025-01-01&to=2025-06-30&period=half&by=party_group&measures=killed&range=true'
}
