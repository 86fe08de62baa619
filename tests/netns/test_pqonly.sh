#!/usr/bin/env bash
# Pqonly mode (hybrid + ML-DSA-65 mutual signatures) end to end: see pq_tunnel.sh.
MODE=pqonly
. "$(dirname "$0")/pq_tunnel.sh"
