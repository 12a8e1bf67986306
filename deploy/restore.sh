#!/usr/bin/env bash
# Point-in-time recovery into a new cluster: the newest base backup of
# deploy/backup.sh that finished before TIME, brought forward to TIME with the
# archived WAL, started beside the running cluster (never over it).
#
# Usage: deploy/restore.sh --archive DIR --target DIR [OPTIONS] TIME|latest
#   TIME             any moment `date -d` reads ("2026-12-04 10:15:00+00",
#                    "2026-12-04T10:15:00Z"; without a zone, this machine's);
#                    transactions committed at TIME or before are kept, later
#                    ones are not. latest: everything the archive holds
#   --archive DIR    the WAL archive of deploy/backup.sh --setup-archiving
#   --target DIR     the new cluster: data/, run/ (its socket), log/; DIR must
#                    not exist or be empty
#   --backups DIR    where the base backups are (default: var/backups)
#   --port N         the port of its socket in DIR/run (default 5432); it
#                    listens on no TCP address
#   --pause          stay paused at TIME, read-only, to be inspected, instead
#                    of ending recovery (SELECT pg_wal_replay_resume() ends it)
# Exit 0 when the cluster runs, recovered to TIME (promoted, unless --pause).
# docs/backup.md has the drill.

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { sed -n '6,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

began="$(civcas__now_us)"
backups="$ROOT/var/backups"
archive=""
target=""
port=5432
pause=0
time_arg=""
while [ $# -gt 0 ]; do
	case "$1" in
	--backups | --archive | --target | --port)
		[ $# -ge 2 ] || civcas_usage_error
		case "$1" in
		--backups) backups="$2" ;;
		--archive) archive="$2" ;;
		--target) target="$2" ;;
		--port) port="$2" ;;
		esac
		shift
		;;
	--pause) pause=1 ;;
	-h | --help) usage && exit 0 ;;
	-*) civcas_usage_error ;;
	*)
		[ -z "$time_arg" ] || civcas_usage_error
		time_arg="$1"
		;;
	esac
	shift
done
if [ -z "$time_arg" ] || [ -z "$archive" ] || [ -z "$target" ]; then
	civcas_usage_error
fi
case "$port" in [1-9] | [1-9][0-9] | [1-9][0-9][0-9] | [1-9][0-9][0-9][0-9] | [1-9][0-9][0-9][0-9][0-9]) ;;
*) civcas_die "--port must be 1 to 65535" ;;
esac

# Both paths end up inside the new cluster's configuration.
for path in "$archive" "$target"; do
	[[ "$path" =~ ^/[A-Za-z0-9/._-]+$ ]] ||
		civcas_die "$path: use an absolute path of letters, digits, / . _ - only"
done
archive="${archive%/}"
target="${target%/}"
[ -d "$archive" ] || civcas_die "no WAL archive at $archive"
civcas__as_pg test -r "$archive" -a -x "$archive" ||
	civcas_die "$archive is not readable by the cluster's account ($(civcas__pg_user))"
[ -d "$backups" ] || civcas_die "no backups at $backups"

# --- which backup -------------------------------------------------------------

if [ "$time_arg" = latest ]; then
	target_text="the end of the archive"
else
	target_us="$(date -u -d "$time_arg" +%s%6N 2>/dev/null)" ||
		civcas_die "TIME '$time_arg' is not a moment date(1) can read; e.g. '2026-12-04 10:15:00+00'"
	target_text="$(date -u -d "@${target_us:0:-6}.${target_us: -6}" +'%Y-%m-%d %H:%M:%S.%6N+00')"
	[ "$target_us" -le "$(civcas__now_us)" ] ||
		civcas_die "TIME $target_text is in the future; to replay everything archived, restore to 'latest'"
fi

backup=""
oldest=""
while read -r b; do
	[ -n "$oldest" ] || oldest="$b"
	if [ "$time_arg" = latest ] || [ "$(civcas_backup_info "$b" stop_us)" -le "$target_us" ]; then
		backup="$b"
	fi
done < <(civcas_backups "$backups")
[ -n "$oldest" ] || civcas_die "no verified base backup in $backups (deploy/backup.sh takes them)"
if [ -z "$backup" ]; then
	civcas_die "TIME $target_text is before the oldest base backup in $backups (${oldest##*/}, finished $(civcas_backup_info "$oldest" stop_time)): a backup can only be brought forward, to a moment after it finished"
fi
info() { civcas_backup_info "$backup" "$1"; }
civcas_log "restoring base backup ${backup##*/} (finished $(info stop_time)) to $target_text"

# --- the new cluster ------------------------------------------------------------

if [ -e "$target" ] && [ -n "$(ls -A "$target" 2>/dev/null)" ]; then
	civcas_die "$target is not empty: restore into a new directory (never over a cluster)"
fi
sock="$target/run/.s.PGSQL.$port"
[ "${#sock}" -le 100 ] || civcas_die "$target is too long a path for a unix socket ($sock)"
mkdir -p "$target"
chmod 700 "$target"
mkdir -m 700 "$target/data" "$target/run" "$target/log"
data="$target/data"
[ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$target"
civcas__as_pg test -w "$data" ||
	civcas_die "$target is out of reach of the cluster's account ($(civcas__pg_user)): choose a directory it can enter"

# Bytes restored so far, of the backup's.
copy_probe() {
	printf '%s %s\n' "$(civcas_dir_bytes "$data")" "$(info data_bytes)"
}

unpack() {
	if [ "$(info format)" = plain ]; then
		cp -a "$backup/base/." "$data/"
	else
		tar -xzf "$backup/base/base.tar.gz" -C "$data"
		mkdir -p "$data/pg_wal"
		tar -xzf "$backup/base/pg_wal.tar.gz" -C "$data/pg_wal"
	fi
}

civcas_progress_run "copying the base backup" copy_probe unpack ||
	civcas_die "copying the base backup into $data failed"
civcas_progress_summary "copied base backup ${backup##*/}" "$(civcas_dir_bytes "$data")"
[ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$target"
chmod 700 "$data"

# A cluster whose configuration lives outside its data directory (Debian's,
# in /etc/postgresql) leaves none in its backups. The copy gets an empty
# postgresql.conf (what it needs is appended to postgresql.auto.conf below)
# and peer authentication only: on its socket, an account is its own role,
# so postgres is the superuser and nobody gets in without a password who
# could not already.
for f in postgresql.conf pg_ident.conf pg_hba.conf; do
	[ ! -e "$data/$f" ] || continue
	civcas_warn "the backup has no $f (its cluster keeps it elsewhere): writing a minimal one"
	case "$f" in
	pg_hba.conf) printf '# deploy/restore.sh: the backup had none\nlocal all all peer\n' ;;
	*) printf '# deploy/restore.sh: the backup had none\n' ;;
	esac | civcas__as_pg tee "$data/$f" >/dev/null
done

# The recovery settings, last in postgresql.auto.conf so that they win over
# the copied configuration. recovery_target_action = pause: the server stops
# replaying at TIME and waits, read-only. This script then reads where it
# stopped (the last commit replayed, the WAL replayed) before ending
# recovery, and with --pause leaves it there: a copy that is paused can
# still be moved forward to a later TIME (stop it, raise the target, start
# it), while a promoted one has begun a timeline of its own and cannot.
# Archiving is off: the restored copy must not write into the archive of the
# cluster it came from.
{
	printf '\n# deploy/restore.sh %s: backup %s to %s\n' \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${backup##*/}" "$target_text"
	printf "listen_addresses = ''\nunix_socket_directories = '%s'\nport = %s\n" "$target/run" "$port"
	printf "archive_mode = off\nhot_standby = on\n"
	printf "restore_command = 'cp \"%s/%%f\" \"%%p\"'\n" "$archive"
	if [ "$time_arg" != latest ]; then
		printf "recovery_target_time = '%s'\nrecovery_target_action = pause\n" "$target_text"
	fi
} | civcas__as_pg tee -a "$data/postgresql.auto.conf" >/dev/null
civcas__as_pg touch "$data/recovery.signal"

dsn="postgresql:///postgres?host=$(civcas__urlencode "$target/run")&port=$port&user=$(civcas__urlencode "$(info superuser)")"
# As the cluster's account: it is the superuser where peer authentication is all.
q() { civcas__as_pg "$CIVCAS_PG_BIN/psql" "$dsn" "${CIVCAS_PSQL_ARGS[@]}" -c "$1"; }
log="$target/log/postgresql.log"

civcas_log "postgres: starting the restored cluster ($data, socket $target/run port $port)"
civcas__as_pg "$CIVCAS_PG_BIN/pg_ctl" start -W -D "$data" -l "$log" >/dev/null ||
	civcas_die "pg_ctl start failed; log: $log"

# The postmaster's state from its postmaster.pid: starting, standby (taking
# read-only connections), ready; nothing once it has stopped.
pm_status() {
	local pid
	pid="$(sed -n 1p "$data/postmaster.pid" 2>/dev/null)"
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	sed -n 8p "$data/postmaster.pid" | tr -d ' '
}

# Waits until recovery paused at TIME, or ended (latest); fails when the
# server stopped, or had not started within 60 s. Asks the server only once
# it takes connections (earlier attempts would fill its log with refusals).
wait_recovery() {
	local status state seen=0 i
	for ((i = 0; ; i++)); do
		status="$(pm_status)"
		if [ -n "$status" ]; then
			seen=1
		elif [ "$seen" -eq 1 ] || [ "$i" -ge 200 ]; then
			return 1
		fi
		case "$status" in
		standby | ready)
			state="$(q "SELECT CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() ELSE 'promoted' END" 2>/dev/null || true)"
			case "$state" in paused | promoted) return 0 ;; esac
			;;
		esac
		sleep 0.3
	done
}

# WAL replayed so far, of the archived WAL from the backup's first segment on.
replay_probe() {
	local done_bytes segments
	case "$(pm_status)" in standby | ready) ;; *) return 0 ;; esac
	done_bytes="$(q "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '$(info start_lsn)')::bigint" 2>/dev/null)" || return 0
	segments="$(find "$archive" -maxdepth 1 -type f -printf '%f\n' | awk -v first="$(info start_wal)" \
		'/^[0-9A-F]{24}$/ && ($0 "") >= (first "") { n++ } END { print n + 0 }')"
	printf '%s %s\n' "$done_bytes" $((segments * $(info wal_segment_bytes)))
}

if ! civcas_progress_run "replaying WAL" replay_probe wait_recovery; then
	tail -n 15 "$log" >&2 || true
	if grep -q 'recovery ended before configured recovery target was reached' "$log"; then
		civcas_die "the archive ends before $target_text: no transaction committed after it has been archived yet (is archiving working? restore to an earlier TIME, or to 'latest'); the copy in $target is left for inspection"
	fi
	civcas_die "the restored cluster stopped during recovery; log: $log"
fi
replayed="$(q "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '$(info start_lsn)')::bigint")"
last_commit="$(q "SELECT coalesce('last transaction committed ' || to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US\"+00\"'), 'no transaction committed after the backup')")"
civcas_progress_summary "replayed WAL to $target_text" "$replayed" "; $last_commit"

if [ "$pause" -eq 0 ] && [ "$(q "SELECT pg_is_in_recovery()")" = t ]; then
	q "SELECT pg_wal_replay_resume()" >/dev/null
	for ((i = 0; i < 300; i++)); do
		[ "$(q "SELECT pg_is_in_recovery()" 2>/dev/null)" != f ] || break
		sleep 0.2
	done
	[ "$(q "SELECT pg_is_in_recovery()")" = f ] ||
		civcas_die "the restored cluster did not end recovery within 60 s; log: $log"
fi
state="promoted: it takes writes on a timeline of its own"
[ "$(q "SELECT pg_is_in_recovery()")" = f ] ||
	state="paused at the target, read-only (SELECT pg_wal_replay_resume() ends recovery)"

CIVCAS_PROGRESS_US=$(($(civcas__now_us) - began))
civcas_log "restored base backup ${backup##*/} (finished $(info stop_time)) to $target_text in $(civcas_progress_seconds) s: $(civcas_bytes "$replayed") of WAL replayed, $last_commit; $state"
civcas_log "cluster $data, socket $target/run port $port (psql '$dsn'); stop it with: pg_ctl stop -D $data (as $(civcas__pg_user))"
