# The tunnel test of one post-quantum mode (sourced by test_hybrid.sh and
# test_pqonly.sh with MODE set): ping both ways over IPv4 and IPv6, iperf3
# both ways, then a rekey forced by a short test-only rekey timer with
# traffic continuing across it.
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
check "set up namespaces" setup_pair
check "generate $MODE keys and configs" pair_configs "$MODE"

check "start dybervpn ($MODE) in A" start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log" DYBERVPN_TEST_REKEY_AFTER=6
check "start dybervpn ($MODE) in B" start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log" DYBERVPN_TEST_REKEY_AFTER=6
check "ping A -> B over IPv4 (A initiates)" ping_ok "$NS_A" 10.99.0.2
check "ping B -> A over IPv4" ping_ok "$NS_B" 10.99.0.1
check "ping A -> B over IPv6" ping_ok "$NS_A" fd99::2
check "ping B -> A over IPv6" ping_ok "$NS_B" fd99::1
check "status shows the peer in $MODE mode" sh -c "'$DV' status dvta | grep -q '$MODE'"
hs1=$(wg_field "$NS_A" dvta latest-handshakes)
check "wg show: a handshake is recorded" test "${hs1:-0}" -gt 0

bw=$(iperf_run "$NS_B" 10.99.0.2 "$NS_A" 3)
check "iperf3 TCP A -> B: ${bw:-none} Gbit/s" test -n "$bw"
bw=$(iperf_run "$NS_A" 10.99.0.1 "$NS_B" 3)
check "iperf3 TCP B -> A: ${bw:-none} Gbit/s" test -n "$bw"

# With REKEY_AFTER_TIME shortened to 6 s, 12 s of pings must cross at least
# one new handshake and lose at most a few packets.
sleep 1
hs1=$(wg_field "$NS_A" dvta latest-handshakes)
recv=$(in_ns "$NS_A" ping -c 60 -i 0.2 -W 1 -w 20 10.99.0.2 | sed -n 's/.* \([0-9]*\) received.*/\1/p')
hs2=$(wg_field "$NS_A" dvta latest-handshakes)
check "rekey: a new handshake during the run ($hs1 -> $hs2)" test "${hs2:-0}" -gt "${hs1:-0}"
check "rekey: traffic continues (${recv:-0}/60 pings answered)" test "${recv:-0}" -ge 55
finish
