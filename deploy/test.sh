#!/usr/bin/env bash
# Builds civcas twice (normal, and with AddressSanitizer + UBSan), runs the
# quick start's set-up (deploy/quickstart.sh --no-serve), then the whole
# CTest suite of each build against a private PostgreSQL cluster, two
# tests at a time (CIVCAS_TEST_JOBS; the sanitizer pass leaves out the
# checks of files and of the package, labelled static).
#
# Usage: deploy/test.sh [--no-asan] [--no-fuzz] [-R REGEX]
#   --no-asan  skip the sanitizer build and its test pass
#   --no-fuzz  skip the libFuzzer pass (tests/fuzz/run.sh, after ctest;
#              CIVCAS_FUZZ_SECONDS per harness, default 60)
#   -R REGEX   run only the tests whose name matches (passed to ctest;
#              implies --no-fuzz and skips the quick start's set-up)
# Exits non-zero when a build or any test fails.

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

asan=1
fuzz=1
quickstart=1
ctest_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--no-asan) asan=0 ;;
	--no-fuzz) fuzz=0 ;;
	-R)
		[ $# -ge 2 ] || {
			usage >&2
			exit 2
		}
		ctest_args+=(-R "$2")
		fuzz=0
		quickstart=0
		shift
		;;
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

civcas_need_packages
civcas_need_node_tools
civcas_build build
[ "$asan" -eq 0 ] || civcas_build build-asan -DCIVCAS_SANITIZE=ON

civcas_pg_start
# Stop the cluster at the end only if this script started it: someone else
# (a quickstart server) may be using it.
if [ "$CIVCAS_PG_STARTED" -eq 1 ]; then
	trap 'civcas_pg_stop' EXIT
fi
CIVCAS_TEST_ADMIN_DSN="$(civcas_dsn postgres)"
civcas__app_role
CIVCAS_TEST_APP_ROLE="$CIVCAS_APP_ROLE"
export CIVCAS_TEST_ADMIN_DSN CIVCAS_TEST_APP_ROLE

summary=()
failed=0

# run_suite NAME DIR [env...]: ctest in $ROOT/DIR, one line in the summary.
run_suite() {
	local name="$1" dir="$2" rc=0 start
	shift 2
	civcas_log "ctest: $name ($dir/)"
	start=$SECONDS
	(cd "$ROOT/$dir" && env "$@" ctest --output-on-failure --no-tests=error \
		--timeout 900 -j "$jobs" "${suite_args[@]}" "${ctest_args[@]}") || rc=$?
	if [ "$rc" -eq 0 ]; then
		summary+=("PASS  $name ($((SECONDS - start)) s)")
	else
		summary+=("FAIL  $name (ctest exit $rc, $((SECONDS - start)) s)")
		failed=1
	fi
}

# The quick start's own set-up, as its first command runs it (--no-serve),
# on a free port: what a new user meets first is checked with the rest. A
# quickstart server already running is left alone (the step would stop it).
start=$SECONDS
if [ "$quickstart" -eq 0 ]; then
	:
elif pid="$(civcas_quickstart_pid)"; then
	summary+=("SKIP  quickstart (its server is running, pid $pid)")
else
	civcas_log "quickstart --no-serve"
	qs_port="$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
	if CIVCAS_LISTEN="127.0.0.1:$qs_port" "$ROOT/deploy/quickstart.sh" --no-serve; then
		summary+=("PASS  quickstart ($((SECONDS - start)) s)")
	else
		summary+=("FAIL  quickstart ($((SECONDS - start)) s)")
		failed=1
	fi
fi

# Two tests at a time (CIVCAS_TEST_JOBS): most wait on servers and
# sockets; those that time things or change the machine are RUN_SERIAL in
# tests/CMakeLists.txt. The sanitizer pass skips the tests labelled static
# (checks of files and of the release package, no C of this tree run).
jobs="${CIVCAS_TEST_JOBS:-2}"
suite_args=()
run_suite normal build
suite_args=(-LE static)
if [ "$asan" -eq 1 ]; then
	run_suite asan build-asan \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi

# --- fuzzing: tests/fuzz/run.sh builds build-fuzz/ with clang and
# runs each harness for CIVCAS_FUZZ_SECONDS (default 60) after replaying the
# regression inputs. Skip with --no-fuzz.
if [ "$fuzz" -eq 1 ]; then
	civcas_log "fuzz: ${CIVCAS_FUZZ_SECONDS:-60} s per harness"
	start=$SECONDS
	rc=0
	"$ROOT/tests/fuzz/run.sh" "${CIVCAS_FUZZ_SECONDS:-60}" || rc=$?
	if [ "$rc" -eq 0 ]; then
		summary+=("PASS  fuzz ($((SECONDS - start)) s)")
	else
		summary+=("FAIL  fuzz (tests/fuzz/run.sh exit $rc, $((SECONDS - start)) s)")
		failed=1
	fi
fi
# --- end of fuzzing

civcas_log "summary"
printf '    %s\n' "${summary[@]}"
exit "$failed"
