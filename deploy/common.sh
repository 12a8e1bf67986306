# shellcheck shell=bash
# Shared helpers of the deploy scripts: packages, build, a private PostgreSQL.
#
# Sourced, never run. Sets `set -euo pipefail` and ROOT (the checkout, found
# from this file's location). Works on Debian 12 as root or as a user with
# sudo. The private cluster listens on a unix socket only, so it never
# collides with Debian's own cluster on port 5432, which we leave alone.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
CIVCAS_PG_BIN=/usr/lib/postgresql/15/bin
export ROOT
# These would send libpq elsewhere than the URLs of civcas_dsn say.
unset PGPORT PGHOSTADDR PGSERVICE

civcas_log() { printf '==> %s\n' "$*"; }
civcas_warn() { printf 'warning: %s\n' "$*" >&2; }
civcas_die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# For the scripts' option parsing: their usage (a function each defines) on
# stderr, exit 2.
civcas_usage_error() {
	usage >&2
	exit 2
}

# Runs a command as root: directly when we are root, through sudo otherwise.
civcas_sudo() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		civcas_die "need root for: $* (run as root or install sudo)"
	fi
}

# Installs whichever of the build, test and run dependencies are missing.
civcas_need_packages() {
	local pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libpq-dev
		libjansson-dev check libssl-dev libxml2-dev postgresql-15 postgresql-client-15
		python3 python3-psycopg2 python3-scipy curl nginx openssl systemd clang
		libclang-rt-14-dev chromium fonts-noto-core lintian help2man)
	local missing=() p status
	for p in "${pkgs[@]}"; do
		status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
		[ "$status" = "install ok installed" ] || missing+=("$p")
	done
	if [ "${#missing[@]}" -eq 0 ]; then
		civcas_log "packages: all present"
		return 0
	fi
	command -v apt-get >/dev/null 2>&1 ||
		civcas_die "missing packages (${missing[*]}) and no apt-get: this needs Debian 12"
	civcas_log "packages: installing ${missing[*]}"
	civcas_sudo env DEBIAN_FRONTEND=noninteractive apt-get update
	civcas_sudo env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}"
}

# civcas__npm_ci DIR WHAT: installs DIR's npm packages into DIR/node_modules
# with `npm ci`, from its checked-in package-lock.json; skipped while
# node_modules holds that very lock (a stamp of package.json and the lock).
# No install scripts: none of the locked packages needs one.
civcas__npm_ci() {
	local dir="$1" what="$2" stamp sum
	stamp="$dir/node_modules/.civcas-lock-sha256"
	sum="$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum)"
	sum="${sum%% *}"
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
		civcas_log "$what: up to date"
		return 0
	fi
	civcas_log "$what: npm ci in ${dir#"$ROOT"/}"
	(cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
	printf '%s\n' "$sum" >"$stamp"
}

# Installs the tests' npm packages: the conformance tools (Prism, Redocly)
# into tests/conformance, and the XForm engine the form tests drive in
# Chromium (ODK Web Forms and Vue, browser bundles as published) into
# tests/forms. Node.js and npm come from Debian when the machine has none
# (Debian 12: node 18, which the locked conformance tools support; the
# engine is only served to the browser, so node's version does not matter
# to it).
civcas_need_node_tools() {
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		civcas_log "packages: installing nodejs npm"
		civcas_sudo env DEBIAN_FRONTEND=noninteractive apt-get update
		civcas_sudo env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y --no-install-recommends nodejs npm
	fi
	node -e 'const [a, b] = process.versions.node.split(".").map(Number);
		process.exit(a > 18 || (a === 18 && b >= 20) ? 0 : 1)' ||
		civcas_die "node $(node --version) is too old for the conformance tools (need 18.20 or later)"
	civcas__npm_ci "$ROOT/tests/conformance" "conformance tools"
	civcas__npm_ci "$ROOT/tests/forms" "XForm engine"
}

# civcas_build DIR [cmake args...]: configures and builds into $ROOT/DIR.
civcas_build() {
	local dir="$1"
	shift
	civcas_log "build: $dir/${*:+ $*}"
	cmake -S "$ROOT" -B "$ROOT/$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
	cmake --build "$ROOT/$dir" -j"$(nproc)"
}

# --- the quickstart server -----------------------------------------------------

CIVCAS_PID_FILE="$ROOT/var/civcasd.pid"

# Prints the pid recorded in var/civcasd.pid when it is a civcasd of this
# checkout that still runs; fails otherwise.
civcas_quickstart_pid() {
	local pid
	[ -f "$CIVCAS_PID_FILE" ] || return 1
	pid="$(cat "$CIVCAS_PID_FILE")"
	case "$pid" in '' | *[!0-9]*) return 1 ;; esac
	# A rebuild replaces the binary under a running server: "(deleted)".
	case "$(readlink "/proc/$pid/exe" 2>/dev/null)" in
	"$ROOT/build/civcasd" | "$ROOT/build/civcasd (deleted)") ;;
	*) return 1 ;;
	esac
	printf '%s\n' "$pid"
}

# civcas_stop_pid PID: SIGTERM, then up to 20 s for the server to drain.
civcas_stop_pid() {
	local pid="$1" i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.2
	done
	civcas_die "civcasd (pid $pid) did not stop within 20 s"
}

# --- the private PostgreSQL cluster ------------------------------------------
# Layout of $CIVCAS_PG_DIR: data/ (PGDATA), run/ (socket), log/.

# The account the cluster runs as: PostgreSQL refuses root.
civcas__pg_user() {
	if [ "$(id -u)" -eq 0 ]; then
		printf 'postgres\n'
	else
		id -un
	fi
}

# Runs a command as the cluster's account, from / so that a cwd the account
# cannot enter (e.g. under /root) does not matter.
civcas__as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

civcas__pg_tmp_dir() {
	local sum
	sum="$(printf '%s' "$ROOT" | sha1sum)"
	printf '/tmp/civcas-pg-%s\n' "${sum:0:12}"
}

civcas__socket_fits() {
	local sock="$1/run/.s.PGSQL.5432"
	[ "${#sock}" -le 100 ]
}

# Prints the cluster directory. With "create", prepares it: $ROOT/var/pg when
# the cluster's account can write there and the socket path is short enough,
# /tmp/civcas-pg-<sha1 of ROOT> otherwise. Without, only finds an existing one.
civcas__pg_dir() {
	local mode="${1:-find}" dir tmp user
	dir="$ROOT/var/pg"
	tmp="$(civcas__pg_tmp_dir)"
	if [ "$mode" != create ]; then
		if [ -f "$dir/data/PG_VERSION" ]; then
			printf '%s\n' "$dir"
		elif [ -f "$tmp/data/PG_VERSION" ]; then
			printf '%s\n' "$tmp"
		fi
		return 0
	fi
	user="$(civcas__pg_user)"
	if civcas__socket_fits "$dir"; then
		mkdir -p "$ROOT/var"
		if [ ! -e "$dir" ]; then
			mkdir -m 700 "$dir"
			[ "$(id -u)" -ne 0 ] || chown postgres:postgres "$dir"
		fi
		if civcas__as_pg test -w "$dir" 2>/dev/null &&
			civcas__as_pg test -x "$dir" 2>/dev/null; then
			printf '%s\n' "$dir"
			return 0
		fi
		# Unreachable for the account (a checkout under /root): do not leave
		# an empty directory behind that would look like a cluster.
		rmdir "$dir" 2>/dev/null || true
	fi
	if [ ! -e "$tmp" ]; then
		mkdir -m 700 "$tmp"
		[ "$(id -u)" -ne 0 ] || chown postgres:postgres "$tmp"
	fi
	# /tmp is shared: refuse a directory someone else prepared for us.
	if [ -L "$tmp" ] || [ ! -d "$tmp" ] || [ "$(stat -c %U "$tmp")" != "$user" ]; then
		civcas_die "$tmp exists but is not a directory owned by $user; remove it"
	fi
	printf '%s\n' "$tmp"
}

# The role civcasd connects as: not a superuser, it owns only the databases
# made for it (and what its migrations create in them). The cluster's
# superuser, civcas, is for these scripts alone.
CIVCAS_APP_ROLE=civcas_app

# civcas_dsn DBNAME [ROLE]: libpq URL of a database of the private cluster,
# as ROLE (default: the superuser, for administration).
civcas_dsn() {
	local host="${CIVCAS_PG_HOST:-}"
	[ -n "$host" ] || civcas_die "civcas_dsn: call civcas_pg_start first"
	printf 'postgresql:///%s?host=%s&user=%s\n' \
		"$(civcas__urlencode "$1")" "$(civcas__urlencode "$host")" "${2:-civcas}"
}

# civcas_app_dsn DBNAME: the URL civcasd uses, as the application role.
civcas_app_dsn() {
	civcas_dsn "$1" "$CIVCAS_APP_ROLE"
}

# Creates the application role unless it exists.
civcas__app_role() {
	"$CIVCAS_PG_BIN/psql" "$(civcas_dsn postgres)" -X -q -v ON_ERROR_STOP=1 \
		-v role="$CIVCAS_APP_ROLE" >/dev/null <<'EOF'
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role')
\gexec
EOF
}

civcas__urlencode() {
	local LC_ALL=C s="$1" out="" c i
	for ((i = 0; i < ${#s}; i++)); do
		c="${s:i:1}"
		case "$c" in
		[A-Za-z0-9/._~-]) out+="$c" ;;
		*) out+="$(printf '%%%02X' "'$c")" ;;
		esac
	done
	printf '%s' "$out"
}

civcas__pg_running() {
	civcas__as_pg "$CIVCAS_PG_BIN/pg_ctl" status -D "$1/data" >/dev/null 2>&1
}

# Starts the private cluster unless it runs already. Exports CIVCAS_PG_DIR,
# CIVCAS_PG_HOST, and CIVCAS_PG_STARTED (1 when this call started it).
civcas_pg_start() {
	local dir conf out
	[ -x "$CIVCAS_PG_BIN/pg_ctl" ] || civcas_die "PostgreSQL 15 is not installed ($CIVCAS_PG_BIN)"
	dir="$(civcas__pg_dir create)"
	export CIVCAS_PG_DIR="$dir"
	export CIVCAS_PG_HOST="$dir/run"
	export CIVCAS_PG_STARTED=0
	civcas__as_pg mkdir -p -m 700 "$dir/run" "$dir/log"

	if [ ! -f "$dir/data/PG_VERSION" ]; then
		civcas_log "postgres: initdb in $dir/data"
		# A failed initdb cleans up after itself; anything left is debris.
		[ ! -e "$dir/data" ] || civcas__as_pg rm -rf "$dir/data"
		if ! civcas__as_pg "$CIVCAS_PG_BIN/initdb" -D "$dir/data" -U civcas \
			--auth=trust --encoding=UTF8 --locale=C.UTF-8 \
			>"$dir/log/initdb.log" 2>&1; then
			cat "$dir/log/initdb.log" >&2
			civcas_die "initdb failed"
		fi
	fi

	# Rewritten on every start so that a re-run picks up changes made here.
	conf="$(printf '%s' "$dir/run" | sed "s/'/''/g")"
	civcas__as_pg tee "$dir/data/civcas.conf" >/dev/null <<EOF
# Written by deploy/common.sh on every start: edit it there.
listen_addresses = ''
unix_socket_directories = '$conf'
port = 5432
max_connections = 300
shared_buffers = 256MB
fsync = on
log_line_prefix = '%m [%p] %q%u@%d '
EOF
	if ! grep -qxF "include 'civcas.conf'" "$dir/data/postgresql.conf"; then
		printf "\ninclude 'civcas.conf'\n" |
			civcas__as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
	fi

	if civcas__pg_running "$dir"; then
		civcas_log "postgres: already running ($dir)"
		return 0
	fi
	civcas_log "postgres: starting ($dir)"
	if ! out="$(civcas__as_pg "$CIVCAS_PG_BIN/pg_ctl" start -w -t 60 \
		-D "$dir/data" -l "$dir/log/postgresql.log" 2>&1)"; then
		# Another script may have started it at the same moment.
		civcas__pg_running "$dir" && return 0
		printf '%s\n' "$out" >&2
		tail -n 20 "$dir/log/postgresql.log" >&2 || true
		civcas_die "PostgreSQL did not start; log: $dir/log/postgresql.log"
	fi
	CIVCAS_PG_STARTED=1
}

# Stops the private cluster if it runs.
civcas_pg_stop() {
	local dir
	dir="$(civcas__pg_dir find)"
	if [ -z "$dir" ] || ! civcas__pg_running "$dir"; then
		civcas_log "postgres: not running"
		return 0
	fi
	civcas_log "postgres: stopping ($dir)"
	civcas__as_pg "$CIVCAS_PG_BIN/pg_ctl" stop -m fast -w -D "$dir/data" >/dev/null
}

# civcas_createdb NAME: creates the database unless it exists.
# It belongs to the application role; a database of the same name made
# before that role existed (owned by the superuser) is made again, empty.
civcas_createdb() {
	civcas_log "postgres: database $1 (owner $CIVCAS_APP_ROLE)"
	civcas__app_role
	"$CIVCAS_PG_BIN/psql" "$(civcas_dsn postgres)" -X -q -v ON_ERROR_STOP=1 \
		-v name="$1" -v role="$CIVCAS_APP_ROLE" >/dev/null <<'EOF'
SELECT format('DROP DATABASE %I WITH (FORCE)', :'name')
FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba
WHERE d.datname = :'name' AND r.rolname <> :'role'
\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'name')
\gexec
EOF
}

# civcas_psql DSN SQL: runs one statement; prints its rows unaligned, fields
# separated by |, without headers. Fails on any SQL error.
CIVCAS_PSQL_ARGS=(-X -q -A -t -v ON_ERROR_STOP=1)
civcas_psql() {
	"$CIVCAS_PG_BIN/psql" "$1" "${CIVCAS_PSQL_ARGS[@]}" -c "$2"
}

# --- progress of long operations ---------------------------------------------

# civcas_bytes N: N bytes for people (1.5 MB, 320 kB).
civcas_bytes() {
	awk -v b="$1" 'BEGIN {
		split("B kB MB GB TB", u, " ")
		i = 1
		while (b >= 1000 && i < 5) { b /= 1000; i++ }
		printf (i == 1 ? "%d %s" : "%.1f %s"), b, u[i]
	}'
}

# Microseconds since the epoch.
civcas__now_us() {
	printf '%s\n' "${EPOCHREALTIME/./}"
}

# civcas_progress_run LABEL PROBE CMD...: runs CMD. On a terminal, redraws one
# line every second from what `PROBE PID` prints ("DONE TOTAL", in bytes,
# TOTAL empty when unknown; nothing while there is nothing to measure):
#   LABEL: 120.0 MB / 512.0 MB (23%), 40.0 MB/s, ETA 0:10
# and clears it when CMD ends; elsewhere (a log, a timer) it prints nothing, so
# the caller's summary line (civcas_progress_summary) is the only output.
# Returns CMD's status and sets CIVCAS_PROGRESS_US to how long it ran.
civcas_progress_run() {
	local label="$1" probe="$2" pid rc=0 start tick=0 got want
	shift 2
	start="$(civcas__now_us)"
	"$@" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 0.2
		tick=$((tick + 1))
		if [ ! -t 2 ] || [ $((tick % 5)) -ne 0 ]; then
			continue
		fi
		got="" want=""
		read -r got want < <("$probe" "$pid" 2>/dev/null) || true
		[ -n "$got" ] || continue
		printf '\r\033[K%s: %s' "$label" \
			"$(civcas__progress_line "$got" "${want:-0}" $(($(civcas__now_us) - start)))" >&2
	done
	wait "$pid" || rc=$?
	[ ! -t 2 ] || printf '\r\033[K' >&2
	CIVCAS_PROGRESS_US=$(($(civcas__now_us) - start))
	return "$rc"
}

# civcas__progress_line DONE TOTAL MICROSECONDS: "done / total (pct), rate, ETA".
civcas__progress_line() {
	local rate eta line
	rate="$(awk -v d="$1" -v us="$3" 'BEGIN { printf "%d", (us > 0 ? d / (us / 1e6) : 0) }')"
	line="$(civcas_bytes "$1")"
	if [ "$2" -gt 0 ]; then
		line+=" / $(civcas_bytes "$2") ($(($1 * 100 / $2))%)"
	fi
	if [ "$rate" -gt 0 ]; then
		line+=", $(civcas_bytes "$rate")/s"
		if [ "$2" -gt "$1" ]; then
			eta=$((($2 - $1) / rate))
			line+="$(printf ', ETA %d:%02d' $((eta / 60)) $((eta % 60)))"
		fi
	fi
	printf '%s\n' "$line"
}

# civcas_progress_seconds: CIVCAS_PROGRESS_US as seconds with one decimal.
civcas_progress_seconds() {
	awk -v us="$CIVCAS_PROGRESS_US" 'BEGIN { printf "%.1f", us / 1e6 }'
}

# civcas_progress_summary LABEL BYTES [TEXT]: the one line a long operation
# leaves, terminal or not: "==> LABEL: 512.0 MB in 12.8 s (40.0 MB/s)TEXT".
civcas_progress_summary() {
	local rate
	rate="$(awk -v b="$2" -v us="$CIVCAS_PROGRESS_US" \
		'BEGIN { printf "%d", (us > 0 ? b / (us / 1e6) : 0) }')"
	civcas_log "$1: $(civcas_bytes "$2") in $(civcas_progress_seconds) s ($(civcas_bytes "$rate")/s)${3:-}"
}

# civcas_dir_bytes DIR: bytes of the files under DIR.
civcas_dir_bytes() {
	du -sb "$1" 2>/dev/null | cut -f1
}

# --- base backups (deploy/backup.sh, deploy/restore.sh) ---------------------
# A backup directory holds one directory per verified base backup, named by
# the UTC moment it was started (20261204T101500Z): base/ is what
# pg_basebackup wrote (a data directory, or base.tar.gz and pg_wal.tar.gz),
# backup.info its facts as KEY=VALUE lines. A backup being taken is a
# .partial-* directory, which restore.sh never looks at.

# civcas_backup_info BACKUP KEY: the value of KEY in BACKUP/backup.info.
civcas_backup_info() {
	sed -n "s/^$2=//p" "$1/backup.info" | head -n 1
}

# civcas_backups DIR: the complete backups in DIR, oldest first, one path a line.
civcas_backups() {
	local b
	for b in "$1"/[0-9]*T[0-9]*Z; do
		[ -f "$b/backup.info" ] && printf '%s\n' "$b"
	done
	return 0
}
