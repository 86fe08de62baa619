#!/usr/bin/env bash
# Hybrid mode (X25519 + ML-KEM-768, the default) end to end: see pq_tunnel.sh.
MODE=hybrid
. "$(dirname "$0")/pq_tunnel.sh"
