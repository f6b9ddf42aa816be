// HTCDS 2.0 CSV parsing and validation, without the store (used by App::ImportHtcds and
// fuzzed on its own). The first row is a header of HTCDS field names; every later row is one
// survivor (prs_, vic_ columns) and, when the header has case columns (cas_, trl_), one case.
// Any error names row (1 = the header), column and, for non-sealed columns, the bad value.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "domain/fields.h"
#include "domain/model.h"

namespace trellis::app {

class HtcdsReader;

// A whole file, validated, in a compact form: every normalised value in one arena (no string
// or map per cell), so a 100,000-row file costs about its own size in memory.
class HtcdsTable {
 public:
  const std::vector<const domain::FieldSpec*>& columns() const { return columns_; }
  bool has_cases() const { return has_cases_; }
  size_t rows() const { return columns_.empty() ? 0 : ends_.size() / columns_.size(); }
  // The normalised value of data row `r` (0 = the first row after the header) in column `c`;
  // empty when the cell was empty.
  std::string_view Value(size_t r, size_t c) const {
    const size_t i = r * columns_.size() + c;
    const size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(arena_).substr(begin, ends_[i] - begin);
  }

 private:
  friend class HtcdsReader;
  std::vector<const domain::FieldSpec*> columns_;
  bool has_cases_ = false;
  std::string arena_;
  std::vector<uint32_t> ends_;  // end offset in arena_ of each cell, row-major
};

// Reads and validates every row (nothing is kept of a file with an error).
Result<HtcdsTable> ReadHtcds(std::istream& in);

struct HtcdsRows {
  std::vector<domain::Record> survivors;
  std::vector<domain::Record> cases;  // empty, or one per survivor (same index)
};

// ReadHtcds, then one record per survivor (and case) with fresh ids.
Result<HtcdsRows> ParseHtcds(std::istream& in, const std::string& agency_id, int64_t now);

}  // namespace trellis::app
