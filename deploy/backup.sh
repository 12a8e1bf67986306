#!/usr/bin/env bash
# Base backups of the PostgreSQL cluster civcasd uses, verified, and the WAL
# archiving that lets deploy/restore.sh bring one forward to any later moment.
#
# Usage: deploy/backup.sh [--dir DIR] [--format plain|tar] [--keep N [--archive DIR]] [--dsn URL]
#        deploy/backup.sh --setup-archiving DIR [--archive-timeout S] [--no-restart] [--dsn URL]
#   --dir DIR          where backups go (default: var/backups of this checkout);
#                      each one is DIR/<UTC start, 20261204T101500Z>/
#   --format F         plain (default): a data directory; tar: gzip-compressed
#                      tar files (smaller, verified by unpacking them once)
#   --keep N           after a verified backup, delete all but the newest N,
#                      and with --archive the archived WAL only they needed
#   --archive DIR      the WAL archive, for --keep
#   --dsn URL          libpq URL of a superuser of the cluster (default: the
#                      private cluster of deploy/quickstart.sh, under var/pg)
#   --setup-archiving DIR  instead of a backup: archive every WAL segment into
#                      DIR (made if missing), restart the cluster when that
#                      needs it, and check that a segment arrives
#   --archive-timeout S  the longest a quiet cluster keeps a commit before
#                      archiving it (default 300 s; the RPO of docs/backup.md)
#   --no-restart       print the restart --setup-archiving needs, do not do it
# Exit 0 when the backup was taken and verified (or archiving works).
# docs/backup.md has the schedule, the restore drill and the figures.

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { sed -n '5,22s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

backups="$ROOT/var/backups"
format=plain
keep=""
archive=""
dsn=""
setup=""
archive_timeout=300
restart=1
while [ $# -gt 0 ]; do
	case "$1" in
	--dir | --format | --keep | --archive | --dsn | --setup-archiving | --archive-timeout)
		[ $# -ge 2 ] || civcas_usage_error
		case "$1" in
		--dir) backups="$2" ;;
		--format) format="$2" ;;
		--keep) keep="$2" ;;
		--archive) archive="$2" ;;
		--dsn) dsn="$2" ;;
		--setup-archiving) setup="$2" ;;
		--archive-timeout) archive_timeout="$2" ;;
		esac
		shift
		;;
	--no-restart) restart=0 ;;
	-h | --help) usage && exit 0 ;;
	*) civcas_usage_error ;;
	esac
	shift
done
case "$format" in plain | tar) ;; *) civcas_die "--format must be plain or tar" ;; esac
case "$keep" in '' | [1-9] | [1-9][0-9] | [1-9][0-9][0-9]) ;; *) civcas_die "--keep must be 1 to 999" ;; esac
case "$archive_timeout" in [1-9] | [1-9][0-9] | [1-9][0-9][0-9] | [1-9][0-9][0-9][0-9]) ;;
*) civcas_die "--archive-timeout must be 1 to 9999 seconds" ;;
esac

if [ -z "$dsn" ]; then
	pg_dir="$(civcas__pg_dir find)"
	[ -n "$pg_dir" ] || civcas_die "no private cluster under var/pg (deploy/quickstart.sh makes one); name a cluster with --dsn URL"
	CIVCAS_PG_HOST="$pg_dir/run"
	dsn="$(civcas_dsn postgres)"
fi

# q SQL: one value (or |-separated row) from the cluster.
q() { civcas_psql "$dsn" "$1"; }

q 'SELECT 1' >/dev/null || civcas_die "cannot connect to the cluster ($dsn)"
[ "$(q "SELECT rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user")" = t ] ||
	civcas_die "the role of --dsn must be a superuser, or have REPLICATION for backups alone"

# --- archiving -----------------------------------------------------------------

# The archive_command for DIR. It copies a finished segment into DIR under a
# temporary name, fsyncs it, renames it into place and fsyncs DIR, so a
# segment in the archive is whole and durable. A segment already there is
# success when its bytes are the same (PostgreSQL archives a segment again
# when it crashed before recording that it had) and a failure otherwise
# (two clusters sent to one archive): the archiver retries, pg_wal keeps
# the segment, and the message is in the server's log.
archive_command() {
	local d="$1"
	printf '%s' "f=\"$d/%f\"; if [ -f \"\$f\" ]; then cmp -s \"%p\" \"\$f\" || { echo \"archive: \$f exists with other content\" >&2; exit 1; }; else cp \"%p\" \"\$f.tmp\" && sync \"\$f.tmp\" && mv \"\$f.tmp\" \"\$f\" && sync \"$d\"; fi"
}

# The cluster's log file: where its postmaster's standard error goes (pg_ctl -l).
server_log() {
	local pid
	pid="$(head -n 1 "$1/postmaster.pid" 2>/dev/null)" || return 0
	case "$pid" in '' | *[!0-9]*) return 0 ;; esac
	pid="$(readlink "/proc/$pid/fd/2" 2>/dev/null)" || return 0
	[ ! -f "$pid" ] || printf '%s\n' "$pid"
}

# Restarts the cluster whose data directory is $1 with pg_ctl, as its owner,
# logging where it logged. Refused for a cluster whose configuration lives
# elsewhere (Debian's /etc/postgresql): its own service restarts it.
restart_cluster() {
	local data="$1" log args=()
	if [ "$(q "SHOW config_file")" != "$data/postgresql.conf" ] || [ ! -f "$data/postmaster.pid" ]; then
		return 1
	fi
	log="$(server_log "$data")"
	[ -z "$log" ] || args=(-l "$log")
	civcas_log "postgres: restarting ($data) for archive_mode"
	civcas__as_pg "$CIVCAS_PG_BIN/pg_ctl" restart -w -t 120 -m fast -D "$data" \
		"${args[@]}" >/dev/null
}

# Waits up to 60 s for the segment $1 (or a later one) to be archived.
wait_archived() {
	local i last
	for ((i = 0; i < 300; i++)); do
		last="$(q "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")"
		if [ -n "$last" ] && [[ ! "$last" < "$1" ]]; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

setup_archiving() {
	local dir="$1" data changed pending seg
	case "$dir" in
	/*) ;;
	*) civcas_die "--setup-archiving needs an absolute path (the server runs the command from its data directory)" ;;
	esac
	# The path becomes part of a shell command in the server's configuration.
	[[ "$dir" =~ ^[A-Za-z0-9/._-]+$ ]] || civcas_die "--setup-archiving: use a path of letters, digits, / . _ - only"
	dir="${dir%/}"
	data="$(q "SHOW data_directory")"
	if [ ! -d "$dir" ]; then
		civcas_log "archive: creating $dir"
		mkdir -p "$dir"
		chmod 700 "$dir"
		[ "$(id -u)" -ne 0 ] || chown "$(stat -c %U:%G "$data")" "$dir"
	fi
	civcas__as_pg test -w "$dir" -a -x "$dir" ||
		civcas_die "$dir is not writable by the cluster's account ($(civcas__pg_user))"

	changed="$(q "SELECT current_setting('archive_mode') <> 'on' OR current_setting('wal_level') = 'minimal'")"
	"$CIVCAS_PG_BIN/psql" "$dsn" -X -q -v ON_ERROR_STOP=1 -v cmd="$(archive_command "$dir")" \
		-v timeout="${archive_timeout}s" >/dev/null <<'EOF'
SELECT 'ALTER SYSTEM SET wal_level = replica' WHERE current_setting('wal_level') = 'minimal'
\gexec
ALTER SYSTEM SET archive_mode = on;
ALTER SYSTEM SET archive_command = :'cmd';
ALTER SYSTEM SET archive_timeout = :'timeout';
SELECT pg_reload_conf();
EOF
	civcas_log "archive: archive_mode = on, archive_command copies into $dir, archive_timeout = ${archive_timeout}s"
	sleep 0.5 # the reload is asynchronous
	pending="$(q "SELECT count(*) FROM pg_settings WHERE pending_restart")"
	if [ "$changed" = t ] || [ "$pending" != 0 ]; then
		if [ "$restart" -eq 0 ] || ! restart_cluster "$data"; then
			civcas_log "archive: archive_mode takes effect at the next restart of PostgreSQL;"
			civcas_log "restart it (Debian's cluster: systemctl restart postgresql@15-main) and run this again to check"
			exit 0
		fi
	fi
	# A segment sent now must arrive: proof that the command works as the
	# server runs it (its account, its environment).
	seg="$(q "SELECT pg_walfile_name(pg_switch_wal())")"
	wait_archived "$seg" ||
		civcas_die "segment $seg did not reach $dir within 60 s; see the server's log (archive_command failures) and pg_stat_archiver"
	civcas_log "archive: working ($seg archived into $dir)"
}

if [ -n "$setup" ]; then
	setup_archiving "$setup"
	exit 0
fi

# --- the base backup -------------------------------------------------------------

# WAL segment file name of LSN $2 on timeline $1 with $3-byte segments.
wal_file_name() {
	local tli="$1" lsn="$2" size="$3" pos per
	pos=$(((16#${lsn%/*} << 32) | 16#${lsn#*/}))
	per=$((0x100000000 / size))
	printf '%08X%08X%08X\n' "$tli" $((pos / size / per)) $((pos / size % per))
}

# The server's clock now: "2026-12-04 10:15:03.123456+00|<microseconds since the epoch>".
db_now() {
	q "SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US\"+00\"') || '|' ||
		floor(extract(epoch FROM t) * 1000000)::bigint FROM clock_timestamp() t"
}

# Progress of our pg_basebackup, as the server counts it.
basebackup_probe() {
	q "SELECT p.backup_streamed || ' ' || coalesce(p.backup_total::text, '')
		FROM pg_stat_progress_basebackup p JOIN pg_stat_activity a USING (pid)
		WHERE a.application_name = '$appname'"
}

# Bytes a process has read so far (pg_verifybackup reads every file once).
read_probe() {
	printf '%s %s\n' "$(sed -n 's/^rchar: //p' "/proc/$1/io")" "$verify_total"
}

# Bytes under $unpack so far, of $verify_total.
unpack_probe() {
	printf '%s %s\n' "$(civcas_dir_bytes "$unpack")" "$verify_total"
}

# The data files the manifest lists, in bytes.
manifest_bytes() {
	grep -o '"Size": [0-9]*' "$1" | awk '{ s += $2 } END { print s + 0 }'
}

unpack_tar() {
	mkdir -m 700 "$unpack" "$unpack/pg_wal"
	tar -xzf "$partial/base/base.tar.gz" -C "$unpack"
	tar -xzf "$partial/base/pg_wal.tar.gz" -C "$unpack/pg_wal"
}

archiving="$(q "SHOW archive_mode")"
if [ "$archiving" = off ]; then
	civcas_warn "WAL archiving is off: this backup restores only to the moment it ends (deploy/backup.sh --setup-archiving DIR turns it on)"
elif [ "$(q "SELECT coalesce(last_failed_time > coalesce(last_archived_time, '-infinity'), false) FROM pg_stat_archiver")" = t ]; then
	civcas_warn "the last WAL archiving attempt failed: see the server's log and pg_stat_archiver"
fi

mkdir -p "$backups"
chmod 700 "$backups"
backups="$(cd "$backups" && pwd -P)"
exec 9>"$backups/.lock"
flock -n 9 || civcas_die "another backup into $backups is running"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
partial="$backups/.partial-$stamp"
final="$backups/$stamp"
unpack="$partial/unpacked"
if [ -e "$final" ] || [ -e "$partial" ]; then
	civcas_die "$final exists already; wait a second"
fi
# shellcheck disable=SC2317 # called by the trap
on_exit() {
	local rc=$?
	[ ! -e "$partial" ] || rm -rf "$partial"
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -m 700 "$partial"

appname="civcas-backup-$stamp"
start="$(db_now)"
tar_args=()
[ "$format" = plain ] || tar_args=(--format=tar --gzip)
if ! PGAPPNAME="$appname" civcas_progress_run "base backup" basebackup_probe \
	"$CIVCAS_PG_BIN/pg_basebackup" --dbname="$dsn" --pgdata="$partial/base" \
	"${tar_args[@]}" --wal-method=stream --checkpoint=fast \
	--manifest-checksums=SHA256 --label="civcas $stamp"; then
	civcas_die "pg_basebackup failed"
fi
stop="$(db_now)"
took_us="$CIVCAS_PROGRESS_US"
stored="$(civcas_dir_bytes "$partial/base")"
manifest="$partial/base/backup_manifest"
verify_dir="$partial/base"
verify_total="$(manifest_bytes "$manifest")"
civcas_progress_summary "base backup $stamp ($format, $(civcas_bytes "$stored") stored)" "$verify_total"

if [ "$format" = tar ]; then
	civcas_progress_run "unpacking to verify" unpack_probe unpack_tar ||
		civcas_die "the tar files of the backup do not unpack"
	civcas_progress_summary "unpacked to verify" "$(civcas_dir_bytes "$unpack")"
	verify_dir="$unpack"
fi
data_bytes="$(civcas_dir_bytes "$verify_dir")"
if ! civcas_progress_run "verifying" read_probe \
	"$CIVCAS_PG_BIN/pg_verifybackup" --quiet --manifest-path="$manifest" "$verify_dir"; then
	civcas_die "pg_verifybackup found the backup damaged; it is not kept"
fi
civcas_progress_summary "verified (pg_verifybackup: every file's SHA-256, the WAL)" "$data_bytes"
[ ! -d "$unpack" ] || rm -rf "$unpack"

wal_range="$(sed -n 's/.*"Timeline": \([0-9]*\), "Start-LSN": "\([0-9A-F/]*\)", "End-LSN": "\([0-9A-F/]*\)".*/\1 \2 \3/p' "$manifest" | head -n 1)"
read -r timeline start_lsn stop_lsn <<<"$wal_range"
[ -n "$stop_lsn" ] || civcas_die "no WAL range in $manifest"
segment_size="$(q "SELECT pg_size_bytes(current_setting('wal_segment_size'))")"
{
	printf 'format=%s\n' "$format"
	printf 'start_time=%s\nstart_us=%s\n' "${start%|*}" "${start#*|}"
	printf 'stop_time=%s\nstop_us=%s\n' "${stop%|*}" "${stop#*|}"
	printf 'timeline=%s\nstart_lsn=%s\nstop_lsn=%s\n' "$timeline" "$start_lsn" "$stop_lsn"
	printf 'start_wal=%s\n' "$(wal_file_name "$timeline" "$start_lsn" "$segment_size")"
	printf 'wal_segment_bytes=%s\n' "$segment_size"
	printf 'superuser=%s\n' "$(q "SELECT current_user")"
	printf 'data_bytes=%s\nstored_bytes=%s\ntook_us=%s\n' "$data_bytes" "$stored" "$took_us"
	printf 'archiving=%s\n' "$archiving"
} >"$partial/backup.info"
sync "$partial/backup.info" "$partial"
mv "$partial" "$final"
sync "$backups"

if [ -n "$keep" ]; then
	mapfile -t all < <(civcas_backups "$backups")
	for ((i = 0; i < ${#all[@]} - keep; i++)); do
		civcas_log "keep $keep: deleting backup ${all[i]##*/}"
		rm -rf "${all[i]}"
	done
	if [ -n "$archive" ]; then
		oldest="${all[$((${#all[@]} > keep ? ${#all[@]} - keep : 0))]}"
		first="$(civcas_backup_info "$oldest" start_wal)"
		civcas_log "keep $keep: archived WAL before $first (the oldest kept backup's first segment) removed from $archive"
		civcas__as_pg "$CIVCAS_PG_BIN/pg_archivecleanup" "$archive" "$first"
	fi
fi

civcas_log "backup $final: $(civcas_bytes "$stored") ($format) of $(civcas_bytes "$data_bytes"), verified; restorable to $(
	[ "$archiving" = off ] && printf 'the moment' || printf 'any moment from'
) ${stop%|*}"
