#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for SECONDS (default 60).
# Crashes are saved under tests/fuzz_corpus/<target>/crash-* : keep them as regression cases.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(json_request_fuzz htcds_csv_fuzz facts_decoder_fuzz rule_loader_fuzz)
fi
cmake --preset fuzz >/dev/null
cmake --build build/fuzz -j 2 --target "${targets[@]}"
for t in "${targets[@]}"; do
  corpus="tests/fuzz_corpus/$t"
  mkdir -p "$corpus"
  work="$(mktemp -d)"
  cp -r "$corpus"/. "$work"/ 2>/dev/null || true
  # Replay every kept case (regressions), then explore for the time budget.
  echo "fuzz: $t (${secs}s)"
  ./build/fuzz/"$t" -runs=0 "$corpus" >/dev/null 2>&1 || { echo "fuzz: $t fails on its kept corpus"; exit 1; }
  ./build/fuzz/"$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$corpus/" -print_final_stats=1 "$work" 2>&1 | grep -E "stat::number_of_executed_units|ERROR|crash" || true
  rm -rf "$work"
  if ls "$corpus"/crash-* "$corpus"/leak-* "$corpus"/timeout-* >/dev/null 2>&1; then
    echo "fuzz: $t found a failing input (kept in $corpus)"
    exit 1
  fi
done
echo "fuzz: all targets ran clean"
