#!/usr/bin/env bash
# PostgreSQL backup and restore (docs/deploy/postgres.md): pg_dump of a live store, pg_restore
# into a new database, then the restored store verifies its audit chain and opens every sealed
# field with the same key ring. Run under scripts/with-postgres.sh (it sets TRELLIS_PG_URL).
set -euo pipefail
: "${TRELLIS_PG_URL:?run under scripts/with-postgres.sh}"
bin="${TRELLIS_BIN:-build/trellis}"
pg_bin="${TRELLIS_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$bin" init --data "$work/d" --store "$TRELLIS_PG_URL" >/dev/null
"$bin" demo --data "$work/d" --store "$TRELLIS_PG_URL" --cases 25 --seed 3 >/dev/null
"$bin" export htcds --data "$work/d" --store "$TRELLIS_PG_URL" --user advocate --identifying --out "$work/before.csv" >/dev/null 2>&1

"$pg_bin/pg_dump" --format=custom --file="$work/dump" "$TRELLIS_PG_URL"
restored="${TRELLIS_PG_URL%/*}/trellis_restored"
"$pg_bin/psql" -q "${TRELLIS_PG_URL%/*}/postgres" -c "CREATE DATABASE trellis_restored" >/dev/null
"$pg_bin/pg_restore" --no-owner --dbname="$restored" "$work/dump"

"$bin" audit verify --data "$work/d" --store "$restored"
"$bin" export htcds --data "$work/d" --store "$restored" --user advocate --identifying --out "$work/after.csv" >/dev/null 2>&1
rows=$(($(wc -l < "$work/after.csv") - 1))
if [ "$rows" -lt 1 ] || ! cmp -s "$work/before.csv" "$work/after.csv"; then
  echo "pg backup/restore: the restored store does not hold the same data"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "pg backup/restore: $rows rows identical after pg_dump/pg_restore; audit chain verifies"
echo "1 passed, 0 failed"
