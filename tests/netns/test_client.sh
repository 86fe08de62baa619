#!/usr/bin/env bash
# A road-warrior client, as wg-quick would set it up: full tunnel by policy
# routing (IPv4 and IPv6), a host reachable only through the server, the
# client's uplink moving to another link without a restart, `down` and a
# crash leaving nothing behind, hooks in order, a failing post_up, DNS
# inside the namespace, and the automatic MTU on a 1280-byte IPv6 path.
#
#   C (client) --uplink1 (dvc0/dvs0: 192.0.2.0/24, 2001:db8::/64)--- S (server) --- H (host)
#              --uplink2 (dvc1/dvs1: 203.0.113.0/24, 2001:db8:2::/64)-'  (dvs2/dvh0: 198.51.100.0/24,
#              --path1280 (dvc2/dvs3: 2001:db8:5::/64, MTU 1280)-----'   2001:db8:100::/64)
#
# The server's endpoint address 198.18.0.1 sits on its loopback, reached
# through whichever uplink the client's default route uses. H routes only
# the tunnel's prefixes back to S, so it answers only through the tunnel.
#
# DNS: `ip netns exec` binds /etc/netns/NS/resolv.conf over /etc/resolv.conf;
# the test creates that directory and removes it at cleanup. A resolvconf
# shim on PATH (the test's own, not Debian's) writes that file only when it
# is the namespace's bind mount, so the machine's /etc/resolv.conf is never
# written; what is exercised is our invocation of resolvconf and its undo.
. "$(dirname "$0")/lib.sh"
need_root
command -v nft >/dev/null || { say "this test needs nft (nftables)"; say "0 passed, 1 failed"; exit 1; }

NS_C=dvt-c-$SUFFIX
NS_S=dvt-s-$SUFFIX
NS_H=dvt-h-$SUFFIX
NETNS_ETC=/etc/netns/$NS_C
HOST_RESOLV_SUM=$(sha256sum /etc/resolv.conf 2>/dev/null | cut -d' ' -f1)

cleanup_client() {
	[ -n "${DAEMON_PIDS:-}" ] && for p in $DAEMON_PIDS; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$NETNS_ETC"
	cleanup
	rm -f /run/dybervpn/dvtc.state /run/dybervpn/dvtm.state
}
trap cleanup_client EXIT
DAEMON_PIDS=""

topology() {
	make_ns "$NS_C" && make_ns "$NS_S" && make_ns "$NS_H" || return 1
	link_ns "$NS_C" dvc0 192.0.2.1 "$NS_S" dvs0 192.0.2.2 2001:db8::1 2001:db8::2 || return 1
	link_ns "$NS_C" dvc1 203.0.113.1 "$NS_S" dvs1 203.0.113.2 2001:db8:2::1 2001:db8:2::2 || return 1
	link_ns "$NS_S" dvs2 198.51.100.1 "$NS_H" dvh0 198.51.100.2 2001:db8:100::1 2001:db8:100::2 || return 1
	ip link add dvc2 netns "$NS_C" mtu 1280 type veth peer name dvs3 netns "$NS_S" mtu 1280 || return 1
	in_ns "$NS_C" ip addr add 2001:db8:5::1/64 dev dvc2 nodad
	in_ns "$NS_S" ip addr add 2001:db8:5::2/64 dev dvs3 nodad
	in_ns "$NS_C" ip link set dvc2 up
	in_ns "$NS_S" ip link set dvs3 up
	# Uplink 2 starts without its client address: the client moves there later.
	in_ns "$NS_C" ip addr flush dev dvc1
	in_ns "$NS_S" ip addr add 198.18.0.1/32 dev lo
	in_ns "$NS_S" ip addr add 2001:db8:ff::1/128 dev lo
	in_ns "$NS_S" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	in_ns "$NS_C" ip route add default via 192.0.2.2
	in_ns "$NS_C" ip -6 route add default via 2001:db8::2
	in_ns "$NS_H" ip route add 10.99.0.0/24 via 198.51.100.1
	in_ns "$NS_H" ip -6 route add fd99::/64 via 2001:db8:100::1
}

# snapshot NS FILE: what policy routing and nftables hold in NS (routes
# sorted, link-local ones left out: re-enabling an uplink reorders them).
snapshot() {
	{
		in_ns "$1" ip -4 rule show
		in_ns "$1" ip -6 rule show
		{
			in_ns "$1" ip -4 route show table all
			in_ns "$1" ip -6 route show table all
		} | grep -v 'fe80::' | sort -u
		in_ns "$1" nft list ruleset
	} >"$2" 2>&1
}
same_as() { snapshot "$NS_C" "$TMP/now.txt"; diff "$1" "$TMP/now.txt"; }
differs_from() { snapshot "$NS_C" "$TMP/now.txt"; ! diff -q "$1" "$TMP/now.txt"; }

# up_c CONFIG: `dybervpn up` (daemonized) in C, with the resolvconf shim on PATH.
up_c() {
	in_ns "$NS_C" env PATH="$TMP/bin:$PATH" DV_TEST_RESOLV="$NETNS_ETC/resolv.conf" \
		"$DV" up -c "$1" >"$TMP/up.log" 2>&1
	local r=$? p
	p=$(cat /run/dybervpn/dvtc.pid 2>/dev/null)
	[ -n "$p" ] && DAEMON_PIDS="$DAEMON_PIDS $p"
	cat "$TMP/up.log" >>"$TMP/up-all.log"
	return $r
}
down_c() {
	in_ns "$NS_C" env PATH="$TMP/bin:$PATH" DV_TEST_RESOLV="$NETNS_ETC/resolv.conf" \
		"$DV" down dvtc >"$TMP/down.log" 2>&1
}

write_shim() {
	mkdir -p "$TMP/bin" "$TMP/resolvconf.d"
	cat >"$TMP/bin/resolvconf" <<EOF
#!/bin/sh
# Test stand-in for resolvconf(8): -a NAME (stdin) / -d NAME. Writes
# /etc/resolv.conf only when it is this namespace's bind mount of
# \$DV_TEST_RESOLV, so the machine's own file can never be touched.
[ -n "\$DV_TEST_RESOLV" ] || exit 3
[ "\$(stat -Lc %d:%i /etc/resolv.conf)" = "\$(stat -Lc %d:%i "\$DV_TEST_RESOLV")" ] || exit 4
d=$TMP/resolvconf.d
[ -f \$d/.orig ] || cat /etc/resolv.conf >\$d/.orig
echo "\$*" >>$TMP/resolvconf.calls
case \$1 in
-a) cat >"\$d/\$2" ;;
-d) rm -f "\$d/\$2" ;;
*) exit 2 ;;
esac
{ for f in \$d/*; do [ -f "\$f" ] && cat "\$f"; done; cat \$d/.orig; } >/etc/resolv.conf
EOF
	chmod 755 "$TMP/bin/resolvconf"
}

check "set up namespaces (client, server, host behind it)" topology
write_shim
mkdir -p "$NETNS_ETC" && echo "nameserver 192.0.2.53" >"$NETNS_ETC/resolv.conf"
cp "$NETNS_ETC/resolv.conf" "$TMP/resolv.orig"
resolv_restored() { in_ns "$NS_C" cat /etc/resolv.conf | diff "$TMP/resolv.orig" -; }
genkeys c classic && genkeys s classic

write_iface "$TMP/s.toml" dvts "$s_priv" 51821 classic 10.99.0.2/24 fd99::2/64
echo 'mtu = 1420' >>"$TMP/s.toml"
add_peer "$TMP/s.toml" "$c_pub" - 10.99.0.1/32 fd99::1/128
check "start the server" start_dv "$NS_S" "$TMP/s.toml" "$TMP/s.log"

hooks() {
	cat <<EOF
pre_up = "echo pre_up %i >>$TMP/hooks"
post_up = ["echo post_up %i >>$TMP/hooks", "echo post_up2 %i >>$TMP/hooks"]
pre_down = "echo pre_down %i >>$TMP/hooks"
post_down = "echo post_down %i >>$TMP/hooks"
EOF
}
write_iface "$TMP/c.toml" dvtc "$c_priv" 0 classic 10.99.0.1/24 fd99::1/64
{ echo 'dns = ["10.99.0.2", "corp.example"]'; hooks; } >>"$TMP/c.toml"
PEER_KEEPALIVE=1 add_peer "$TMP/c.toml" "$s_pub" 198.18.0.1:51821 0.0.0.0/0 ::/0

snapshot "$NS_C" "$TMP/before.txt"
check_not "before up: H is not reachable from the client" \
	in_ns "$NS_C" ping -c 1 -W 1 198.51.100.2

say "-- full tunnel"
check "up (full tunnel, DNS, hooks)" up_c "$TMP/c.toml"
check "IPv4 rule: not fwmark 51820 lookup 51820" \
	sh -c "ip -n $NS_C -4 rule | grep -q 'not from all fwmark 0xca6c lookup 51820'"
check "IPv4 rule: lookup main suppress_prefixlength 0" \
	sh -c "ip -n $NS_C -4 rule | grep -q 'lookup main suppress_prefixlength 0'"
check "IPv6 rules too" sh -c "ip -n $NS_C -6 rule | grep -q 'fwmark 0xca6c lookup 51820' &&
	ip -n $NS_C -6 rule | grep -q 'suppress_prefixlength 0'"
check "default routes in table 51820 (IPv4, IPv6)" sh -c \
	"ip -n $NS_C route show table 51820 | grep -q '^default dev dvtc' &&
	 ip -n $NS_C -6 route show table 51820 | grep -q '^default dev dvtc'"
check "no endpoint host route in main" sh -c "! ip -n $NS_C route show table main | grep -q 198.18.0.1"
check "wg show: fwmark 0xca6c" sh -c "ip netns exec $NS_C wg show dvtc fwmark | grep -q 0xca6c"
check "src_valid_mark = 1 in the namespace" sh -c \
	"[ \"\$(ip netns exec $NS_C cat /proc/sys/net/ipv4/conf/all/src_valid_mark)\" = 1 ]"
check "nftables table inet dybervpn-dvtc with the anti-spoofing rule" sh -c \
	"ip netns exec $NS_C nft list table inet dybervpn-dvtc | grep -q 'iifname != \"dvtc\" ip daddr 10.99.0.1 fib saddr type != local drop'"
check "ping H (IPv4) through the tunnel" ping_ok "$NS_C" 198.51.100.2
check "ping H (IPv6) through the tunnel" ping_ok "$NS_C" 2001:db8:100::2
check "the endpoint stays reachable outside the tunnel (marked packets use main)" \
	sh -c "ip -n $NS_C route get 198.18.0.1 mark 0xca6c | grep -q 'dev dvc0'"
check "unmarked traffic to the endpoint goes into the tunnel" \
	sh -c "ip -n $NS_C route get 198.18.0.1 | grep -q 'dev dvtc'"
check "DNS applied inside the namespace" \
	sh -c "ip netns exec $NS_C cat /etc/resolv.conf | grep -q '^nameserver 10.99.0.2' &&
	       ip netns exec $NS_C cat /etc/resolv.conf | grep -q '^search corp.example'"
check "resolvconf called as -a tun.dvtc -m 0 -x" grep -q -- '-a tun.dvtc -m 0 -x' "$TMP/resolvconf.calls"

say "-- the uplink changes (address and gateway move to another link)"
in_ns "$NS_C" ip addr flush dev dvc0
in_ns "$NS_C" ip link set dvc0 down
in_ns "$NS_C" ip addr add 203.0.113.1/24 dev dvc1
in_ns "$NS_C" ip addr add 2001:db8:2::1/64 dev dvc1 nodad
in_ns "$NS_C" ip route replace default via 203.0.113.2
in_ns "$NS_C" ip -6 route replace default via 2001:db8:2::2
check "marked packets now leave by the new uplink" \
	sh -c "ip -n $NS_C route get 198.18.0.1 mark 0xca6c | grep -q 'dev dvc1'"
check "traffic flows again without a restart: ping H (IPv4)" sh -c "for i in \$(seq 15); do ip netns exec $NS_C ping -c 1 -W 1 198.51.100.2 >/dev/null && exit 0; done; exit 1"
check "ping H (IPv6) after the move" ping_ok "$NS_C" 2001:db8:100::2
check "the server follows the client's new address" \
	sh -c "ip netns exec $NS_S wg show dvts endpoints | grep -q '203.0.113.1:'"
# Back to the first uplink, so that the namespace can be compared with its
# state before `up`; a second move, and the tunnel follows again.
in_ns "$NS_C" ip addr flush dev dvc1
in_ns "$NS_C" ip link set dvc0 up
in_ns "$NS_C" ip addr add 192.0.2.1/24 dev dvc0
in_ns "$NS_C" ip addr add 2001:db8::1/64 dev dvc0 nodad
in_ns "$NS_C" ip route replace default via 192.0.2.2
in_ns "$NS_C" ip -6 route replace default via 2001:db8::2
check "back on the first uplink: ping H again" sh -c "for i in \$(seq 15); do ip netns exec $NS_C ping -c 1 -W 1 198.51.100.2 >/dev/null && exit 0; done; exit 1"

say "-- down"
check "down" down_c
check "hooks ran in order with %i expanded" sh -c "printf 'pre_up dvtc\npost_up dvtc\npost_up2 dvtc\npre_down dvtc\npost_down dvtc\n' | diff - $TMP/hooks"
check "down leaves no rule, route, table or nft object (before/after diff)" same_as "$TMP/before.txt"
check "DNS restored on down" resolv_restored
check "no state file left" test ! -e /run/dybervpn/dvtc.state

say "-- a crash, then up"
rm -f "$TMP/hooks"
check "up again" up_c "$TMP/c.toml"
dpid=$(cat /run/dybervpn/dvtc.pid 2>/dev/null)
check "kill -9 the daemon" kill -KILL "${dpid:-0}"
check "the interface went with it" wait_for 5 sh -c "! ip -n $NS_C link show dvtc"
check "its rules and nft table are left behind" differs_from "$TMP/before.txt"
check "up cleans the stale state and comes up" up_c "$TMP/c.toml"
check "up said it cleaned up" grep -q "did not stop cleanly" "$TMP/up.log"
check "ping H through the tunnel again" ping_ok "$NS_C" 198.51.100.2
check "exactly one pair of our IPv4 rules" sh -c "[ \$(ip -n $NS_C -4 rule | grep -c 'proto 100') -eq 2 ]"
check "down" down_c
check "nothing left after crash + up + down" same_as "$TMP/before.txt"

say "-- up -f (as the systemd unit runs it): the supervisor does the rest on down"
rm -f "$TMP/hooks"
in_ns "$NS_C" env PATH="$TMP/bin:$PATH" DV_TEST_RESOLV="$NETNS_ETC/resolv.conf" \
	"$DV" up -f -c "$TMP/c.toml" >"$TMP/upf.log" 2>&1 &
SUP=$!
PIDS+=("$SUP")
check "up -f: post_up ran" wait_for 15 grep -q "post_up2 dvtc" "$TMP/hooks"
check "up -f: ping H through the tunnel" ping_ok "$NS_C" 198.51.100.2
check "up -f: DNS applied" sh -c "ip netns exec $NS_C cat /etc/resolv.conf | grep -q '^nameserver 10.99.0.2'"
check "down stops the supervisor" down_c
check "the supervisor has exited" wait_for 10 sh -c "! kill -0 $SUP"
check "hooks ran in order" sh -c "printf 'pre_up dvtc\npost_up dvtc\npost_up2 dvtc\npre_down dvtc\npost_down dvtc\n' | diff - $TMP/hooks"
check "nothing left after up -f and down" same_as "$TMP/before.txt"
check "DNS restored" resolv_restored

say "-- a failing post_up"
rm -f "$TMP/hooks"
sed 's|^post_up = .*|post_up = ["echo post_up %i >>'"$TMP"'/hooks", "exit 3"]|' "$TMP/c.toml" >"$TMP/c-fail.toml"
check_not "up fails when post_up fails" up_c "$TMP/c-fail.toml"
check "no interface left" sh -c "! ip -n $NS_C link show dvtc"
check "no daemon left" sh -c "! test -e /run/dybervpn/dvtc.pid || ! kill -0 \$(cat /run/dybervpn/dvtc.pid)"
check "nothing left (rules, routes, nft)" same_as "$TMP/before.txt"
check "DNS restored" resolv_restored
check "pre_up and post_up ran, the down hooks did not (as wg-quick)" \
	sh -c "printf 'pre_up dvtc\npost_up dvtc\n' | diff - $TMP/hooks"
check "a failing pre_up aborts up" sh -c "sed 's|^pre_up = .*|pre_up = \"false\"|' $TMP/c.toml >$TMP/c-pre.toml &&
	! ip netns exec $NS_C env PATH=$TMP/bin:\$PATH DV_TEST_RESOLV=$NETNS_ETC/resolv.conf $DV up -c $TMP/c-pre.toml &&
	! ip -n $NS_C link show dvtc"
check "nothing left after the failed pre_up" same_as "$TMP/before.txt"

say "-- automatic MTU on a 1280-byte IPv6 path"
write_iface "$TMP/sm.toml" dvtsm "$s_priv" 51831 classic 10.98.0.2/24
echo 'mtu = 1420' >>"$TMP/sm.toml"
add_peer "$TMP/sm.toml" "$c_pub" - 10.98.0.1/32
check "start a second server instance" start_dv "$NS_S" "$TMP/sm.toml" "$TMP/sm.log"
write_iface "$TMP/cm.toml" dvtm "$c_priv" 0 classic 10.98.0.1/24
add_peer "$TMP/cm.toml" "$s_pub" "[2001:db8:5::2]:51831" 10.98.0.2/32
check "start the client without mtu" start_dv "$NS_C" "$TMP/cm.toml" "$TMP/cm.log"
mtu=$(in_ns "$NS_C" cat /sys/class/net/dvtm/mtu 2>/dev/null)
check "MTU is 1200 (1280 - 80) (got ${mtu:-none})" test "${mtu:-0}" = 1200
check "ping over that path" ping_ok "$NS_C" 10.98.0.2
bw=$(iperf_run "$NS_S" 10.98.0.2 "$NS_C" 2)
check "TCP through the tunnel on that path: iperf3 ${bw:-none} Gbit/s" test -n "$bw"
check "the 1280 path was not exceeded (no fragments sent)" sh -c \
	"[ \"\$(ip netns exec $NS_C awk '/^Ip6FragCreates/ {print \$2}' /proc/net/snmp6)\" = 0 ]"

say "-- endpoint host names resolved again while handshakes fail"
# /etc/netns/NS/hosts is bound over /etc/hosts by `ip netns exec`; it is
# rewritten in place (same inode), so the running daemon sees the change.
echo "198.18.0.99 dvserver.test" >"$NETNS_ETC/hosts"
# Readable by all, as /etc/hosts is: the sandboxed daemon resolves as its
# unprivileged user (this script's umask would make it root's only).
chmod 644 "$NETNS_ETC/hosts"
write_iface "$TMP/cr.toml" dvtr "$c_priv" 0 classic 10.99.0.1/24
echo 'mtu = 1420' >>"$TMP/cr.toml"
PEER_KEEPALIVE=1 add_peer "$TMP/cr.toml" "$s_pub" dvserver.test:51821 10.99.0.2/32
sed 's/^persistent_keepalive.*/&\nreresolve = false/' "$TMP/cr.toml" >"$TMP/cr-off.toml"
check "start a client whose endpoint name points nowhere (reresolve = false)" \
	start_dv "$NS_C" "$TMP/cr-off.toml" "$TMP/cr-off.log"
RPID=$LAST_PID
echo "198.18.0.1 dvserver.test" >"$NETNS_ETC/hosts"
sleep 14
check "reresolve = false: the endpoint stays as resolved at up" \
	sh -c "ip netns exec $NS_C wg show dvtr endpoints | grep -q '198.18.0.99:51821'"
stop_pid "$RPID"
echo "198.18.0.99 dvserver.test" >"$NETNS_ETC/hosts"
check "start it again with reresolve on (the default)" start_dv "$NS_C" "$TMP/cr.toml" "$TMP/cr.log"
RPID=$LAST_PID
echo "198.18.0.1 dvserver.test" >"$NETNS_ETC/hosts"
check "the name is resolved again and the endpoint follows" wait_for 40 sh -c \
	"ip netns exec $NS_C wg show dvtr endpoints | grep -q '198.18.0.1:51821'"
check "the log says why" grep -q "keep failing: resolving it again" "$TMP/cr.log"
check "ping the server through the tunnel" ping_ok "$NS_C" 10.99.0.2
stop_pid "$RPID"

check "the machine's /etc/resolv.conf is untouched" \
	test "$(sha256sum /etc/resolv.conf 2>/dev/null | cut -d' ' -f1)" = "$HOST_RESOLV_SUM"
finish
