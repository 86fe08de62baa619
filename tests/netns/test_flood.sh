#!/usr/bin/env bash
# A handshake flood does not take the tunnel down, in every mode: B (the
# responder) is flooded from a third namespace (flood_lib.sh: 32 source
# addresses, as fast as the generator goes, FLOOD_SECS seconds) with
# initiations of every type, first with a wrong mac1 (junk), then with a
# valid one (the generator knows B's public key). During each flood A is
# restarted and must get a new session within 10 s; after it the tunnel
# still works, B is alive, its RSS stayed bounded, and B sent no more cookie
# replies than their documented bound (4096 a second, bursts of 256) over
# the flood's window. In classic mode, after a listen-port change both
# steered sockets are on the new port and a flood there is counted. No
# throughput is asserted (scripts/bench-flood.sh measures that).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flood_lib.sh"
need_root
FLOOD_SECS=${FLOOD_SECS:-14}
RSS_MAX_KB=${RSS_MAX_KB:-262144} # 256 MiB: the device's bounded tables, with room

check "set up namespaces" setup_pair
check "flood namespace linked to B" setup_flood "$NS_B"
check "flood generator built" test -x "$FLOOD"

for mode in classic hybrid pqonly; do
	say "-- $mode"
	check "generate $mode keys and configs" pair_configs "$mode"
	check "start A ($mode)" start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log"
	PID_A=$LAST_PID
	check "start B ($mode)" start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log"
	PID_B=$LAST_PID
	check "tunnel up before any flood" ping_ok "$NS_A" 10.99.0.2
	for kind in junk valid; do
		key=
		[ "$kind" = valid ] && key=$b_pub
		bad0=$(dv_counter dvtb handshakes_bad_mac)
		c0=$(dv_counter dvtb cookie_replies_sent)
		t0=$(date +%s%N)
		start_flood 0 51821 "$FLOOD_SECS" 0 "$(flood_types)" "$key"
		sleep 2
		# A restarted during the flood: a new session within 10 s.
		stop_pid "$PID_A"
		check "restart A during the $kind flood" start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log"
		PID_A=$LAST_PID
		r0=$(date +%s%N)
		if wait_for 10 in_ns "$NS_A" ping -c 1 -W 1 10.99.0.2; then
			ok "$mode, $kind flood: restarted A has a session after $(((($(date +%s%N) - r0) / 1000000))) ms"
		else
			bad "$mode, $kind flood: restarted A has no session within 10 s"
		fi
		rss=$(rss_kb "$PID_B")
		wait_flood
		t1=$(date +%s%N)
		check "B alive after the $kind flood" kill -0 "$PID_B"
		check "B's RSS bounded during the $kind flood (${rss:-?} KiB)" test "${rss:-0}" -gt 0 -a "${rss:-0}" -le "$RSS_MAX_KB"
		check "ping A -> B after the $kind flood (${FLOOD_RATE:-?} datagrams/s)" ping_ok "$NS_A" 10.99.0.2
		bad1=$(dv_counter dvtb handshakes_bad_mac)
		c1=$(dv_counter dvtb cookie_replies_sent)
		sent=$((c1 - c0))
		# The bound over the window between the two readings (ms), plus one burst.
		bound=$((256 + 4096 * ((t1 - t0) / 1000000) / 1000))
		check "$kind flood: cookie replies sent ($sent) within the bound ($bound)" test "$sent" -le "$bound"
		if [ "$kind" = junk ]; then
			check "junk flood: reached B and counted as bad mac1 ($((bad1 - bad0)))" \
				test $((bad1 - bad0)) -gt 1000
		else
			check "valid flood: passed mac1 ($((bad1 - bad0)) bad) and was answered with cookies ($sent)" \
				test $((bad1 - bad0)) -lt 100 -a "$sent" -gt 0
		fi
	done
	if [ "$mode" = classic ]; then
		# A listen-port change keeps the two steered sockets: both on the
		# new port, the tunnel back (B speaks first from it), junk counted.
		check "wg set listen-port on B" in_ns "$NS_B" wg set dvtb listen-port 51900
		n=$(in_ns "$NS_B" ss -Hulpn "sport = :51900" | grep -c dybervpn)
		check "two sockets on the new port ($n)" test "$n" -eq 2
		check "ping B -> A from the new port" ping_ok "$NS_B" 10.99.0.1
		bad0=$(dv_counter dvtb handshakes_bad_mac)
		start_flood 0 51900 3 0 "$(flood_types)"
		wait_flood
		bad1=$(dv_counter dvtb handshakes_bad_mac)
		check "junk at the new port counted ($((bad1 - bad0)))" test $((bad1 - bad0)) -gt 1000
		check "ping A -> B after it" ping_ok "$NS_A" 10.99.0.2
	fi
	stop_pid "$PID_A"
	stop_pid "$PID_B"
done
finish
