#!/usr/bin/env bash
# The whole test suite on a fresh Debian/Ubuntu machine: installs the Debian
# packages the build and the tests need (make included), then `make test`.
# Usage: sudo scripts/test.sh   (the network-namespace tests need root)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh all
exec make test
