#!/usr/bin/env bash
# The main job in one command: a real DyberVPN tunnel in the default hybrid
# mode (X25519 + ML-KEM-768) between two network namespaces on this machine.
# Builds what is needed, generates keys, brings both ends up, shows the
# handshake, pings through the tunnel both ways, runs a short iperf3
# throughput test, then removes everything it created.
# Usage: sudo scripts/demo.sh
set -u
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (it creates network namespaces); run: sudo $0" >&2
	exit 1
fi
scripts/deps.sh all || exit 1
echo "== building"
make -s -j"$(nproc)" build/dybervpn || exit 1
. tests/netns/lib.sh

step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "two network namespaces joined by a veth pair: $NS_A (192.0.2.1) and $NS_B (192.0.2.2)"
setup_pair || exit 1
step "keys: dybervpn genkey (hybrid mode needs only X25519 static keys)"
pair_configs hybrid || exit 1
sed 's/^\(private_key = \).*/\1"<hidden>"/' "$TMP/a.toml"
step "bringing up both ends (dybervpn up -f -c CONFIG, one per namespace)"
start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log" || exit 1
start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log" || exit 1
echo "dvta in $NS_A and dvtb in $NS_B are up"
step "ping through the tunnel (the first packet triggers the hybrid handshake)"
run ip netns exec "$NS_A" ping -c 3 -i 0.2 -w 8 10.99.0.2 || exit 1
run ip netns exec "$NS_B" ping -c 3 -i 0.2 -w 8 fd99::1 || exit 1
step "status: the handshake, its mode and the traffic"
run "$DV" status dvta
step "the stock WireGuard tool reads our daemon too"
run wg show dvta
step "throughput: iperf3 TCP for 3 s through the tunnel"
bw=$(iperf_run "$NS_B" 10.99.0.2 "$NS_A" 3)
echo "A -> B: ${bw:-?} Gbit/s"
step "cleaning up: daemons stopped, namespaces removed"
cleanup
trap - EXIT
echo "done"
