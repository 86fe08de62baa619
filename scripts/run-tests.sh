#!/usr/bin/env bash
# The whole test suite: unit tests and official vectors, plain, under
# AddressSanitizer + UndefinedBehaviorSanitizer and under ThreadSanitizer
# (with a tunnel carrying traffic through the TSan-built daemon), the
# constant-time check,
# a short run of every libFuzzer harness (so none rots), what `make
# install` installs (into a temporary DESTDIR; man pages, systemd unit,
# completion), then the end-to-end tests in network namespaces (root only),
# twice: the daemon with 2 crypto threads (netns), then with 1 (netns1).
# Usage: scripts/run-tests.sh [unit|vectors|san|tsan|ct|fuzz|install|netns|netns1]...
#   (default: all of them)
# Environment: DYBERVPN_VECTORS, DYBERVPN_PROTOCOL_VECTORS override the
# vector directories (default tests/data/vectors, tests/data/protocol-vectors);
# FUZZ_TIME sets the seconds each fuzz harness runs (default 5);
# DYBERVPN_THREADS sets the crypto threads of the netns phase (default 2;
# netns1 always runs 1).
set -uo pipefail
cd "$(dirname "$0")/.."

VECTORS=${DYBERVPN_VECTORS:-tests/data/vectors}
PVECTORS=${DYBERVPN_PROTOCOL_VECTORS:-tests/data/protocol-vectors}
JOBS=$(nproc 2>/dev/null || echo 2)
FUZZ_TIME=${FUZZ_TIME:-5}
phases=${*:-unit vectors san tsan ct fuzz install netns netns1}
total_pass=0
total_fail=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# run NAME CMD...: run one test program, count the "N passed, N failed" line
# it ends with (or 1 failed when it has none and exits non-zero).
run() {
	local name=$1 out=$log/out rc p f line t0 secs
	shift
	t0=$(date +%s)
	"$@" >"$out" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	if [ -n "$line" ]; then
		p=$(sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
		f=$(sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\3/' <<<"$line")
	elif [ $rc -eq 0 ]; then
		p=1 f=0
	else
		p=0 f=1
	fi
	[ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	if [ "$f" -eq 0 ]; then
		printf '  ok    %-40s %s passed (%s s)\n' "$name" "$p" "$secs"
	else
		printf '  FAIL  %-40s %s passed, %s failed (exit %s, %s s)\n' "$name" "$p" "$f" "$rc" "$secs"
		grep -E 'FAIL|ERROR|error|Assertion|Sanitizer|runtime error' "$out" | head -n 20 | sed 's/^/        /'
		tail -n 5 "$out" | sed 's/^/        /'
	fi
}

echo "== build"
make -s -j"$JOBS" all || { echo "0 passed, 1 failed"; exit 1; }

for phase in $phases; do
	case $phase in
	unit) echo "== unit tests"; for t in build/tests/test_*; do [ -x "$t" ] && run "$(basename "$t")" "$t"; done ;;
	vectors)
		echo "== official and handshake vectors"
		run "test-vectors $VECTORS" build/test-vectors "$VECTORS"
		run "test-vectors $PVECTORS" build/test-vectors "$PVECTORS"
		# The portable C path too, where the CPU would pick AVX2.
		run "portable: test-vectors $VECTORS" env DYBERVPN_NO_AVX2=1 build/test-vectors "$VECTORS"
		run "portable: test_mlkem" env DYBERVPN_NO_AVX2=1 build/tests/test_mlkem
		run "portable: test_mldsa" env DYBERVPN_NO_AVX2=1 build/tests/test_mldsa
		;;
	san)
		echo "== ASan + UBSan build"
		if make -s -j"$JOBS" BUILD=build-san SAN=1 all; then
			for t in build-san/tests/test_*; do [ -x "$t" ] && run "san $(basename "$t")" "$t"; done
			run "san test-vectors (crypto)" build-san/test-vectors "$VECTORS"
			run "san test-vectors (handshake)" build-san/test-vectors "$PVECTORS"
		else
			total_fail=$((total_fail + 1))
		fi
		;;
	tsan)
		echo "== ThreadSanitizer build"
		# A race is an error: the program stops at the first report with
		# exit code 66 (the report is in its output).
		export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
		if make -s -j"$JOBS" BUILD=build-tsan TSAN=1 all; then
			for t in build-tsan/tests/test_*; do [ -x "$t" ] && run "tsan $(basename "$t")" "$t"; done
			run "tsan test-vectors (crypto)" build-tsan/test-vectors "$VECTORS"
			run "tsan test-vectors (handshake)" build-tsan/test-vectors "$PVECTORS"
			# The TSan-built daemon carrying a tunnel with crypto threads.
			if [ "$(id -u)" -eq 0 ]; then
				run "tsan test_threads.sh (threads 2)" env DYBERVPN_BIN="$PWD/build-tsan/dybervpn" \
					DYBERVPN_THREADS=2 bash tests/netns/test_threads.sh
			else
				echo "  tunnel through the TSan daemon needs root: skipped"
			fi
		else
			total_fail=$((total_fail + 1))
		fi
		;;
	ct)
		echo "== constant-time check (valgrind memcheck)"
		if command -v valgrind >/dev/null; then
			run "make ct" make -s ct
			run "make ct (portable path)" env DYBERVPN_NO_AVX2=1 make -s ct
		else
			echo "  valgrind missing: run scripts/deps.sh"; total_fail=$((total_fail + 1))
		fi
		;;
	fuzz)
		echo "== fuzz harnesses (libFuzzer + ASan + UBSan, $FUZZ_TIME s each)"
		if ! command -v clang >/dev/null; then
			echo "  clang missing: run scripts/deps.sh"; total_fail=$((total_fail + 1))
		elif make -s -j"$JOBS" fuzz-build; then
			for f in tests/fuzz/fuzz_*.c; do
				n=$(basename "$f" .c)
				seeds=()
				[ -d "tests/fuzz/corpus/$n" ] && seeds=("tests/fuzz/corpus/$n")
				mkdir -p "build-fuzz/corpus/$n"
				# New inputs go to the first directory, never the seeds.
				run "fuzz $n" "build-fuzz/fuzz/$n" -max_total_time="$FUZZ_TIME" \
					-artifact_prefix="build-fuzz/$n-" "build-fuzz/corpus/$n" ${seeds[@]+"${seeds[@]}"}
			done
		else
			total_fail=$((total_fail + 1))
		fi
		;;
	install)
		echo "== make install / uninstall, man pages, systemd unit, completion"
		for t in tests/install/test_*.sh; do
			[ -f "$t" ] && run "$(basename "$t")" bash "$t"
		done
		;;
	netns | netns1)
		# The whole end-to-end suite, once with crypto worker threads (2,
		# or DYBERVPN_THREADS) and once without (1): the daemons the
		# tests start inherit DYBERVPN_THREADS, which overrides the
		# config's `threads`. A pass takes about 7 minutes on 2 cores,
		# so both fit in a CI run of about 17: no subset is needed.
		threads=${DYBERVPN_THREADS:-2}
		[ "$phase" = netns1 ] && threads=1
		echo "== end to end in network namespaces (threads = $threads)"
		if [ "$(id -u)" -ne 0 ]; then
			echo "  needs root: skipped"
			continue
		fi
		for t in tests/netns/test_*.sh; do
			[ -f "$t" ] && run "$(basename "$t") (threads $threads)" \
				env DYBERVPN_THREADS="$threads" bash "$t"
		done
		;;
	*) echo "unknown phase: $phase" >&2; exit 2 ;;
	esac
done

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
