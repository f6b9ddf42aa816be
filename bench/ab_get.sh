#!/usr/bin/env bash
# A/B helper for benchmark 1: server CPU per request (the steadiest figure on a shared machine),
# req/s, p50 and p99 of GET one case, for one trellis binary, on the store a previous
# `bench/http_get.sh WORKDIR ...` run left in WORKDIR. Run it alternately for two binaries.
# Usage: ab_get.sh WORKDIR TRELLIS_BINARY WORKERS [SECONDS]   (env: PORT_TRELLIS, CONNS)
set -euo pipefail
source "$(dirname "$0")/common.sh"
WORK="$1"; BIN="$2"; W="$3"; D="${4:-10}"; CONNS="${CONNS:-64}"
serve_http_store "$WORK" "$BIN" "$W" ab
c0=$(awk '{ print $14 + $15 }' "/proc/$PID/stat")
BENCH_IDS="$IDS" BENCH_TOKEN="$TOKEN" wrk -t2 -c"$CONNS" -d"${D}s" --latency -s "$BENCH_DIR/spread.lua" \
  "http://127.0.0.1:$PORT_TRELLIS" >"$WORK/ab-wrk.txt" 2>&1 || die "wrk failed"
c1=$(awk '{ print $14 + $15 }' "/proc/$PID/stat")
read -r rps p50 p99 reqs non2xx serr < <(parse_wrk <"$WORK/ab-wrk.txt")
check_wrk "trellis" "$reqs" "$non2xx"
cpu=$(awk -v c=$((c1 - c0)) -v r="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", c / hz * 1e6 / r }')
echo "$BIN --workers $W: $rps req/s, p50 $p50 ms, p99 $p99 ms, $cpu us CPU/request ($reqs requests, load $(cut -d' ' -f1 /proc/loadavg))"
