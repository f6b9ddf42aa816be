#!/usr/bin/env bash
# Every test: layer check, unit + integration (ctest), fuzz smoke, browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 tools/check_layers.py
(cd build && ctest --output-on-failure -j 2 --timeout 600)
TRELLIS_BIN=build/trellis tests/ui/run.sh
