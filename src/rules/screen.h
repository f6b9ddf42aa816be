// ReliefScreening: evaluates a RuleSet over one Request.
//
// Outcome per relief, in this order (docs/rules.md "Evaluation"):
//   1. a not_applicable rule is true                        -> not_applicable
//   2. a decided rule is true (e.g. status approved)         -> its outcome
//   3. a substantive element is unmet, or a precondition is unmet and its fatal_when is true,
//      and no true ambiguity rule suspends that element      -> not_eligible
//   4. an ambiguity rule is true                             -> ambiguous
//   5. an element is unknown, a precondition unmet, or an applicable requirement (evidence)
//      is not known to be satisfied                          -> likely_eligible_missing_evidence
//   6. otherwise                                             -> eligible
// An unknown fact is never false: it can only lead to step 5.
//
// A Screener is cheap to create, holds no per-request state but its scratch buffers, and is
// not thread-safe; use one per thread. Screen() reuses `out`'s storage.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "core/status.h"
#include "rules/deadline.h"
#include "rules/request.h"
#include "rules/rule_set.h"

namespace trellis::rules {

struct ElementResult {
  const Element* element = nullptr;
  Tri status = Tri::kUnknown;
  const Exemption* exemption = nullptr;  // the exemption that made it met, if any
  bool suspended = false;                // defeat suspended by an ambiguity rule
  bool defeated = false;                 // this element made the relief not_eligible
  SlotSet decided;                       // slots that decided the status
};

struct RequirementResult {
  const Requirement* requirement = nullptr;
  bool applies = false;
  bool satisfied = false;
};

struct DerivativeResult {
  int member = 0;
  const DerivativeRule* rule = nullptr;  // nullptr: no rule for this relationship
  Tri qualifies = Tri::kUnknown;
  std::optional<Date> age_out;
};

struct ReliefResult {
  size_t index = 0;
  const Relief* relief = nullptr;  // nullptr: no rules in force on as_of (outcome ambiguous)
  Outcome outcome = Outcome::kAmbiguous;
  const Condition* because = nullptr;  // the not_applicable / decided rule that decided
  std::vector<const Condition*> ambiguities;
  std::vector<ElementResult> elements;
  std::vector<RequirementResult> requirements;
  std::vector<const Alert*> alerts;
  std::vector<DerivativeResult> derivatives;
  SlotSet missing;  // unknown input facts that would move an unknown element
};

struct ScreeningResult {
  Date as_of = 0;
  std::vector<Value> slots;  // every fact, derived fact and deadline date
  std::vector<ReliefResult> reliefs;
  std::vector<DeadlineInstance> deadlines;
};

class Screener {
 public:
  explicit Screener(std::shared_ptr<const RuleSet> rules) : rules_(std::move(rules)) {}
  const RuleSet& rules() const { return *rules_; }

  // `as_of` overrides the request's as_of; `today` is used when neither is given.
  // Errors (kInvalidArgument, field = the fact): a constraint of the rule set is violated
  // (e.g. date of birth after as_of), or an extension is not allowed.
  Status Screen(const Request& req, std::optional<Date> as_of, Date today, ScreeningResult* out);

 private:
  void ScreenRelief(size_t i, const Request& req, ScreeningResult& res, ReliefResult& out);

  std::shared_ptr<const RuleSet> rules_;
  std::vector<SlotSet> decided_;  // per computed slot: the slots that decided its value
};

}  // namespace trellis::rules
