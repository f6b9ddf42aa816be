// Synthetic screening requests for benchmarks and property tests (never for real cases).
// Deterministic for a given seed. Every input fact of the vocabulary is present with
// probability `p_known`, with a random value of its type; dates are drawn between the birth
// date and as_of, and pairs that rule constraints order (start/end dates, absences) are kept
// consistent, so requests decode and screen without errors.
#pragma once

#include <cstdint>
#include <string>

#include "rules/rule_set.h"

namespace trellis::rules {

class SyntheticFacts {
 public:
  SyntheticFacts(const RuleSet& rules, uint64_t seed) : rules_(rules), state_(seed) {}
  // One request as JSON text: {"as_of": ..., "facts": {...}}.
  std::string NextJson(double p_known = 0.7);
  // A random known value for input slot `slot`, given the birth date and as_of.
  Value RandomValue(int slot, Date birth, Date as_of);
  uint64_t Next();

 private:
  const RuleSet& rules_;
  uint64_t state_;
};

}  // namespace trellis::rules
