#!/usr/bin/env bash
# Set up everything the tests need (Qt libraries, Mosquitto, PostgreSQL) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --services
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest "$@"
