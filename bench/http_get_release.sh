#!/usr/bin/env bash
# Benchmark 1b (issue #4): GET one case read through a cross-agency release, against the same
# cases read in the owning agency, in one run on one server. The law-enforcement user holds an
# active release of every releasable category for each measured survivor, so both read the same
# fields; the cross-agency read also writes its accounting of disclosures (S13).
# Target: the cross-agency figure within 10% of the same-agency one (ratio >= 0.90).
# Usage: http_get_release.sh WORKDIR RESULTS_FILE   (env: CASES, DURATION, CONNS, WORKERS, RELEASED)
set -euo pipefail
source "$(dirname "$0")/common.sh"
WORK="$1"; RESULTS="$2"
CASES="${CASES:-6000}"; DURATION="${DURATION:-12}"; CONNS="${CONNS:-64}"; WORKERS="${WORKERS:-16}"
RELEASED="${RELEASED:-100}"
PORT="${PORT_RELEASE:-18233}"

DATA="$WORK/release-data"
rm -rf "$DATA"
unset TRELLIS_PASSPHRASE
"$TRELLIS" init --data "$DATA" >/dev/null
"$TRELLIS" demo --data "$DATA" --cases "$CASES" --seed 7 >/dev/null
token() { "$TRELLIS" token create --data "$DATA" --user "$1" --name bench | tail -1 | tr -d '[:space:]'; }
ADV="$(token advocate)"; LE="$(token lespecialist)"
[ -n "$ADV" ] && [ -n "$LE" ] || die "no tokens"

SERVE_PID=""
trap 'stop_pid "$SERVE_PID"' EXIT
require_free_port "$PORT"
"$TRELLIS" serve --data "$DATA" --listen "127.0.0.1:$PORT" --quiet --workers "$WORKERS" >"$WORK/serve-release.log" 2>&1 &
SERVE_PID=$!
wait_http "$PORT" || die "trellis serve did not start (see $WORK/serve-release.log)"
API="http://127.0.0.1:$PORT/api/v1"

# The advocate's first $RELEASED cases; one release per survivor to the law-enforcement agency.
LE_AGENCY="$(curl -sf -H "Authorization: Bearer $LE" "$API/me" | python3 -c 'import json,sys; print(json.load(sys.stdin)["agency_id"])')"
IDS="$WORK/release-case-ids.txt"
curl -sf -H "Authorization: Bearer $ADV" "$API/cases?limit=200" | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"][: int(sys.argv[1])]
for it in items: print(it["id"], it["survivor_id"])' "$RELEASED" >"$WORK/release-pairs.txt"
[ "$(wc -l <"$WORK/release-pairs.txt")" -eq "$RELEASED" ] || die "fewer than $RELEASED cases listed"
cut -d' ' -f1 "$WORK/release-pairs.txt" >"$IDS"
EXPIRES="$(date -u -d '+30 days' +%F)"
CATS='["identity","contact","location","trafficking_history","demographic","immigration","medical","safety_plan","case_workflow"]'
while read -r _ sid; do
  body="{\"survivor_id\":\"$sid\",\"recipient_agency_id\":\"$LE_AGENCY\",\"categories\":$CATS,\"purpose\":\"investigation\",\"expires_on\":\"$EXPIRES\",\"signers\":[{\"relationship\":\"survivor\",\"name\":\"Bench Signer\"}]}"
  curl -sf -o /dev/null -H "Authorization: Bearer $ADV" -H 'Content-Type: application/json' -d "$body" "$API/releases" \
    || die "recording a release failed"
done <"$WORK/release-pairs.txt"

# Both users see the same case body (the team list aside, which another agency never sees).
one="$(head -1 "$IDS")"
ADV_BYTES=$(curl -sf -H "Authorization: Bearer $ADV" "$API/cases/$one" | wc -c)
LE_BYTES=$(curl -sf -H "Authorization: Bearer $LE" "$API/cases/$one" | wc -c) || die "the release does not open the case"

run_as() {  # token label -> rps p50 p99
  local out="$WORK/wrk-release-$2.txt"
  BENCH_IDS="$IDS" BENCH_TOKEN="$1" wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s "$BENCH_DIR/spread.lua" \
    "http://127.0.0.1:$PORT" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
  read -r rps p50 p99 reqs non2xx serr < <(parse_wrk <"$out")
  check_wrk "$2" "$reqs" "$non2xx"
  log "GET case as $2: $rps req/s, p50 ${p50} ms, p99 ${p99} ms ($reqs requests)"
}
# Alternated (same, cross, cross, same) so that drift on a shared machine hits both alike.
run_as "$ADV" same-1; S1=$rps; SP50=$p50
run_as "$LE" cross-1; C1=$rps; CP50=$p50
run_as "$LE" cross-2; C2=$rps
run_as "$ADV" same-2; S2=$rps
SAME=$(awk -v a="$S1" -v b="$S2" 'BEGIN { printf "%.0f", (a + b) / 2 }')
CROSS=$(awk -v a="$C1" -v b="$C2" 'BEGIN { printf "%.0f", (a + b) / 2 }')
DISCLOSURES=$(sqlite3 -readonly "$DATA/trellis-audit.db" "SELECT count(*) FROM disclosures")

{
  echo "### 1b. GET one case through a cross-agency release"
  echo
  echo "wrk -t2 -c$CONNS -d${DURATION}s --latency per run, trellis --workers $WORKERS, requests spread over $RELEASED"
  echo "cases (bench/spread.lua) of a $CASES-case demo store; each of their survivors released to the"
  echo "law-enforcement agency (all releasable categories). Body $ADV_BYTES bytes same-agency, $LE_BYTES cross-agency."
  echo "Runs alternated same, cross, cross, same; $DISCLOSURES disclosures recorded."
  echo
  echo "| reader | req/s (run 1 / run 2) | mean | p50 ms (run 1) |"
  echo "| --- | ---: | ---: | ---: |"
  echo "| advocate, same agency | $S1 / $S2 | $SAME | $SP50 |"
  echo "| LE victim specialist, through a release | $C1 / $C2 | $CROSS | $CP50 |"
  echo
  echo "Cross-agency / same-agency = **$(ratio "$CROSS" "$SAME")** (target >= 0.90)."
  echo
} >>"$RESULTS"
