#!/usr/bin/env bash
# Set up (first run only does real work) and start GridRoom's demo: SQLite in the per-user data folder,
# a demo site with demo users, signed in as the demo operator.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/gridroom demo "$@"
