#!/usr/bin/env bash
# PostgreSQL vs SQLite through `trellis serve`, same machine, same run (docs/deploy/postgres-benchmarks.md):
#  1. GET one case        (SQLite store, PostgreSQL store)
#  2. create a survivor   (SQLite store, PostgreSQL store)
#  3. create a survivor with 1 vs 2 app servers on the same PostgreSQL
# Usage: bench/pg/run.sh [SECONDS]   (starts its own PostgreSQL via scripts/with-postgres.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${TRELLIS_PG_URL:-}" ]; then exec ./scripts/with-postgres.sh "$0" "$@"; fi
SECS="${1:-10}"
BIN=build/trellis
WORK="$(mktemp -d /tmp/trellis-bench.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

serve() {  # data store port -> starts a server in the background
  "$BIN" serve --data "$1" --store "$2" --listen "127.0.0.1:$3" --quiet --workers 8 >"$WORK/serve-$3.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$3/api/v1/health" >/dev/null && return 0; sleep 0.1; done
  echo "server on $3 did not start" >&2; cat "$WORK/serve-$3.log" >&2; exit 1
}
setup() {  # name store -> data dir with demo data; prints the token
  "$BIN" init --data "$WORK/$1" --store "$2" >/dev/null
  "$BIN" demo --data "$WORK/$1" --store "$2" --cases 200 --seed 1 >/dev/null
  "$BIN" token create --data "$WORK/$1" --store "$2" --user casemanager --name bench | head -1
}
rps() { awk '/Requests\/sec/ {print $2}'; }
lat() { awk '/Latency/ {print $2}'; }
wrk_run() {  # label port token script-or-empty url
  local out
  out="$(wrk -t1 -c8 -d"${SECS}s" -H "Authorization: Bearer $3" ${4:+-s "$4"} "$5")"
  printf '%-44s %10s req/s   avg latency %s\n' "$1" "$(rps <<<"$out")" "$(lat <<<"$out")"
}

TOK_SQ="$(setup sqlite "")"
TOK_PG="$(setup pg "$TRELLIS_PG_URL")"
serve "$WORK/sqlite" "" 18401
serve "$WORK/pg" "$TRELLIS_PG_URL" 18402
case_id() { curl -fs -H "Authorization: Bearer $2" "http://127.0.0.1:$1/api/v1/cases?limit=1" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])'; }
CASE_SQ="$(case_id 18401 "$TOK_SQ")"
CASE_PG="$(case_id 18402 "$TOK_PG")"

echo "trellis serve --workers 8; wrk -t1 -c8 -d${SECS}s; $(nproc) cores; $(date -u +%F)"
wrk_run "GET case, SQLite" 18401 "$TOK_SQ" "" "http://127.0.0.1:18401/api/v1/cases/$CASE_SQ"
wrk_run "GET case, PostgreSQL" 18402 "$TOK_PG" "" "http://127.0.0.1:18402/api/v1/cases/$CASE_PG"
wrk_run "create survivor, SQLite" 18401 "$TOK_SQ" bench/pg/create.lua "http://127.0.0.1:18401/api/v1/survivors"
wrk_run "create survivor, PostgreSQL, 1 app server" 18402 "$TOK_PG" bench/pg/create.lua "http://127.0.0.1:18402/api/v1/survivors"

# A second app server on the same database and key ring; the load split over both.
serve "$WORK/pg" "$TRELLIS_PG_URL" 18403
out1="$WORK/w1"; out2="$WORK/w2"
wrk -t1 -c4 -d"${SECS}s" -H "Authorization: Bearer $TOK_PG" -s bench/pg/create.lua "http://127.0.0.1:18402/api/v1/survivors" >"$out1" &
w1=$!
wrk -t1 -c4 -d"${SECS}s" -H "Authorization: Bearer $TOK_PG" -s bench/pg/create.lua "http://127.0.0.1:18403/api/v1/survivors" >"$out2" &
w2=$!
wait $w1 $w2
total="$(cat "$out1" "$out2" | rps | awk '{s+=$1} END {printf "%.2f", s}')"
printf '%-44s %10s req/s   (%s + %s)\n' "create survivor, PostgreSQL, 2 app servers" "$total" "$(rps <"$out1")" "$(rps <"$out2")"
"$BIN" audit verify --data "$WORK/pg" --store "$TRELLIS_PG_URL" | tail -1
