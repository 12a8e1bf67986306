#!/usr/bin/env bash
# What signing costs a publication, and what checking the chain costs.
#
# A fresh database (civcas_bench_signing) with the demo taxonomy and a
# signing key; civcasd serve; N reports published one after another
# (POST /v1/reports/poc/publish of the first half of 2024, no incidents, so
# the time is the publication's own: the snapshot, two Ed25519 signatures,
# the chain row, the commit); then `civcasd verify --chain` over the N
# publications (every link and body checked), and `openssl speed ed25519`
# for the library's sign and verify rates on this machine.
# Prints the median and p95 publish time, the chain check's time per
# publication, and openssl's figures.
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: bench/signing.sh [--n N]
  --n N   publications to make and check (default 500)
Builds nothing: uses build/civcasd. Writes var/bench/signing-<UTC time>/.
USAGE
}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=500
bench_options --n N -- "$@"
bench_need_positive "$N"
PERF_DB=civcas_bench_signing
bench_need_built_civcasd
bench_lock
bench_out signing
bench_copy_civcasd
trap bench_cleanup EXIT
civcas_pg_start
bench_fresh_db
CIVCAS_DATABASE_URL="$DSN" "$CIVCASD" signing-key create "$OUT/signing.pem" >/dev/null
export CIVCAS_SIGNING_KEY="$OUT/signing.pem"
bench_server_start

civcas_log "bench: $N publications"
printf 'Authorization: Bearer %s\n' "$ADMIN_KEY" >"$OUT/admin.header"
chmod 600 "$OUT/admin.header"
for ((i = 0; i < N; i++)); do
	curl -fsS -o /dev/null -w '%{time_total}\n' -H @"$OUT/admin.header" \
		-H 'Content-Type: application/json' \
		-d '{"from":"2024-01-01","to":"2024-06-30","years":1}' \
		"$URL/v1/reports/poc/publish"
done >"$OUT/publish_seconds.txt"
rm -f "$OUT/admin.header"
bench_server_stop

civcas_log "bench: civcasd verify --chain"
start=$(date +%s.%N)
CIVCAS_DATABASE_URL="$DSN" "$CIVCASD" verify --chain >"$OUT/verify.txt"
end=$(date +%s.%N)
openssl speed -seconds 3 ed25519 2>/dev/null | tail -n 2 >"$OUT/openssl_speed.txt"

"$PY" - "$OUT" "$N" "$start" "$end" <<'PY' | tee "$OUT/summary.txt"
import statistics, sys
out, n, start, end = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
times = sorted(float(x) * 1000 for x in open(out + '/publish_seconds.txt'))
p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
print('publish: %d reports, median %.2f ms, p95 %.2f ms' % (n, statistics.median(times), p95))
print('verify --chain: %d publications in %.2f s, %.3f ms each (links, bodies, signatures)'
      % (n, end - start, (end - start) * 1000 / n))
print('openssl speed ed25519 (sign/s, verify/s):')
print(open(out + '/openssl_speed.txt').read().rstrip())
PY
"$PSQL" "$(civcas_dsn postgres)" -X -q -c "DROP DATABASE IF EXISTS $PERF_DB WITH (FORCE)"
