#!/usr/bin/env bash
# A screenshot of the real app: `gridroom demo` in a real X window (Xvfb), the simulated fleet running.
# Needs xvfb and imagemagick (apt-get install xvfb xauth imagemagick). Writes docs/screenshots/live_demo.png.
set -euo pipefail
cd "$(dirname "$0")/.."
export OUT="$PWD/docs/screenshots/live_demo.png" DATA="$(mktemp -d)"
xvfb-run -a -s "-screen 0 1440x900x24 -nolisten tcp" bash -c '
  GRIDROOM_DATA_DIR="$DATA" QT_QPA_PLATFORM=xcb .venv/bin/gridroom demo > "$DATA/demo.log" 2>&1 &
  app=$!
  for _ in $(seq 1 120); do grep -q "signed in" "$DATA/demo.log" && break; sleep 0.5; done
  sleep 12  # let a few telemetry rounds arrive: this is a picture for people, not a test
  import -window root "$OUT"
  kill "$app"; wait "$app" || true
'
echo "wrote $OUT"
