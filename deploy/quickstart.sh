#!/usr/bin/env bash
# Quick start: builds civcasd, starts a private PostgreSQL, loads the taxonomy
# and demo data, and serves the API in the foreground. Safe to run again.
#
# Usage: deploy/quickstart.sh [--no-serve]
#   --no-serve  set everything up, load the demo data, stop the server, exit 0
# Environment: CIVCAS_LISTEN (default 127.0.0.1:8080), and the other CIVCAS_*
# variables of `civcasd serve`. CIVCAS_DATABASE_URL is set to the private
# cluster's database `civcas`.

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { sed -n '2,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

serve=1
while [ $# -gt 0 ]; do
	case "$1" in
	--no-serve) serve=0 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
	shift
done

VAR="$ROOT/var"
CIVCASD="$ROOT/build/civcasd"
KEY_FILE="$VAR/admin.key"
HEADER_FILE="$VAR/admin.header"
PID_FILE="$CIVCAS_PID_FILE"
LOG_FILE="$VAR/civcasd.log"

listen="${CIVCAS_LISTEN:-127.0.0.1:8080}"
port="${listen##*:}"
host="${listen%:*}"
host="${host#[}"
host="${host%]}"
case "$host" in
'' | 0.0.0.0) host=127.0.0.1 ;;
::) host=::1 ;;
esac
case "$port" in
'' | *[!0-9]*) civcas_die "CIVCAS_LISTEN must be HOST:PORT, got '$listen'" ;;
esac
case "$host" in
*:*) url="http://[$host]:$port" ;;
*) url="http://$host:$port" ;;
esac

# True when something accepts connections on host:port.
port_in_use() {
	(exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

server_pid=""

# Removes var/civcasd.pid unless a later quickstart has recorded its own server.
forget_pid() {
	[ "$(cat "$PID_FILE" 2>/dev/null)" != "$server_pid" ] || rm -f "$PID_FILE"
}

# Stops the server this script started; returns its exit status.
stop_server() {
	local rc=0
	[ -n "$server_pid" ] || return 0
	kill -TERM "$server_pid" 2>/dev/null || true
	wait "$server_pid" || rc=$?
	forget_pid
	server_pid=""
	return "$rc"
}

# shellcheck disable=SC2317 # called by the trap
on_exit() {
	local rc=$?
	if [ -n "$server_pid" ]; then
		stop_server || true
	fi
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# write_private FILE: standard input into FILE, mode 0600, replaced at once.
write_private() {
	rm -f "$1.tmp"
	(
		umask 077
		cat >"$1.tmp"
	)
	mv -f "$1.tmp" "$1"
}

# Works when the key is accepted by the running server. The key never goes
# on a command line, where ps shows it to every user of the machine: it is
# written into var/admin.header (by printf, a shell builtin), which curl
# reads with -H @FILE, here and in the example printed at the end.
key_works() {
	[ -s "$KEY_FILE" ] || return 1
	printf 'Authorization: Bearer %s\n' "$(cat "$KEY_FILE")" |
		write_private "$HEADER_FILE"
	curl -fsS -o /dev/null --max-time 5 -H @"$HEADER_FILE" "$url/v1/taxonomy" 2>/dev/null
}

civcas_need_packages
civcas_build build
[ -x "$CIVCASD" ] || civcas_die "the build did not produce $CIVCASD"

civcas_pg_start
civcas_createdb civcas
CIVCAS_DATABASE_URL="$(civcas_app_dsn civcas)"
export CIVCAS_DATABASE_URL

civcas_log "civcasd migrate"
"$CIVCASD" migrate
civcas_log "civcasd taxonomy load schema/taxonomy-unama.json"
"$CIVCASD" taxonomy load "$ROOT/schema/taxonomy-unama.json"

# The key that signs publications (docs/verifying.md): var/signing.pem,
# made once and registered in this database; made anew when the database
# no longer knows it (dropped and created again).
SIGNING_KEY="$VAR/signing.pem"
signing_key_registered() {
	local fp
	[ -s "$SIGNING_KEY" ] || return 1
	fp="$(openssl pkey -in "$SIGNING_KEY" -pubout -outform DER 2>/dev/null |
		tail -c 32 | sha256sum | cut -d' ' -f1)"
	"$CIVCASD" signing-key list | awk -v fp="$fp" \
		'$NF == fp && $3 == "-" { found = 1 } END { exit !found }'
}
mkdir -p "$VAR"
if signing_key_registered; then
	civcas_log "signing key: reusing var/signing.pem"
else
	[ ! -f "$SIGNING_KEY" ] || mv -f "$SIGNING_KEY" "$SIGNING_KEY.old"
	civcas_log "signing key: creating var/signing.pem"
	"$CIVCASD" signing-key create "$SIGNING_KEY" >/dev/null
fi
export CIVCAS_SIGNING_KEY="$SIGNING_KEY"

if old="$(civcas_quickstart_pid)"; then
	civcas_log "stopping the earlier quickstart server (pid $old)"
	civcas_stop_pid "$old"
fi
rm -f "$PID_FILE"
if port_in_use; then
	civcas_die "port $port on $host is already in use by another program; stop it or choose another address, e.g. CIVCAS_LISTEN=127.0.0.1:8081 $0"
fi

civcas_log "civcasd serve --listen $listen (log: var/civcasd.log)"
mkdir -p "$VAR"
[ ! -f "$LOG_FILE" ] || mv -f "$LOG_FILE" "$LOG_FILE.1"
"$CIVCASD" serve --listen "$listen" </dev/null >"$LOG_FILE" 2>&1 &
server_pid=$!
printf '%s\n' "$server_pid" >"$PID_FILE"

civcas_log "waiting for $url/readyz"
deadline=$((SECONDS + 20))
until curl -fsS -o /dev/null --max-time 2 "$url/readyz" 2>/dev/null; do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		rc=0
		wait "$server_pid" || rc=$?
		forget_pid
		server_pid=""
		tail -n 20 "$LOG_FILE" >&2 || true
		if grep -qi 'in use' "$LOG_FILE"; then
			civcas_die "port $port on $host is already in use by another program; choose another with CIVCAS_LISTEN=HOST:PORT"
		fi
		civcas_die "civcasd serve exited with status $rc; log: $LOG_FILE"
	fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		tail -n 20 "$LOG_FILE" >&2 || true
		civcas_die "civcasd is not ready after 20 s; log: $LOG_FILE"
	fi
	sleep 0.2
done

if key_works; then
	civcas_log "admin key: reusing var/admin.key"
else
	civcas_log "admin key: creating one in var/admin.key"
	key="$("$CIVCASD" keys create --role admin \
		--name "quickstart-admin-$(date +%Y%m%d%H%M%S)" | tail -n 1)"
	[ -n "$key" ] || civcas_die "civcasd keys create printed no key"
	printf '%s\n' "$key" | write_private "$KEY_FILE"
	key_works || civcas_die "the new admin key is refused by the server"
fi

if [ -f "$ROOT/deploy/demo_data.py" ]; then
	civcas_log "demo data"
	# From ROOT: its default taxonomy path is relative.
	(cd "$ROOT" && /usr/bin/python3 deploy/demo_data.py --url "$url" \
		--key-file "$KEY_FILE")
else
	civcas_warn "deploy/demo_data.py is missing: no demo data loaded"
fi

if [ "$serve" -eq 0 ]; then
	civcas_log "stopping civcasd (--no-serve)"
	rc=0
	stop_server || rc=$?
	[ "$rc" -eq 0 ] || civcas_die "civcasd exited with status $rc on SIGTERM; log: $LOG_FILE"
	civcas_log "ready: run deploy/quickstart.sh to serve, deploy/stop.sh to stop the database"
	exit 0
fi

cat <<EOF

civcas is running at $url
  admin key:  $KEY_FILE, for curl as a header in $HEADER_FILE (keep both secret)
  try:        curl -s -H @$HEADER_FILE '$url/v1/incidents?limit=2'
  server log: tail -f $LOG_FILE
  database:   $CIVCAS_DATABASE_URL
Ctrl-C stops the server; $ROOT/deploy/stop.sh also stops the database.

EOF

# shellcheck disable=SC2317 # called by the trap
forward() { kill -TERM "$server_pid" 2>/dev/null || true; }
trap forward INT TERM
rc=0
wait "$server_pid" || rc=$?
# A trapped signal interrupts `wait`; wait again for the server to drain.
while kill -0 "$server_pid" 2>/dev/null; do
	rc=0
	wait "$server_pid" || rc=$?
done
forget_pid
server_pid=""
civcas_log "civcasd exited with status $rc (the database still runs: deploy/stop.sh)"
exit "$rc"
