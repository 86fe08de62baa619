#!/usr/bin/env bash
# The systemd unit's filters fit the daemon: every system call the daemon
# makes (setup, handshake, traffic, a metrics scrape over HTTP and over the
# control socket, `wg set`, SIGHUP, stop), traced with strace -f, is allowed
# by the unit's SystemCallFilter=, and every socket family it opens by its
# RestrictAddressFamilies=. (The unit itself needs systemd as PID 1 to run;
# this checks its filters against the real daemon instead.)
. "$(dirname "$0")/lib.sh"
need_root
for tool in strace systemd-analyze; do
	if ! command -v "$tool" >/dev/null; then
		bad "$tool missing (scripts/deps.sh test installs it)"
		finish
	fi
done
UNIT=$ROOT/systemd/dybervpn@.service.in
LOG=$TMP/strace.log

check "set up namespaces" setup_pair
check "keys and configs" pair_configs hybrid
sed -i '/^mode = /a metrics_listen = "127.0.0.1:9586"' "$TMP/a.toml"
# A under strace, as the unit runs it (up -f).
ip netns exec "$NS_A" strace -f -qq -o "$LOG" "$DV" up -f -c "$TMP/a.toml" >"$TMP/a.log" 2>&1 &
PID_A=$!
PIDS+=("$PID_A")
check "start A under strace" wait_for 20 in_ns "$NS_A" wg show dvta
[ "$FAIL" -eq 0 ] || tail -n 5 "$TMP/a.log" | sed 's/^/        /'
# The daemon strace started: stopped at cleanup too, should the test fail
# before `down` (killing strace alone would leave it running).
daemon=$(cat /run/dybervpn/dvta.pid 2>/dev/null)
[ -n "$daemon" ] && PIDS+=("$daemon")
check "start B" start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log"
PID_B=$LAST_PID
check "A pings B" ping_ok "$NS_A" 10.99.0.2
check "B pings A (1000-byte packets)" in_ns "$NS_B" ping -q -c 20 -i 0.01 -s 1000 -W 2 -w 10 10.99.0.1
check "dybervpn metrics" "$DV" metrics dvta
check "GET /metrics in A's namespace" in_ns "$NS_A" bash -c \
	"exec 3<>/dev/tcp/127.0.0.1/9586 && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && head -n 1 <&3 | grep -q '200 OK'"
check "wg set (keepalive)" in_ns "$NS_A" wg set dvta peer "$b_pub" persistent-keepalive 25
check "SIGHUP" kill -HUP "${daemon:-0}"
sleep 0.5
check "A still pings B" ping_ok "$NS_A" 10.99.0.2
check "dybervpn down (the unit's ExecStop)" "$DV" down dvta
check "strace ends with the daemon" wait_for 10 bash -c "! kill -0 $PID_A 2>/dev/null"
check "strace logged system calls" test -s "$LOG"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if "$PY" "$ROOT/tests/netns/unit_filter.py" check "$UNIT" "$LOG" >"$TMP/filter.out" 2>&1; then
	ok "every system call and socket family is allowed by the unit"
else
	bad "the unit would refuse some of the daemon's system calls or families"
fi
sed 's/^/        /' "$TMP/filter.out" | cut -c1-400
stop_pid "$PID_B"
finish
