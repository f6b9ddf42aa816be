// HTCDS 2.0 CSV parsing and validation, without the store (used by App::ImportHtcds and
// fuzzed on its own). The first row is a header of HTCDS field names; every later row is one
// survivor (prs_, vic_ columns) and, when the header has case columns (cas_, trl_), one case.
// Any error names row (1 = the header), column and, for non-sealed columns, the bad value.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "core/status.h"
#include "domain/model.h"

namespace trellis::app {

struct HtcdsRows {
  std::vector<domain::Record> survivors;
  std::vector<domain::Record> cases;  // empty, or one per survivor (same index)
};

Result<HtcdsRows> ParseHtcds(std::istream& in, const std::string& agency_id, int64_t now);

}  // namespace trellis::app
