# Helpers of the handshake-flood test and benchmark (sourced after lib.sh):
# a namespace F joined to each target namespace by a veth pair of its own
# (198.18.0.0/24 for the first target, 198.19.0.0/24 for the second:
# ranges reserved for benchmarks), holding FLOOD_NSRC source addresses on
# each link, and the flood generator build/tools/dv-flood run there,
# bounded in time (and in rate when asked).
#
#   ns F (dvfN: 198.(18+N).0.10 ... 198.(18+N).0.(10 + FLOOD_NSRC - 1)/24)
#     |
#   ns target N (dvxN: 198.(18+N).0.1/24)
# shellcheck shell=bash

FLOOD=${FLOOD_BIN:-$ROOT/build/tools/dv-flood}
FLOOD_NSRC=${FLOOD_NSRC:-32}
FLOOD_DST=()
FLOOD_SRCS=()
NS_F=dvt-f-$SUFFIX

# setup_flood NS_TARGET [N]: namespace F (made once) and link N (default 0)
# to the target; the target's address is ${FLOOD_DST[N]}.
setup_flood() {
	local t=$1 n=${2:-0} i net srcs=
	net=198.$((18 + n)).0
	if [ "$n" -eq 0 ] || ! ip netns list | grep -qw "$NS_F"; then
		make_ns "$NS_F" || return 1
	fi
	ip link add "dvf$n" netns "$NS_F" type veth peer name "dvx$n" netns "$t" || return 1
	in_ns "$t" ip addr add "$net.1/24" dev "dvx$n"
	for i in $(seq 0 $((FLOOD_NSRC - 1))); do
		in_ns "$NS_F" ip addr add "$net.$((10 + i))/24" dev "dvf$n" || return 1
		srcs="$srcs${srcs:+,}$net.$((10 + i))"
	done
	in_ns "$NS_F" ip link set "dvf$n" up
	in_ns "$t" ip link set "dvx$n" up
	FLOOD_DST[n]=$net.1
	FLOOD_SRCS[n]=$srcs
}

# start_flood N PORT SECONDS RATE TYPES [PUBKEY]: the generator against
# target N in the background (PID in FLOOD_PID, report in $TMP/flood.out);
# RATE 0 is as fast as it goes; with PUBKEY every mac1 is valid, else every
# one is wrong.
start_flood() {
	local n=$1 port=$2 secs=$3 rate=$4 types=$5 key=${6:-}
	in_ns "$NS_F" "$FLOOD" -d "${FLOOD_DST[n]}" -p "$port" -s "${FLOOD_SRCS[n]}" \
		-t "$types" -r "$rate" -T "$secs" ${key:+-k "$key"} >"$TMP/flood.out" 2>&1 &
	FLOOD_PID=$!
	PIDS+=("$FLOOD_PID")
}

# wait_flood: waits for the generator (it ends by itself; call it from
# this shell, not a subshell, which cannot wait for it) and sets
# FLOOD_RATE to its datagrams per second.
wait_flood() {
	wait "$FLOOD_PID" 2>/dev/null
	FLOOD_RATE=$(sed -n 's/.*(\([0-9]*\)\/s).*/\1/p' "$TMP/flood.out")
}

# stop_flood: ends the generator early (SIGINT: it prints what it sent).
stop_flood() {
	kill -INT "$FLOOD_PID" 2>/dev/null
	wait_flood
}

# dv_counter IFACE NAME: a device counter from `dybervpn status --json`.
dv_counter() {
	"$DV" status "$1" --json | tr -d ' \n' | grep -o "\"$2\":[0-9]*" | head -n 1 | cut -d: -f2
}

# rss_kb PID [FIELD]: resident set size (VmRSS, or VmHWM: its peak) in KiB.
rss_kb() { awk -v f="${2:-VmRSS}:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null; }

# flood_types: every initiation type of this build (and handshake
# fragments when it has them), for floods of every handshake type.
flood_types() { echo init; }
