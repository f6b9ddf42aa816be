// The fact vocabulary: every name an expression may use, interned to a slot index.
//
// Slots come from facts_vocabulary.json (input and derived facts), the built-in `as_of`,
// helper facts and family-member fields declared in rule files, and deadlines (a deadline's
// date is a fact that elements may compare against). Names are resolved at load time; the
// evaluator only sees indices.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "rules/value.h"

namespace trellis::rules {

enum class SlotKind : uint8_t {
  kInput,     // may appear in a request's "facts"
  kDerived,   // computed by the engine; reported under "derived"
  kHelper,    // computed by the engine; internal (e.g. filing_date)
  kDeadline,  // a deadline's date
  kMember,    // a field of the family member being screened as a derivative
  kAsOf,      // the screening date
};

struct SlotDef {
  std::string name;
  Type type = Type::kBool;
  SlotKind kind = SlotKind::kInput;
  std::vector<std::string> allowed;  // kEnum / kEnumList
  int EnumIndex(std::string_view v) const;
};

class Vocabulary {
 public:
  // Parses facts_vocabulary.json text. `file` names it in error messages.
  static Result<Vocabulary> FromJson(std::string_view text, const std::string& file);

  int Find(std::string_view name) const;  // -1 if unknown
  Result<int> Add(SlotDef def);           // error if the name exists
  const SlotDef& slot(int i) const { return slots_[i]; }
  SlotDef& mutable_slot(int i) { return slots_[i]; }
  int size() const { return static_cast<int>(slots_.size()); }
  int as_of_slot() const { return as_of_; }
  int family_slot() const { return family_; }
  const std::vector<std::string>& relief_types() const { return relief_types_; }

 private:
  std::vector<SlotDef> slots_;
  std::unordered_map<std::string, int> index_;
  std::vector<std::string> relief_types_;
  int as_of_ = -1;
  int family_ = -1;
};

}  // namespace trellis::rules
