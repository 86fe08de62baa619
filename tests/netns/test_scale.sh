#!/usr/bin/env bash
# A gateway with many peers: SCALE_PEERS (default 100000) idle peers plus
# one real peer, loaded once from the config file and once by `wg setconf`
# (one control-socket request of several MB). Each time the real peer
# handshakes and pings, `wg show` and `dybervpn status` list every peer.
# Prints the load time, the time of `wg show` and `dybervpn status`, and
# the daemon's RSS per idle peer (VmRSS with all the peers minus VmRSS
# with the real peer alone, over SCALE_PEERS). Figures are printed, never
# asserted: the assertions are the peer counts and the pings.
# Environment: SCALE_PEERS, SCALE_MODE (classic|hybrid, default hybrid).
. "$(dirname "$0")/lib.sh"
need_root
N=${SCALE_PEERS:-100000}
MODE=${SCALE_MODE:-hybrid}

check "set up namespaces" setup_pair
check "generate keys and configs ($MODE)" pair_configs "$MODE"

# gen_peers FORMAT N: N peers with random public keys and allowed IPs
# 10.128.0.0/9 (a /32 each), in our TOML (toml) or in wg's format (wg).
gen_peers() {
	python3 - "$1" "$2" <<'PY'
import base64, os, sys
fmt, n = sys.argv[1], int(sys.argv[2])
out = []
for i in range(n):
    k = base64.b64encode(os.urandom(32)).decode()
    ip = "10.%d.%d.%d/32" % (128 + (i >> 16), (i >> 8) & 255, i & 255)
    if fmt == "toml":
        out.append('\n[[peer]]\npublic_key = "%s"\nallowed_ips = ["%s"]\n' % (k, ip))
    else:
        out.append('\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\n' % (k, ip))
sys.stdout.write("".join(out))
PY
}

# The daemon's PID: under the sandbox, `up -f` is a monitor and the
# daemon its child.
daemon_of() { local c; c=$(pgrep -P "$1" -x dybervpn | head -n 1); echo "${c:-$1}"; }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$(daemon_of "$1")/status" 2>/dev/null; }
status_kb() { awk -v k="$2:" '$1 == k { print $2; exit }' "/proc/$(daemon_of "$1")/status" 2>/dev/null; }
now_ms() { date +%s%3N; }
peer_count() { in_ns "$NS_A" wg show dvta peers 2>/dev/null | wc -l; }

# timed NAME CMD...: runs CMD, prints its wall time in ms into $TIMED_MS.
timed() {
	local t0
	t0=$(now_ms)
	"$@" >/dev/null 2>&1
	local rc=$?
	TIMED_MS=$(($(now_ms) - t0))
	return $rc
}

# start_a CONFIG LOG: our daemon in A, waiting (up to 180 s) for its socket.
start_a() {
	local t0
	t0=$(now_ms)
	ip netns exec "$NS_A" "$DV" up -f -c "$1" >"$2" 2>&1 &
	PID_A=$!
	PIDS+=("$PID_A")
	wait_for 180 test -S /var/run/wireguard/dvta.sock || return 1
	LOAD_MS=$(($(now_ms) - t0))
}

# listing: wg show and dybervpn status see every peer; timed.
listing() {
	local want=$1
	check "wg show lists $want peers" test "$(peer_count)" -eq "$want"
	timed in_ns "$NS_A" wg show dvta dump
	say "  figure: wg show dvta dump, $want peers: ${TIMED_MS} ms"
	timed in_ns "$NS_A" "$DV" status dvta
	say "  figure: dybervpn status dvta, $want peers: ${TIMED_MS} ms"
	check "dybervpn status answers" sh -c "ip netns exec $NS_A '$DV' status dvta | grep -q dvta"
}

check "start dybervpn in B (one peer: A)" start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log"

say "-- A with its real peer only"
check "start dybervpn in A" start_a "$TMP/a.toml" "$TMP/a1.log"
check "ping A -> B" ping_ok "$NS_A" 10.99.0.2
sleep 1
RSS1=$(rss_kb "$PID_A")
say "  figure: RSS with 1 peer: ${RSS1:-?} kB ($(status_kb "$PID_A" RssAnon) kB anonymous, $(status_kb "$PID_A" RssFile) kB file-backed; test_rss.sh breaks it down)"
stop_pid "$PID_A"

say "-- $N more peers from the config file"
cp "$TMP/a.toml" "$TMP/big.toml"
gen_peers toml "$N" >>"$TMP/big.toml"
say "  figure: config file $(stat -c %s "$TMP/big.toml") bytes"
check "start dybervpn in A with $((N + 1)) peers" start_a "$TMP/big.toml" "$TMP/a2.log"
say "  figure: load from file: ${LOAD_MS:-?} ms (start until the control socket answers)"
check "ping A -> B among $((N + 1)) peers" ping_ok "$NS_A" 10.99.0.2
check "ping B -> A" ping_ok "$NS_B" 10.99.0.1
sleep 1
RSS2=$(rss_kb "$PID_A")
say "  figure: RSS with $((N + 1)) peers: ${RSS2:-?} kB; per idle peer: $(awk -v a="${RSS1:-0}" -v b="${RSS2:-0}" -v n="$N" 'BEGIN{printf "%.0f", (b - a) * 1024 / n}') bytes"
listing $((N + 1))
stop_pid "$PID_A"

say "-- the same by wg setconf (one request)"
{
	echo "[Interface]"
	echo "PrivateKey = $a_priv"
	echo "ListenPort = 51820"
	echo
	echo "[Peer]"
	echo "PublicKey = $b_pub"
	echo "AllowedIPs = 10.99.0.2/32, fd99::2/128"
	echo "Endpoint = 192.0.2.2:51821"
	gen_peers wg "$N"
} >"$TMP/big.wg"
check "start dybervpn in A with its real peer" start_a "$TMP/a.toml" "$TMP/a3.log"
timed in_ns "$NS_A" wg setconf dvta "$TMP/big.wg"
rc=$?
check "wg setconf of $((N + 1)) peers succeeds" test "$rc" -eq 0
say "  figure: wg setconf of $((N + 1)) peers: ${TIMED_MS} ms"
check "ping A -> B after setconf" ping_ok "$NS_A" 10.99.0.2
sleep 1
RSS3=$(rss_kb "$PID_A")
say "  figure: RSS after setconf: ${RSS3:-?} kB; per idle peer: $(awk -v a="${RSS1:-0}" -v b="${RSS3:-0}" -v n="$N" 'BEGIN{printf "%.0f", (b - a) * 1024 / n}') bytes"
listing $((N + 1))

# A refused request changes nothing, however large: its last peer has a
# public key of low order (all zeros), which `wg` sends and we refuse.
{ cat "$TMP/big.wg"; echo; echo "[Peer]"; echo "PublicKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="; } >"$TMP/bad.wg"
check_not "wg setconf with an unusable key at the end is refused" in_ns "$NS_A" wg setconf dvta "$TMP/bad.wg"
check "the refused request left the $((N + 1)) peers" test "$(peer_count)" -eq $((N + 1))
check "wg setconf back to the real peer alone" sh -c "head -n 8 '$TMP/big.wg' >'$TMP/one.wg' && ip netns exec $NS_A wg setconf dvta '$TMP/one.wg'"
check "one peer left" test "$(peer_count)" -eq 1
check "ping A -> B with one peer again" ping_ok "$NS_A" 10.99.0.2
stop_pid "$PID_A"
finish
