#!/usr/bin/env bash
# `dybervpn set`: `wg set` syntax plus a peer's mode and ML-DSA public key,
# over the control socket, on running interfaces:
# - a running classic peer becomes pqonly with its ML-DSA key, on both
#   sides; its next handshake is pqonly (a new handshake, none refused);
# - allowed-ips, persistent-keepalive, listen-port, preshared-key, remove;
# - a refused request (pqonly without an ML-DSA key) exits non-zero with
#   the daemon's errno and changes nothing; bad words are usage errors.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"
need_root
# Interface names of this run only (the socket directory is shared).
IA=dvsa$((SUFFIX % 100000))
IB=dvsb$((SUFFIX % 100000))
check "set up namespaces" setup_pair
# Keys for pqonly (each side has an ML-DSA key pair), tunnel in classic.
genkeys a pqonly && genkeys b pqonly
MLDSA_PRIV=$a_mldsa_priv write_iface "$TMP/a.toml" ${IA} "$a_priv" 51820 classic 10.99.0.1/24
add_peer "$TMP/a.toml" "$b_pub" 192.0.2.2:51821 10.99.0.2/32
MLDSA_PRIV=$b_mldsa_priv write_iface "$TMP/b.toml" ${IB} "$b_priv" 51821 classic 10.99.0.2/24
add_peer "$TMP/b.toml" "$a_pub" 192.0.2.1:51820 10.99.0.1/32
printf '%s\n' "$a_mldsa_pub" >"$TMP/a.mldsa.pub"
printf '%s\n' "$b_mldsa_pub" >"$TMP/b.mldsa.pub"

check "start A" start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log"
check "start B" start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log"
check "classic tunnel: ping A -> B" ping_ok "$NS_A" 10.99.0.2

# json_peer NS IFACE FIELD: a field of the (only) peer in `status --json`.
json_peer() {
	in_ns "$1" "$DV" status "$2" --json | python3 -c '
import json, sys
p = json.load(sys.stdin)["interfaces"][0]["peers"][0]
print(p[sys.argv[1]])' "$3"
}
check "A sees B as classic" test "$(json_peer "$NS_A" ${IA} mode)" = classic
hs1=$(wg_field "$NS_A" ${IA} latest-handshakes)

say "-- classic -> pqonly, both sides, by dybervpn set"
sleep 1.2 # handshake times have whole seconds
check "set A's peer B: mode pqonly, its ML-DSA key" \
	in_ns "$NS_A" "$DV" set ${IA} peer "$b_pub" mode pqonly mldsa-public-key "$TMP/b.mldsa.pub"
check "set B's peer A: mode pqonly, its ML-DSA key" \
	in_ns "$NS_B" "$DV" set ${IB} peer "$a_pub" mldsa-public-key "$TMP/a.mldsa.pub" mode pqonly
check "A sees B as pqonly" test "$(json_peer "$NS_A" ${IA} mode)" = pqonly
check "B sees A as pqonly" test "$(json_peer "$NS_B" ${IB} mode)" = pqonly
# uapi_get IFACE: the control socket's get=1 answer (extension keys too).
uapi_get() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect("/var/run/wireguard/%s.sock" % sys.argv[1])
s.sendall(b"get=1\n\n")
buf = b""
while not buf.endswith(b"\n\n"):
    d = s.recv(65536)
    if not d:
        break
    buf += d
sys.stdout.write(buf.decode())' "$1"
}
b_mldsa_hex=$(printf '%s' "$b_mldsa_pub" | base64 -d | od -An -v -tx1 | tr -d ' \n')
a_mldsa_hex=$(printf '%s' "$a_mldsa_pub" | base64 -d | od -An -v -tx1 | tr -d ' \n')
check "A holds B's ML-DSA public key (control socket)" grep -qx "mldsa_public_key=$b_mldsa_hex" <(uapi_get ${IA})
check "B holds A's ML-DSA public key" grep -qx "mldsa_public_key=$a_mldsa_hex" <(uapi_get ${IB})
check "traffic flows in pqonly" ping_ok "$NS_A" 10.99.0.2
hs2=$(wg_field "$NS_A" ${IA} latest-handshakes)
check "a new handshake ($hs1 -> $hs2): the classic session ended" test "${hs2:-0}" -gt "${hs1:-0}"
check "no handshake refused by A ($(json_peer "$NS_A" ${IA} refused_handshakes))" test "$(json_peer "$NS_A" ${IA} refused_handshakes)" = 0
check "no handshake refused by B ($(json_peer "$NS_B" ${IB} refused_handshakes))" test "$(json_peer "$NS_B" ${IB} refused_handshakes)" = 0
check "traffic flows back" ping_ok "$NS_B" 10.99.0.1

say "-- wg set syntax"
check "allowed-ips and persistent-keepalive" in_ns "$NS_A" "$DV" set ${IA} peer "$b_pub" allowed-ips "10.99.0.2/32, 10.96.0.0/24" persistent-keepalive 25
check "wg show: the allowed IPs" sh -c "ip netns exec '$NS_A' wg show ${IA} allowed-ips | grep -q '10.96.0.0/24'"
check "wg show: the keepalive" test "$(wg_field "$NS_A" ${IA} persistent-keepalive)" = 25
check "persistent-keepalive off" in_ns "$NS_A" "$DV" set ${IA} peer "$b_pub" persistent-keepalive off
check "wg show: keepalive off" test "$(wg_field "$NS_A" ${IA} persistent-keepalive)" = off
check "listen-port" in_ns "$NS_A" "$DV" set ${IA} listen-port 51825
check "wg show: the listen port" test "$(in_ns "$NS_A" wg show ${IA} listen-port)" = 51825
check "fwmark (hex, as wg takes it)" in_ns "$NS_A" "$DV" set ${IA} fwmark 0x33
check "wg show: the fwmark" test "$(in_ns "$NS_A" wg show ${IA} fwmark)" = 0x33
check "fwmark off" in_ns "$NS_A" "$DV" set ${IA} fwmark off
check "wg show: fwmark off" test "$(in_ns "$NS_A" wg show ${IA} fwmark)" = off
printf '%s\n' "$a_priv" >"$TMP/a.key"
hs3=$(wg_field "$NS_A" ${IA} latest-handshakes)
check "private-key (the same key)" in_ns "$NS_A" "$DV" set ${IA} private-key "$TMP/a.key"
check "the same private key keeps the session" sh -c "ip netns exec '$NS_A' ping -c 1 -W 2 10.99.0.2 >/dev/null && test \"\$(ip netns exec '$NS_A' wg show ${IA} latest-handshakes | awk '{print \$2}')\" = '$hs3'"
wg genpsk >"$TMP/psk"
check "preshared-key, both sides" sh -c "ip netns exec '$NS_A' '$DV' set ${IA} peer '$b_pub' preshared-key '$TMP/psk' && ip netns exec '$NS_B' '$DV' set ${IB} peer '$a_pub' preshared-key '$TMP/psk'"
check "wg show: a preshared key" test "$(wg_field "$NS_A" ${IA} preshared-keys)" != "(none)"
check "traffic flows" ping_ok "$NS_A" 10.99.0.2

say "-- refused and malformed requests change nothing"
genkeys c classic
before=$(in_ns "$NS_A" wg show ${IA} dump | cut -f1-4,6-9 | sort)
in_ns "$NS_A" "$DV" set ${IA} peer "$c_pub" mode pqonly allowed-ips 10.95.0.0/24 >"$TMP/set.out" 2>"$TMP/set.err"
rc=$?
check "a pqonly peer without its ML-DSA key is refused (rc=$rc)" test "$rc" = 1
check "the message gives the daemon's errno ($(head -c 160 "$TMP/set.err"))" grep -q "errno=22" "$TMP/set.err"
after=$(in_ns "$NS_A" wg show ${IA} dump | cut -f1-4,6-9 | sort)
check "nothing changed" test "$before" = "$after"
in_ns "$NS_A" "$DV" set ${IA} peer "$b_pub" bogus 1 >/dev/null 2>&1
rc=$?
check "an unknown word is a usage error (rc=$rc)" test "$rc" = 2
in_ns "$NS_A" "$DV" set ${IA} peer "$b_pub" mode fast >/dev/null 2>"$TMP/set.err"
rc=$?
check "an unknown mode is refused before sending (rc=$rc)" sh -c "test $rc = 1 && grep -q 'classic, hybrid or pqonly' '$TMP/set.err'"
in_ns "$NS_A" "$DV" set ${IA} peer "not-a-key" remove >/dev/null 2>"$TMP/set.err"
rc=$?
check "a bad public key is refused (rc=$rc)" test "$rc" = 1
check_not "an interface that does not run" "$DV" set dvtnone listen-port 1
check "traffic still flows" ping_ok "$NS_A" 10.99.0.2
check "remove a peer" in_ns "$NS_A" "$DV" set ${IA} peer "$b_pub" remove
check "wg show: no peer left" test -z "$(in_ns "$NS_A" wg show ${IA} peers)"
finish
