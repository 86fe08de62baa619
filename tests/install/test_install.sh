#!/usr/bin/env bash
# What `make install` puts where: installs into a temporary DESTDIR and
# checks every file and its mode, the unit's substituted paths, then
# uninstalls and checks that nothing of it remains (an extra config in
# the config directory stays, and keeps the directory). Also: both man
# pages lint clean (groff -ww, man --warnings) and render, the unit
# passes `systemd-analyze verify`, and the bash completion completes
# subcommands and options. Needs no root (DESTDIR is never the real root).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dybervpn-install.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); printf '  ok    %s\n' "$*"; }
bad() { FAIL=$((FAIL + 1)); printf '  FAIL  %s\n' "$*"; }
# check DESCRIPTION CMD...
check() {
	local d=$1
	shift
	if "$@" >"$TMP/out" 2>&1; then ok "$d"; else
		bad "$d"
		tail -n 8 "$TMP/out" | sed 's/^/        /'
	fi
}
# quiet DESCRIPTION CMD...: succeeds and prints nothing at all.
quiet() {
	local d=$1
	shift
	if "$@" >"$TMP/out" 2>&1 && [ ! -s "$TMP/out" ]; then ok "$d"; else
		bad "$d"
		head -n 8 "$TMP/out" | sed 's/^/        /'
	fi
}

D=$TMP/dest
P=/usr
# The file list and modes a packager can rely on (PREFIX=/usr, the default
# layout below it).
expect=(
	"755 $P/bin/dybervpn"
	"644 $P/share/man/man8/dybervpn.8"
	"644 $P/share/man/man5/dybervpn.toml.5"
	"644 $P/lib/systemd/system/dybervpn@.service"
	"644 $P/share/bash-completion/completions/dybervpn"
	"700 /etc/dybervpn"
)

echo "== make install DESTDIR=... PREFIX=$P"
check "make install" make -s install DESTDIR="$D" PREFIX="$P"
for e in "${expect[@]}"; do
	mode=${e%% *} f=${e#* }
	got=$(stat -c %a "$D$f" 2>/dev/null)
	if [ "$got" = "$mode" ]; then ok "$f mode $mode"; else bad "$f: mode '${got:-missing}', want $mode"; fi
done
n_files=$(find "$D" -type f | wc -l)
if [ "$n_files" -eq 5 ]; then ok "exactly 5 files installed"; else
	bad "$n_files files installed, want 5"
	find "$D" -type f | sed 's/^/        /'
fi
check "installed binary runs" "$D$P/bin/dybervpn" version
check "installed binary is the build's" cmp build/dybervpn "$D$P/bin/dybervpn"
unit=$D$P/lib/systemd/system/dybervpn@.service
check "unit runs $P/bin/dybervpn up -f %i" grep -qx "ExecStart=$P/bin/dybervpn up -f %i" "$unit"
check "unit reloads with dybervpn reload %i" grep -qx "ExecReload=$P/bin/dybervpn reload %i" "$unit"
check "unit stops with dybervpn down %i" grep -qx "ExecStop=$P/bin/dybervpn down %i" "$unit"
check "unit finds configs in /etc/dybervpn" grep -qx "Environment=DYBERVPN_CONFIG_DIR=/etc/dybervpn" "$unit"
check "no @PLACEHOLDER@ left in the unit" bash -c "! grep -n '@[A-Z]*@' '$unit'"

echo "== BINDIR, MANDIR, SYSTEMDUNITDIR, BASHCOMPDIR, SYSCONFDIR"
D2=$TMP/dest2
check "make install with every directory set" make -s install DESTDIR="$D2" \
	BINDIR=/opt/dv/sbin MANDIR=/opt/dv/man SYSTEMDUNITDIR=/etc/systemd/system \
	BASHCOMPDIR=/opt/dv/bc SYSCONFDIR=/opt/dv/etc
for f in /opt/dv/sbin/dybervpn /opt/dv/man/man8/dybervpn.8 /opt/dv/man/man5/dybervpn.toml.5 \
	/etc/systemd/system/dybervpn@.service /opt/dv/bc/dybervpn; do
	check "$f" test -f "$D2$f"
done
check "its unit runs BINDIR's binary" grep -qx "ExecStart=/opt/dv/sbin/dybervpn up -f %i" \
	"$D2/etc/systemd/system/dybervpn@.service"
check "its unit reads SYSCONFDIR's configs" grep -qx "Environment=DYBERVPN_CONFIG_DIR=/opt/dv/etc/dybervpn" \
	"$D2/etc/systemd/system/dybervpn@.service"
check "make uninstall with the same directories" make -s uninstall DESTDIR="$D2" \
	BINDIR=/opt/dv/sbin MANDIR=/opt/dv/man SYSTEMDUNITDIR=/etc/systemd/system \
	BASHCOMPDIR=/opt/dv/bc SYSCONFDIR=/opt/dv/etc
left=$(find "$D2" -type f -o -name dybervpn)
if [ -z "$left" ]; then ok "nothing of it remains"; else bad "left behind: $left"; fi

echo "== make uninstall"
# A config the operator added must survive, and keep its directory.
echo '# mine' >"$D/etc/dybervpn/wg0.toml"
check "make uninstall" make -s uninstall DESTDIR="$D" PREFIX="$P"
left=$(find "$D" -type f -not -path "$D/etc/dybervpn/wg0.toml")
if [ -z "$left" ]; then ok "no installed file remains"; else bad "left behind: $left"; fi
check "the operator's config is kept" grep -q mine "$D/etc/dybervpn/wg0.toml"
rm -f "$D/etc/dybervpn/wg0.toml"
check "make uninstall again (idempotent)" make -s uninstall DESTDIR="$D" PREFIX="$P"
check "the empty config directory is removed" test ! -e "$D/etc/dybervpn"
left=$(find "$D" -type f)
if [ -z "$left" ]; then ok "no file at all remains"; else bad "left behind: $left"; fi

echo "== man pages"
for m in man/dybervpn.8 man/dybervpn.toml.5; do
	quiet "groff -man -ww -z $m" env LC_ALL=C.UTF-8 groff -man -ww -z "$m"
	quiet "man --warnings -l $m" sh -c "LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l '$m' >/dev/null"
	check "man -l $m renders" sh -c "LC_ALL=C.UTF-8 MANWIDTH=80 man -l '$m' | grep -q '^NAME'"
done
man8=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l man/dybervpn.8 2>/dev/null)
for c in $(sed -n 's/^\t{ "\([a-z]*\)", [a-z_]*_main,.*/\1/p' src/cli/main.c); do
	if grep -qE "^ {7}$c( |$)" <<<"$man8"; then ok "dybervpn(8) documents '$c'"; else bad "dybervpn(8) lacks command '$c'"; fi
done
man5=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l man/dybervpn.toml.5 2>/dev/null)
for k in $(sed -n 's/.*!strcmp(key, "\([a-z_]*\)").*/\1/p' src/config/config.c | sort -u); do
	if grep -qE "^ {7}$k( |$)" <<<"$man5"; then ok "dybervpn.toml(5) documents '$k'"; else bad "dybervpn.toml(5) lacks key '$k'"; fi
done

echo "== systemd unit"
if command -v systemd-analyze >/dev/null; then
	V=$TMP/verify
	mkdir -p "$V/man/man8" "$V/man/man5"
	cp man/dybervpn.8 "$V/man/man8/"
	cp man/dybervpn.toml.5 "$V/man/man5/"
	# The unit as installed, but running this build's binary; its
	# Documentation= pages are looked up in MANPATH.
	sed -e "s|@BINDIR@|$ROOT/build|g" -e "s|@SYSCONFDIR@|/etc|g" \
		systemd/dybervpn@.service.in >"$V/dybervpn@.service"
	quiet "systemd-analyze verify dybervpn@wg0.service" \
		env MANPATH="$V/man" systemd-analyze verify "$V/dybervpn@wg0.service"
	# The check itself must catch a broken unit.
	sed 's/^Type=notify/Type=notifyy/' "$V/dybervpn@.service" >"$V/broken@.service"
	if env MANPATH="$V/man" systemd-analyze verify "$V/broken@wg0.service" 2>&1 | grep -q .; then
		ok "systemd-analyze verify reports a broken unit"
	else
		bad "systemd-analyze verify is silent on a broken unit"
	fi
else
	echo "  systemd-analyze missing (scripts/deps.sh test installs systemd): skipped"
fi

echo "== bash completion"
# complete_words LINE: what the completion offers for LINE (cursor at the end).
complete_words() {
	bash -c '
		source "$1"
		read -ra COMP_WORDS <<<"$2"
		[[ $2 == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$2 COMP_POINT=${#2}
		_dybervpn dybervpn "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ completion/dybervpn.bash "$1" 2>&1
}
check "'dybervpn st' completes to status" bash -c '[ "$1" = status ]' _ "$(complete_words "dybervpn st")"
check "'dybervpn ' offers every command" \
	bash -c 'for c in up down status check genkey pubkey benchmark version; do grep -qx "$c" <<<"$1" || exit 1; done' _ \
	"$(complete_words "dybervpn ")"
check "'dybervpn genkey -m ' offers the modes" bash -c '[ "$(echo $1)" = "classic hybrid pqonly" ]' _ \
	"$(complete_words "dybervpn genkey -m ")"
check "'dybervpn status --j' completes to --json" bash -c '[ "$1" = --json ]' _ "$(complete_words "dybervpn status --j")"
check "'dybervpn up --f' completes to --foreground" bash -c '[ "$1" = --foreground ]' _ "$(complete_words "dybervpn up --f")"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
