#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) in build-fuzz/ and
# runs each one for a bounded time.
#
# Usage: tests/fuzz/run.sh [SECONDS] [HARNESS...]
#   SECONDS   fuzzing time per harness (default 60; 0: replay only)
#   HARNESS   incident, query, submission (default: all three)
# Environment:
#   CIVCAS_FUZZ_WORKDIR  keep the working corpus there (e.g.
#                        tests/fuzz/corpus-run) instead of a temporary copy
#   CIVCAS_FUZZ_ARGS     extra libFuzzer flags (e.g. -runs=10000000)
#
# For each harness: first every file of tests/fuzz/regressions/HARNESS/ and
# of the seed corpus is replayed once, then libFuzzer mutates a copy of the
# seed corpus (with tests/fuzz/HARNESS.dict). The last log of each harness
# is kept as tests/fuzz/corpus-run/logs/HARNESS.log. Exits 1 on any crash,
# leak, timeout or out-of-memory, leaving the input under
# tests/fuzz/corpus-run/artifacts/; 2 on a usage error.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
root="$(cd "$here/../.." && pwd -P)"
build="$root/build-fuzz"
artifacts="$root/tests/fuzz/corpus-run/artifacts"
logs="$root/tests/fuzz/corpus-run/logs"
all_harnesses=(incident query submission)

usage() { sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
log() { printf '==> fuzz: %s\n' "$*"; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

seconds=60
harnesses=()
for arg in "$@"; do
	case "$arg" in
	-h | --help)
		usage
		exit 0
		;;
	incident | query | submission) harnesses+=("$arg") ;;
	*[!0-9]* | '')
		usage >&2
		exit 2
		;;
	*) seconds="$arg" ;;
	esac
done
[ "${#harnesses[@]}" -gt 0 ] || harnesses=("${all_harnesses[@]}")

# ---- toolchain and build -------------------------------------------------

command -v clang >/dev/null 2>&1 ||
	die "clang not found: the fuzz harnesses need clang and libFuzzer" \
		"(apt-get install clang libclang-rt-14-dev; deploy/common.sh installs both)"
probe="$(mktemp -d "${TMPDIR:-/tmp}/civcas-fuzz.XXXXXX")"
trap 'rm -rf "$probe"' EXIT
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
	>"$probe/probe.c"
clang -fsanitize=fuzzer,address,undefined "$probe/probe.c" -o "$probe/probe" 2>"$probe/err" ||
	die "clang cannot link a libFuzzer program (is libclang-rt-14-dev installed?):" \
		"$(head -3 "$probe/err")"

log "build: build-fuzz/ (clang, -DCIVCAS_FUZZ=ON)"
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER="$(command -v clang)" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCIVCAS_FUZZ=ON >"$probe/cmake.log" 2>&1 || {
	cat "$probe/cmake.log" >&2
	die "cmake configure of build-fuzz/ failed"
}
targets=()
for h in "${harnesses[@]}"; do targets+=(--target "fuzz_$h"); done
cmake --build "$build" -j"$(nproc)" "${targets[@]}"

# ---- runs ----------------------------------------------------------------

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
flags=(-max_len=65536 -rss_limit_mb=1024 -timeout=10 -print_final_stats=1)
# shellcheck disable=SC2206 # extra flags are split on purpose
extra=(${CIVCAS_FUZZ_ARGS:-})

summary=()
failed=0

# save_artifacts HARNESS DIR: keeps crash/leak/timeout/oom inputs.
save_artifacts() {
	local h="$1" dir="$2" f kept=0
	mkdir -p "$artifacts"
	for f in "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-* "$dir"/slow-unit-*; do
		[ -e "$f" ] || continue
		cp "$f" "$artifacts/$h-$(basename "$f")"
		printf '    artifact: %s\n' "$artifacts/$h-$(basename "$f")"
		kept=1
	done
	[ "$kept" -eq 0 ] || printf '    reproduce: %s <artifact>; then add it to tests/fuzz/regressions/%s/\n' \
		"$build/tests/fuzz_$h" "$h"
}

run_harness() {
	local h="$1" bin="$build/tests/fuzz_$1" work inputs=() f rc=0 out
	work="$(mktemp -d "$probe/$h.XXXXXX")" # removed with $probe at exit
	out="$work/log"

	# 1. Replay: regressions first, then the seed corpus, each input once.
	for f in "$here/regressions/$h"/* "$here/corpus/$h"/*; do
		[ -f "$f" ] && inputs+=("$f")
	done
	log "$h: replaying ${#inputs[@]} regression and seed inputs"
	# (Without file arguments libFuzzer would start fuzzing instead.)
	if [ "${#inputs[@]}" -gt 0 ] &&
		! (cd "$work" && "$bin" "${flags[@]}" "${inputs[@]}") >"$out" 2>&1; then
		tail -n 60 "$out"
		summary+=("FAIL  $h: replay of regressions/seed corpus failed (see above)")
		failed=1
		rm -rf "$work"
		return
	fi
	if [ "$seconds" -eq 0 ]; then
		summary+=("PASS  $h: replayed ${#inputs[@]} inputs")
		rm -rf "$work"
		return
	fi

	# 2. Fuzz a copy of the seed corpus (or the kept working corpus).
	local corpus="$work/corpus"
	if [ -n "${CIVCAS_FUZZ_WORKDIR:-}" ]; then
		corpus="$CIVCAS_FUZZ_WORKDIR/$h"
	fi
	mkdir -p "$corpus"
	cp -n "$here/corpus/$h"/* "$corpus/" 2>/dev/null || true
	log "$h: fuzzing for $seconds s (corpus $corpus)"
	local start=$SECONDS
	(cd "$work" && "$bin" "${flags[@]}" -max_total_time="$seconds" \
		-dict="$here/$h.dict" -artifact_prefix="$work/" "${extra[@]}" "$corpus") \
		>"$out" 2>&1 || rc=$?
	local took=$((SECONDS - start))
	mkdir -p "$logs"
	cp "$out" "$logs/$h.log"

	local runs eps rss done_line
	runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -n 1)"
	eps="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out" | tail -n 1)"
	rss="$(sed -n 's/^stat::peak_rss_mb: *//p' "$out" | tail -n 1)"
	done_line="$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)' "$out" | tail -n 1 |
		sed -E 's/.*(cov: [0-9]+ ft: [0-9]+ corp: [^ ]+).*/\1/')"
	if [ "$rc" -ne 0 ]; then
		grep -E -A 40 'ERROR: |runtime error:|fuzz_[a-z]+: ' "$out" | head -n 80 || tail -n 60 "$out"
		save_artifacts "$h" "$work"
		summary+=("FAIL  $h: libFuzzer exit $rc after ${runs:-?} runs in $took s (crash, leak, timeout or OOM; log: $logs/$h.log)")
		failed=1
	else
		summary+=("PASS  $h: ${runs:-?} runs in $took s, ${eps:-?} exec/s, peak RSS ${rss:-?} MB, $done_line")
	fi
	rm -rf "$work"
}

for h in "${harnesses[@]}"; do
	run_harness "$h"
done

log "summary"
printf '    %s\n' "${summary[@]}"
exit "$failed"
