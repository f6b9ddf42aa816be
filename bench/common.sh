# Helpers shared by the benchmark scripts (sourced, not run).
# shellcheck shell=bash

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
TRELLIS="${TRELLIS:-$ROOT/build/trellis}"
# Ports 18200-18299 on 127.0.0.1 only.
PORT_TRELLIS="${PORT_TRELLIS:-18231}"
PORT_NGINX="${PORT_NGINX:-18232}"

log() { echo "bench: $*" >&2; }
die() { echo "bench: FAILED: $*" >&2; exit 1; }

now_ns() { date +%s%N; }

# Seconds (3 decimals) between two now_ns readings.
elapsed_s() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }

# Median of the numbers given as arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "inf"; else printf "%.2f", a / b }'; }

# Waits until something answers HTTP on 127.0.0.1:$1 (any status), at most ~20 s.
wait_http() {
  local port="$1" i
  for i in $(seq 1 200); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Fails when something already listens on 127.0.0.1:$1 (we would measure someone else's server).
require_free_port() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    die "port $1 is already in use on 127.0.0.1 (set PORT_TRELLIS / PORT_NGINX to free ports in 18200-18299)"
  fi
}

# Stops one process we started, by its pid, and waits for it.
stop_pid() {
  local pid="$1"
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# wrk output -> "rps p50_ms p99_ms requests non2xx socket_errors". Units normalised to ms.
parse_wrk() {
  awk '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /m$/)  { sub(/m$/, "", v);  return v * 60000 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return v + 0
    }
    /Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    / requests in / { reqs = $1 }
    /Non-2xx or 3xx responses:/ { non2xx = $5 }
    /Socket errors:/ { errs = $0; gsub(/[^0-9 ]/, "", errs); split(errs, e, " "); serr = e[1] + e[2] + e[3] + e[4] }
    END { printf "%.0f %.2f %.2f %d %d %d\n", rps, p50, p99, reqs, non2xx + 0, serr + 0 }
  '
}

# Fails the run when a wrk run measured nothing useful: no requests, or any non-2xx answer.
check_wrk() {
  local what="$1" reqs="$2" non2xx="$3"
  [ "$reqs" -gt 0 ] || die "$what: wrk completed no request"
  [ "$non2xx" -eq 0 ] || die "$what: $non2xx responses were not 2xx (the benchmark would measure errors)"
}

# Peak resident set (VmHWM) of a live process, in MiB.
peak_rss_mib() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# For the scripts that reuse the store a `bench/http_get.sh WORK ...` run left in WORK:
# serve_http_store WORK BINARY WORKERS LABEL sets DATA, IDS, TOKEN (a new bearer token of the
# advocate) and PID (the server on 127.0.0.1:$PORT_TRELLIS, stopped when the script exits).
serve_http_store() {
  local work="$1" bin="$2" workers="$3" label="$4"
  DATA="$work/http-data"; IDS="$work/case-ids.txt"
  [ -s "$IDS" ] || die "no $IDS: run bench/http_get.sh $work RESULTS first"
  TOKEN="$("$bin" token create --data "$DATA" --user advocate --name "$label" | tail -1 | tr -d '[:space:]')"
  require_free_port "$PORT_TRELLIS"
  "$bin" serve --data "$DATA" --listen "127.0.0.1:$PORT_TRELLIS" --quiet --workers "$workers" >"$work/$label-serve.log" 2>&1 &
  PID=$!
  trap 'stop_pid "$PID"' EXIT
  wait_http "$PORT_TRELLIS" || die "trellis serve did not start"
}
