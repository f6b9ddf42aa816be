// libFuzzer target: loading a rule file must never crash. The input is one YAML rule file
// added to the shipped rule set (so expressions are checked against the real vocabulary);
// when it loads, a small request is screened with it.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "rules/request.h"
#include "rules/rule_set.h"
#include "rules/screen.h"

namespace {
struct Shipped {
  trellis::rules::RuleSource vocab;
  std::vector<trellis::rules::RuleSource> files;
};
Shipped Load() {
  namespace fs = std::filesystem;
  auto read = [](const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  fs::path dir(TRELLIS_FUZZ_RULES_DIR);
  Shipped s{{"facts_vocabulary.json", read(dir / "facts_vocabulary.json")}, {}};
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".yaml" && e.path().filename() != "T.yaml")
      s.files.push_back({e.path().filename().string(), read(e.path())});
  return s;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  static const Shipped shipped = Load();
  // The fuzzed file replaces T.yaml, so a valid input is a whole relief file.
  std::vector<trellis::rules::RuleSource> files = shipped.files;
  files.push_back({"T.yaml", std::string(reinterpret_cast<const char*>(data), size)});
  auto rs = trellis::rules::LoadRuleSetFromSources(shipped.vocab, files);
  if (!rs.ok()) return 0;
  trellis::rules::Request req;
  if (!trellis::rules::DecodeRequest(**rs, R"({"as_of":"2026-03-02","facts":{"date_of_birth":"2000-02-29"}})", &req).ok())
    return 0;
  trellis::rules::Screener screener(*rs);
  trellis::rules::ScreeningResult res;
  (void)screener.Screen(req, std::nullopt, 20000, &res);
  return 0;
}
