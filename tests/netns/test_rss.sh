#!/usr/bin/env bash
# The idle daemon's memory: two daemons (RSS_MODE, default hybrid) with
# one peer each, a handshake and a ping, then one second idle. Prints the
# resident memory of A's daemon (the sandbox monitor's child): VmRSS, its
# anonymous and file-backed parts, the locked key memory, and the mappings
# it consists of (heap, stack, key memory, other anonymous memory, each
# library), from /proc/PID/smaps. One assertion on the figure: VmRSS at
# most RSS_LIMIT_KB (default 3072; the daemon takes about 2.95 MB); the rest is printed.
. "$(dirname "$0")/lib.sh"
need_root
MODE=${RSS_MODE:-hybrid}
LIMIT=${RSS_LIMIT_KB:-3072}

# daemon_of PID: under the sandbox `up -f` is a monitor, the daemon its child.
daemon_of() { local c; c=$(pgrep -P "$1" -x dybervpn | head -n 1); echo "${c:-$1}"; }
status_kb() { awk -v k="$2:" '$1 == k { print $2; exit }' "/proc/$1/status"; }

# breakdown PID: kB resident per kind of mapping, largest first, with the
# part of it that is private to the process (anonymous: written or zero
# pages) in brackets.
breakdown() {
	awk '
	/^[0-9a-f]+-[0-9a-f]+ / {
		path = $6; perm = $2
		if (path == "") name = "anonymous"
		else if (path ~ /^\[/) name = path
		else { n = split(path, p, "/"); name = p[n] }
		next
	}
	/^Rss:/ { rss[name] += $2; cur = name }
	/^Anonymous:/ { anon[cur] += $2 }
	/^Locked:/ { if ($2 > 0 && cur == "anonymous") lock += $2 }
	END {
		if (lock) { rss["anonymous"] -= lock; anon["anonymous"] -= lock;
			    rss["key memory (locked)"] = lock; anon["key memory (locked)"] = lock }
		for (k in rss) if (rss[k] > 0)
			printf "%6d kB  (%4d anon)  %s\n", rss[k], anon[k], k
	}' "/proc/$1/smaps" | sort -rn
}

check "set up namespaces" setup_pair
check "generate keys and configs ($MODE)" pair_configs "$MODE"
check "start dybervpn in B" start_dv "$NS_B" "$TMP/b.toml" "$TMP/b.log"
check "start dybervpn in A" start_dv "$NS_A" "$TMP/a.toml" "$TMP/a.log"
PID_A=$LAST_PID
check "ping A -> B" ping_ok "$NS_A" 10.99.0.2
sleep 1
D=$(daemon_of "$PID_A")
RSS=$(status_kb "$D" VmRSS)
say "  figure: idle daemon ($MODE, 1 peer): VmRSS ${RSS:-?} kB = $(status_kb "$D" RssAnon) kB anonymous + $(status_kb "$D" RssFile) kB file-backed; locked $(status_kb "$D" VmLck) kB"
breakdown "$D" | sed 's/^/  figure:   /'
check "idle VmRSS ${RSS:-?} kB <= $LIMIT kB" test "${RSS:-999999}" -le "$LIMIT"
check "the tunnel still works after the idle second" ping_ok "$NS_A" 10.99.0.2
finish
