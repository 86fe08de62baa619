#!/usr/bin/env bash
# Watching a tunnel: two hybrid peers up, then
# - readiness: `up -f` under a NOTIFY_SOCKET says READY=1 only once its
#   control socket answers, RELOADING=1/READY=1 around SIGHUP, STOPPING=1;
# - `dybervpn metrics` parses as Prometheus text (prometheus_client's parser),
#   with prometheus_wireguard_exporter's names and labels (public key as
#   `wg show` prints it, allowed IPs), the peer's mode, handshakes completed;
#   its byte counters grow with traffic; junk datagrams show up as drops;
#   `wg show` still reads the socket;
# - the metrics listener (metrics_listen) answers GET /metrics with the same
#   families, refuses junk with 400/404/405 and a close, and survives
#   connections that never send (bounded, expired);
# - bash completion offers the running interfaces.
. "$(dirname "$0")/lib.sh"
need_root

HELPER=$ROOT/tests/netns/metrics_check.py
PY=
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import prometheus_client' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
	bad "python3 with prometheus_client (scripts/deps.sh test installs python3-prometheus-client)"
	finish
fi
PORT=9586

# metric FILE SAMPLE-PREFIX: the value of the first parsed sample starting so.
metric() { "$PY" "$HELPER" parse "$1" | grep -F -- "$2" | head -n 1 | awk '{print $NF}'; }

check "set up namespaces" setup_pair
check "keys and configs" pair_configs hybrid
# A serves metrics on its loopback.
sed -i '/^mode = /a metrics_listen = "127.0.0.1:'"$PORT"'"' "$TMP/a.toml"

say "-- readiness (sd_notify)"
"$PY" "$HELPER" notify "$TMP/notify.sock" 40 /var/run/wireguard/dvta.sock >"$TMP/notify.log" 2>&1 &
NPID=$!
PIDS+=("$NPID")
wait_for 5 test -S "$TMP/notify.sock"
check "start A (hybrid, metrics on 127.0.0.1:$PORT) with NOTIFY_SOCKET" \
	start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log" NOTIFY_SOCKET="$TMP/notify.sock"
PID_A=$LAST_PID
check "start B (hybrid)" start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log"
PID_B=$LAST_PID
check "READY=1 with a status line" wait_for 5 grep -q "READY=1 | STATUS=dvta is up" "$TMP/notify.log"
check "the control socket answered when READY=1 came" \
	grep -qx "control socket answered at READY: yes" "$TMP/notify.log"
kill -HUP "$PID_A"
check "SIGHUP: RELOADING=1 then READY=1" wait_for 5 bash -c \
	"grep -A1 -x 'RELOADING=1' '$TMP/notify.log' | grep -qx 'READY=1'"
[ "$VERBOSE" = 1 ] && sed 's/^/        notify: /' "$TMP/notify.log"

say "-- dybervpn metrics"
check "tunnel up: A pings B" ping_ok "$NS_A" 10.99.0.2
check "B pings A" ping_ok "$NS_B" 10.99.0.1
check "dybervpn metrics dvta" sh -c "'$DV' metrics dvta >'$TMP/m1.prom'"
check "it parses as Prometheus text" "$PY" "$HELPER" parse "$TMP/m1.prom"
"$PY" "$HELPER" families "$TMP/m1.prom" >"$TMP/m1.families"
for fam in wireguard_sent_bytes wireguard_received_bytes wireguard_latest_handshake_seconds \
	dybervpn_peer_mode dybervpn_peer_handshakes dybervpn_peer_refused_handshakes \
	dybervpn_dropped_packets dybervpn_cookie_replies_sent dybervpn_handshake_fragments dybervpn_peers; do
	check "family $fam" grep -qx "$fam" "$TMP/m1.families"
done
peer_b=$(in_ns "$NS_A" wg show dvta peers)
labels="wireguard_sent_bytes_total{allowed_ips=10.99.0.2/32,fd99::2/128,interface=dvta,public_key=$peer_b}"
tx1=$(metric "$TMP/m1.prom" "$labels")
check "sent bytes with the labels wg show gives (${tx1:-none})" test "${tx1:-0}" -gt 0
rx1=$(metric "$TMP/m1.prom" "wireguard_received_bytes_total{allowed_ips=10.99.0.2/32,fd99::2/128,interface=dvta,public_key=$peer_b}")
check "received bytes (${rx1:-none})" test "${rx1:-0}" -gt 0
hs=$(metric "$TMP/m1.prom" "wireguard_latest_handshake_seconds{allowed_ips=10.99.0.2/32,fd99::2/128,interface=dvta,public_key=$peer_b}")
wg_hs=$(wg_field "$NS_A" dvta latest-handshakes)
check "latest handshake is wg's (${hs:-none} vs ${wg_hs:-none})" test "${hs:-0}" -gt 0 -a "${hs:-0}" = "${wg_hs:-x}"
"$PY" "$HELPER" parse "$TMP/m1.prom" >"$TMP/m1.samples"
check "mode hybrid" grep -qx "dybervpn_peer_mode{interface=dvta,mode=hybrid,public_key=$peer_b} 1" \
	"$TMP/m1.samples"
n=$(metric "$TMP/m1.prom" "dybervpn_peer_handshakes_total{interface=dvta,public_key=$peer_b}")
check "handshakes completed (${n:-none})" test "${n:-0}" -ge 1
check "refused by reason: mode 0" grep -qx \
	"dybervpn_peer_refused_handshakes_total{interface=dvta,public_key=$peer_b,reason=mode} 0" \
	"$TMP/m1.samples"

in_ns "$NS_B" ping -q -c 50 -i 0.01 -s 1000 -W 2 -w 10 10.99.0.1 >/dev/null
"$DV" metrics dvta >"$TMP/m2.prom"
tx2=$(metric "$TMP/m2.prom" "$labels")
rx2=$(metric "$TMP/m2.prom" "wireguard_received_bytes_total{allowed_ips=10.99.0.2/32,fd99::2/128,interface=dvta,public_key=$peer_b}")
check "sent bytes grew by 50 KB of pings ($tx1 -> $tx2)" test "${tx2:-0}" -ge $((tx1 + 50000))
check "received bytes grew by 50 KB of pings ($rx1 -> $rx2)" test "${rx2:-0}" -ge $((rx1 + 50000))

# Ten junk datagrams at A's port: counted as malformed drops.
d1=$(metric "$TMP/m2.prom" "dybervpn_dropped_packets_total{interface=dvta,reason=malformed}")
for i in $(seq 10); do in_ns "$NS_B" bash -c 'echo junk >/dev/udp/192.0.2.1/51820'; done
wait_for 5 sh -c "'$DV' metrics dvta >'$TMP/m3.prom' && \
	[ \$('$PY' '$HELPER' parse '$TMP/m3.prom' | grep -F 'reason=malformed' | awk '{print \$NF}') -ge $((d1 + 10)) ]"
d3=$(metric "$TMP/m3.prom" "dybervpn_dropped_packets_total{interface=dvta,reason=malformed}")
check "10 junk datagrams counted as malformed drops (${d1:-none} -> ${d3:-none})" \
	test "${d3:-0}" -ge $((d1 + 10))

check "dybervpn metrics (all interfaces)" sh -c "'$DV' metrics >'$TMP/all.prom'"
check "  parses" "$PY" "$HELPER" parse "$TMP/all.prom"
check "  has both interfaces" sh -c "grep -q '^dybervpn_peers{interface=\"dvta\"} 1' '$TMP/all.prom' && \
	grep -q '^dybervpn_peers{interface=\"dvtb\"} 1' '$TMP/all.prom'"
check "  one TYPE line per family" test "$(grep -c '^# TYPE' "$TMP/all.prom")" = \
	"$(grep '^# TYPE' "$TMP/all.prom" | sort -u | wc -l)"
check_not "dybervpn metrics on no such interface fails" "$DV" metrics dvnone
check "wg show still reads the socket" in_ns "$NS_A" wg show dvta

say "-- the listener (metrics_listen)"
in_ns "$NS_A" "$PY" "$HELPER" get 127.0.0.1 "$PORT" /metrics >"$TMP/http.out" 2>&1
check "GET /metrics: 200" grep -qx "HTTP/1.0 200 OK" <(head -n 1 "$TMP/http.out")
tail -n +2 "$TMP/http.out" >"$TMP/http.prom"
check "  parses" "$PY" "$HELPER" parse "$TMP/http.prom"
check "  the families of dybervpn metrics" cmp <("$PY" "$HELPER" families "$TMP/http.prom") \
	<("$PY" "$HELPER" families "$TMP/m1.prom")
htx=$(metric "$TMP/http.prom" "$labels")
check "  the same counters (sent ${htx:-none} >= $tx2)" test "${htx:-0}" -ge "$tx2"
raw() { in_ns "$NS_A" "$PY" "$HELPER" raw 127.0.0.1 "$PORT" "$1"; }
in_ns "$NS_A" "$PY" "$HELPER" get 127.0.0.1 "$PORT" / >"$TMP/http404.out" 2>&1
check "GET /: 404" grep -q "^HTTP/1.0 404" "$TMP/http404.out"
check "junk: 400" grep -q "^HTTP/1.0 400" <(raw "$(printf 'hello\r\n\r\n' | od -An -v -tx1 | tr -d ' \n')")
check "TLS hello bytes: 400" grep -q "^HTTP/1.0 400" <(raw 160301020001000100fc03030a0a0a0a0a0a)
check "POST: 405" grep -q "^HTTP/1.0 405" <(raw "$(printf 'POST /metrics HTTP/1.0\r\n\r\n' | od -An -v -tx1 | tr -d ' \n')")
check "a 3000-byte head: 400" grep -q "^HTTP/1.0 400" <(raw "474554202f$(printf '61%.0s' $(seq 3000))")
closed=$(in_ns "$NS_A" "$PY" "$HELPER" hold 127.0.0.1 "$PORT" 20 8)
check "20 silent connections: the 12 over the bound closed at once, the rest within 8 s (${closed:-0} closed)" \
	test "${closed:-0}" -eq 20
in_ns "$NS_A" "$PY" "$HELPER" get 127.0.0.1 "$PORT" /metrics >"$TMP/http2.out" 2>&1
check "  then it still serves" grep -qx "HTTP/1.0 200 OK" <(head -n 1 "$TMP/http2.out")
check "  and the daemon is alive" kill -0 "$PID_A"
check_not "not reachable from B (bound to A's loopback)" in_ns "$NS_B" "$PY" "$HELPER" get 192.0.2.1 "$PORT" /metrics

say "-- bash completion"
words=$(bash -c 'source "$1"; COMP_WORDS=(dybervpn status ""); COMP_CWORD=2; _dybervpn dybervpn "" status; printf "%s\n" "${COMPREPLY[@]}"' _ "$ROOT/completion/dybervpn.bash")
check "'dybervpn status <TAB>' offers dvta and dvtb" sh -c "echo '$words' | grep -qx dvta && echo '$words' | grep -qx dvtb"

stop_pid "$PID_A"
check "STOPPING=1 on stop" wait_for 5 grep -qx "STOPPING=1" "$TMP/notify.log"
stop_pid "$PID_B"
stop_pid "$NPID"
finish
