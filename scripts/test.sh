#!/usr/bin/env bash
# Every test: layer check, unit + integration (ctest), a short run of every fuzzer, and the
# browser tests (Debian's Chromium driven by playwright-core against the real server).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 tools/check_layers.py
(cd build && ctest --output-on-failure -j 2 --timeout 900)
./scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
SCREENSHOT_DIR= TRELLIS_BIN=build/trellis tests/ui/run.sh
