// A loaded, validated, compiled rule set: the law as data (rules/*.yaml), see docs/rules.md.
//
// LoadRuleSet reads a directory holding facts_vocabulary.json and YAML rule files. Loading
// checks every expression against the vocabulary (unknown fact, type error, enum value not in
// the allowed list) and the derived facts and deadlines for cycles; each error names the file
// and line. A RuleSet is immutable after loading and safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "rules/calendar.h"
#include "rules/expr.h"
#include "rules/vocabulary.h"

namespace trellis::rules {

enum class Lang : uint8_t { kEn, kEs };

enum class Outcome : uint8_t {
  kEligible,
  kLikelyEligibleMissingEvidence,
  kNotEligible,
  kNotApplicable,
  kAmbiguous,
};
inline constexpr int kOutcomeCount = 5;
const char* OutcomeName(Outcome o);

struct Text {
  std::string en, es;
  const std::string& Get(Lang l) const { return l == Lang::kEs ? es : en; }
};

inline constexpr Date kMinDate = -2'000'000'000, kMaxDate = 2'000'000'000;

struct Exemption {
  std::string id;
  ExprId when = kNoExpr;
  std::string citation;
  Text text;
};

struct Element {
  std::string id;
  Text title;
  bool substantive = true;       // unmet -> not_eligible; else a precondition (missing)
  ExprId expr = kNoExpr;
  ExprId fatal_when = kNoExpr;   // precondition only: when true, not met (unmet or unknown) defeats
  std::string citation;
  std::vector<Exemption> exemptions;
  Text evidence_required;
  std::vector<Text> evidence_alternatives;
  Text explanation;
  Text if_unmet;                 // optional advice ("reporting now opens the path")
  Date effective_from = kMinDate, effective_to = kMaxDate;
  int line = 0;
};

struct Condition {               // not_applicable / decided / ambiguous rules
  std::string id;
  ExprId when = kNoExpr;
  Outcome outcome = Outcome::kEligible;  // decided rules
  Text reason;
  std::string citation;
  std::vector<std::string> suspends;  // ambiguous rules: element ids whose defeat is suspended
};

struct Requirement {             // evidence / precondition that caps the label at "likely"
  std::string id;
  std::string element;
  ExprId when = kNoExpr;         // applies when known true
  ExprId satisfied = kNoExpr;    // satisfied when known true
  Text missing;
  std::string citation;
};

struct Alert {
  std::string id;
  ExprId when = kNoExpr;
  Text text;
  std::string citation;
};

struct DerivativeRule {
  std::string id;
  int relationship = -1;         // index into member.relationship's allowed values
  ExprId when = kNoExpr;
  ExprId age_out = kNoExpr;      // date by which the member must be included, if any
  Text text;
  std::string citation;
};

struct Relief {
  std::string name;
  std::string version;
  std::string file;
  Date effective_from = kMinDate, effective_to = kMaxDate;
  std::string citation;
  Text summary;
  std::vector<Condition> not_applicable, decided, ambiguous;
  std::vector<Element> elements;
  std::vector<Requirement> requirements;
  std::vector<Alert> alerts;
  ExprId derivatives_when = kNoExpr;  // excludes e.g. perpetrators
  std::vector<DerivativeRule> derivatives;
};

struct Computation {             // a derived fact, helper or deadline date, in dependency order
  int slot = -1;
  ExprId expr = kNoExpr;
};

enum class DeadlineKind : uint8_t { kStatutory, kPractice };

struct DeadlineDef {
  std::string name;
  int slot = -1;
  DeadlineKind kind = DeadlineKind::kStatutory;
  std::string relief;            // empty: not tied to one relief
  int relief_index = -1;
  ExprId emit_when = kNoExpr;
  std::string citation;
  Text basis;
};

struct Constraint {
  int slot = -1;                 // the fact the message names
  ExprId invalid_when = kNoExpr;
  std::string message;
};

struct RuleSet {
  Vocabulary vocab;
  Program prog;
  std::string version;                    // declared versions + content hash
  std::vector<std::string> relief_names;  // vocabulary relief_types order
  std::vector<std::vector<Relief>> relief_versions;  // per relief: every version on file
  std::vector<Computation> computations;  // topologically sorted
  std::vector<DeadlineDef> deadlines;
  std::vector<Constraint> constraints;
  Text outcome_text[kOutcomeCount];
  std::vector<SlotSet> slot_inputs;       // per slot: input slots a computed slot depends on
  std::vector<int> member_slots;          // member.* fields (relationship first if present)
  int member_relationship = -1, member_age = -1, member_marital = -1, member_danger = -1,
      member_perpetrator = -1, member_dob = -1;

  // The relief version in force on `d` (nullptr if none).
  const Relief* InForce(size_t relief, Date d) const;
};

struct RuleSource {
  std::string name;  // file name used in error messages
  std::string text;
};

Result<std::shared_ptr<const RuleSet>> LoadRuleSet(const std::string& dir);
// `vocabulary_json` is facts_vocabulary.json; `files` are YAML rule files.
Result<std::shared_ptr<const RuleSet>> LoadRuleSetFromSources(const RuleSource& vocabulary_json,
                                                              const std::vector<RuleSource>& files);

}  // namespace trellis::rules
