#!/usr/bin/env bash
# Stops what deploy/quickstart.sh started: the civcasd server recorded in
# var/civcasd.pid (if it still runs) and the private PostgreSQL cluster.

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if pid="$(civcas_quickstart_pid)"; then
	civcas_log "stopping civcasd (pid $pid)"
	civcas_stop_pid "$pid"
else
	civcas_log "civcasd: not running"
fi
rm -f "$CIVCAS_PID_FILE"
civcas_pg_stop
