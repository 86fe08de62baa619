# Shared helpers for the end-to-end tests, the demo and the throughput
# benchmark: network namespaces joined by veth pairs, key and config
# generation, daemons started and stopped by PID, bounded waits.
#
#   ns "$NS_A" (veth dva0 192.0.2.1/24, 2001:db8::1/64)
#        |                                        tunnel: 10.99.0.1/24, fd99::1/64
#   ns "$NS_B" (veth dvb0 192.0.2.2/24, 2001:db8::2/64)
#                                                 tunnel: 10.99.0.2/24, fd99::2/64
#
# All traffic stays between namespaces this file creates; cleanup removes
# them, kills only the processes started here (by PID) and the temp dir.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DV=${DYBERVPN_BIN:-$ROOT/build/dybervpn}
umask 077 # keys and configs in $TMP are private
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dybervpn-test.XXXXXX")
SUFFIX=$$
# Interface names and the control-socket directory are shared by every
# namespace on the machine: one of these scripts runs at a time (bounded wait).
exec {DV_LOCK_FD}>"${TMPDIR:-/tmp}/dybervpn-netns.lock"
if ! flock -w 1800 "$DV_LOCK_FD"; then
	echo "another DyberVPN network test held the lock for 30 minutes"
	echo "0 passed, 1 failed"
	exit 1
fi
NS_A=dvt-a-$SUFFIX
NS_B=dvt-b-$SUFFIX
NAMESPACES=()
PIDS=()
PASS=0
FAIL=0
VERBOSE=${VERBOSE:-0}

say() { printf '%s\n' "$*"; }
ok() { PASS=$((PASS + 1)); say "  ok    $*"; }
bad() { FAIL=$((FAIL + 1)); say "  FAIL  $*"; }

# check DESCRIPTION CMD...: one assertion; shows the command's output on failure.
check() {
	local desc=$1
	shift
	if "$@" >"$TMP/check.out" 2>&1; then
		ok "$desc"
	else
		bad "$desc"
		tail -n 8 "$TMP/check.out" | sed 's/^/        /'
	fi
}

# check_not DESCRIPTION CMD...: the command must fail.
check_not() {
	local desc=$1
	shift
	if "$@" >"$TMP/check.out" 2>&1; then
		bad "$desc"
		tail -n 8 "$TMP/check.out" | sed 's/^/        /'
	else
		ok "$desc"
	fi
}

# wait_for SECONDS CMD...: poll (every 0.1 s) until CMD succeeds; bounded.
wait_for() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# make_ns NAME: a namespace with loopback up.
make_ns() {
	ip netns add "$1" || return 1
	NAMESPACES+=("$1")
	in_ns "$1" ip link set lo up
}

# link_ns NS1 IF1 ADDR1 NS2 IF2 ADDR2 [V6ADDR1 V6ADDR2]: a veth pair between them.
link_ns() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || return 1
	in_ns "$1" ip addr add "$3/24" dev "$2"
	in_ns "$4" ip addr add "$6/24" dev "$5"
	if [ -n "${7:-}" ]; then
		in_ns "$1" ip addr add "$7/64" dev "$2" nodad
		in_ns "$4" ip addr add "$8/64" dev "$5" nodad
	fi
	in_ns "$1" ip link set "$2" up
	in_ns "$4" ip link set "$5" up
}

# setup_pair: the two-namespace topology drawn above.
setup_pair() {
	make_ns "$NS_A" && make_ns "$NS_B" &&
		link_ns "$NS_A" dva0 192.0.2.1 "$NS_B" dvb0 192.0.2.2 2001:db8::1 2001:db8::2
}

# genkeys NAME MODE: writes $TMP/NAME.keys and sets NAME_priv, NAME_pub,
# NAME_mldsa_priv, NAME_mldsa_pub (the latter two only in pqonly mode).
genkeys() {
	local n=$1 mode=$2 f="$TMP/$1.keys" k v
	unset "${n}_mldsa_priv" "${n}_mldsa_pub"
	"$DV" genkey -m "$mode" >"$f" || return 1
	for k in private_key public_key mldsa_private_key mldsa_public_key; do
		v=$(sed -n "s/^$k = \"\(.*\)\"$/\1/p" "$f")
		case $k in
		private_key) printf -v "${n}_priv" '%s' "$v" ;;
		public_key) printf -v "${n}_pub" '%s' "$v" ;;
		mldsa_private_key) printf -v "${n}_mldsa_priv" '%s' "$v" ;;
		mldsa_public_key) printf -v "${n}_mldsa_pub" '%s' "$v" ;;
		esac
	done
}

# start_dv NS CONFIG LOG [ENV=VALUE...]: `dybervpn up -f` in the background,
# its PID recorded; waits (bounded) until its control socket answers.
# DV_UP_ARGS adds options to `up` (e.g. --no-sandbox).
start_dv() {
	local ns=$1 cfg=$2 logf=$3 iface
	shift 3
	iface=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$cfg" | head -n 1)
	# shellcheck disable=SC2086
	ip netns exec "$ns" env "$@" "$DV" up -f ${DV_UP_ARGS:-} -c "$cfg" >"$logf" 2>&1 &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
	# The socket must answer: a stopped sandboxed daemon leaves its file
	# (only `down` removes it), and `up` replaces it.
	if ! wait_for 15 wg show "$iface" listen-port; then
		say "        dybervpn up did not start; its log:"
		tail -n 20 "$logf" | sed 's/^/        /'
		return 1
	fi
}

# stop_pid PID: SIGTERM, then wait up to 10 s, then SIGKILL.
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# start_wggo NS IFACE WGCONF ADDR4 ADDR6 ROUTE4 ROUTE6: a wireguard-go peer
# configured with Debian's wg, addresses and routes with ip. WG_GO names
# another wireguard-go binary than Debian's.
start_wggo() {
	local ns=$1 ifc=$2 conf=$3
	ip netns exec "$ns" env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=error \
		"${WG_GO:-wireguard-go}" -f "$ifc" >"$TMP/wggo-$ifc.log" 2>&1 &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
	wait_for 10 test -S "/var/run/wireguard/$ifc.sock" || return 1
	in_ns "$ns" wg setconf "$ifc" "$conf" || return 1
	in_ns "$ns" ip addr add "$4" dev "$ifc"
	in_ns "$ns" ip addr add "$5" dev "$ifc" nodad
	in_ns "$ns" ip link set mtu 1420 up dev "$ifc"
	in_ns "$ns" ip route replace "$6" dev "$ifc" 2>/dev/null
	in_ns "$ns" ip route replace "$7" dev "$ifc" 2>/dev/null
	return 0
}

port_listening() { in_ns "$1" ss -Htln "sport = :$2" | grep -q .; }

# write_iface FILE NAME PRIVKEY PORT MODE ADDR... : an [interface] table.
# Set MLDSA_PRIV in the environment to add mldsa_private_key.
write_iface() {
	local f=$1 name=$2 priv=$3 port=$4 mode=$5 a list=""
	shift 5
	for a in "$@"; do list="$list${list:+, }\"$a\""; done
	{
		echo "[interface]"
		echo "name = \"$name\""
		echo "private_key = \"$priv\""
		echo "listen_port = $port"
		echo "address = [$list]"
		echo "mode = \"$mode\""
		if [ -n "${MLDSA_PRIV:-}" ]; then echo "mldsa_private_key = \"$MLDSA_PRIV\""; fi
	} >"$f"
}

# add_peer FILE PUBKEY ENDPOINT ALLOWED... : a [[peer]] table. ENDPOINT may
# be "-" (none). Set PEER_MODE, PEER_MLDSA_PUB, PEER_KEEPALIVE to add those keys.
add_peer() {
	local f=$1 pub=$2 ep=$3 a list=""
	shift 3
	for a in "$@"; do list="$list${list:+, }\"$a\""; done
	{
		echo
		echo "[[peer]]"
		echo "public_key = \"$pub\""
		echo "allowed_ips = [$list]"
		if [ "$ep" != "-" ]; then echo "endpoint = \"$ep\""; fi
		if [ -n "${PEER_MODE:-}" ]; then echo "mode = \"$PEER_MODE\""; fi
		if [ -n "${PEER_MLDSA_PUB:-}" ]; then echo "mldsa_public_key = \"$PEER_MLDSA_PUB\""; fi
		if [ -n "${PEER_KEEPALIVE:-}" ]; then echo "persistent_keepalive = $PEER_KEEPALIVE"; fi
	} >>"$f"
}

# pair_configs MODE: keys and configs for the two-namespace topology, in
# $TMP/a.toml and $TMP/b.toml (interfaces dvta and dvtb, ports 51820/51821).
pair_configs() {
	local mode=$1
	genkeys a "$mode" && genkeys b "$mode" || return 1
	MLDSA_PRIV=${a_mldsa_priv:-} write_iface "$TMP/a.toml" dvta "$a_priv" 51820 "$mode" 10.99.0.1/24 fd99::1/64
	PEER_MLDSA_PUB=${b_mldsa_pub:-} add_peer "$TMP/a.toml" "$b_pub" 192.0.2.2:51821 10.99.0.2/32 fd99::2/128
	MLDSA_PRIV=${b_mldsa_priv:-} write_iface "$TMP/b.toml" dvtb "$b_priv" 51821 "$mode" 10.99.0.2/24 fd99::2/64
	PEER_MLDSA_PUB=${a_mldsa_pub:-} add_peer "$TMP/b.toml" "$a_pub" 192.0.2.1:51820 10.99.0.1/32 fd99::1/128
}

# wg_field NS IFACE FIELD: `wg show IFACE FIELD` (one peer) value column.
wg_field() { in_ns "$1" wg show "$2" "$3" | awk '{print $2}' | head -n 1; }

# ping_ok NS ADDR: three pings, bounded in time.
ping_ok() { in_ns "$1" ping -c 3 -i 0.2 -W 2 -w 8 "$2"; }

# iperf_run NS_SERVER ADDR NS_CLIENT SECONDS [extra iperf3 args]: prints Gbit/s.
iperf_run() {
	local srv=$1 addr=$2 cli=$3 secs=$4 spid out
	shift 4
	in_ns "$srv" iperf3 -s -1 -B "$addr" -p 5201 >"$TMP/iperf-s.log" 2>&1 &
	spid=$!
	PIDS+=("$spid")
	wait_for 5 port_listening "$srv" 5201
	out=$(in_ns "$cli" timeout $((secs + 15)) iperf3 -c "$addr" -p 5201 -t "$secs" -J "$@" 2>&1)
	stop_pid "$spid"
	printf '%s' "$out" | awk -F'[:,]' '/"sum_received"/{r=1} r && /"bits_per_second"/{printf "%.3f\n", $2/1e9; exit}'
}

cleanup() {
	local p n
	for p in "${PIDS[@]}"; do
		stop_pid "$p"
	done
	for n in "${NAMESPACES[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$TMP"
	# Children inherited the lock's descriptor: release it for all of them.
	flock -u "$DV_LOCK_FD"
}
trap cleanup EXIT

finish() {
	say "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
	exit
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		say "this test needs root (network namespaces)"
		say "0 passed, 1 failed"
		exit 1
	fi
}
