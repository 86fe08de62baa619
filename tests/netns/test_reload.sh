#!/usr/bin/env bash
# Changing a running interface without dropping sessions:
# - `up NAME` finds NAME.toml in $DYBERVPN_CONFIG_DIR;
# - SIGHUP after the file changed one peer's allowed IPs and added a third
#   peer: the first peer keeps its session (no new handshake, counters
#   kept) and its traffic, the new route is there, the new peer pings;
# - `dybervpn reload` of a broken file changes nothing and exits non-zero
#   naming file:line;
# - a listen-port change by reload, the peer following it;
# - removing a peer, an allowed IP and an address by reload takes them and
#   their routes away.
#
#   ns A (dvraN, 10.99.0.1) --- 192.0.2.0/24 --- ns B (dvrbN, 10.99.0.2)
#        \--- 198.51.100.0/24 --- ns C (dvrcN, 10.99.0.3)
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"
need_root
# Interface names of this run only (the socket directory is shared).
IA=dvra$((SUFFIX % 100000))
IB=dvrb$((SUFFIX % 100000))
IC=dvrc$((SUFFIX % 100000))
NS_C=dvt-c-$SUFFIX
ETC=$TMP/etc
mkdir -p "$ETC"

check "set up namespaces" setup_pair
check "third namespace" make_ns "$NS_C"
check "link A <-> C" link_ns "$NS_A" dva1 198.51.100.1 "$NS_C" dvc0 198.51.100.2

genkeys a pqonly && genkeys b hybrid && genkeys c pqonly && genkeys d classic
# A has an ML-DSA key for later pqonly use; its peers start hybrid/classic.
a_conf() { # a_conf PORT B_ALLOWED... : A's config, peer C added when WITH_C=1
	local port=$1
	shift
	MLDSA_PRIV=$a_mldsa_priv write_iface "$ETC/${IA}.toml" ${IA} "$a_priv" "$port" hybrid 10.99.0.1/24 fd99::1/64
	add_peer "$ETC/${IA}.toml" "$b_pub" 192.0.2.2:51821 "$@"
	if [ "${WITH_C:-0}" = 1 ]; then
		PEER_MODE=classic add_peer "$ETC/${IA}.toml" "$c_pub" 198.51.100.2:51822 10.99.0.3/32
	fi
}
a_conf 51820 10.99.0.2/32 fd99::2/128
write_iface "$TMP/b.toml" ${IB} "$b_priv" 51821 hybrid 10.99.0.2/24 fd99::2/64
add_peer "$TMP/b.toml" "$a_pub" 192.0.2.1:51820 10.99.0.0/24 fd99::1/128 10.98.2.1/32
in_ns "$NS_B" ip addr add 10.98.2.1/32 dev lo
MLDSA_PRIV=$c_mldsa_priv write_iface "$TMP/c.toml" ${IC} "$c_priv" 51822 classic 10.99.0.3/24
add_peer "$TMP/c.toml" "$a_pub" 198.51.100.1:51820 10.99.0.0/24

# A comes up by name, from the config directory.
# (Its threads come from the file, for the reload of `threads` below.)
ip netns exec "$NS_A" env -u DYBERVPN_THREADS DYBERVPN_CONFIG_DIR="$ETC" "$DV" up -f ${IA} >"$TMP/a.log" 2>&1 &
A_PID=$!
PIDS+=("$A_PID")
a_up() { kill -0 "$A_PID" && in_ns "$NS_A" ip link show ${IA} && in_ns "$NS_A" wg show ${IA}; }
check "up NAME finds \$DYBERVPN_CONFIG_DIR/NAME.toml" wait_for 15 a_up
check "start B" start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log"
check "start C" start_dv "$NS_C" "$TMP/c.toml" "$TMP/c.log"

check "ping A -> B" ping_ok "$NS_A" 10.99.0.2
hs_b=$(in_ns "$NS_A" wg show ${IA} latest-handshakes | awk -v k="$b_pub" '$1 == k {print $2}')
rx_b=$(in_ns "$NS_A" wg show ${IA} transfer | awk -v k="$b_pub" '$1 == k {print $2}')
check "a handshake with B (${hs_b:-none})" test "${hs_b:-0}" -gt 0
check "C not yet a peer: no tunnel to it" test -z "$(in_ns "$NS_A" wg show ${IA} peers | grep -F "$c_pub")"

say "-- SIGHUP: B gets 10.98.2.0/24 too, C is added, nobody removed"
sleep 1.2 # handshake times have whole seconds: a new one would show
WITH_C=1 a_conf 51820 10.99.0.2/32 fd99::2/128 10.98.2.0/24
kill -HUP "$A_PID"
check "the new peer C appears" wait_for 10 sh -c "ip netns exec '$NS_A' wg show ${IA} peers | grep -qF '$c_pub'"
check "B's allowed IPs now hold 10.98.2.0/24" sh -c "ip netns exec '$NS_A' wg show ${IA} allowed-ips | grep -F '$b_pub' | grep -q 10.98.2.0/24"
check "the route to 10.98.2.0/24 goes through ${IA}" sh -c "ip netns exec '$NS_A' ip route show 10.98.2.0/24 | grep -q ${IA}"
check "traffic to B still flows" ping_ok "$NS_A" 10.99.0.2
check "traffic to B's new prefix flows" ping_ok "$NS_A" 10.98.2.1
hs_b2=$(in_ns "$NS_A" wg show ${IA} latest-handshakes | awk -v k="$b_pub" '$1 == k {print $2}')
rx_b2=$(in_ns "$NS_A" wg show ${IA} transfer | awk -v k="$b_pub" '$1 == k {print $2}')
check "B kept its session: no new handshake ($hs_b -> $hs_b2)" test "${hs_b2:-x}" = "$hs_b"
check "B kept its counters (rx $rx_b -> $rx_b2)" test "${rx_b2:-0}" -gt "${rx_b:-0}"
check "the new peer C pings" ping_ok "$NS_A" 10.99.0.3
check "the daemon logged the reload" grep -q "reloaded $ETC/${IA}.toml: 1 peer added, 0 removed, 1 kept" "$TMP/a.log"

say "-- a broken file changes nothing"
cp "$ETC/${IA}.toml" "$TMP/good.toml"
peers_before=$(in_ns "$NS_A" wg show ${IA} peers | sort)
aips_before=$(in_ns "$NS_A" wg show ${IA} allowed-ips | sort)
sleep 1.2
# Drop C, and break a key on the last line: nothing of it may apply.
a_conf 51820 10.99.0.2/32
echo 'persistent_keepalive = "often"' >>"$ETC/${IA}.toml"
bad_line=$(wc -l <"$ETC/${IA}.toml")
in_ns "$NS_A" "$DV" reload ${IA} >"$TMP/reload.out" 2>"$TMP/reload.err"
rc=$?
check "reload of a broken file exits non-zero (rc=$rc)" test "$rc" -ne 0
check "its message names file:line ($(head -c 200 "$TMP/reload.err"))" grep -qF "$ETC/${IA}.toml:$bad_line:" "$TMP/reload.err"
check "peers unchanged" test "$(in_ns "$NS_A" wg show ${IA} peers | sort)" = "$peers_before"
check "allowed IPs unchanged" test "$(in_ns "$NS_A" wg show ${IA} allowed-ips | sort)" = "$aips_before"
check "traffic to B and C flows" sh -c "ip netns exec '$NS_A' ping -c 2 -i 0.2 -W 2 -w 6 10.99.0.2 && ip netns exec '$NS_A' ping -c 2 -i 0.2 -W 2 -w 6 10.99.0.3"
hs_b3=$(in_ns "$NS_A" wg show ${IA} latest-handshakes | awk -v k="$b_pub" '$1 == k {print $2}')
check "B's handshake unchanged ($hs_b -> $hs_b3)" test "${hs_b3:-x}" = "$hs_b"
check "the daemon logged the refusal" grep -q "reload refused, nothing changed: $ETC/${IA}.toml:$bad_line:" "$TMP/a.log"
check_not "reload of an interface that is not running fails" "$DV" reload dvtnone

say "-- reload: a new listen port"
WITH_C=1 a_conf 51830 10.99.0.2/32 fd99::2/128 10.98.2.0/24
check "reload exits 0" in_ns "$NS_A" "$DV" reload ${IA}
check "A listens on 51830" test "$(in_ns "$NS_A" wg show ${IA} listen-port)" = 51830
check "traffic to B flows from the new port" ping_ok "$NS_A" 10.99.0.2
check "B follows A to port 51830" sh -c "ip netns exec '$NS_B' wg show ${IB} endpoints | grep -q ':51830'"
hs_b4=$(in_ns "$NS_A" wg show ${IA} latest-handshakes | awk -v k="$b_pub" '$1 == k {print $2}')
check "B's session survived the port change ($hs_b -> $hs_b4)" test "${hs_b4:-x}" = "$hs_b"

say "-- reload: C removed, an allowed IP removed, an address added and one removed"
a_conf 51830 10.99.0.2/32
sed -i 's|^address = .*|address = ["10.99.0.1/24", "10.97.0.1/24"]|' "$ETC/${IA}.toml"
check "reload exits 0" in_ns "$NS_A" "$DV" reload ${IA}
check "C is gone" test -z "$(in_ns "$NS_A" wg show ${IA} peers | grep -F "$c_pub")"
check "address 10.97.0.1/24 added" sh -c "ip netns exec '$NS_A' ip -4 addr show dev ${IA} | grep -q 10.97.0.1/24"
check "address fd99::1/64 removed" sh -c "! ip netns exec '$NS_A' ip -6 addr show dev ${IA} | grep -q fd99::1/64"
check "the route to 10.98.2.0/24 went with B's allowed IP" sh -c "! ip netns exec '$NS_A' ip route show dev ${IA} | grep -q 10.98.2.0/24"
check "the kernel's route of 10.99.0.1/24 stays" sh -c "ip netns exec '$NS_A' ip route show dev ${IA} | grep -q '^10.99.0.0/24'"
check "traffic to B still flows" ping_ok "$NS_A" 10.99.0.2

say "-- reload: a peer whose endpoint is a host name (resolved by the daemon)"
a_conf 51830 10.99.0.2/32
add_peer "$ETC/${IA}.toml" "$d_pub" localhost:9 10.99.0.4/32
check "reload exits 0" in_ns "$NS_A" "$DV" reload ${IA}
check "the peer's endpoint is localhost's address" sh -c "ip netns exec '$NS_A' wg show ${IA} endpoints | grep -F '$d_pub' | grep -Eq '127.0.0.1:9|\[::1\]:9'"
check "traffic to B flows" ping_ok "$NS_A" 10.99.0.2

say "-- reload: the MTU; a new name is refused"
a_conf 51830 10.99.0.2/32
sed -i 's/^listen_port = .*/&\nmtu = 1380/' "$ETC/${IA}.toml"
check "reload exits 0" in_ns "$NS_A" "$DV" reload ${IA}
check "${IA}'s MTU is 1380" sh -c "ip netns exec '$NS_A' ip link show ${IA} | grep -q 'mtu 1380'"
check "traffic to B flows" ping_ok "$NS_A" 10.99.0.2
sed -i 's/^name = .*/name = "dvrz"/' "$ETC/${IA}.toml"
in_ns "$NS_A" "$DV" reload ${IA} 2>"$TMP/reload.err"
rc=$?
check "renaming is refused (rc=$rc): $(head -c 160 "$TMP/reload.err")" sh -c "test $rc = 1 && grep -qF ':2: key' '$TMP/reload.err' && grep -qF '$ETC/${IA}.toml' '$TMP/reload.err' && grep -q restart '$TMP/reload.err'"
check "the MTU stayed" sh -c "ip netns exec '$NS_A' ip link show ${IA} | grep -q 'mtu 1380'"

say "-- reload: the crypto threads"
a_conf 51830 10.99.0.2/32
sed -i 's/^listen_port = .*/&\nthreads = 3/' "$ETC/${IA}.toml"
check "reload exits 0" in_ns "$NS_A" "$DV" reload ${IA}
check "the daemon now runs 3 crypto threads" grep -q "3 crypto threads" "$TMP/a.log"
check "traffic to B flows" ping_ok "$NS_A" 10.99.0.2
sed -i 's/^threads = 3/threads = 1/' "$ETC/${IA}.toml"
check "reload exits 0" in_ns "$NS_A" "$DV" reload ${IA}
check "then 1" grep -q "1 crypto thread$" "$TMP/a.log"
check "traffic to B flows" ping_ok "$NS_A" 10.99.0.2

say "-- reload: B becomes the default route, and back"
a_conf 51830 0.0.0.0/0
check "reload exits 0" in_ns "$NS_A" "$DV" reload ${IA}
check "a full tunnel: the default route in a table of its own, through ${IA}" sh -c "ip netns exec '$NS_A' ip route show table all dev ${IA} | grep -q '^default table 5182'"
check "its rule: not fwmark T lookup T" sh -c "ip netns exec '$NS_A' ip rule | grep -q 'not from all fwmark .* lookup 5182'"
check "B's endpoint stays outside the tunnel (the socket's marked packets)" sh -c \
	"m=\$(ip netns exec '$NS_A' wg show ${IA} fwmark); [ -n \"\$m\" ] && [ \"\$m\" != off ] || m=\$(ip netns exec '$NS_A' ip rule | sed -n 's/.*not from all fwmark \\([^ ]*\\) lookup.*/\\1/p' | head -n 1); ip netns exec '$NS_A' ip route get 192.0.2.2 mark \"\$m\" | grep -q dva0"
check "traffic to B flows" ping_ok "$NS_A" 10.99.0.2
a_conf 51830 10.99.0.2/32
check "reload exits 0" in_ns "$NS_A" "$DV" reload ${IA}
check "the full tunnel's route is gone" sh -c "! ip netns exec '$NS_A' ip route show table all dev ${IA} | grep -q '^default'"
check "its rules are gone" sh -c "! ip netns exec '$NS_A' ip rule | grep -q 'proto 100'"
check "traffic to B flows" ping_ok "$NS_A" 10.99.0.2
check "the daemon is still running" kill -0 "$A_PID"
finish
