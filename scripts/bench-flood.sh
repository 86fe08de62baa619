#!/usr/bin/env bash
# What a handshake flood costs a tunnel: a responder B with one peer A
# carrying iperf3 TCP (A -> B) through the tunnel, while a third namespace
# floods B's UDP port with handshake datagrams from 32 source addresses
# (build/tools/dv-flood, bounded in time and rate, only between the
# namespaces made here). Our daemon in each mode, and a wireguard-go pair
# under type-1 floods, in the same run, alternating, ROUNDS rounds.
#
# Scenarios (each system: its baseline, then four floods):
#   junk-full    every initiation type (ours) or type 1 (wireguard-go) with a
#                wrong mac1, as fast as the generator goes
#   junk-40k     the same at VALID_RATE datagrams/s (default 40000)
#   valid-40k    the same types with a valid mac1 (the generator knows B's
#                public key) at VALID_RATE/s
#   valid-full   valid mac1, as fast as the generator goes
# During junk-full and valid-full, after the iperf3 run, A is restarted and
# the time until its first ping through the tunnel is the reconnect time
# (at most RECONNECT_MAX s, default 15).
#
# Prints per system and scenario the medians of: throughput and the share
# kept of the system's no-flood baseline, B's cookie replies per second
# (ours; wireguard-go does not say), B's CPU (% of one core, over the iperf3
# run), B's RSS, the reconnect time, the generator's rate; then the
# ratios the flood goals are stated in.
#
# Usage: sudo [ROUNDS=1] [SECS=4] [MODES="classic hybrid pqonly"]
#        [WG_GO=/path/to/wireguard-go] scripts/bench-flood.sh
# DYBERVPN_BIN runs another build of dybervpn (to compare before and after
# a change); WG_GO another wireguard-go than Debian's.
set -u
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-1}
SECS=${SECS:-4}
MODES=${MODES:-classic hybrid pqonly}
VALID_RATE=${VALID_RATE:-40000}
RECONNECT_MAX=${RECONNECT_MAX:-15}
scripts/deps.sh all || exit 1
make -s -j"$(nproc)" build/dybervpn build/tools/dv-flood || exit 1
. tests/netns/lib.sh
. tests/netns/flood_lib.sh
need_root
NS_C=dvt-c-$SUFFIX
NS_D=dvt-d-$SUFFIX
HZ=$(getconf CLK_TCK)
declare -A HWM
RES=$TMP/results # system scenario round Gbit/s cookies/s cpu% rss_kb reconnect_s rate
: >"$RES"

setup_pair || exit 1
make_ns "$NS_C" && make_ns "$NS_D" || exit 1
link_ns "$NS_C" wgc0 192.0.2.1 "$NS_D" wgd0 192.0.2.2 || exit 1
setup_flood "$NS_B" 0 && setup_flood "$NS_D" 1 || exit 1

c_priv=$(wg genkey) d_priv=$(wg genkey)
c_pub=$(wg pubkey <<<"$c_priv") d_pub=$(wg pubkey <<<"$d_priv")
printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.99.0.2/32\nEndpoint = 192.0.2.2:51821\n' \
	"$c_priv" "$d_pub" >"$TMP/c.wg"
printf '[Interface]\nPrivateKey = %s\nListenPort = 51821\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.99.0.1/32\nEndpoint = 192.0.2.1:51820\n' \
	"$d_priv" "$c_pub" >"$TMP/d.wg"
start_c() { start_wggo "$NS_C" wgc "$TMP/c.wg" 10.99.0.1/24 fd98::1/64 10.99.0.2/32 fd98::2/128; }
start_c || exit 1
WG_C=$LAST_PID
start_wggo "$NS_D" wgd "$TMP/d.wg" 10.99.0.2/24 fd98::2/64 10.99.0.1/32 fd98::1/128 || exit 1
WG_D=$LAST_PID
ping_ok "$NS_C" 10.99.0.2 >/dev/null || { echo "wireguard-go tunnel did not come up"; exit 1; }

ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# The system under test: set by use_dv / use_wg.
use_dv() {
	SYS=$1 CLI_NS=$NS_A SRV_NS=$NS_B RESP_PID=$DV_B IFACE=dvtb LINK=0 TYPES=$(flood_types) KEY=$b_pub
}
use_wg() {
	SYS=wireguard-go CLI_NS=$NS_C SRV_NS=$NS_D RESP_PID=$WG_D IFACE= LINK=1 TYPES=1 KEY=$d_pub
}
# restart_initiator: stops and starts A (or C); 0 once it answers.
restart_initiator() {
	if [ -n "$IFACE" ]; then
		stop_pid "$DV_A"
		start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log" || return 1
		DV_A=$LAST_PID
	else
		stop_pid "$WG_C"
		start_c || return 1
		WG_C=$LAST_PID
	fi
}
cookies() { [ -n "$IFACE" ] && dv_counter "$IFACE" cookie_replies_sent; }

# scenario NAME RATE VALID RESTART: one measurement of the current system.
scenario() {
	local name=$1 rate=$2 valid=$3 restart=$4 c0 c1 t0 t1 k0 k1 gbit rss rc=- cps=- secs
	if [ "$name" != baseline ]; then
		secs=$((SECS + 3))
		[ "$restart" = 1 ] && secs=$((secs + RECONNECT_MAX + 5))
		start_flood "$LINK" 51821 "$secs" "$rate" "$TYPES" "$([ "$valid" = 1 ] && echo "$KEY")"
		sleep 1
	fi
	c0=$(cookies) k0=$(ticks "$RESP_PID") t0=$(date +%s%N)
	gbit=$(iperf_run "$SRV_NS" 10.99.0.2 "$CLI_NS" "$SECS")
	c1=$(cookies) k1=$(ticks "$RESP_PID") t1=$(date +%s%N)
	rss=$(rss_kb "$RESP_PID")
	if [ -n "$c0" ] && [ -n "$c1" ]; then
		cps=$(awk -v a="$c0" -v b="$c1" -v t=$((t1 - t0)) 'BEGIN{printf "%.0f", (b - a) / (t / 1e9)}')
	fi
	if [ "$restart" = 1 ]; then
		if restart_initiator; then
			local r0
			r0=$(date +%s%N)
			if wait_for "$RECONNECT_MAX" in_ns "$CLI_NS" ping -c 1 -W 1 10.99.0.2; then
				rc=$(awk -v t=$(($(date +%s%N) - r0)) 'BEGIN{printf "%.1f", t / 1e9}')
			else
				rc=">$RECONNECT_MAX"
			fi
		else
			rc=restart-failed
		fi
	fi
	FLOOD_RATE=-
	[ "$name" != baseline ] && stop_flood
	# The tunnel must be up again before the next measurement.
	wait_for 20 in_ns "$CLI_NS" ping -c 1 -W 1 10.99.0.2
	local cpu
	cpu=$(awk -v k=$((k1 - k0)) -v h="$HZ" -v t=$((t1 - t0)) 'BEGIN{printf "%.0f", 100 * k / h / (t / 1e9)}')
	echo "$SYS $name $ROUND ${gbit:-0} $cps $cpu ${rss:-0} $rc ${FLOOD_RATE:-0}" >>"$RES"
	printf '  %-14s %-11s %6s Gbit/s  cookies %6s/s  cpu %4s%%  rss %6s KiB  reconnect %6s s  flood %7s/s\n' \
		"$SYS" "$name" "${gbit:-0}" "$cps" "$cpu" "${rss:-0}" "$rc" "${FLOOD_RATE:-0}"
}

run_all() {
	scenario baseline 0 0 0
	scenario junk-full 0 0 1
	scenario junk-40k "$VALID_RATE" 0 0
	scenario valid-40k "$VALID_RATE" 1 0
	scenario valid-full 0 1 1
}

echo "handshake floods: iperf3 TCP ${SECS} s per scenario, $ROUNDS round(s), 32 flood sources;"
echo "wireguard-go: $("${WG_GO:-wireguard-go}" --version 2>/dev/null | head -n 1)"
for ROUND in $(seq "$ROUNDS"); do
	echo "round $ROUND"
	for mode in $MODES; do
		pair_configs "$mode" || exit 1
		start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log" || exit 1
		DV_A=$LAST_PID
		start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log" || exit 1
		DV_B=$LAST_PID
		ping_ok "$NS_A" 10.99.0.2 >/dev/null || { echo "dybervpn ($mode) tunnel did not come up"; exit 1; }
		use_dv "dybervpn-$mode"
		run_all
		HWM["$ROUND $mode"]=$(rss_kb "$DV_B" VmHWM)
		kill -0 "$DV_B" 2>/dev/null || echo "  dybervpn-$mode responder DIED"
		stop_pid "$DV_A"
		stop_pid "$DV_B"
	done
	use_wg
	run_all
done

median() { sort -g | awk '{a[NR]=$1} END {if (NR) print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# col SYS SCEN N: the median of column N over the rounds ("-" when none).
col() {
	local v
	v=$(awk -v s="$1" -v n="$2" -v c="$3" '$1 == s && $2 == n && $c != "-" {print $c}' "$RES" |
		sed 's/^>//' | median)
	echo "${v:--}"
}
kept() { awk -v a="$1" -v b="$2" 'BEGIN{if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.0f", 100 * a / b}'; }

echo
echo "medians over $ROUNDS round(s) (kept: of the same system's no-flood baseline)"
printf '  %-22s %-11s %7s %5s %9s %5s %8s %10s %9s\n' system scenario Gbit/s kept cookies/s cpu% "rss KiB" reconnect "flood/s"
SYSTEMS=""
for mode in $MODES; do SYSTEMS="$SYSTEMS dybervpn-$mode"; done
SYSTEMS="$SYSTEMS wireguard-go"
for s in $SYSTEMS; do
	base=$(col "$s" baseline 4)
	for n in baseline junk-full junk-40k valid-40k valid-full; do
		g=$(col "$s" "$n" 4)
		# A reconnect that never came is shown as its bound with ">".
		rc=$(awk -v s="$s" -v n="$n" '$1 == s && $2 == n {print $8}' "$RES" | tr '\n' ' ')
		printf '  %-22s %-11s %7s %4s%% %9s %5s %8s %10s %9s\n' "$s" "$n" "$g" "$(kept "$g" "$base")" \
			"$(col "$s" "$n" 5)" "$(col "$s" "$n" 6)" \
			"$(awk -v s="$s" -v n="$n" '$1 == s && $2 == n {if ($7 > m) m = $7} END {print m + 0}' "$RES")" \
			"${rc% }" "$(col "$s" "$n" 9)"
	done
done

echo
echo "goals:"
wg_base=$(col wireguard-go baseline 4)
wg_junk=$(kept "$(col wireguard-go junk-full 4)" "$wg_base")
wg_valid=$(kept "$(col wireguard-go valid-full 4)" "$wg_base")
for mode in $MODES; do
	s=dybervpn-$mode
	base=$(col "$s" baseline 4)
	j=$(kept "$(col "$s" junk-full 4)" "$base")
	v=$(kept "$(col "$s" valid-full 4)" "$base")
	r40=$(kept "$(col "$s" valid-40k 4)" "$(col "$s" junk-40k 4)")
	echo "  $s: junk of every type at full speed keeps $j% (wireguard-go, type-1 junk: $wg_junk%)"
	echo "  $s: valid mac1 at ${VALID_RATE}/s keeps $r40% of what the same flood with a wrong mac1 leaves (goal: 80%)"
	echo "  $s: valid mac1 at full speed keeps $v% (wireguard-go, type-1: $wg_valid%)"
done
for s in $SYSTEMS; do
	worst=$(awk -v s="$s" '$1 == s && $8 != "-" {v = $8; sub(/^>/, "", v); if (v + 0 >= m) {m = v + 0; w = $8}} END {print (w == "" ? "-" : w)}' "$RES")
	echo "  $s: slowest reconnect of a restarted peer during a full-speed flood: $worst s (goal: 10 s)"
done
for k in "${!HWM[@]}"; do echo "$k ${HWM[$k]}"; done | sort |
	awk '{printf "  dybervpn-%s responder peak RSS (VmHWM), round %s: %s KiB\n", $2, $1, $3}'
