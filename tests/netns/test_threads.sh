#!/usr/bin/env bash
# The data path with crypto threads, under load: a hybrid tunnel carries
# pings and parallel TCP streams in both directions at once while `wg
# show` and `dybervpn status` read the peers and a short test-only rekey
# timer forces new handshakes mid-traffic. Each daemon must log that it
# runs DYBERVPN_THREADS crypto threads; afterwards both must still run
# and their logs hold no ThreadSanitizer report.
#
# Environment: DYBERVPN_BIN, the dybervpn binary (default build/dybervpn;
# the suite's tsan phase passes the ThreadSanitizer build, where a data
# race stops the daemon with exit code 66 and its report in the log);
# DYBERVPN_THREADS, the daemon's crypto threads (default 2 here).
#
# Under ThreadSanitizer the daemon keeps its sandbox (user, capabilities;
# a sanitizer build has no seccomp filter: the runtime's own system calls).
# Its reports go to stderr, which is the log file this script opened: a
# log_path file would be created after the daemon dropped to its
# unprivileged user, which cannot write into this script's private $TMP.
. "$(dirname "$0")/lib.sh"
need_root

THREADS=${DYBERVPN_THREADS:-2}
export DYBERVPN_THREADS=$THREADS
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
if ldd "$DV" 2>/dev/null | grep -q libtsan; then
	say "  daemon $DV: ThreadSanitizer build, threads = $THREADS"
else
	say "  daemon $DV: threads = $THREADS"
fi

check "set up namespaces" setup_pair
check "generate hybrid keys and configs" pair_configs hybrid
check "start dybervpn in A" start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log" DYBERVPN_TEST_REKEY_AFTER=4
pid_a=$LAST_PID
check "start dybervpn in B" start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log" DYBERVPN_TEST_REKEY_AFTER=4
pid_b=$LAST_PID

# Each daemon says how many crypto threads it runs: DYBERVPN_THREADS.
for s in a b; do
	line=$(grep -hE "[0-9]+ crypto threads?$" "$TMP/$s.log" | head -n 1)
	check "daemon ${s^^} runs $THREADS crypto thread(s): ${line:-no such line in its log}" \
		grep -qE ": $THREADS crypto threads?$" "$TMP/$s.log"
done

check "ping A -> B over IPv4" ping_ok "$NS_A" 10.99.0.2
check "ping B -> A over IPv6" ping_ok "$NS_B" fd99::1
hs1=$(wg_field "$NS_A" dvta latest-handshakes)
check "wg show: a handshake is recorded" test "${hs1:-0}" -gt 0

# TCP both ways at once (--bidir), 4 streams each way, for 8 s (two rekey
# periods); meanwhile pings, `wg show` and `dybervpn status` on both sides.
in_ns "$NS_B" iperf3 -s -1 -B 10.99.0.2 -p 5201 >"$TMP/iperf-s.log" 2>&1 &
PIDS+=("$!")
wait_for 5 port_listening "$NS_B" 5201
in_ns "$NS_A" timeout 40 iperf3 -c 10.99.0.2 -p 5201 -t 8 -P 4 --bidir -J \
	>"$TMP/iperf.json" 2>&1 &
cpid=$!
PIDS+=("$cpid")
in_ns "$NS_B" ping -c 30 -i 0.25 -W 2 -w 20 10.99.0.1 >"$TMP/ping-during.log" 2>&1 &
ppid=$!
PIDS+=("$ppid")
reads=0
readfail=0
for _ in $(seq 16); do
	kill -0 "$cpid" 2>/dev/null || break
	for ns_if in "$NS_A dvta" "$NS_B dvtb"; do
		set -- $ns_if
		if in_ns "$1" wg show "$2" >/dev/null 2>&1 && "$DV" status "$2" >/dev/null 2>&1 &&
			in_ns "$1" wg show "$2" transfer >/dev/null 2>&1; then
			reads=$((reads + 1))
		else
			readfail=$((readfail + 1))
		fi
	done
	sleep 0.5
done
wait "$cpid"
crc=$?
wait "$ppid"
check "iperf3 ran to the end (exit $crc)" test "$crc" -eq 0
# The sums of the two directions, in Gbit/s.
read -r up down < <(python3 - "$TMP/iperf.json" <<'EOF'
import json, sys
try:
    end = json.load(open(sys.argv[1]))["end"]
    print("%.3f %.3f" % (end["sum_received"]["bits_per_second"] / 1e9,
                         end["sum_received_bidir_reverse"]["bits_per_second"] / 1e9))
except Exception:
    print("0 0")
EOF
)
check "TCP A -> B during the run: $up Gbit/s (4 streams)" python3 -c "import sys; sys.exit(not float('$up') > 0)"
check "TCP B -> A during the run: $down Gbit/s (4 streams)" python3 -c "import sys; sys.exit(not float('$down') > 0)"
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TMP/ping-during.log")
check "pings answered during the load: ${recv:-0}/30" test "${recv:-0}" -ge 20
check "wg show and status answered during the load ($reads reads, $readfail failed)" \
	test "$reads" -gt 0 -a "$readfail" -eq 0
hs2=$(wg_field "$NS_A" dvta latest-handshakes)
check "rekey during the load: a new handshake ($hs1 -> $hs2)" test "${hs2:-0}" -gt "${hs1:-0}"
rx=$(in_ns "$NS_A" wg show dvta transfer | awk '{print $2}')
check "wg show transfer counts the load (${rx:-0} bytes received by A)" test "${rx:-0}" -gt 1000000

check "ping A -> B after the load" ping_ok "$NS_A" 10.99.0.2
check "ping B -> A after the load over IPv6" ping_ok "$NS_B" fd99::1
check "daemon A still runs" kill -0 "$pid_a"
check "daemon B still runs" kill -0 "$pid_b"
stop_pid "$pid_a"
stop_pid "$pid_b"
for s in a b; do
	if grep -q "ThreadSanitizer" "$TMP/$s.log"; then
		bad "daemon ${s^^}: a ThreadSanitizer report in its log"
		grep -A 30 -m 1 "ThreadSanitizer" "$TMP/$s.log" | sed 's/^/        /'
	else
		ok "daemon ${s^^}: no ThreadSanitizer report in its log"
	fi
done
finish
