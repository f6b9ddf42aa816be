#!/usr/bin/env bash
# Where one trellis binary spends GET one case, thread by thread: CPU (user and system) and the
# system calls that matter (per request), and the audit writer's work per group commit (per
# batch). Not part of run.sh: a diagnostic for changes too small for req/s to show on a shared
# machine (docs/benchmarks.md). Runs on the store a previous `bench/http_get.sh WORKDIR ...` left.
# Usage: threads.sh WORKDIR TRELLIS_BINARY [SECONDS]   (env: PORT_TRELLIS, CONNS, WORKERS)
# Needs perf (Debian: apt-get install linux-perf) and permission to trace the server
# (root, or kernel.perf_event_paranoid <= 1).
set -euo pipefail
source "$(dirname "$0")/common.sh"
WORK="$1"; BIN="$2"; D="${3:-6}"; CONNS="${CONNS:-64}"; W="${WORKERS:-32}"
command -v perf >/dev/null || die "perf is not installed (apt-get install linux-perf)"
serve_http_store "$WORK" "$BIN" "$W" threads
audit_counts() { sqlite3 -readonly "$DATA/trellis-audit.db" "SELECT (SELECT count(*) FROM audit_log), (SELECT count(*) FROM audit_checkpoints)" | tr '|' ' '; }

# wrk runs D + 2 seconds; perf counts the middle D - 1 seconds (the audit tables are counted
# around the same window, as closely as two sqlite3 calls allow).
BENCH_IDS="$IDS" BENCH_TOKEN="$TOKEN" wrk -t2 -c"$CONNS" -d"$((D + 2))s" -s "$BENCH_DIR/spread.lua" \
  "http://127.0.0.1:$PORT_TRELLIS" >"$WORK/threads-wrk.txt" 2>&1 &
WRK=$!
sleep 1
read -r e0 b0 < <(audit_counts)
EV=task-clock,syscalls:sys_enter_recvmsg,syscalls:sys_enter_sendmsg,syscalls:sys_enter_futex,syscalls:sys_enter_epoll_wait
EV=$EV,syscalls:sys_enter_newfstatat,syscalls:sys_enter_fdatasync,syscalls:sys_enter_pwrite64,syscalls:sys_enter_fcntl
EV=$EV,syscalls:sys_enter_pread64
perf stat --per-thread -x, -e "$EV" -p "$PID" -- sleep "$((D - 1))" 2>"$WORK/threads-perf.csv" || die "perf stat failed: $(cat "$WORK/threads-perf.csv")"
read -r e1 b1 < <(audit_counts)
wait "$WRK" || die "wrk failed: $(cat "$WORK/threads-wrk.txt")"
read -r rps p50 p99 reqs non2xx serr < <(parse_wrk <"$WORK/threads-wrk.txt")
check_wrk "trellis" "$reqs" "$non2xx"
entries=$((e1 - e0)); batches=$((b1 - b0))
[ "$entries" -gt 0 ] && [ "$batches" -gt 0 ] || die "no audit entries were written while perf counted"

# perf -x, --per-thread: "comm-tid,count,unit,event,..." (task-clock in ms). Requests in the
# perf window = the responses sent in it (one sendmsg each: a case response is one write); the
# audit tables give entries per batch, so a batch = that many requests. Per thread a row per
# request, and for the thread that called fdatasync most (the audit writer) a row per batch.
echo "$BIN: $rps req/s over the run (load $(cut -d' ' -f1 /proc/loadavg)); $(ratio "$entries" "$batches") audit entries per batch"
awk -F, -v per_batch="$(ratio "$entries" "$batches")" '
  $2 ~ /^[0-9.]+$/ {
    t = $1; ev = $4; sub(/^syscalls:sys_enter_/, "", ev)
    v[t, ev] = $2; if (!(t in seen)) { seen[t] = 1; order[++k] = t }
    if (ev == "sendmsg") n += $2
    if (ev == "fdatasync" && $2 > best) { best = $2; writer = t }
  }
  END {
    if (n == 0) { print "bench: FAILED: no response was sent while perf counted" > "/dev/stderr"; exit 1 }
    split("task-clock recvmsg sendmsg futex epoll_wait newfstatat fdatasync pwrite64 fcntl pread64", evs, " ")
    printf "%d requests counted\n%-24s %8s", n, "thread", "CPU us"
    for (i = 2; i <= 10; ++i) printf " %10s", evs[i]
    printf "\n"
    for (j = 1; j <= k; ++j) {
      t = order[j]; if (v[t, "task-clock"] * 1000 / n < 0.5) continue
      printf "%-24s %8.1f", t " /request", v[t, "task-clock"] * 1000 / n
      for (i = 2; i <= 10; ++i) printf " %10.2f", v[t, evs[i]] / n
      printf "\n"
      cpu += v[t, "task-clock"] * 1000 / n
    }
    if (writer != "") {
      b = n / per_batch
      printf "%-24s %8.1f", writer " /batch", v[writer, "task-clock"] * 1000 / b
      for (i = 2; i <= 10; ++i) printf " %10.2f", v[writer, evs[i]] / b
      printf "\n"
    }
    printf "all threads: %.1f us CPU per request\n", cpu
  }' "$WORK/threads-perf.csv"
