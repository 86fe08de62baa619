#!/usr/bin/env bash
# Install the Debian packages DyberVPN needs to build, test and run its demo.
# Usage: scripts/deps.sh [build|test|all]   (default: all)
# Installs only what is missing; needs root (or sudo) when something is.
set -euo pipefail

build_pkgs="build-essential pkg-config libsodium-dev libb2-dev libssl-dev libmnl-dev zlib1g-dev libseccomp-dev libcap-dev"
test_pkgs="valgrind clang libclang-rt-dev iproute2 iputils-ping iperf3 wireguard-go wireguard-tools procps python3
	systemd man-db groff-base bash-completion python3-prometheus-client strace"

case "${1:-all}" in
build) want="$build_pkgs" ;;
test | all) want="$build_pkgs $test_pkgs" ;;
*) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
