#!/usr/bin/env bash
# Build the one-folder GridRoom bundle in dist/gridroom and smoke-test it (--help and a demo seed).
set -euo pipefail
cd "$(dirname "$0")/.."
uv sync --frozen --group packaging --quiet
.venv/bin/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/gridroom.spec
dist/gridroom/gridroom --help >/dev/null
GRIDROOM_DATA_DIR="$(mktemp -d)" dist/gridroom/gridroom demo --seed-only
echo "built dist/gridroom ($(du -sh dist/gridroom | cut -f1)); desktop entry: packaging/gridroom.desktop"
