// libFuzzer target: the HTCDS CSV parser and validator used by `trellis import htcds`.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "app/htcds.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  auto r = trellis::app::ParseHtcds(in, "a_fuzz", 1'700'000'000'000'000);
  if (r.ok() && !r->cases.empty() && r->cases.size() != r->survivors.size()) __builtin_trap();
  if (!r.ok() && r.status().message().empty()) __builtin_trap();
  return 0;
}
