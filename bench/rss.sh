#!/usr/bin/env bash
# Benchmark 3: peak RSS of `trellis serve` over a store of many demo cases, under ~10 s of
# wrk load (GETs spread over random case ids across the whole store, every 10th request a list).
# The baseline is the same server's VmHWM right after start-up, before any load (same run).
# The store is cached in CACHE_DIR and reused when complete.
# Usage: rss.sh WORKDIR RESULTS_FILE   (env: CASES, CACHE_DIR, DURATION, CONNS, WORKERS)
set -euo pipefail
source "$(dirname "$0")/common.sh"
WORK="$1"; RESULTS="$2"
CASES="${CASES:-1000000}"; CACHE_DIR="${CACHE_DIR:-/tmp/trellis-bench-1m}"
DURATION="${DURATION:-10}"; CONNS="${CONNS:-64}"; WORKERS="${WORKERS:-16}"
LIMIT_MIB=512
unset TRELLIS_PASSPHRASE

BUILD_NOTE="reused cached store $CACHE_DIR"
STAMP="$CASES cases, layout 2"
if [ ! -f "$CACHE_DIR/.bench-complete" ] || [ "$(cat "$CACHE_DIR/.bench-complete")" != "$STAMP" ]; then
  log "rss: building a store of $CASES demo cases in $CACHE_DIR (once; cached for later runs)"
  rm -rf "$CACHE_DIR"
  t0=$(now_ns)
  "$TRELLIS" init --data "$CACHE_DIR" >/dev/null
  "$TRELLIS" demo --data "$CACHE_DIR" --cases 0 --seed 3 >/dev/null            # agencies and demo users
  "$TRELLIS" demo --data "$CACHE_DIR" --cases "$CASES" --seed 3 --no-users >/dev/null
  # The token's user: the case-working demo user whose agency holds the most cases. (A second
  # `demo` call spreads cases by the name order of the agencies, so this is not always the NGO.)
  BENCH_USER="$(sqlite3 -readonly "$CACHE_DIR/trellis.db" \
    "SELECT u.username FROM users u JOIN records r ON r.agency_id = u.agency_id AND r.kind = 1
     WHERE u.username IN ('advocate', 'attorney', 'lespecialist') GROUP BY u.username ORDER BY count(*) DESC LIMIT 1")"
  [ -n "$BENCH_USER" ] || die "no demo user can read the cases"
  echo "$BENCH_USER" >"$CACHE_DIR/bench-user"
  "$TRELLIS" token create --data "$CACHE_DIR" --user "$BENCH_USER" --name bench-rss --ttl-days 0 | tail -1 | tr -d '[:space:]' \
    >"$CACHE_DIR/bench-token"
  chmod 600 "$CACHE_DIR/bench-token"
  t1=$(now_ns)
  BUILD_NOTE="built in $(elapsed_s "$t0" "$t1") s"
  echo "$STAMP" >"$CACHE_DIR/.bench-complete"
fi
TOKEN="$(cat "$CACHE_DIR/bench-token")"; BENCH_USER="$(cat "$CACHE_DIR/bench-user")"
DB_MIB=$(du -sm "$CACHE_DIR" | cut -f1)
NCASES=$(sqlite3 -readonly "$CACHE_DIR/trellis.db" "SELECT count(*) FROM records WHERE kind=1")
[ "$NCASES" -eq "$CASES" ] || die "the cached store holds $NCASES cases, expected $CASES"

# Random case ids of the advocate's agency from all over the store (read straight from the file
# before the server starts, so the sample is not biased to the first pages of the list).
IDS="$WORK/rss-ids.txt"
sqlite3 -readonly "$CACHE_DIR/trellis.db" \
  "SELECT r.id FROM records r JOIN users u ON u.agency_id = r.agency_id
   WHERE u.username = '$BENCH_USER' AND r.kind = 1 ORDER BY random() LIMIT 50000" >"$IDS"
[ "$(wc -l <"$IDS")" -ge 1000 ] || die "too few case ids"

require_free_port "$PORT_TRELLIS"
SERVE_PID=""
trap 'stop_pid "$SERVE_PID"' EXIT
"$TRELLIS" serve --data "$CACHE_DIR" --listen "127.0.0.1:$PORT_TRELLIS" --quiet --workers "$WORKERS" >"$WORK/serve-rss.log" 2>&1 &
SERVE_PID=$!
wait_http "$PORT_TRELLIS" || die "trellis serve did not start (see $WORK/serve-rss.log)"
curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT_TRELLIS/api/v1/cases/$(head -1 "$IDS")" \
  || die "GET one case failed on the large store"
IDLE=$(peak_rss_mib "$SERVE_PID")
BENCH_IDS="$IDS" BENCH_TOKEN="$TOKEN" BENCH_LIST_EVERY=10 wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency \
  -s "$BENCH_DIR/spread.lua" "http://127.0.0.1:$PORT_TRELLIS" >"$WORK/wrk-rss.txt" 2>&1 || die "wrk failed"
read -r rps p50 p99 reqs non2xx serr < <(parse_wrk <"$WORK/wrk-rss.txt")
check_wrk "rss load" "$reqs" "$non2xx"
PEAK=$(peak_rss_mib "$SERVE_PID")
NOW=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVE_PID/status")
stop_pid "$SERVE_PID"; SERVE_PID=""
verdict=$(awk -v p="$PEAK" -v l="$LIMIT_MIB" 'BEGIN { print (p < l) ? "yes" : "NO" }')
log "rss: $CASES cases, peak RSS $PEAK MiB (idle $IDLE MiB) at $rps req/s"

{
  echo "### 3. Serving $CASES demo cases: peak RSS"
  echo
  echo "Store: $CASES cases + $CASES survivors, $DB_MIB MiB on disk ($BUILD_NOTE). \`trellis serve --workers $WORKERS\`;"
  echo "wrk -t2 -c$CONNS -d${DURATION}s as demo user $BENCH_USER: GETs over $(wc -l <"$IDS") random case ids from the whole store, every 10th request"
  echo "\`GET /api/v1/cases?limit=50\`. RSS read from /proc/PID/status."
  echo
  echo "| measure | value |"
  echo "| --- | ---: |"
  echo "| VmHWM after start-up and one GET (baseline) | $IDLE MiB |"
  echo "| VmHWM (peak) after the load | **$PEAK MiB** |"
  echo "| VmRSS at the end of the load | $NOW MiB |"
  echo "| peak / baseline | $(ratio "$PEAK" "$IDLE") |"
  echo "| peak / 512 MiB limit | $(ratio "$PEAK" "$LIMIT_MIB") (under the limit: $verdict) |"
  echo "| load served | $rps req/s, p50 $p50 ms, p99 $p99 ms, $reqs requests |"
  echo
} >>"$RESULTS"
