# shellcheck shell=bash
# Shared steps of bench/perf/run.sh and bench/perf/soak.sh: tools, a quiet
# machine, a fresh database, civcasd, the memory sampler, cleanup.
#
# Sourced, never run. Sources deploy/common.sh (set -euo pipefail, ROOT, the
# private PostgreSQL). The caller sets OUT (its output directory) first.

# shellcheck source-path=SCRIPTDIR source=../../deploy/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../deploy/common.sh"

PERF_DIR="$ROOT/bench/perf"
PY=/usr/bin/python3
TOOL="$PERF_DIR/perftool.py"
PSQL="$CIVCAS_PG_BIN/psql"
PGBENCH="$CIVCAS_PG_BIN/pgbench"
PERF_DB="${PERF_DB:-civcas_perf}"

# What perf_cleanup stops: pids of processes this script started.
PERF_PIDS=()
SERVER_PID=""
RSS_PID=""

# Installs wrk, nginx, pgbench (postgresql-contrib) and pidstat if missing.
perf_need_tools() {
	local missing=()
	command -v wrk >/dev/null 2>&1 || missing+=(wrk)
	command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
	[ -x "$PGBENCH" ] || missing+=(postgresql-contrib)
	command -v pidstat >/dev/null 2>&1 || missing+=(sysstat)
	[ "${#missing[@]}" -eq 0 ] && return 0
	civcas_log "perf: installing ${missing[*]}"
	civcas_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y \
		--no-install-recommends "${missing[@]}" >/dev/null ||
		civcas_die "cannot install ${missing[*]}"
}

# perf_wait_quiet MAX_SECONDS: waits while another benchmark, a test run or
# a fuzzer uses the machine (2 cores: they would share it with ours); gives
# up after MAX_SECONDS. 0: only warns (for trying the scripts out).
perf_wait_quiet() {
	local max="$1" waited=0 busy
	while :; do
		# Skips this script and its own subshells (same command line).
		busy="$(ps -eo pid=,ppid=,args= | awk -v self="$$" '
			$1 == self || $2 == self { next }
			$3 ~ /(^|\/)(wrk|pgbench|ctest|fuzz_[a-z_]+)$/ { print; next }
			$3 ~ /bash$/ && /bench\/(trends|writes)\.sh|bench\/perf\/(run|soak)\.sh|tests\/fuzz\/run\.sh/ { print }')"
		[ -z "$busy" ] && return 0
		if [ "$max" -eq 0 ]; then
			civcas_warn "not waiting (--wait 0) although the machine is busy: $busy"
			return 0
		fi
		if [ "$waited" -ge "$max" ]; then
			civcas_die "the machine is still busy after ${max}s: $busy"
		fi
		[ "$waited" -gt 0 ] ||
			civcas_log "perf: waiting for: $(printf '%s\n' "$busy" | head -n 3 | cut -c1-90 | tr '\n' ';')"
		sleep 10
		waited=$((waited + 10))
	done
}

# perf_build: builds civcasd and keeps a copy in $OUT (the tree may be
# rebuilt while a benchmark runs). Sets CIVCASD. PERF_CIVCASD=PATH measures
# that binary instead; PERF_NO_BUILD=1 skips the build.
perf_build() {
	if [ -n "${PERF_CIVCASD:-}" ]; then
		# Another binary (a build to compare): measured as it is.
		[ -x "$PERF_CIVCASD" ] || civcas_die "PERF_CIVCASD=$PERF_CIVCASD is not executable"
		cp "$PERF_CIVCASD" "$OUT/civcasd"
		CIVCASD="$OUT/civcasd"
		return 0
	fi
	if [ "${PERF_NO_BUILD:-0}" != 1 ]; then
		civcas_log "perf: cmake --build $ROOT/build"
		[ -f "$ROOT/build/CMakeCache.txt" ] || cmake -S "$ROOT" -B "$ROOT/build" >/dev/null
		# The tree may be mid-edit: measure the last good binary then.
		if ! cmake --build "$ROOT/build" -j"$(nproc)" >"$OUT/build.log" 2>&1; then
			[ -x "$ROOT/build/civcasd" ] || civcas_die "the build failed: $OUT/build.log"
			civcas_warn "the build failed ($OUT/build.log): measuring the existing build/civcasd"
		fi
	fi
	[ -x "$ROOT/build/civcasd" ] || civcas_die "$ROOT/build/civcasd missing"
	cp "$ROOT/build/civcasd" "$OUT/civcasd"
	CIVCASD="$OUT/civcasd"
}

# perf_fresh_db: drops and creates $PERF_DB, migrates it, loads the
# taxonomy and makes two keys. Sets DSN, WRITER_KEY (monitor), WRITER_ID,
# WRITER_HASH (\x<hex>), ADMIN_KEY.
perf_fresh_db() {
	civcas_log "perf: fresh database $PERF_DB"
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
		civcas_die "the key's sha256 is not what civcasd stored: update perf_fresh_db"
}

perf_free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# perf_wait_http URL PID LOG: until URL answers, or dies when PID exits.
perf_wait_http() {
	local i
	for ((i = 0; i < 100; i++)); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || civcas_die "server exited; log: $3"
		sleep 0.1
	done
	civcas_die "no answer from $1; log: $3"
}

# perf_server_start [LOG]: civcasd serve on a free port with the caller's
# CIVCAS_THREADS / CIVCAS_IO_THREADS / CIVCAS_DB_POOL (unset: civcasd's
# defaults), its stderr in $OUT/LOG (default civcasd.log). Sets SERVER_PID,
# URL, SERVER_THREADS, SERVER_IO, SERVER_POOL.
SERVER_THREADS="?"
SERVER_POOL="?"
SERVER_IO="?"
perf_server_start() {
	local port log="$OUT/${1:-civcasd.log}"
	port="$(perf_free_port)"
	URL="http://127.0.0.1:$port"
	CIVCAS_DATABASE_URL="$DSN" "$CIVCASD" serve --listen "127.0.0.1:$port" 2>"$log" &
	SERVER_PID=$!
	perf_wait_http "$URL/healthz" "$SERVER_PID" "$log"
	# The "serving" line is at level info: absent with --log-level warn.
	local serving
	serving="$(grep -m1 '"msg":"serving"' "$log" || true)"
	if [ -n "$serving" ]; then
		SERVER_THREADS="$(printf '%s' "$serving" | sed 's/.*"threads":\([0-9]*\).*/\1/')"
		SERVER_POOL="$(printf '%s' "$serving" | sed 's/.*"db_pool":\([0-9]*\).*/\1/')"
		SERVER_IO="$(printf '%s' "$serving" | sed 's/.*"io_threads":\([0-9]*\).*/\1/')"
	fi
	civcas_log "perf: civcasd pid $SERVER_PID at $URL (threads $SERVER_THREADS, io threads $SERVER_IO, db pool $SERVER_POOL)"
}

perf_server_stop() {
	[ -n "$SERVER_PID" ] || return 0
	civcas_stop_pid "$SERVER_PID"
	SERVER_PID=""
}

# perf_rss_start INTERVAL FILE: samples civcasd's VmRSS/VmHWM, tagged with
# the phase written to $OUT/phase.
perf_rss_start() {
	"$PY" "$TOOL" rss --pid "$SERVER_PID" --interval "$1" --out "$2" \
		--phase-file "$OUT/phase" &
	RSS_PID=$!
}

perf_rss_stop() {
	[ -n "$RSS_PID" ] || return 0
	kill -TERM "$RSS_PID" 2>/dev/null || true
	wait "$RSS_PID" 2>/dev/null || true
	RSS_PID=""
}

perf_phase() { printf '%s\n' "$1" >"$OUT/phase"; }

# perf_bg CMD...: runs CMD in the background, remembered for cleanup; sets
# BG_PID.
perf_bg() {
	"$@" &
	BG_PID=$!
	PERF_PIDS+=("$BG_PID")
}

perf_cleanup() {
	local pid
	perf_rss_stop
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

# perf_machine_text: one line about the machine and the settings.
perf_machine_text() {
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
