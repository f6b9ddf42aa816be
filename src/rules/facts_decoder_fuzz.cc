// libFuzzer target: request decoding and screening must never crash on any input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rules/request.h"
#include "rules/screen.h"

namespace {
std::shared_ptr<const trellis::rules::RuleSet> Rules() {
  static auto rs = trellis::rules::LoadRuleSet(TRELLIS_FUZZ_RULES_DIR);
  if (!rs.ok()) __builtin_trap();
  return *rs;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto rules = Rules();
  static trellis::rules::Screener screener(rules);
  trellis::rules::Request req;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!trellis::rules::DecodeRequest(*rules, text, &req).ok()) return 0;
  trellis::rules::ScreeningResult res;
  (void)screener.Screen(req, std::nullopt, 20000, &res);
  return 0;
}
