// libFuzzer target: loading rule files must never crash. The input is one YAML file loaded
// together with a tiny vocabulary (one relief "R", facts a/b bool, d date, n int, e enum,
// l enum_list) and the outcome texts; when it loads, a small request is screened with it.
// Seeds: tests/fuzz_corpus/rule_loader_fuzz/.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rules/request.h"
#include "rules/rule_set.h"
#include "rules/screen.h"

namespace {
const char kVocab[] = R"({"relief_types":["R"],"facts":[
 {"name":"a","type":"bool"},{"name":"b","type":"bool"},{"name":"d","type":"date"},
 {"name":"n","type":"int"},{"name":"e","type":"enum","allowed_values":["x","y","z"]},
 {"name":"l","type":"enum_list","allowed_values":["p","q"]},
 {"name":"family_members","type":"object_list"},
 {"name":"k","type":"int","derived":true}]})";
const char kOutcomes[] = R"(outcomes:
  eligible: {en: a, es: b}
  likely_eligible_missing_evidence: {en: a, es: b}
  not_eligible: {en: a, es: b}
  not_applicable: {en: a, es: b}
  ambiguous: {en: a, es: b}
derived:
  - name: k
    expr: n + 1
)";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  std::vector<trellis::rules::RuleSource> files = {
      {"common.yaml", kOutcomes}, {"R.yaml", std::string(reinterpret_cast<const char*>(data), size)}};
  auto rs = trellis::rules::LoadRuleSetFromSources({"facts_vocabulary.json", kVocab}, files);
  if (!rs.ok()) return 0;
  trellis::rules::Request req;
  if (!trellis::rules::DecodeRequest(
           **rs, R"({"as_of":"2024-02-29","facts":{"a":true,"d":"2000-02-29","n":5,"e":"y","l":["q"]}})", &req)
           .ok())
    return 0;
  trellis::rules::Screener screener(*rs);
  trellis::rules::ScreeningResult res;
  (void)screener.Screen(req, std::nullopt, 20000, &res);
  return 0;
}
