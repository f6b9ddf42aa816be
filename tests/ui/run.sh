#!/usr/bin/env bash
# Real-browser UI tests. Builds nothing: needs $TRELLIS_BIN (default build/trellis), a built
# web/dist (cd web && npm run build) and tests/ui/node_modules (npm ci). Starts a demo server on
# a loopback port, runs the tests with node's own runner, and always stops the server.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${TRELLIS_BIN:-$repo/build/trellis}"
case "$bin" in /*) ;; *) bin="$repo/$bin" ;; esac
[ -x "$bin" ] || { echo "ui: $bin is not built" >&2; exit 1; }
[ -f "$repo/web/dist/index.html" ] || { echo "ui: web/dist is not built (cd web && npm run build)" >&2; exit 1; }
[ -d "$here/node_modules/playwright-core" ] || { echo "ui: run npm ci in tests/ui first" >&2; exit 1; }

data="$(mktemp -d /tmp/trellis-ui.XXXXXX)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap cleanup EXIT INT TERM

"$bin" init --data "$data/d" >/dev/null
"$bin" demo --data "$data/d" --cases 60 --seed 1 >/dev/null
# A random loopback port in 18100-18199 (or TRELLIS_UI_PORT); another is tried if it is taken.
base=""
for attempt in 1 2 3 4 5; do
  port="${TRELLIS_UI_PORT:-$((18100 + RANDOM % 100))}"
  "$bin" serve --data "$data/d" --listen "127.0.0.1:$port" --web "$repo/web/dist" --quiet >"$data/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1; then
      # Healthy, and still ours (not another server that already held the port).
      sleep 0.3
      kill -0 "$server_pid" 2>/dev/null && base="http://127.0.0.1:$port"
      break
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$base" ] && break
  kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=""
  [ -z "${TRELLIS_UI_PORT:-}" ] || break
done
[ -n "$base" ] || { echo "ui: the server did not start" >&2; cat "$data/server.log" >&2; exit 1; }

cd "$here"
# Arguments name test files to run (e.g. consent.test.mjs); none: every *.test.mjs.
files=()
for f in "$@"; do case "$f" in /*) files+=("$f") ;; *) files+=("$here/$(basename "$f")") ;; esac; done
[ ${#files[@]} -gt 0 ] || files=("$here"/*.test.mjs)
# TRELLIS_UI_DATA and TRELLIS_BIN let a test add its own users with the CLI (totp.test.mjs).
TRELLIS_BASE_URL="$base" TRELLIS_UI_DATA="$data/d" TRELLIS_BIN="$bin" SCREENSHOT_DIR="${SCREENSHOT_DIR-$repo/docs/screenshots}" \
  node --test --test-concurrency=1 --test-timeout=120000 "${files[@]}"
