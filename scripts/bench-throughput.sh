#!/usr/bin/env bash
# Throughput of a dybervpn tunnel against a wireguard-go tunnel, in the same
# run on the same machine: two network-namespace pairs, iperf3 TCP through
# each, alternating, RUNS times each (default 3) for SECS seconds (default 5);
# prints every run, both medians, the ratio, ping RTTs, and the daemons' CPU
# time per GB moved. Usage: sudo scripts/bench-throughput.sh [MODE] (default
# hybrid; classic, hybrid or pqonly).
set -u
cd "$(dirname "$0")/.."
MODE=${1:-hybrid}
RUNS=${RUNS:-3}
SECS=${SECS:-5}
scripts/deps.sh all || exit 1
make -s -j"$(nproc)" build/dybervpn || exit 1
. tests/netns/lib.sh
need_root
NS_C=dvt-c-$SUFFIX
NS_D=dvt-d-$SUFFIX

setup_pair || exit 1
pair_configs "$MODE" || exit 1
start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log" || exit 1
DV_A=$LAST_PID
start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log" || exit 1
DV_B=$LAST_PID

make_ns "$NS_C" && make_ns "$NS_D" || exit 1
link_ns "$NS_C" wgc0 192.0.2.1 "$NS_D" wgd0 192.0.2.2
c_priv=$(wg genkey) d_priv=$(wg genkey)
c_pub=$(wg pubkey <<<"$c_priv") d_pub=$(wg pubkey <<<"$d_priv")
printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.99.0.2/32\nEndpoint = 192.0.2.2:51821\n' \
	"$c_priv" "$d_pub" >"$TMP/c.wg"
printf '[Interface]\nPrivateKey = %s\nListenPort = 51821\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.99.0.1/32\nEndpoint = 192.0.2.1:51820\n' \
	"$d_priv" "$c_pub" >"$TMP/d.wg"
start_wggo "$NS_C" wgc "$TMP/c.wg" 10.99.0.1/24 fd98::1/64 10.99.0.2/32 fd98::2/128 || exit 1
WG_C=$LAST_PID
start_wggo "$NS_D" wgd "$TMP/d.wg" 10.99.0.2/24 fd98::2/64 10.99.0.1/32 fd98::1/128 || exit 1
WG_D=$LAST_PID
ping_ok "$NS_A" 10.99.0.2 >/dev/null || { echo "dybervpn tunnel did not come up"; exit 1; }
ping_ok "$NS_C" 10.99.0.2 >/dev/null || { echo "wireguard-go tunnel did not come up"; exit 1; }

cpu() { # PID...: user+sys clock ticks
	local t=0 p
	for p in "$@"; do
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo "$t"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
rtt() { in_ns "$1" ping -c 20 -i 0.05 -q "$2" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p'; }

hz=$(getconf CLK_TCK)
: >"$TMP/dv" ; : >"$TMP/wg"
dv_ticks=0 wg_ticks=0 dv_gb=0 wg_gb=0
echo "iperf3 TCP, ${SECS} s per run, $RUNS runs each, alternating (dybervpn mode: $MODE)"
for i in $(seq "$RUNS"); do
	t0=$(cpu "$DV_A" "$DV_B")
	a=$(iperf_run "$NS_B" 10.99.0.2 "$NS_A" "$SECS")
	dv_ticks=$((dv_ticks + $(cpu "$DV_A" "$DV_B") - t0))
	t0=$(cpu "$WG_C" "$WG_D")
	b=$(iperf_run "$NS_D" 10.99.0.2 "$NS_C" "$SECS")
	wg_ticks=$((wg_ticks + $(cpu "$WG_C" "$WG_D") - t0))
	echo "  run $i: dybervpn ${a:-0} Gbit/s   wireguard-go ${b:-0} Gbit/s"
	echo "${a:-0}" >>"$TMP/dv"
	echo "${b:-0}" >>"$TMP/wg"
	dv_gb=$(awk -v s="$dv_gb" -v r="${a:-0}" -v t="$SECS" 'BEGIN{print s + r * t / 8}')
	wg_gb=$(awk -v s="$wg_gb" -v r="${b:-0}" -v t="$SECS" 'BEGIN{print s + r * t / 8}')
done
m_dv=$(median <"$TMP/dv")
m_wg=$(median <"$TMP/wg")
echo "median: dybervpn $m_dv Gbit/s, wireguard-go $m_wg Gbit/s, ratio $(awk -v a="$m_dv" -v b="$m_wg" 'BEGIN{printf "%.2f", (b > 0 ? a / b : 0)}')x"
echo "CPU per GB (both daemons, user+sys): dybervpn $(awk -v t="$dv_ticks" -v h="$hz" -v g="$dv_gb" 'BEGIN{printf "%.2f", (g > 0 ? t / h / g : 0)}') s, wireguard-go $(awk -v t="$wg_ticks" -v h="$hz" -v g="$wg_gb" 'BEGIN{printf "%.2f", (g > 0 ? t / h / g : 0)}') s"
echo "ping RTT (avg of 20): dybervpn $(rtt "$NS_A" 10.99.0.2) ms, wireguard-go $(rtt "$NS_C" 10.99.0.2) ms"
