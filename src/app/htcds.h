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

// A whole file, validated, in a compact form: every normalised value in one arena per piece of
// the file (no string or map per cell), so a 100,000-row file costs about its own size in memory.
class HtcdsTable {
 public:
  const std::vector<const domain::FieldSpec*>& columns() const { return columns_; }
  bool has_cases() const { return has_cases_; }
  size_t rows() const {
    return columns_.empty() ? 0 : pieces_.back().first_row + pieces_.back().ends.size() / columns_.size();
  }
  // The normalised value of data row `r` (0 = the first row after the header) in column `c`;
  // empty when the cell was empty.
  std::string_view Value(size_t r, size_t c) const {
    const Piece* p = &pieces_.front();
    for (const Piece& q : pieces_) {
      if (q.first_row > r) break;
      p = &q;
    }
    const size_t i = (r - p->first_row) * columns_.size() + c;
    const size_t begin = i == 0 ? 0 : p->ends[i - 1];
    return std::string_view(p->arena).substr(begin, p->ends[i] - begin);
  }

 private:
  friend class HtcdsReader;
  // Rows from `first_row` on, read from one piece of the file (ReadHtcds in pieces).
  struct Piece {
    size_t first_row = 0;
    std::string arena;
    std::vector<uint32_t> ends;  // end offset in `arena` of each cell, row-major
  };
  std::vector<const domain::FieldSpec*> columns_;
  bool has_cases_ = false;
  std::vector<Piece> pieces_ = std::vector<Piece>(1);
};

// Reads and validates every row (nothing is kept of a file with an error).
Result<HtcdsTable> ReadHtcds(std::istream& in);
// The same from the file's bytes, read in up to `parts` pieces on as many threads: the rows
// after the header are split at row ends (a line feed outside quotes) and the pieces joined in
// order. The result, and the error of a bad file (the first in file order), are exactly those
// of a read in one piece (the fuzz target checks this).
Result<HtcdsTable> ReadHtcds(std::string_view csv, size_t parts);

struct HtcdsRows {
  std::vector<domain::Record> survivors;
  std::vector<domain::Record> cases;  // empty, or one per survivor (same index)
};

// ReadHtcds, then one record per survivor (and case) with fresh ids.
Result<HtcdsRows> ParseHtcds(std::istream& in, const std::string& agency_id, int64_t now);

}  // namespace trellis::app
