#!/usr/bin/env bash
# Classic mode end to end: dybervpn <-> dybervpn, then dybervpn <-> Debian's
# wireguard-go (configured with Debian's wg), each side as initiator.
# Topology and helpers: lib.sh. Checks ping both ways over IPv4 and IPv6
# inner addresses, iperf3 both ways, `wg show` on our daemon, roaming, and
# `down` leaving no interface, route, socket or PID file behind.
. "$(dirname "$0")/lib.sh"
need_root
check "set up namespaces" setup_pair
check "generate keys and configs" pair_configs classic

say "-- dybervpn <-> dybervpn (classic)"
check "start dybervpn in A" start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log"
PID_A=$LAST_PID
check "start dybervpn in B" start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log"
PID_B=$LAST_PID
check "ping A -> B over IPv4 (A initiates)" ping_ok "$NS_A" 10.99.0.2
check "ping B -> A over IPv4" ping_ok "$NS_B" 10.99.0.1
check "ping A -> B over IPv6" ping_ok "$NS_A" fd99::2
check "ping B -> A over IPv6" ping_ok "$NS_B" fd99::1

hs=$(wg_field "$NS_A" dvta latest-handshakes)
now=$(date +%s)
check "wg show: peer listed with a recent handshake" test "${hs:-0}" -gt $((now - 60))
check "wg show: the peer's public key" sh -c "wg show dvta peers | grep -qF '$b_pub'"
rx1=$(wg_field "$NS_A" dvta transfer)
ping_ok "$NS_A" 10.99.0.2 >/dev/null
rx2=$(wg_field "$NS_A" dvta transfer)
check "wg show: byte counters grow ($rx1 -> $rx2)" test "${rx2:-0}" -gt "${rx1:-0}"

check "wg set: change the peer's keepalive on our daemon" \
	sh -c "wg set dvta peer '$b_pub' persistent-keepalive 25 && wg show dvta persistent-keepalive | grep -q '25'"
check "wg showconf: our daemon's config, with the change" \
	sh -c "wg showconf dvta | grep -q 'PersistentKeepalive = 25'"

bw=$(iperf_run "$NS_B" 10.99.0.2 "$NS_A" 3)
check "iperf3 TCP A -> B: ${bw:-none} Gbit/s" test -n "$bw"
bw=$(iperf_run "$NS_A" 10.99.0.1 "$NS_B" 3)
check "iperf3 TCP B -> A: ${bw:-none} Gbit/s" test -n "$bw"

# Roaming: B's outer address changes; A follows the last authenticated packet.
# (promote_secondaries keeps .3 when the primary .2 is removed)
in_ns "$NS_B" sysctl -qw net.ipv4.conf.dvb0.promote_secondaries=1
in_ns "$NS_B" ip addr add 192.0.2.3/24 dev dvb0
in_ns "$NS_B" ip addr del 192.0.2.2/24 dev dvb0
check "roaming: B -> A still works from a new address" ping_ok "$NS_B" 10.99.0.1
check "roaming: A's endpoint for B is now 192.0.2.3:51821" \
	sh -c "wg show dvta endpoints | grep -q '192.0.2.3:51821'"
check "roaming: A -> B follows" ping_ok "$NS_A" 10.99.0.2
in_ns "$NS_B" ip addr add 192.0.2.2/24 dev dvb0
stop_pid "$PID_A"
stop_pid "$PID_B"

say "-- up (daemonized) and down"
check "dybervpn up daemonizes and returns" in_ns "$NS_A" "$DV" up -c "$TMP/a.toml"
daemon_pid=$(cat /run/dybervpn/dvta.pid 2>/dev/null)
[ -n "$daemon_pid" ] && PIDS+=("$daemon_pid")
check "PID file names a running daemon" kill -0 "${daemon_pid:-0}"
check "interface dvta exists" in_ns "$NS_A" ip link show dvta
check "route to the peer's allowed IPs exists" sh -c "ip -n $NS_A -6 route | grep -q 'fd99::2 dev dvta' || ip -n $NS_A -6 route | grep -q 'fd99::/64 dev dvta'"
check "dybervpn down dvta" "$DV" down dvta
check_not "daemon gone" kill -0 "${daemon_pid:-0}"
check_not "interface gone" in_ns "$NS_A" ip link show dvta
check_not "routes gone" sh -c "{ ip -n $NS_A route; ip -n $NS_A -6 route; } | grep -q dvta"
check_not "control socket gone" test -e /var/run/wireguard/dvta.sock
check_not "PID file gone" test -e /run/dybervpn/dvta.pid
check_not "UDP port 51820 closed" sh -c "ip netns exec $NS_A ss -Huln 'sport = :51820' | grep -q ."
check_not "down of an interface that is not up fails" "$DV" down dvta

say "-- dybervpn <-> wireguard-go, each side initiating"
cat >"$TMP/b.wg" <<WG
[Interface]
PrivateKey = $b_priv
ListenPort = 51821

[Peer]
PublicKey = $a_pub
AllowedIPs = 10.99.0.1/32, fd99::1/128
Endpoint = 192.0.2.1:51820
WG
for initiator in dybervpn wireguard-go; do
	check "start dybervpn in A" start_dv "$NS_A" "$TMP/a.toml" "$TMP/a2.log"
	PID_A=$LAST_PID
	check "start wireguard-go in B" start_wggo "$NS_B" dvtb "$TMP/b.wg" 10.99.0.2/24 fd99::2/64 10.99.0.1/32 fd99::1/128
	PID_B=$LAST_PID
	if [ $initiator = dybervpn ]; then
		check "ping dybervpn -> wireguard-go (dybervpn initiates)" ping_ok "$NS_A" 10.99.0.2
		check "ping wireguard-go -> dybervpn" ping_ok "$NS_B" 10.99.0.1
	else
		check "ping wireguard-go -> dybervpn (wireguard-go initiates)" ping_ok "$NS_B" 10.99.0.1
		check "ping dybervpn -> wireguard-go" ping_ok "$NS_A" 10.99.0.2
	fi
	check "IPv6 dybervpn -> wireguard-go" ping_ok "$NS_A" fd99::2
	check "IPv6 wireguard-go -> dybervpn" ping_ok "$NS_B" fd99::1
	bw=$(iperf_run "$NS_B" 10.99.0.2 "$NS_A" 3)
	check "iperf3 dybervpn -> wireguard-go: ${bw:-none} Gbit/s" test -n "$bw"
	bw=$(iperf_run "$NS_A" 10.99.0.1 "$NS_B" 3)
	check "iperf3 wireguard-go -> dybervpn: ${bw:-none} Gbit/s" test -n "$bw"
	hs=$(in_ns "$NS_B" wg show dvtb latest-handshakes | awk '{print $2}')
	check "wireguard-go reports a handshake with us" test "${hs:-0}" -gt 0
	stop_pid "$PID_A"
	stop_pid "$PID_B"
done
finish
