#!/usr/bin/env bash
# Every test: layer check, unit + integration (ctest), the same binary again against a
# PostgreSQL server started for the run (storage conformance on PostgreSQL, two app servers on
# one database, migrate-store), a short run of every fuzzer, and the browser tests (Debian's
# Chromium driven by playwright-core against the real server).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 tools/check_layers.py
(cd build && ctest --output-on-failure -j 2 --timeout 900)
# PostgreSQL: the tests that need it (parameter /Postgres, suites in *_pgtest.cc) skip under
# ctest above; here they run against a throw-away server (started and stopped by the script).
TRELLIS_BIN=build/trellis ./scripts/with-postgres.sh ./build/trellis_tests \
  --gtest_filter='*/Postgres:MultiServer.*' --gtest_brief=1
TRELLIS_BIN=build/trellis ./scripts/with-postgres.sh tests/pg/backup_restore.sh
./scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
SCREENSHOT_DIR= TRELLIS_BIN=build/trellis tests/ui/run.sh
