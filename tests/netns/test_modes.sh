#!/usr/bin/env bash
# Mode enforcement end to end:
# - a mode mismatch (A speaks hybrid to B, B expects classic from A) gives no
#   tunnel and a counted refusal on B: no silent downgrade;
# - a wrong ML-DSA public key in pqonly mode gives no tunnel and a counted
#   refusal;
# - one server with three peers in three different modes at once:
#
#   ns S (dvts: 10.98.0.1/24) --veth 192.0.2.0/24-- ns C1 (classic, 10.98.0.11)
#                              --veth 198.51.100.0/24-- ns C2 (hybrid, 10.98.0.12)
#                              --veth 203.0.113.0/24-- ns C3 (pqonly, 10.98.0.13)
. "$(dirname "$0")/lib.sh"
need_root

# refused NS IFACE: the refused-handshake count `dybervpn status --json` shows
# for the (single) peer.
refused() {
	"$DV" status "$2" --json | tr -d ' \n' | grep -o '"refused_handshakes":[0-9]*' | head -n 1 | cut -d: -f2
}

check "set up namespaces" setup_pair

say "-- mode mismatch: A hybrid, B expects classic from A"
genkeys a classic && genkeys b classic
write_iface "$TMP/a.toml" dvta "$a_priv" 51820 hybrid 10.99.0.1/24
add_peer "$TMP/a.toml" "$b_pub" 192.0.2.2:51821 10.99.0.2/32
write_iface "$TMP/b.toml" dvtb "$b_priv" 51821 classic 10.99.0.2/24
add_peer "$TMP/b.toml" "$a_pub" 192.0.2.1:51820 10.99.0.1/32
check "start A (hybrid)" start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log"
PID_A=$LAST_PID
check "start B (classic)" start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log"
PID_B=$LAST_PID
check_not "no tunnel across a mode mismatch" in_ns "$NS_A" ping -c 2 -i 0.5 -W 1 -w 3 10.99.0.2
n=$(refused "$NS_B" dvtb)
check "B counted the refused handshake (${n:-none})" test "${n:-0}" -ge 1
hs=$(wg_field "$NS_B" dvtb latest-handshakes)
check "B has no handshake with A" test "${hs:-0}" -eq 0
stop_pid "$PID_A"
stop_pid "$PID_B"

say "-- pqonly with a wrong ML-DSA public key"
genkeys a pqonly && genkeys b pqonly && genkeys x pqonly
MLDSA_PRIV=$a_mldsa_priv write_iface "$TMP/a.toml" dvta "$a_priv" 51820 pqonly 10.99.0.1/24
PEER_MLDSA_PUB=$b_mldsa_pub add_peer "$TMP/a.toml" "$b_pub" 192.0.2.2:51821 10.99.0.2/32
MLDSA_PRIV=$b_mldsa_priv write_iface "$TMP/b.toml" dvtb "$b_priv" 51821 pqonly 10.99.0.2/24
PEER_MLDSA_PUB=$x_mldsa_pub add_peer "$TMP/b.toml" "$a_pub" 192.0.2.1:51820 10.99.0.1/32
check "start A (pqonly)" start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log"
PID_A=$LAST_PID
check "start B (pqonly, wrong ML-DSA key for A)" start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log"
PID_B=$LAST_PID
check_not "no tunnel with a wrong ML-DSA key" in_ns "$NS_A" ping -c 2 -i 0.5 -W 1 -w 3 10.99.0.2
n=$(refused "$NS_B" dvtb)
check "B counted the refused handshake (${n:-none})" test "${n:-0}" -ge 1
stop_pid "$PID_A"
stop_pid "$PID_B"

say "-- one server, three peers in three modes"
NS_S=dvt-s-$SUFFIX
make_ns "$NS_S"
genkeys s pqonly
MLDSA_PRIV=$s_mldsa_priv write_iface "$TMP/s.toml" dvts "$s_priv" 51830 hybrid 10.98.0.1/24
i=0
for spec in "classic 192.0.2 " "hybrid 198.51.100" "pqonly 203.0.113"; do
	set -- $spec
	i=$((i + 1))
	mode=$1 net=$2 ns=dvt-c$i-$SUFFIX
	make_ns "$ns"
	link_ns "$NS_S" dvs$i "$net.1" "$ns" dvc$i "$net.2"
	genkeys c$i "$mode"
	eval "cpriv=\$c${i}_priv cpub=\$c${i}_pub cmpriv=\${c${i}_mldsa_priv:-} cmpub=\${c${i}_mldsa_pub:-}"
	PEER_MODE=$mode PEER_MLDSA_PUB=$cmpub add_peer "$TMP/s.toml" "$cpub" - "10.98.0.1$i/32"
	MLDSA_PRIV=$cmpriv write_iface "$TMP/c$i.toml" dvtc$i "$cpriv" 51840 "$mode" "10.98.0.1$i/24"
	PEER_MLDSA_PUB=$([ "$mode" = pqonly ] && echo "$s_mldsa_pub") \
		add_peer "$TMP/c$i.toml" "$s_pub" "$net.1:51830" 10.98.0.1/32
done
check "start the server (3 peers)" start_dv "$NS_S" "$TMP/s.toml" "$TMP/s.log"
for i in 1 2 3; do
	check "start client $i" start_dv "dvt-c$i-$SUFFIX" "$TMP/c$i.toml" "$TMP/c$i.log"
done
i=0
for mode in classic hybrid pqonly; do
	i=$((i + 1))
	check "client $i ($mode) -> server" ping_ok "dvt-c$i-$SUFFIX" 10.98.0.1
	check "server -> client $i ($mode)" ping_ok "$NS_S" "10.98.0.1$i"
done
check "the daemon runs with no_new_privs" sh -c "grep -q '^NoNewPrivs:[[:space:]]*1' /proc/\$(cat /run/dybervpn/dvts.pid)/status"
check "status lists the three modes" sh -c "'$DV' status dvts > '$TMP/st' && grep -q classic '$TMP/st' && grep -q hybrid '$TMP/st' && grep -q pqonly '$TMP/st'"
finish
