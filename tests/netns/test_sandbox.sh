#!/usr/bin/env bash
# The daemon's sandbox, in every mode (classic, hybrid, pqonly): after `up`
# the daemon runs as an unprivileged user with CAP_NET_ADMIN and
# CAP_NET_BIND_SERVICE effective, CAP_DAC_READ_SEARCH permitted only, the
# bounding set cut to these three, no_new_privs, seccomp filter mode, not
# dumpable (its /proc files belong to root); its monitor holds CAP_KILL
# only. Under the sandbox: a tunnel both ways, a rekey forced by a short
# test-only timer, `wg set` (a listen port below 1024, fwmark, a peer
# changed, added and removed), `wg show`, `dybervpn status`, SIGHUP (reload)
# through the monitor, and `down` (which leaves no interface, socket or PID
# file); a SIGTERM to the monitor leaves no socket or PID file either. The
# live daemon's memory (read through /proc/PID/mem) holds no old private key
# after `wg set private-key` and no preshared key after its peer is removed.
# `up --no-sandbox` gives a root daemon with no filter; an unknown --user is
# a start-up error.
. "$(dirname "$0")/lib.sh"
need_root

CAP_EFF=0000000000001400 # net_admin (12), net_bind_service (10)
CAP_PRM=0000000000001404 # + dac_read_search (2)

# status_field PID FIELD: the value of FIELD in /proc/PID/status.
status_field() { awk -v k="$2:" '$1 == k { print $2; exit }' "/proc/$1/status"; }

# sandboxed PID: the checks on a sandboxed daemon's /proc/PID/status.
sandboxed() {
	local pid=$1 uid
	uid=$(status_field "$pid" Uid)
	check "  runs as an unprivileged user (uid ${uid:-?})" test "${uid:-0}" -ne 0
	check "  CapEff $CAP_EFF" test "$(status_field "$pid" CapEff)" = "$CAP_EFF"
	check "  CapPrm $CAP_PRM" test "$(status_field "$pid" CapPrm)" = "$CAP_PRM"
	check "  CapBnd $CAP_PRM" test "$(status_field "$pid" CapBnd)" = "$CAP_PRM"
	check "  CapInh and CapAmb empty" test "$(status_field "$pid" CapInh)$(status_field "$pid" CapAmb)" = 00000000000000000000000000000000
	check "  NoNewPrivs 1" test "$(status_field "$pid" NoNewPrivs)" = 1
	check "  Seccomp 2 (filter)" test "$(status_field "$pid" Seccomp)" = 2
	# A non-dumpable process's /proc files belong to root, not to its uid,
	# so its own user cannot read its memory or environment.
	lck=$(status_field "$pid" VmLck)
	check "  key memory locked (VmLck ${lck:-?} kB)" test "${lck:-0}" -gt 0
	check "  not dumpable (/proc/PID/environ owned by root)" test "$(stat -c %u "/proc/$pid/environ")" = 0
	check_not "  its user cannot read /proc/PID/environ" \
		setpriv --reuid="$uid" --regid="$uid" --clear-groups cat "/proc/$pid/environ"
}

# mem_count PID BASE64KEY: how many copies of the key (raw bytes, hex as the
# control socket carries it, or base64) the process's writable memory holds,
# read through /proc/PID/mem (root with CAP_SYS_PTRACE may, even though the
# daemon is not dumpable).
mem_count() {
	python3 - "$1" "$2" <<'PY'
import base64, re, sys
pid, b64 = sys.argv[1], sys.argv[2]
raw = base64.b64decode(b64)
needles = [raw, raw.hex().encode(), b64.encode()]
n = 0
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
        lo, hi, perms = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
        if "r" not in perms or "w" not in perms or "[vvar" in line or "[vsyscall" in line:
            continue
        mem.seek(lo)
        try:
            buf = mem.read(hi - lo)
        except OSError:
            continue
        n += sum(buf.count(x) for x in needles)
print(n)
PY
}

# sandbox_configs MODE: lib.sh's pair, with interfaces of this test's own
# (dvsa, dvsb).
sandbox_configs() {
	pair_configs "$1" &&
		sed -i 's/^name = "dvta"$/name = "dvsa"/' "$TMP/a.toml" &&
		sed -i 's/^name = "dvtb"$/name = "dvsb"/' "$TMP/b.toml"
}

check "set up namespaces" setup_pair
for mode in classic hybrid pqonly; do
	say "-- $mode"
	check "generate $mode keys and configs" sandbox_configs "$mode"
	check "start dybervpn in A" start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log" DYBERVPN_TEST_REKEY_AFTER=6
	MON_A=$LAST_PID
	check "start dybervpn in B" start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log" DYBERVPN_TEST_REKEY_AFTER=6
	MON_B=$LAST_PID
	pid_a=$(cat /run/dybervpn/dvsa.pid 2>/dev/null)
	check "the PID file names the daemon, not its monitor" test "${pid_a:-0}" -gt 0 -a "${pid_a:-0}" != "$MON_A"
	if [ -n "$pid_a" ] && kill -0 "$pid_a" 2>/dev/null; then
		sandboxed "$pid_a"
	fi
	check "the monitor holds CAP_KILL only" test "$(status_field "$MON_A" CapEff)$(status_field "$MON_A" CapPrm)" = 00000000000000200000000000000020
	check "ping A -> B" ping_ok "$NS_A" 10.99.0.2
	check "ping B -> A over IPv6" ping_ok "$NS_B" fd99::1

	# A rekey (REKEY_AFTER_TIME of 6 s) with traffic going on.
	hs1=$(wg_field "$NS_A" dvsa latest-handshakes)
	recv=$(in_ns "$NS_A" ping -c 45 -i 0.2 -W 1 -w 15 10.99.0.2 | sed -n 's/.* \([0-9]*\) received.*/\1/p')
	hs2=$(wg_field "$NS_A" dvsa latest-handshakes)
	check "rekey: a new handshake ($hs1 -> $hs2)" test "${hs2:-0}" -gt "${hs1:-0}"
	check "rekey: traffic continues (${recv:-0}/45 answered)" test "${recv:-0}" -ge 40

	# wg set: a privileged listen port (CAP_NET_BIND_SERVICE), then back.
	check "wg set listen-port 853 (below 1024)" in_ns "$NS_A" wg set dvsa listen-port 853
	check "wg show: listen port 853" test "$(in_ns "$NS_A" wg show dvsa listen-port)" = 853
	check "ping A -> B from port 853" ping_ok "$NS_A" 10.99.0.2
	check "wg set listen-port 51820" in_ns "$NS_A" wg set dvsa listen-port 51820
	check "wg set fwmark (SO_MARK needs CAP_NET_ADMIN)" in_ns "$NS_A" wg set dvsa fwmark 0x99
	check "wg set fwmark off" in_ns "$NS_A" wg set dvsa fwmark 0
	# wg set: a peer changed; a peer added, then removed (not in pqonly,
	# where a peer needs an ML-DSA key the stock wg cannot give).
	check "wg set: the peer's keepalive" in_ns "$NS_A" wg set dvsa peer "$b_pub" persistent-keepalive 17
	check "wg show: keepalive 17" sh -c "wg show dvsa persistent-keepalive | grep -q '17$'"
	if [ "$mode" != pqonly ]; then
		extra=$("$DV" genkey -m classic | sed -n 's/^public_key = "\(.*\)"$/\1/p')
		check "wg set: add a peer" in_ns "$NS_A" wg set dvsa peer "$extra" allowed-ips 10.99.0.77/32
		check "wg show: the new peer is listed" sh -c "wg show dvsa peers | grep -qF '$extra'"
		check "wg set: remove it" in_ns "$NS_A" wg set dvsa peer "$extra" remove
		check_not "wg show: the peer is gone" sh -c "wg show dvsa peers | grep -qF '$extra'"
	fi
	check "wg show dvsa" sh -c "wg show dvsa | grep -q 'latest handshake'"
	check "dybervpn status dvsa" sh -c "'$DV' status dvsa | grep -q '$mode'"
	check "ping A -> B after the changes" ping_ok "$NS_A" 10.99.0.2
	check "the daemon is still alive and filtered" test "$(status_field "${pid_a:-0}" Seccomp 2>/dev/null)" = 2
	# SIGHUP to the monitor (systemd's reload: kill -HUP $MAINPID) reaches
	# the daemon, which survives what it does with it (a reload re-reads
	# the root-only config) under the filter.
	kill -HUP "$MON_A"
	sleep 1
	check "SIGHUP passed on: the daemon got it" grep -q SIGHUP "$TMP/a.log"
	check "the daemon survives SIGHUP" kill -0 "${pid_a:-0}"
	check "ping A -> B after SIGHUP" ping_ok "$NS_A" 10.99.0.2

	# down: the sandboxed daemon cannot remove its files; down (root) does.
	check "dybervpn down dvsa" "$DV" down dvsa
	check_not "daemon gone" kill -0 "${pid_a:-0}"
	check_not "interface gone" in_ns "$NS_A" ip link show dvsa
	check_not "control socket gone" test -e /var/run/wireguard/dvsa.sock
	check_not "PID file gone" test -e /run/dybervpn/dvsa.pid
	check "monitor gone" wait_for 5 sh -c "! kill -0 $MON_A 2>/dev/null"
	# SIGTERM to the monitor: passed on; the monitor removes the files.
	pid_b=$(cat /run/dybervpn/dvsb.pid 2>/dev/null)
	stop_pid "$MON_B"
	check_not "SIGTERM to B's monitor: the daemon is gone" kill -0 "${pid_b:-0}"
	check_not "SIGTERM to B's monitor: its socket gone" test -e /var/run/wireguard/dvsb.sock
	check_not "SIGTERM to B's monitor: its PID file gone" test -e /run/dybervpn/dvsb.pid
done

say "-- no key past its lifetime, in the live sandboxed daemon's memory"
check "generate hybrid keys and configs" sandbox_configs hybrid
check "start dybervpn in A" start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log"
check "start dybervpn in B" start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log"
check "ping A -> B" ping_ok "$NS_A" 10.99.0.2
pid_a=$(cat /run/dybervpn/dvsa.pid 2>/dev/null)
n=$(mem_count "${pid_a:-0}" "$a_priv")
check "the scan finds the live private key ($n)" test "${n:-0}" -ge 1
genkeys n classic
printf '%s\n' "$n_priv" >"$TMP/new.key"
check "wg set private-key (a new one)" in_ns "$NS_A" wg set dvsa private-key "$TMP/new.key"
n=$(mem_count "${pid_a:-0}" "$a_priv")
check "no copy of the old private key left ($n)" test "${n:-1}" -eq 0
n=$(mem_count "${pid_a:-0}" "$n_priv")
check "the new one is there ($n)" test "${n:-0}" -ge 1
psk=$(wg genpsk)
printf '%s\n' "$psk" >"$TMP/psk"
extra=$("$DV" genkey -m classic | sed -n 's/^public_key = "\(.*\)"$/\1/p')
check "wg set: a peer with a preshared key" in_ns "$NS_A" wg set dvsa peer "$extra" preshared-key "$TMP/psk" allowed-ips 10.99.0.78/32
n=$(mem_count "${pid_a:-0}" "$psk")
check "the scan finds its preshared key ($n)" test "${n:-0}" -ge 1
check "wg set: remove the peer" in_ns "$NS_A" wg set dvsa peer "$extra" remove
n=$(mem_count "${pid_a:-0}" "$psk")
check "no copy of its preshared key left ($n)" test "${n:-1}" -eq 0
check "dybervpn down dvsa" "$DV" down dvsa
stop_pid "$LAST_PID"

say "-- up --no-sandbox"
DV_UP_ARGS=--no-sandbox check "start dybervpn --no-sandbox" start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log"
pid=$(cat /run/dybervpn/dvsa.pid 2>/dev/null)
check "the PID file names the daemon itself (no monitor)" test "${pid:-0}" = "$LAST_PID"
check "uid 0" test "$(status_field "${pid:-0}" Uid)" = 0
check "Seccomp 0" test "$(status_field "${pid:-0}" Seccomp)" = 0
check "every capability kept" test "$(status_field "${pid:-0}" CapEff)" = "$(status_field $$ CapEff)"
check "still no_new_privs" test "$(status_field "${pid:-0}" NoNewPrivs)" = 1
check "a loud warning" grep -q 'sandbox OFF' "$TMP/a.log"
check "dybervpn down dvsa" "$DV" down dvsa

say "-- a bad user"
check_not "up --user no-such-user-dv fails" in_ns "$NS_A" timeout 20 "$DV" up -f --user no-such-user-dv -c "$TMP/a.toml"
check_not "  and leaves no interface" in_ns "$NS_A" ip link show dvsa
check_not "  no control socket" test -e /var/run/wireguard/dvsa.sock
finish
