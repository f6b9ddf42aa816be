#!/usr/bin/env bash
# The foundation benchmarks (docs/benchmarks.md). Every figure is printed as a ratio against a
# baseline measured in the same run. Usage: bench/run.sh [--quick]
#   --quick   small sizes and short runs: a smoke run that the benchmarks still work (~1-2 min)
# Needs: build/trellis, wrk, nginx, sqlite3, curl, python3 (scripts/setup.sh installs them).
# Results: printed, and written to build/bench/results.md.
set -euo pipefail
source "$(dirname "$0")/common.sh"

QUICK=0
for a in "$@"; do
  case "$a" in
    --quick) QUICK=1 ;;
    -h|--help) sed -n 2,7p "$0"; exit 0 ;;
    *) die "unknown argument $a (usage: bench/run.sh [--quick])" ;;
  esac
done

for tool in wrk nginx sqlite3 curl python3; do
  command -v "$tool" >/dev/null || die "$tool is missing (run scripts/setup.sh)"
done
[ -x "$TRELLIS" ] || die "$TRELLIS is missing (build first: cmake --preset release && cmake --build build)"

WORK="$(mktemp -d /tmp/trellis-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
OUT_DIR="$ROOT/build/bench"; mkdir -p "$OUT_DIR"
RESULTS="$OUT_DIR/results.md"

if [ "$QUICK" -eq 1 ]; then
  export CASES_HTTP=1500 DURATION_HTTP=3 WORKERS_LIST="16" ROWS=5000 REPS=3
  export CASES_RSS=20000 CACHE_DIR_RSS=/tmp/trellis-bench-20k DURATION_RSS=3
  MODE="--quick"
else
  export CASES_HTTP=6000 DURATION_HTTP=12 WORKERS_LIST="${WORKERS_LIST:-8 16 32}" ROWS=100000 REPS=3
  export CASES_RSS=1000000 CACHE_DIR_RSS=/tmp/trellis-bench-1m DURATION_RSS=10
  MODE="full"
fi

{
  echo "## Results ($MODE), $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'),"
  echo "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; trellis $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "(RelWithDebInfo). Load: $(cut -d' ' -f1-3 /proc/loadavg) at start. Shared machine: other builds may run."
  echo
} >"$RESULTS"

log "1/3 GET one case over HTTP"
CASES=$CASES_HTTP DURATION=$DURATION_HTTP "$BENCH_DIR/http_get.sh" "$WORK" "$RESULTS"
log "1b/3 GET one case through a cross-agency release (same run: the same cases same-agency)"
CASES=$CASES_HTTP DURATION=$DURATION_HTTP "$BENCH_DIR/http_get_release.sh" "$WORK" "$RESULTS"
log "2/3 import HTCDS"
"$BENCH_DIR/import.sh" "$WORK" "$RESULTS"
log "3/3 peak RSS serving a large store"
CASES=$CASES_RSS CACHE_DIR=$CACHE_DIR_RSS DURATION=$DURATION_RSS "$BENCH_DIR/rss.sh" "$WORK" "$RESULTS"

echo
cat "$RESULTS"
