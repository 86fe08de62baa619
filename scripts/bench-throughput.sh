#!/usr/bin/env bash
# Throughput of a dybervpn tunnel against a wireguard-go tunnel, in the same
# run on the same machine: two network-namespace pairs, iperf3 TCP through
# each, alternating, RUNS times each (default 3) for SECS seconds (default 5);
# prints every run, both medians, the ratio, ping RTTs, and the daemons' CPU
# time per GB moved. Usage: sudo scripts/bench-throughput.sh [MODE] (default
# hybrid; classic, hybrid or pqonly).
# Optional, in the same run and alternating with the others:
#   WG_GO=/path/to/wireguard-go   a second wireguard-go build (e.g. a recent
#                                 one with offloads), ratio printed too;
#   DV_BASE=/path/to/dybervpn     another dybervpn build (e.g. the previous
#                                 release) on the same MODE, ratio printed;
#   DV_BASE_THREADS=N             the DV_BASE tunnel's daemons run with
#                                 DYBERVPN_THREADS=N (with DV_BASE=build/dybervpn:
#                                 this build's thread counts compared).
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
# The distribution's wireguard-go here, whatever WG_GO says (start_wggo runs $WG_GO when set).
WG_GO= start_wggo "$NS_C" wgc "$TMP/c.wg" 10.99.0.1/24 fd98::1/64 10.99.0.2/32 fd98::2/128 || exit 1
WG_C=$LAST_PID
WG_GO= start_wggo "$NS_D" wgd "$TMP/d.wg" 10.99.0.2/24 fd98::2/64 10.99.0.1/32 fd98::1/128 || exit 1
WG_D=$LAST_PID
ping_ok "$NS_A" 10.99.0.2 >/dev/null || { echo "dybervpn tunnel did not come up"; exit 1; }
ping_ok "$NS_C" 10.99.0.2 >/dev/null || { echo "wireguard-go tunnel did not come up"; exit 1; }

# The optional tunnels: name, client ns, server ns, PIDs.
EXTRA=()
if [ -n "${WG_GO:-}" ]; then
	NS_E=dvt-e-$SUFFIX NS_F=dvt-f-$SUFFIX
	make_ns "$NS_E" && make_ns "$NS_F" || exit 1
	link_ns "$NS_E" wge0 192.0.2.1 "$NS_F" wgf0 192.0.2.2
	# start_wggo runs `wireguard-go`: the chosen build first in PATH.
	mkdir -p "$TMP/wggo-bin" && ln -sf "$WG_GO" "$TMP/wggo-bin/wireguard-go"
	PATH="$TMP/wggo-bin:$PATH" start_wggo "$NS_E" wge "$TMP/c.wg" 10.99.0.1/24 fd97::1/64 10.99.0.2/32 fd97::2/128 || exit 1
	WG_E=$LAST_PID
	PATH="$TMP/wggo-bin:$PATH" start_wggo "$NS_F" wgf "$TMP/d.wg" 10.99.0.2/24 fd97::2/64 10.99.0.1/32 fd97::1/128 || exit 1
	WG_F=$LAST_PID
	ping_ok "$NS_E" 10.99.0.2 >/dev/null || { echo "WG_GO tunnel did not come up"; exit 1; }
	EXTRA+=("wg-go(WG_GO) $NS_E $NS_F $WG_E $WG_F")
fi
if [ -n "${DV_BASE:-}" ]; then
	NS_G=dvt-g-$SUFFIX NS_H=dvt-h-$SUFFIX
	make_ns "$NS_G" && make_ns "$NS_H" || exit 1
	link_ns "$NS_G" dvg0 192.0.2.1 "$NS_H" dvh0 192.0.2.2 2001:db8::1 2001:db8::2
	sed 's/^name = "dvta"/name = "dvtg"/' "$TMP/a.toml" >"$TMP/g.toml"
	sed 's/^name = "dvtb"/name = "dvth"/' "$TMP/b.toml" >"$TMP/h.toml"
	base_threads=${DV_BASE_THREADS:-${DYBERVPN_THREADS:-}}
	DYBERVPN_THREADS=$base_threads DV=$DV_BASE start_dv "$NS_G" "$TMP/g.toml" "$TMP/g.log" || exit 1
	DV_G=$LAST_PID
	DYBERVPN_THREADS=$base_threads DV=$DV_BASE start_dv "$NS_H" "$TMP/h.toml" "$TMP/h.log" || exit 1
	DV_H=$LAST_PID
	ping_ok "$NS_G" 10.99.0.2 >/dev/null || { echo "DV_BASE tunnel did not come up"; exit 1; }
	EXTRA+=("dybervpn(DV_BASE${DV_BASE_THREADS:+,threads=$DV_BASE_THREADS}) $NS_G $NS_H $DV_G $DV_H")
fi

cpu() { # PID...: user+sys clock ticks of each and its children (a sandboxed
	# dybervpn's daemon is the child of its monitor), all threads included
	local t=0 p q
	for p in "$@"; do
		for q in "$p" $(cat /proc/"$p"/task/*/children 2>/dev/null); do
			t=$((t + $(awk '{print $14 + $15}' "/proc/$q/stat" 2>/dev/null || echo 0)))
		done
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
	line="  run $i: dybervpn ${a:-0} Gbit/s   wireguard-go ${b:-0} Gbit/s"
	for k in "${!EXTRA[@]}"; do
		read -r name cns sns p1 p2 <<<"${EXTRA[$k]}"
		t0=$(cpu "$p1" "$p2")
		x=$(iperf_run "$sns" 10.99.0.2 "$cns" "$SECS")
		echo $(($(cpu "$p1" "$p2") - t0)) >>"$TMP/x$k.ticks"
		echo "${x:-0}" >>"$TMP/x$k"
		line="$line   $name ${x:-0} Gbit/s"
	done
	echo "$line"
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
for k in "${!EXTRA[@]}"; do
	read -r name cns sns p1 p2 <<<"${EXTRA[$k]}"
	m_x=$(median <"$TMP/x$k")
	ticks=$(awk '{s += $1} END {print s + 0}' "$TMP/x$k.ticks")
	gb=$(awk -v t="$SECS" '{s += $1 * t / 8} END {print s + 0}' "$TMP/x$k")
	echo "median: $name $m_x Gbit/s; dybervpn / $name $(awk -v a="$m_dv" -v b="$m_x" 'BEGIN{printf "%.2f", (b > 0 ? a / b : 0)}')x; CPU per GB $(awk -v t="$ticks" -v h="$hz" -v g="$gb" 'BEGIN{printf "%.2f", (g > 0 ? t / h / g : 0)}') s; ping RTT $(rtt "$cns" 10.99.0.2) ms"
done
