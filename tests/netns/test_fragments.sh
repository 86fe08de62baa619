#!/bin/bash
# Handshakes across a path that drops IP fragments (docs/PROTOCOL-fragments.md):
#
#   A (dva0) ---- R (dvr0a | dvr0b) ---- B (dvb0)        C (dvc0) ---- R (dvr0c)
#   192.0.2.1        forwards, MTU 1280,     198.51.100.2   203.0.113.x  (flooder)
#   2001:db8:1::1    drops IP fragments,     2001:db8:2::2
#                    GRO off
#
# Every link has an MTU of 1280. The router drops every IPv6 fragment and
# every IPv4 fragment (nft, before defragmentation could see them, with
# counters), and counts UDP datagrams above 1232 bytes of payload; GRO is
# off on its links and UDP segmentation offload off on A's and B's, so
# the router counts the datagrams as the daemons sent them. Over IPv6 and
# IPv4, in hybrid, pqonly and classic: the tunnel (MTU 1200) comes up and
# carries ping and iperf3, nothing was dropped as a fragment and nothing
# above 1232 bytes crossed. A control run with handshake_datagram_max =
# 4657 (every message whole, as protocol 1.0) shows the router does drop
# the fragments and no tunnel comes up. Then a flood of mac1-valid
# type-9 fragments from C (40 source addresses) while a pqonly tunnel
# runs: B's memory stays bounded, and A, restarted during the flood,
# completes a new handshake within 10 s.
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
NS_R=dvt-r-$SUFFIX
NS_C=dvt-c-$SUFFIX
# Interface names of this run only: a daemon another run left behind keeps
# its control socket, and names are shared by every namespace.
IF_A=dvfa$((SUFFIX % 100000))
IF_B=dvfb$((SUFFIX % 100000))

rnft() { in_ns "$NS_R" nft "$@"; }

setup_path() {
	make_ns "$NS_A" && make_ns "$NS_B" && make_ns "$NS_R" && make_ns "$NS_C" || return 1
	link_ns "$NS_A" dva0 192.0.2.1 "$NS_R" dvr0a 192.0.2.254 2001:db8:1::1 2001:db8:1::fe &&
		link_ns "$NS_B" dvb0 198.51.100.2 "$NS_R" dvr0b 198.51.100.254 2001:db8:2::2 2001:db8:2::fe &&
		link_ns "$NS_C" dvc0 203.0.113.3 "$NS_R" dvr0c 203.0.113.254 || return 1
	local ns dev
	for ns in "$NS_A:dva0" "$NS_B:dvb0" "$NS_C:dvc0" "$NS_R:dvr0a" "$NS_R:dvr0b" "$NS_R:dvr0c"; do
		dev=${ns#*:}
		ns=${ns%%:*}
		in_ns "$ns" ip link set dev "$dev" mtu 1280 || return 1
		in_ns "$ns" ethtool -K "$dev" gro off >/dev/null 2>&1
		# Segment UDP in the sender's stack: a GSO super-packet would
		# cross the veth whole and look bigger at the router than the
		# datagrams it stands for.
		in_ns "$ns" ethtool -K "$dev" tx-udp-segmentation off >/dev/null 2>&1
	done
	in_ns "$NS_R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
	in_ns "$NS_A" ip route add default via 192.0.2.254 &&
		in_ns "$NS_A" ip -6 route add default via 2001:db8:1::fe &&
		in_ns "$NS_B" ip route add default via 198.51.100.254 &&
		in_ns "$NS_B" ip -6 route add default via 2001:db8:2::fe &&
		in_ns "$NS_C" ip route add default via 203.0.113.254 || return 1
	# Prerouting at -500 runs before defragmentation (-400) could join
	# fragments: each one is seen, counted and dropped.
	rnft -f - <<'NFT'
table inet dvfrag {
	counter frag6 { }
	counter frag4 { }
	counter big { }
	counter type9 { }
	chain pre {
		type filter hook prerouting priority -500; policy accept;
		udp length > 1240 counter name "big"
		udp length > 56 @th,64,8 9 counter name "type9"
		exthdr frag exists counter name "frag6" drop
		ip frag-off & 0x1fff != 0 counter name "frag4" drop
		ip frag-off & 0x2000 != 0 counter name "frag4" drop
	}
}
NFT
}

positive() { awk -v x="${1:-0}" 'BEGIN { exit !(x + 0 > 0) }'; }
counter() { rnft list counter inet dvfrag "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }
reset_counters() { rnft reset counters table inet dvfrag >/dev/null; }

# configs FAMILY MODE [BUDGET]: a.toml and b.toml, tunnel 10.99.0.0/24 at
# MTU 1200 (the 1280-byte path), endpoints over IPv4 or IPv6.
configs() {
	local fam=$1 mode=$2 budget=${3:-} epa epb
	if [ "$fam" = 6 ]; then
		epa="[2001:db8:1::1]:51820" epb="[2001:db8:2::2]:51821"
	else
		epa="192.0.2.1:51820" epb="198.51.100.2:51821"
	fi
	genkeys a "$mode" && genkeys b "$mode" || return 1
	MLDSA_PRIV=${a_mldsa_priv:-} write_iface "$TMP/a.toml" "$IF_A" "$a_priv" 51820 "$mode" 10.99.0.1/24
	MLDSA_PRIV=${b_mldsa_priv:-} write_iface "$TMP/b.toml" "$IF_B" "$b_priv" 51821 "$mode" 10.99.0.2/24
	for f in a b; do
		echo "mtu = 1200" >>"$TMP/$f.toml"
		if [ -n "$budget" ]; then echo "handshake_datagram_max = $budget" >>"$TMP/$f.toml"; fi
	done
	PEER_MLDSA_PUB=${b_mldsa_pub:-} add_peer "$TMP/a.toml" "$b_pub" "$epb" 10.99.0.2/32
	PEER_MLDSA_PUB=${a_mldsa_pub:-} add_peer "$TMP/b.toml" "$a_pub" "$epa" 10.99.0.1/32
}

start_pair() {
	start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log" && PID_A=$LAST_PID &&
		start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log" && PID_B=$LAST_PID
}

stop_pair() {
	stop_pid "${PID_A:-}"
	stop_pid "${PID_B:-}"
	PID_A= PID_B=
}

# run FAMILY MODE: one tunnel over the fragment-dropping path.
run() {
	local fam=$1 mode=$2 bw t9
	say "-- $mode over IPv$fam"
	reset_counters
	check "$mode/IPv$fam: configs (tunnel MTU 1200)" configs "$fam" "$mode"
	check "$mode/IPv$fam: start both daemons" start_pair
	check "$mode/IPv$fam: ping A -> B through the tunnel" ping_ok "$NS_A" 10.99.0.2
	check "$mode/IPv$fam: ping B -> A" ping_ok "$NS_B" 10.99.0.1
	check "$mode/IPv$fam: 1172-byte pings (full tunnel MTU) A -> B" \
		in_ns "$NS_A" ping -c 3 -i 0.2 -W 2 -w 8 -s 1172 -M do 10.99.0.2
	bw=$(iperf_run "$NS_B" 10.99.0.2 "$NS_A" 2)
	check "$mode/IPv$fam: iperf3 TCP A -> B: ${bw:-none} Gbit/s" positive "$bw"
	bw=$(iperf_run "$NS_A" 10.99.0.1 "$NS_B" 2)
	check "$mode/IPv$fam: iperf3 TCP B -> A: ${bw:-none} Gbit/s" positive "$bw"
	check "$mode/IPv$fam: no IPv6 fragment dropped at the router ($(counter frag6))" test "$(counter frag6)" = 0
	check "$mode/IPv$fam: no IPv4 fragment dropped at the router ($(counter frag4))" test "$(counter frag4)" = 0
	check "$mode/IPv$fam: no datagram above 1232 bytes of UDP payload ($(counter big))" test "$(counter big)" = 0
	t9=$(counter type9)
	if [ "$mode" = classic ]; then
		check "classic/IPv$fam: WireGuard on the wire, no handshake fragment ($t9)" test "$t9" = 0
	else
		check "$mode/IPv$fam: handshake fragments crossed ($t9)" test "$t9" -gt 0
	fi
	stop_pair
}

check "set up A - R - B (and C) with MTU 1280, fragments dropped" setup_path
for fam in 6 4; do
	for mode in hybrid pqonly classic; do
		run "$fam" "$mode"
	done
done

# The control: whole messages (protocol 1.0) leave as IP fragments, which
# the router drops: no tunnel. Shows the path does what this test needs.
say "-- control: pqonly over IPv6 with handshake_datagram_max = 4657"
reset_counters
check "control: configs" configs 6 pqonly 4657
check "control: start both daemons" start_pair
check_not "control: no tunnel when handshakes travel whole" \
	in_ns "$NS_A" ping -c 2 -i 0.5 -W 1 -w 4 10.99.0.2
check "control: the router dropped IPv6 fragments ($(counter frag6))" test "$(counter frag6)" -gt 0
check "control: and counted the datagrams above 1232 bytes ($(counter big))" test "$(counter big)" -gt 0
stop_pair

# The flood: C sends type-9 fragments with valid mac1 (B's public key is
# all it takes) from 40 addresses, about 4000 a second for at most 30 s,
# while a pqonly tunnel runs; A is restarted during it.
say "-- fragment flood against B (pqonly) from C"
cat >"$TMP/flood.py" <<'PY'
import base64, hashlib, os, socket, sys, time
pub = base64.b64decode(sys.argv[1])
dst, port, secs, rate = sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
srcs = sys.argv[6:]
key = hashlib.blake2s(b"mac1----" + pub).digest()
socks = []
for s in srcs:
    k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    k.bind((s, 0))
    socks.append(k)
total, count = 4657, 4          # a pqonly initiation in 4 fragments
L = 1232 - 48
sent, start = 0, time.monotonic()
while time.monotonic() - start < secs:
    for i in range(rate // 100):
        n = sent % count
        plen = L if n < count - 1 else total - (count - 1) * L
        hdr = bytes([9, 0, 0, 0]) + os.urandom(4) + bytes([7, n, count, 0]) + \
            total.to_bytes(2, "little") + (n * L).to_bytes(2, "little")
        body = hdr + os.urandom(plen)
        mac1 = hashlib.blake2s(body, key=key, digest_size=16).digest()
        socks[sent % len(socks)].sendto(body + mac1 + bytes(16), (dst, port))
        sent += 1
    time.sleep(0.01)
print(sent)
PY
# uapi_key IFACE KEY: a value of the daemon's get=1 answer (its own
# counters, which the stock wg does not show).
uapi_key() {
	python3 - "/var/run/wireguard/$1.sock" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"get=1\n\n")
d = b""
while not d.endswith(b"\n\n"):
    c = s.recv(65536)
    if not c:
        break
    d += c
for line in d.decode().splitlines():
    k, _, v = line.partition("=")
    if k == sys.argv[2]:
        print(v)
        break
PY
}
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
srcs=()
for i in $(seq 10 49); do
	in_ns "$NS_C" ip addr add "203.0.113.$i/24" dev dvc0
	srcs+=("203.0.113.$i")
done
reset_counters
check "flood: configs" configs 4 pqonly
check "flood: start both daemons" start_pair
check "flood: tunnel up before the flood" ping_ok "$NS_A" 10.99.0.2
rss0=$(rss "$PID_B")
in_ns "$NS_C" timeout 40 python3 "$TMP/flood.py" "$b_pub" 198.51.100.2 51821 30 4000 "${srcs[@]}" \
	>"$TMP/flood.out" 2>&1 &
FLOOD=$!
PIDS+=("$FLOOD")
sleep 5
rss1=$(rss "$PID_B")
check "flood: reaches B ($(counter type9) fragments so far)" test "$(counter type9)" -gt 1000
stop_pid "$PID_A"
start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log" && PID_A=$LAST_PID
t0=$(date +%s%N)
if wait_for 10 in_ns "$NS_A" ping -c 1 -W 1 10.99.0.2; then
	ok "flood: restarted A completes a handshake during the flood ($((($(date +%s%N) - t0) / 1000000)) ms)"
else
	bad "flood: restarted A completes a handshake during the flood (none within 10 s)"
fi
sleep 5
rss2=$(rss "$PID_B")
say "        B's RSS: ${rss0} kB before, ${rss1} kB after 5 s, ${rss2} kB after 10+ s of flood"
check "flood: B's RSS was read" test -n "$rss0" -a -n "$rss1" -a -n "$rss2"
check "flood: B's memory stays bounded (growth $((${rss2:-0} - ${rss0:-0})) kB < 4096 kB)" \
	test -n "$rss2" -a $((${rss2:-0} - ${rss0:-0})) -lt 4096
check "flood: B still running" kill -0 "$PID_B"
wait "$FLOOD" 2>/dev/null
cookies=$(uapi_key "$IF_B" cookie_replies_sent)
kept=$(uapi_key "$IF_B" fragments_received)
refused=$(uapi_key "$IF_B" dropped_fragment_refused)
joined=$(uapi_key "$IF_B" fragments_reassembled)
say "        B: ${kept:-?} fragments kept for reassembly, ${refused:-?} refused by it, ${joined:-?} messages reassembled, ${cookies:-?} cookie replies"
check "flood: it put B under load (cookie replies sent: ${cookies:-none})" positive "$cookies"
check "flood: B reassembled the real initiations (${joined:-none})" positive "$joined"
say "        flood: $(cat "$TMP/flood.out") fragments sent, $(counter type9) crossed the router"
stop_pair
finish
