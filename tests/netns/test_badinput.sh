#!/usr/bin/env bash
# Hostile input against a running tunnel (hybrid mode): random and truncated
# datagrams of every message type at the daemon's UDP port, and malformed
# control-socket requests. Each must be dropped or refused with no crash and
# the established tunnel unaffected.
. "$(dirname "$0")/lib.sh"
need_root
check "set up namespaces" setup_pair
check "generate keys and configs" pair_configs hybrid
check "start A" start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log"
PID_A=$LAST_PID
check "start B" start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log"
check "tunnel up" ping_ok "$NS_B" 10.99.0.1

# A datagram: message type byte, 3 reserved bytes, then LEN random bytes.
send() { # TYPE RESERVED-HEX LEN
	in_ns "$NS_B" bash -c "{ printf '\\x$1\\x$2\\x00\\x00'; head -c $3 /dev/urandom; } >/dev/udp/192.0.2.1/51820" 2>/dev/null
}
sent=0
for type in 01 02 03 04 05 06 07 08 00 09 ff; do
	for len in 0 1 12 28 44 60 88 116 144 1176 1328 4501 4653 4700 8000; do
		send "$type" 00 "$len" && sent=$((sent + 1))
	done
	send "$type" 01 144 && sent=$((sent + 1)) # non-zero reserved byte
done
for i in $(seq 200); do # random lengths and types
	send "$(printf '%02x' $((RANDOM % 10)))" 00 $((RANDOM % 5000)) && sent=$((sent + 1))
done
check "sent $sent hostile datagrams" test "$sent" -gt 300
check "daemon A still running" kill -0 "$PID_A"
check "tunnel unaffected: B -> A" ping_ok "$NS_B" 10.99.0.1
check "tunnel unaffected: A -> B" ping_ok "$NS_A" 10.99.0.2

# Control socket: malformed requests get errno=22 (or a closed connection),
# and nothing changes.
uapi() { # REQUEST (python escapes allowed)
	python3 - "$1" <<'PY'
import socket, sys
req = sys.argv[1].encode().decode("unicode_escape").encode("latin-1")
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect("/var/run/wireguard/dvta.sock")
s.sendall(req)
out = b""
try:
    while not out.endswith(b"\n\n"):
        d = s.recv(65536)
        if not d:
            break
        out += d
except socket.timeout:
    pass
sys.stdout.write(out.decode("latin-1"))
PY
}
before=$(in_ns "$NS_A" wg showconf dvta 2>&1)
for req in 'set=1\nbogus_key=1\n\n' 'set=1\nprivate_key=zz\n\n' 'set=1\nlisten_port=99999\n\n' \
	'set=1\npublic_key=00\n\n' 'set=1\npublic_key='"$(printf '%064d' 0)"'\nallowed_ip=1.2.3.4/99\n\n' \
	'set=1\npublic_key='"$(printf '%064d' 0)"'\nendpoint=[::1\n\n' 'set=1\nno_equals_sign\n\n' \
	'hello=1\n\n' 'get=2\n\n'; do
	out=$(uapi "$req")
	case $out in
	*errno=0*) bad "control socket accepted: $req" ;;
	*) ok "control socket refused: $(printf '%s' "$req" | head -c 40)" ;;
	esac
done
uapi "$(head -c 3000 /dev/urandom | base64 -w 0)\n\n" >/dev/null
check "daemon A still running after bad control requests" kill -0 "$PID_A"
after=$(in_ns "$NS_A" wg showconf dvta 2>&1)
check "configuration unchanged by refused requests" test "$before" = "$after"
check "get=1 still answers" sh -c "wg show dvta | grep -q 'listening port: 51820'"
check "tunnel still up" ping_ok "$NS_B" 10.99.0.1

say "-- config errors name file, line and key"
printf '[interface]\nname = "dvtx"\nprivate_key = "%s"\nlisten_port = 70000\n' "$a_priv" >"$TMP/bad1.toml"
check "listen_port out of range: file:line and key" sh -c "'$DV' check -c '$TMP/bad1.toml' 2>&1 | grep -q 'bad1.toml:4.*listen_port'"
printf '[interface]\nname = "dvtx"\nprivate_key = "%s"\nbogus = 1\n' "$a_priv" >"$TMP/bad2.toml"
check "unknown key: file:line and key" sh -c "'$DV' check -c '$TMP/bad2.toml' 2>&1 | grep -q 'bad2.toml:4.*bogus'"
check_not "dybervpn up refuses a bad config" "$DV" up -f -c "$TMP/bad2.toml"
finish
