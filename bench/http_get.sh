#!/usr/bin/env bash
# Benchmark 1: GET one case over HTTP (authentication, policy, decryption, audit append),
# against nginx serving a static JSON file of the same size, measured in the same run.
# The machine is shared and its speed drifts by +-20 % from one minute to the next, so the ratio is
# taken from runs next to each other in time: nginx, then trellis for each --workers in
# WORKERS_LIST, nginx again; then ROUNDS - 1 more rounds of trellis (the best --workers) and nginx.
# Each trellis run is divided by the mean of the nginx runs just before and after it; the
# result is the median of the rounds' ratios (every round is printed).
# Usage: http_get.sh WORKDIR RESULTS_FILE   (env: CASES, DURATION, CONNS, WORKERS_LIST, ROUNDS)
set -euo pipefail
source "$(dirname "$0")/common.sh"
WORK="$1"; RESULTS="$2"
CASES="${CASES:-6000}"; DURATION="${DURATION:-12}"; CONNS="${CONNS:-64}"; WORKERS_LIST="${WORKERS_LIST:-8 16 32}"
ROUNDS="${ROUNDS:-3}"

DATA="$WORK/http-data"; NG="$WORK/nginx"
rm -rf "$DATA" "$NG"
mkdir -p "$NG/www" "$NG/tmp" "$NG/logs"
unset TRELLIS_PASSPHRASE
"$TRELLIS" init --data "$DATA" >/dev/null
"$TRELLIS" demo --data "$DATA" --cases "$CASES" --seed 7 >/dev/null
TOKEN="$("$TRELLIS" token create --data "$DATA" --user advocate --name bench | tail -1 | tr -d '[:space:]')"
[ -n "$TOKEN" ] || die "no token"

SERVE_PID=""; NGINX_PID=""
cleanup() { stop_pid "$SERVE_PID"; stop_pid "$NGINX_PID"; }
trap cleanup EXIT

start_trellis() {
  require_free_port "$PORT_TRELLIS"
  "$TRELLIS" serve --data "$DATA" --listen "127.0.0.1:$PORT_TRELLIS" --quiet --workers "$1" >"$WORK/serve.log" 2>&1 &
  SERVE_PID=$!
  wait_http "$PORT_TRELLIS" || die "trellis serve did not start (see $WORK/serve.log)"
}

# Case ids the advocate may read, through the list endpoint (pages of 200, following the cursor).
start_trellis 16
IDS="$WORK/case-ids.txt"; : >"$IDS"
cursor=""
for _ in $(seq 1 25); do
  url="http://127.0.0.1:$PORT_TRELLIS/api/v1/cases?limit=200${cursor:+&cursor=$cursor}"
  page="$(curl -sf -H "Authorization: Bearer $TOKEN" "$url")" || die "list endpoint failed"
  cursor="$(printf '%s' "$page" | python3 -c 'import json,sys
d=json.load(sys.stdin)
with open(sys.argv[1],"a") as f:
    for it in d["items"]: f.write(it["id"]+"\n")
print(d.get("next_cursor") or "")' "$IDS")"
  [ -n "$cursor" ] || break
done
NIDS=$(wc -l <"$IDS")
[ "$NIDS" -ge 100 ] || die "only $NIDS case ids from the list endpoint"

# One real case response, written as nginx's static file: same body size.
curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT_TRELLIS/api/v1/cases/$(head -1 "$IDS")" >"$NG/www/case.json" \
  || die "GET one case failed"
BODY_BYTES=$(wc -c <"$NG/www/case.json")
stop_pid "$SERVE_PID"; SERVE_PID=""

chmod 755 "$WORK" "$NG" "$NG/www"; chmod 644 "$NG/www/case.json"
cat >"$NG/nginx.conf" <<CONF
daemon off;
worker_processes auto;
pid $NG/nginx.pid;
error_log $NG/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $NG/tmp/body;
  proxy_temp_path $NG/tmp/proxy;
  fastcgi_temp_path $NG/tmp/fastcgi;
  uwsgi_temp_path $NG/tmp/uwsgi;
  scgi_temp_path $NG/tmp/scgi;
  server {
    listen 127.0.0.1:$PORT_NGINX;
    root $NG/www;
    location / { default_type application/json; rewrite ^ /case.json break; }
  }
}
CONF

# The audit chain lives in the store's audit file (trellis-audit.db).
audit_counts() { sqlite3 -readonly "$DATA/trellis-audit.db" "SELECT (SELECT count(*) FROM audit_log), (SELECT count(*) FROM audit_checkpoints)" | tr '|' ' '; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

run_wrk() {  # port label -> sets rps p50 p99 reqs non2xx serr
  local out="$WORK/wrk-$2.txt"
  BENCH_IDS="$IDS" BENCH_TOKEN="$TOKEN" wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s "$BENCH_DIR/spread.lua" \
    "http://127.0.0.1:$1" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
  read -r rps p50 p99 reqs non2xx serr < <(parse_wrk <"$out")
}

# CPU ticks of the nginx master and its workers.
nginx_ticks() {
  local t=0 p
  for p in "$NGINX_PID" $(pgrep -P "$NGINX_PID" || true); do
    t=$((t + $(cpu_ticks "$p")))
  done
  echo "$t"
}

run_nginx() {
  require_free_port "$PORT_NGINX"
  nginx -p "$NG" -c "$NG/nginx.conf" >"$NG/logs/stdout.log" 2>&1 &
  NGINX_PID=$!
  wait_http "$PORT_NGINX" || die "nginx did not start: $(cat "$NG/logs/error.log")"
  curl -sf "http://127.0.0.1:$PORT_NGINX/api/v1/cases/x" | cmp -s - "$NG/www/case.json" || die "nginx does not serve the case file"
  local c0 c1
  c0=$(nginx_ticks)
  run_wrk "$PORT_NGINX" "nginx-$1"
  c1=$(nginx_ticks)
  check_wrk "nginx" "$reqs" "$non2xx"
  stop_pid "$NGINX_PID"; NGINX_PID=""
  NGINX_RPS=$rps
  NGINX_CPU=$(awk -v c=$((c1 - c0)) -v r="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", c / hz * 1e6 / r }')
  log "nginx ($1): $rps req/s, p50 ${p50} ms, p99 ${p99} ms, $NGINX_CPU us CPU/request"
}

# One trellis run with --workers $1; sets rps p50 p99 and T_CPU_RUN T_BATCH_RUN T_BPS_RUN.
run_trellis() {
  local w="$1" e0 b0 e1 b1 c0 c1
  start_trellis "$w"
  read -r e0 b0 < <(audit_counts)
  c0=$(cpu_ticks "$SERVE_PID")
  run_wrk "$PORT_TRELLIS" "trellis-w$w-$2"
  c1=$(cpu_ticks "$SERVE_PID")
  read -r e1 b1 < <(audit_counts)
  check_wrk "trellis --workers $w" "$reqs" "$non2xx"
  stop_pid "$SERVE_PID"; SERVE_PID=""
  # Server CPU per request, and the audit group commit: entries per batch (one checkpoint a batch).
  T_CPU_RUN=$(awk -v c=$((c1 - c0)) -v r="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", c / hz * 1e6 / r }')
  T_BATCH_RUN=$(awk -v e=$((e1 - e0)) -v b=$((b1 - b0)) 'BEGIN { if (b) printf "%.1f", e / b; else print "-" }')
  T_BPS_RUN=$(awk -v b=$((b1 - b0)) -v d="$DURATION" 'BEGIN { printf "%.0f", b / d }')
  [ $((e1 - e0)) -ge "$reqs" ] || die "trellis --workers $w: $((e1 - e0)) audit entries for $reqs requests"
  log "trellis --workers $w ($2): $rps req/s, p50 ${p50} ms, p99 ${p99} ms ($reqs requests, socket errors $serr," \
      "$T_CPU_RUN us CPU/request, $T_BATCH_RUN audit entries/batch, $T_BPS_RUN batches/s)"
}

# Round 1: nginx, trellis with each --workers, nginx.
run_nginx before; NGINX_A=$NGINX_RPS; NGINX_CPU_A=$NGINX_CPU
declare -A T_RPS T_P50 T_P99 T_BATCH T_CPU T_BPS
for w in $WORKERS_LIST; do
  run_trellis "$w" round1
  T_RPS[$w]=$rps; T_P50[$w]=$p50; T_P99[$w]=$p99; T_CPU[$w]=$T_CPU_RUN; T_BATCH[$w]=$T_BATCH_RUN; T_BPS[$w]=$T_BPS_RUN
done
run_nginx after; NGINX_B=$NGINX_RPS; NGINX_CPU_B=$NGINX_CPU
NGINX=$(awk -v a="$NGINX_A" -v b="$NGINX_B" 'BEGIN { printf "%.0f", (a + b) / 2 }')

best=""
for w in $WORKERS_LIST; do
  if [ -z "$best" ] || [ "${T_RPS[$w]}" -gt "${T_RPS[$best]}" ]; then best=$w; fi
done

# Rounds 2..ROUNDS: trellis with the best --workers, then nginx; each trellis run against the
# nginx runs on either side of it.
ROUND_ROWS=("| 1 | ${T_RPS[$best]} | $NGINX_A / $NGINX_B | $(ratio "${T_RPS[$best]}" "$NGINX") | ${T_P50[$best]} | ${T_P99[$best]} | ${T_CPU[$best]} |")
RATIOS=("$(ratio "${T_RPS[$best]}" "$NGINX")")
prev=$NGINX_B
for r in $(seq 2 "$ROUNDS"); do
  run_trellis "$best" "round$r"
  t_rps=$rps; t_p50=$p50; t_p99=$p99; t_cpu=$T_CPU_RUN
  run_nginx "round$r"
  n_mean=$(awk -v a="$prev" -v b="$NGINX_RPS" 'BEGIN { printf "%.0f", (a + b) / 2 }')
  RATIOS+=("$(ratio "$t_rps" "$n_mean")")
  ROUND_ROWS+=("| $r | $t_rps | $prev / $NGINX_RPS | $(ratio "$t_rps" "$n_mean") | $t_p50 | $t_p99 | $t_cpu |")
  prev=$NGINX_RPS
done
MEDIAN=$(printf '%s\n' "${RATIOS[@]}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : sprintf("%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2) }')

{
  echo "### 1. GET one case over HTTP"
  echo
  echo "wrk -t2 -c$CONNS -d${DURATION}s --latency, requests spread over $NIDS case ids (bench/spread.lua);"
  echo "store of $CASES demo cases; case response body $BODY_BYTES bytes; nginx serves a static copy of it."
  echo
  echo "| server | req/s | ratio to nginx | p50 ms | p99 ms | server CPU us/request | audit entries/batch | audit batches/s |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  echo "| nginx (static file, mean of before $NGINX_A / after $NGINX_B) | $NGINX | 1.00 | | | $NGINX_CPU_A / $NGINX_CPU_B | | |"
  for w in $WORKERS_LIST; do
    mark=""; [ "$w" = "$best" ] && mark=" **(best)**"
    echo "| trellis --workers $w$mark | ${T_RPS[$w]} | $(ratio "${T_RPS[$w]}" "$NGINX") | ${T_P50[$w]} | ${T_P99[$w]} | ${T_CPU[$w]} | ${T_BATCH[$w]} | ${T_BPS[$w]} |"
  done
  echo
  echo "Rounds with --workers $best (each against the nginx runs just before and after it):"
  echo
  echo "| round | trellis req/s | nginx req/s (before / after) | ratio | p50 ms | p99 ms | server CPU us/request |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${ROUND_ROWS[@]}"
  echo
  echo "trellis/nginx = **$MEDIAN** (median of $ROUNDS rounds: ${RATIOS[*]}) with --workers $best (target >= 0.5)."
  echo
} >>"$RESULTS"
