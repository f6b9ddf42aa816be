#!/usr/bin/env bash
# Benchmark 2: `trellis import htcds` of a deterministic HTCDS CSV into a fresh store, against
# the sqlite3 shell's `.import --csv` of the SAME file into a fresh database (plain table),
# measured in the same run. Median of REPS runs each, alternating.
# Usage: import.sh WORKDIR RESULTS_FILE   (env: ROWS, REPS)
set -euo pipefail
source "$(dirname "$0")/common.sh"
WORK="$1"; RESULTS="$2"
ROWS="${ROWS:-100000}"; REPS="${REPS:-3}"
unset TRELLIS_PASSPHRASE

CSV="$WORK/htcds-$ROWS.csv"
python3 "$BENCH_DIR/gen_htcds.py" "$ROWS" 42 "$CSV"
CSV_MB=$(awk -v b="$(wc -c <"$CSV")" 'BEGIN { printf "%.1f", b / 1048576 }')
log "import: $ROWS rows, $CSV_MB MiB CSV"

T_TIMES=(); S_TIMES=()
for rep in $(seq 1 "$REPS"); do
  # trellis: fresh store and agency (not timed), then the import (timed).
  D="$WORK/import-data"; rm -rf "$D"
  "$TRELLIS" init --data "$D" >/dev/null
  AGENCY="$("$TRELLIS" agency add --data "$D" --name "Bench Agency" --kind ngo_service_provider | tail -1 | tr -d '[:space:]')"
  [ -n "$AGENCY" ] || die "agency add printed no id"
  t0=$(now_ns)
  "$TRELLIS" import htcds "$CSV" --data "$D" --agency "$AGENCY" >"$WORK/import.out" 2>&1 || die "import failed: $(tail -3 "$WORK/import.out")"
  t1=$(now_ns)
  grep -q "imported $ROWS rows" "$WORK/import.out" || die "import did not report $ROWS rows: $(tail -2 "$WORK/import.out")"
  T_TIMES+=("$(elapsed_s "$t0" "$t1")")

  # sqlite3 shell: fresh database file, CSV header becomes a plain table's columns.
  DB="$WORK/import-plain.db"; rm -f "$DB" "$DB-journal" "$DB-wal"
  t0=$(now_ns)
  sqlite3 "$DB" ".import --csv $CSV t" || die "sqlite3 .import failed"
  t1=$(now_ns)
  n=$(sqlite3 "$DB" "SELECT count(*) FROM t")
  [ "$n" -eq "$ROWS" ] || die "sqlite3 imported $n rows, expected $ROWS"
  S_TIMES+=("$(elapsed_s "$t0" "$t1")")
  log "import rep $rep: trellis ${T_TIMES[-1]} s, sqlite3 ${S_TIMES[-1]} s"
done
# Check the trellis store really holds the rows (survivors + cases).
n=$(sqlite3 -readonly "$WORK/import-data/trellis.db" "SELECT count(*) FROM records")
[ "$n" -eq $((2 * ROWS)) ] || die "trellis store holds $n records, expected $((2 * ROWS))"

T=$(median "${T_TIMES[@]}"); S=$(median "${S_TIMES[@]}")
{
  echo "### 2. Import $ROWS HTCDS rows"
  echo
  echo "CSV of $ROWS rows x 13 HTCDS columns ($CSV_MB MiB, bench/gen_htcds.py seed 42); fresh store / fresh database each run;"
  echo "median of $REPS runs each (all runs: trellis ${T_TIMES[*]} s; sqlite3 ${S_TIMES[*]} s)."
  echo
  echo "| tool | seconds (median) | rows/s | ratio to sqlite3 |"
  echo "| --- | ---: | ---: | ---: |"
  echo "| sqlite3 \`.import --csv\` (plain table) | $S | $(awk -v r="$ROWS" -v s="$S" 'BEGIN { printf "%.0f", r / s }') | 1.00 |"
  echo "| \`trellis import htcds\` | $T | $(awk -v r="$ROWS" -v s="$T" 'BEGIN { printf "%.0f", r / s }') | **$(ratio "$T" "$S")** |"
  echo
  echo "Target: trellis/sqlite3 <= 2.0."
  echo
} >>"$RESULTS"
rm -rf "$WORK/import-data" "$WORK/import-plain.db"
