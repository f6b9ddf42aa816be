// libFuzzer target: the HTCDS CSV parser and validator used by `trellis import htcds`.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "app/htcds.h"

namespace {

// A read in pieces must give exactly what a read in one piece gives: the same table, or the
// same error (message and column).
void CheckPiecesMatchOnePiece(const std::string& csv) {
  auto one = trellis::app::ReadHtcds(csv, 1);
  auto three = trellis::app::ReadHtcds(csv, 3);
  if (one.ok() != three.ok()) __builtin_trap();
  if (!one.ok()) {
    if (one.status().message() != three.status().message() || one.status().field() != three.status().field()) {
      __builtin_trap();
    }
    return;
  }
  if (one->columns() != three->columns() || one->rows() != three->rows()) __builtin_trap();
  for (size_t r = 0; r < one->rows(); ++r) {
    for (size_t c = 0; c < one->columns().size(); ++c) {
      if (one->Value(r, c) != three->Value(r, c)) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string csv(reinterpret_cast<const char*>(data), size);
  std::istringstream in(csv);
  auto r = trellis::app::ParseHtcds(in, "a_fuzz", 1'700'000'000'000'000);
  if (r.ok() && !r->cases.empty() && r->cases.size() != r->survivors.size()) __builtin_trap();
  if (!r.ok() && r.status().message().empty()) __builtin_trap();
  CheckPiecesMatchOnePiece(csv);
  return 0;
}
