// A screening request decoded from JSON: {"as_of": "YYYY-MM-DD", "facts": {...},
// "extensions": [...]}. Other top-level keys (id, description, expected, ...) are ignored.
//
// Decoding checks every fact against the vocabulary: unknown names, wrong JSON types, enum
// values outside the allowed list, invalid calendar dates and derived facts supplied as input
// are errors whose Status::field() names the fact ("facts.date_of_birth"). A JSON null is an
// unknown fact, exactly like an absent one. Cross-fact checks (birth after as_of, arrival before
// birth) are rule-file constraints, applied by the Screener once as_of is fixed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "rules/calendar.h"
#include "rules/rule_set.h"
#include "rules/value.h"

namespace trellis::rules {

// A recorded extension of a practice (soft) deadline.
struct Extension {
  std::string deadline;
  Date until = 0;
  std::string reason;  // e.g. "trauma_related: survivor in intensive treatment"
};

struct Request {
  std::optional<Date> as_of;
  std::vector<Value> facts;                 // indexed by slot; only input slots are set
  std::vector<std::vector<Value>> family;   // per member, indexed like RuleSet::member_slots
  std::vector<Extension> extensions;
};

// Decodes into `out`, reusing its storage (no allocation in steady state beyond JSON parsing).
Status DecodeRequest(const RuleSet& rules, std::string_view json, Request* out);

}  // namespace trellis::rules
