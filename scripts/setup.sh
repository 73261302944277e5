#!/usr/bin/env bash
# Installs everything GridRoom needs on a fresh Debian machine, idempotently:
#   - the Qt system libraries (FACTS.md) when missing;
#   - with --services: Mosquitto, PostgreSQL and poppler-utils for the test suite, started when not running;
#   - uv, then the locked virtual environment in .venv (uv sync --frozen: exactly the pinned versions).
set -euo pipefail
cd "$(dirname "$0")/.."

want_services=0
[[ "${1:-}" == "--services" ]] && want_services=1

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

qt_libs=(libglib2.0-0 libgl1 libxkbcommon0 libegl1 libfontconfig1 libdbus-1-3
         libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
         libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-randr0)
service_pkgs=(mosquitto mosquitto-clients postgresql poppler-utils)

missing=()
pkgs=("${qt_libs[@]}")
(( want_services )) && pkgs+=("${service_pkgs[@]}")
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
fresh_postgres=0
if (( ${#missing[@]} )); then
  echo "setup: installing system packages: ${missing[*]}"
  [[ " ${missing[*]} " == *" postgresql "* ]] && fresh_postgres=1
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if (( want_services )); then
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "setup: starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
    for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  fi
  if (( fresh_postgres )); then
    # Only a cluster this script just installed gets the test password; an existing server is left alone.
    as_root su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\""
  fi
  if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
    echo "setup: starting Mosquitto"
    as_root mosquitto -d -c /etc/mosquitto/mosquitto.conf
    for _ in $(seq 1 60); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.5; done
  fi
fi

if ! command -v uv >/dev/null 2>&1; then
  echo "setup: installing uv"
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi
uv sync --frozen --quiet
echo "setup: ready (.venv)"
