#!/usr/bin/env bash
# Installs everything Trellis needs on Debian 12, idempotently. Run as root (or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config clang libclang-rt-14-dev
  libsodium-dev libssl-dev liboath-dev libsqlite3-dev sqlite3 libboost-dev nlohmann-json3-dev libyaml-cpp-dev
  libcli11-dev libspdlog-dev libfmt-dev libhowardhinnant-date-dev libcsv-dev libmagic-dev libjemalloc-dev libsimdjson-dev rapidjson-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libpqxx-dev postgresql
  python3 curl wrk nginx-light
  nodejs npm chromium
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  # Node.js may come from another package that bundles npm (NodeSource's nodejs): then the
  # commands are there and Debian's npm package would conflict with it.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The web build (Vite) needs Node.js 20 or newer.
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js $(node --version 2>/dev/null) is too old for the web build; Node.js 20 or newer is needed" >&2
  exit 1
fi

# Front-end and browser-test dependencies from the npm registry (lock files pin them).
for dir in web tests/ui; do
  if [ -f "$dir/package.json" ]; then
    if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
  fi
done
