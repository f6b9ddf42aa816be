#!/usr/bin/env bash
# Benchmark 2: `trellis import htcds` of a deterministic HTCDS CSV into a fresh store, against
# the sqlite3 shell's `.import --csv` of the SAME file into a fresh database (plain table),
# measured in the same run. Median of REPS runs each, alternating.
#
# Also the floor: the time SQLite alone needs to write what the import wrote. After each import,
# the sqlite3 shell copies the rows it created (data_keys, records, then its audit_log entries)
# into a fresh store made by `trellis init` (same schema and page size), in the import's order,
# with the import's pragmas (WAL, synchronous=FULL, secure_delete, 16 MB page cache) and in the
# same two transactions (the rows, then the audit entries). The rows are first copied into
# in-memory temp tables (not timed); the time is the sum of the shell's `.timer` for BEGIN ..
# COMMIT of both transactions (COMMIT includes the WAL fsync and the automatic checkpoint, as in
# the import). No parsing, validation, encryption, key wrapping or audit hashing/signing: only
# the B-trees, the WAL and the checkpoint.
# Usage: import.sh WORKDIR RESULTS_FILE   (env: ROWS, REPS; FLOOR=0 skips the floor)
set -euo pipefail
source "$(dirname "$0")/common.sh"
WORK="$1"; RESULTS="$2"
ROWS="${ROWS:-100000}"; REPS="${REPS:-3}"; FLOOR="${FLOOR:-1}"
unset TRELLIS_PASSPHRASE

CSV="$WORK/htcds-$ROWS.csv"
python3 "$BENCH_DIR/gen_htcds.py" "$ROWS" 42 "$CSV"
CSV_MB=$(awk -v b="$(wc -c <"$CSV")" 'BEGIN { printf "%.1f", b / 1048576 }')
log "import: $ROWS rows, $CSV_MB MiB CSV"

# The file of a store (data dir $1) that holds the table $2 (the audit log may have a file of its own).
file_with_table() {
  local f
  for f in "$1"/*.db; do
    if [ "$(sqlite3 -readonly "$f" "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='$2'")" = 1 ]; then
      echo "$f"; return 0
    fi
  done
  return 1
}

# Seconds SQLite alone takes to write the rows the import wrote into store $1 (audit entries
# after seq $2) into a fresh store.
floor_s() {
  local src="$1" audit_from="$2" F="$WORK/floor-data"
  rm -rf "$F"
  "$TRELLIS" init --data "$F" >/dev/null
  local main_src audit_src audit_dst attach_audit="" audit_table="main.audit_log"
  main_src="$(file_with_table "$src" records)" || die "floor: no records table in $src"
  audit_src="$(file_with_table "$src" audit_log)" || die "floor: no audit_log table in $src"
  audit_dst="$F/$(basename "$audit_src")"
  if [ "$(basename "$audit_src")" != "$(basename "$main_src")" ]; then
    attach_audit="ATTACH '$audit_dst' AS aud; PRAGMA aud.journal_mode=WAL; PRAGMA aud.synchronous=FULL;"
    audit_table="aud.audit_log"
  fi
  sqlite3 -bail "$F/$(basename "$main_src")" <<SQL | awk '/^Run Time:/ { s += $4 } END { printf "%.3f", s }'
PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON; PRAGMA foreign_keys=ON;
PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16000;
$attach_audit
ATTACH 'file:$main_src?mode=ro' AS src; ATTACH 'file:$audit_src?mode=ro' AS srca;
CREATE TEMP TABLE k AS SELECT * FROM src.data_keys ORDER BY rowid;
CREATE TEMP TABLE r AS SELECT * FROM src.records ORDER BY rowid;
CREATE TEMP TABLE a AS SELECT entry, chain_hash FROM srca.audit_log WHERE seq > $audit_from ORDER BY seq;
DETACH src; DETACH srca;
.timer on
BEGIN IMMEDIATE;
INSERT INTO main.data_keys SELECT * FROM k ORDER BY rowid;
INSERT INTO main.records SELECT * FROM r ORDER BY rowid;
COMMIT;
BEGIN IMMEDIATE;
INSERT INTO $audit_table(entry, chain_hash) SELECT entry, chain_hash FROM a ORDER BY rowid;
COMMIT;
SQL
}

T_TIMES=(); S_TIMES=(); F_TIMES=()
for rep in $(seq 1 "$REPS"); do
  # trellis: fresh store and agency (not timed), then the import (timed).
  D="$WORK/import-data"; rm -rf "$D"
  "$TRELLIS" init --data "$D" >/dev/null
  AGENCY="$("$TRELLIS" agency add --data "$D" --name "Bench Agency" --kind ngo_service_provider | tail -1 | tr -d '[:space:]')"
  [ -n "$AGENCY" ] || die "agency add printed no id"
  AUDIT_FROM="$(sqlite3 -readonly "$(file_with_table "$D" audit_log)" "SELECT coalesce(max(seq), 0) FROM audit_log")"
  t0=$(now_ns)
  "$TRELLIS" import htcds "$CSV" --data "$D" --agency "$AGENCY" >"$WORK/import.out" 2>&1 || die "import failed: $(tail -3 "$WORK/import.out")"
  t1=$(now_ns)
  grep -q "imported $ROWS rows" "$WORK/import.out" || die "import did not report $ROWS rows: $(tail -2 "$WORK/import.out")"
  T_TIMES+=("$(elapsed_s "$t0" "$t1")")
  if [ "$FLOOR" = 1 ]; then
    F_TIMES+=("$(floor_s "$D" "$AUDIT_FROM")")
    n=$(sqlite3 -readonly "$(file_with_table "$WORK/floor-data" records)" "SELECT count(*) FROM records")
    [ "$n" -eq $((2 * ROWS)) ] || die "floor store holds $n records, expected $((2 * ROWS))"
  fi

  # sqlite3 shell: fresh database file, CSV header becomes a plain table's columns.
  DB="$WORK/import-plain.db"; rm -f "$DB" "$DB-journal" "$DB-wal"
  t0=$(now_ns)
  sqlite3 "$DB" ".import --csv $CSV t" || die "sqlite3 .import failed"
  t1=$(now_ns)
  n=$(sqlite3 "$DB" "SELECT count(*) FROM t")
  [ "$n" -eq "$ROWS" ] || die "sqlite3 imported $n rows, expected $ROWS"
  S_TIMES+=("$(elapsed_s "$t0" "$t1")")
  log "import rep $rep: trellis ${T_TIMES[-1]} s, sqlite3 ${S_TIMES[-1]} s${F_TIMES:+, floor ${F_TIMES[-1]} s}"
done
# Check the trellis store really holds the rows (survivors + cases).
n=$(sqlite3 -readonly "$WORK/import-data/trellis.db" "SELECT count(*) FROM records")
[ "$n" -eq $((2 * ROWS)) ] || die "trellis store holds $n records, expected $((2 * ROWS))"

T=$(median "${T_TIMES[@]}"); S=$(median "${S_TIMES[@]}")
[ "$FLOOR" = 1 ] && FL=$(median "${F_TIMES[@]}")
{
  echo "### 2. Import $ROWS HTCDS rows"
  echo
  echo "CSV of $ROWS rows x 13 HTCDS columns ($CSV_MB MiB, bench/gen_htcds.py seed 42); fresh store / fresh database each run;"
  echo "median of $REPS runs each (all runs: trellis ${T_TIMES[*]} s; sqlite3 ${S_TIMES[*]} s)."
  echo
  echo "| tool | seconds (median) | rows/s | ratio to sqlite3 |"
  echo "| --- | ---: | ---: | ---: |"
  echo "| sqlite3 \`.import --csv\` (plain table) | $S | $(awk -v r="$ROWS" -v s="$S" 'BEGIN { printf "%.0f", r / s }') | 1.00 |"
  if [ "$FLOOR" = 1 ]; then
    echo "| floor: SQLite alone writing the rows and audit entries the import wrote (all runs: ${F_TIMES[*]} s) | $FL | $(awk -v r="$ROWS" -v s="$FL" 'BEGIN { printf "%.0f", r / s }') | $(ratio "$FL" "$S") |"
  fi
  echo "| \`trellis import htcds\` | $T | $(awk -v r="$ROWS" -v s="$T" 'BEGIN { printf "%.0f", r / s }') | **$(ratio "$T" "$S")** |"
  echo
  [ "$FLOOR" = 1 ] && echo "trellis/floor: $(ratio "$T" "$FL"). The floor is the time SQLite needs for the B-trees, WAL and checkpoint alone (bench/import.sh)."
  echo "Target: trellis/sqlite3 <= 2.0."
  echo
} >>"$RESULTS"
rm -rf "$WORK/import-data" "$WORK/import-plain.db" "$WORK/floor-data"
