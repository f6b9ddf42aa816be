// The rule expression language, compiled to a flat node array and evaluated with
// three-valued (Kleene) logic.
//
// Grammar (keywords are lower case):
//   expr    := or
//   or      := and ("or" and)*
//   and     := not ("and" not)*
//   not     := "not" not | cmp
//   cmp     := sum [("==" | "!=" | "<" | "<=" | ">" | ">=") sum
//                  | ["not"] "in" "{" symbol ("," symbol)* "}"]
//   sum     := atom (("+" | "-") atom)*                   (int arithmetic)
//   atom    := fact | symbol | INT | DATE | "true" | "false" | "unknown"
//            | func "(" expr ("," expr)* ")" | "(" expr ")"
// A bare name is a fact; where an enum value is expected (the other side of == / != with an
// enum fact, or inside { }) it is an allowed value of that enum, checked at load time.
// Functions: known, is_true, is_false, coalesce, if, nonempty, contains, age_on, birthday,
// add_years, add_months, add_days, days_between, min, max, next_business_day.
//
// Semantics: any unknown operand of a comparison, arithmetic or date function gives unknown;
// and/or/not are Kleene; known/is_true/is_false/coalesce never give unknown (except coalesce of
// all-unknown), so rule authors can say explicitly how an unknown fact is treated.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "rules/value.h"
#include "rules/vocabulary.h"

namespace trellis::rules {

enum class Op : uint8_t {
  kConst, kFact, kNot, kAnd, kOr, kEq, kNe, kLt, kLe, kGt, kGe, kIn, kAdd, kSub,
  kKnown, kIsTrue, kIsFalse, kCoalesce, kIf, kNonEmpty, kContains, kAgeOn, kBirthday,
  kAddYears, kAddMonths, kAddDays, kDaysBetween, kMin, kMax, kNextBusinessDay,
};

struct Node {
  Op op = Op::kConst;
  uint8_t nkids = 0;
  int32_t slot = -1;   // kFact
  uint32_t kids = 0;   // index of the first child in Program::kids
  Value constant;      // kConst; for kIn / kContains the bitmask in constant.v
};

using ExprId = uint32_t;
inline constexpr ExprId kNoExpr = 0xffffffffu;

// All compiled expressions of a rule set share one Program.
struct Program {
  std::vector<Node> nodes;
  std::vector<uint32_t> kids;
  std::vector<Type> result_type;  // per root
};

struct Compiled {
  ExprId root;
  Type type;
  std::vector<int> slots;  // every slot the expression reads (for dependency checks)
};

// Compiles `text`; errors name no file (the caller prefixes "file:line: ").
Result<Compiled> CompileExpr(std::string_view text, const Vocabulary& vocab, Program& prog);

// Evaluates `root` over `slots`. With `decided` non-null, also collects the slots whose values
// determined the result (Kleene-aware: for a false "and", only a false operand), adding the
// transitive inputs of derived slots from `slot_inputs` when given.
Value Eval(const Program& prog, ExprId root, const Value* slots);
Value EvalExplain(const Program& prog, ExprId root, const Value* slots, const SlotSet* slot_inputs,
                  SlotSet* decided);

}  // namespace trellis::rules
