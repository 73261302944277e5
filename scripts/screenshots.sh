#!/usr/bin/env bash
# Refresh the screenshots in docs/screenshots from the end-to-end GUI tests (offscreen).
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen GRIDROOM_SCREENSHOT_DIR="$PWD/docs/screenshots"
mkdir -p "$GRIDROOM_SCREENSHOT_DIR"
exec .venv/bin/python -m pytest -q -p no:cacheprovider -k screenshot tests/desktop "$@"
