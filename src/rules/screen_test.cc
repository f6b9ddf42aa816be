// Evaluation properties: information monotonicity of the outcome, bilingual texts.
#include "rules/screen.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <iostream>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "rules/request.h"
#include "rules/synthetic.h"

namespace trellis::rules {
namespace {

std::shared_ptr<const RuleSet> Rules() {
  static auto rs = LoadRuleSet(std::string(TRELLIS_SOURCE_DIR) + "/rules");
  EXPECT_TRUE(rs.ok()) << rs.status().message();
  return *rs;
}

// Input facts that legitimately flip a decided outcome when learned: those read (directly or
// through derived facts) by an operator that is not monotone in information (known, is_true,
// is_false, coalesce: e.g. learning planned_filing_date moves the filing date), and those in
// "decided" rules (e.g. t_application_status = approved). Everything else is Kleene-monotone.
std::set<int> Defeaters(const RuleSet& rs) {
  std::set<int> out;
  auto add_slot = [&](int slot) {
    out.insert(slot);
    for (int k = 0; k < rs.vocab.size(); ++k)
      if (rs.slot_inputs[slot].Test(k)) out.insert(k);
  };
  std::function<void(uint32_t, bool)> walk = [&](uint32_t n, bool nonmono) {
    const Node& node = rs.prog.nodes[n];
    if (node.op == Op::kFact && nonmono) add_slot(node.slot);
    bool nm = nonmono || node.op == Op::kKnown || node.op == Op::kIsTrue ||
              node.op == Op::kIsFalse || node.op == Op::kCoalesce;
    for (int j = 0; j < node.nkids; ++j) walk(rs.prog.kids[node.kids + j], nm);
  };
  for (const auto& c : rs.computations) walk(c.expr, false);
  // A computed slot read non-monotonically taints its inputs; one read monotonically whose
  // own definition is non-monotone taints too: iterate to a fixpoint over computations.
  for (int round = 0; round < 4; ++round)
    for (const auto& c : rs.computations)
      if (out.count(c.slot)) add_slot(c.slot);
  for (const auto& versions : rs.relief_versions)
    for (const auto& r : versions) {
      for (const auto& e : r.elements) {
        walk(e.expr, false);
        for (const auto& x : e.exemptions) walk(x.when, false);
        if (e.fatal_when != kNoExpr) walk(e.fatal_when, false);
      }
      for (const auto& c : r.decided) walk(c.when, true);
    }
  // Elements reading a tainted computed slot: its inputs are defeaters too.
  std::set<int> result;
  for (int s : out)
    if (rs.vocab.slot(s).kind == SlotKind::kInput) result.insert(s);
  return result;
}

TEST(ScreenProperty, LearningAFactNeverFlipsEligibleAndNotEligible) {
  auto rs = Rules();
  std::set<int> defeaters = Defeaters(*rs);
  // The exclusion list must stay small, or the property says little.
  std::string names;
  for (int d : defeaters) names += rs->vocab.slot(d).name + " ";
  EXPECT_LT(defeaters.size(), 25u) << names;

  // Start from realistic fact sets (the scenario files), forget a random subset of facts,
  // then learn them back one at a time with random values.
  std::vector<std::string> bases;
  for (const char* f : {"public.json", "elements.json"}) {
    std::ifstream in(std::string(TRELLIS_SOURCE_DIR) + "/tests/scenarios/" + f);
    auto j = nlohmann::json::parse(in);
    for (const auto& s : j) bases.push_back(s.dump());
  }
  Screener screener(rs);
  SyntheticFacts rng(*rs, 42);
  Request base;
  ScreeningResult before, after;
  int checked = 0, eligible_starts = 0, not_eligible_starts = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    const std::string& text = bases[rng.Next() % bases.size()];
    ASSERT_TRUE(DecodeRequest(*rs, text, &base).ok());
    // Forget 1-3 known facts (the ones we will learn back), so decided outcomes are common.
    std::vector<int> known_slots, forgotten;
    for (int k = 0; k < rs->vocab.size(); ++k)
      if (base.facts[k].known && rs->vocab.slot(k).kind == SlotKind::kInput &&
          rs->vocab.slot(k).type != Type::kObjectList && !defeaters.count(k))
        known_slots.push_back(k);
    if (known_slots.empty()) continue;
    int n_forget = 1 + static_cast<int>(rng.Next() % 3);
    for (int j = 0; j < n_forget; ++j) {
      int k = known_slots[rng.Next() % known_slots.size()];
      base.facts[k] = Value::Unknown();
      forgotten.push_back(k);
    }
    // Sometimes also learn a fact that was never in the scenario.
    int extra = static_cast<int>(rng.Next() % rs->vocab.size());
    if (!base.facts[extra].known && rs->vocab.slot(extra).kind == SlotKind::kInput &&
        rs->vocab.slot(extra).type != Type::kObjectList && !defeaters.count(extra))
      forgotten.push_back(extra);
    if (!screener.Screen(base, std::nullopt, 0, &before).ok()) continue;
    Date as_of = before.as_of;
    int dob = rs->vocab.Find("date_of_birth");
    Date birth = base.facts[dob].known ? static_cast<Date>(base.facts[dob].v) : as_of - 9000;
    for (int slot : forgotten) {
      const SlotDef& d = rs->vocab.slot(slot);
      for (int variant = 0; variant < 2; ++variant) {
        Request more = base;
        more.facts[slot] = rng.RandomValue(slot, birth, as_of);
        if (d.type == Type::kBool) more.facts[slot] = Value::Bool(variant);
        if (!screener.Screen(more, std::nullopt, 0, &after).ok()) continue;  // impossible facts
        for (size_t r = 0; r < before.reliefs.size(); ++r) {
          Outcome b = before.reliefs[r].outcome, a = after.reliefs[r].outcome;
          if (b == Outcome::kEligible) ++eligible_starts;
          else if (b == Outcome::kNotEligible) ++not_eligible_starts;
          else continue;
          ++checked;
          bool flipped = (b == Outcome::kEligible && a == Outcome::kNotEligible) ||
                         (b == Outcome::kNotEligible && a == Outcome::kEligible);
          EXPECT_FALSE(flipped) << rs->relief_names[r] << ": learning " << d.name << " flipped "
                                << OutcomeName(b) << " to " << OutcomeName(a) << "\n" << text;
        }
      }
    }
  }
  EXPECT_GT(eligible_starts, 1000);
  EXPECT_GT(not_eligible_starts, 1000);
  EXPECT_GT(checked, 1000) << "the property must be exercised on decided outcomes";
  std::cout << "[ property ] " << checked << " (" << eligible_starts << " eligible, " << not_eligible_starts << " not_eligible) decided outcomes re-screened with one more fact; excluded: " << names << "\n";
}

TEST(ScreenProperty, UnknownIsNeverFalse) {
  // With nothing known but the immigration status, no relief can be not_eligible.
  auto rs = Rules();
  Screener screener(rs);
  Request req;
  ASSERT_TRUE(DecodeRequest(*rs, R"({"as_of":"2026-03-02","facts":{"immigration_status":"noncitizen_no_lawful_status"}})", &req).ok());
  ScreeningResult res;
  ASSERT_TRUE(screener.Screen(req, std::nullopt, 0, &res).ok());
  for (const auto& r : res.reliefs) {
    EXPECT_EQ(r.outcome, Outcome::kLikelyEligibleMissingEvidence) << rs->relief_names[r.index];
    EXPECT_TRUE(r.missing.Test(rs->vocab.Find("date_of_birth")) ||
                rs->relief_names[r.index] == "CP" || rs->relief_names[r.index] == "T" ||
                rs->relief_names[r.index] == "U")
        << rs->relief_names[r.index];
  }
}

void ExpectBilingual(const Text& t, const std::string& where) {
  EXPECT_FALSE(t.en.empty()) << where;
  EXPECT_FALSE(t.es.empty()) << where;
  EXPECT_NE(t.en, t.es) << where;
}

TEST(RulesText, EveryExplanationExistsInEnglishAndSpanishAndTheyDiffer) {
  auto rs = Rules();
  int n = 0;
  for (int i = 0; i < kOutcomeCount; ++i, ++n)
    ExpectBilingual(rs->outcome_text[i], OutcomeName(static_cast<Outcome>(i)));
  for (const auto& versions : rs->relief_versions)
    for (const auto& r : versions) {
      ExpectBilingual(r.summary, r.name);
      for (const auto& e : r.elements) {
        std::string w = r.name + "." + e.id;
        ExpectBilingual(e.title, w + " title");
        ExpectBilingual(e.explanation, w + " explanation");
        n += 2;
        if (!e.if_unmet.en.empty()) ExpectBilingual(e.if_unmet, w + " if_unmet");
        for (const auto& x : e.exemptions) ExpectBilingual(x.text, w + "." + x.id);
        if (!e.evidence_required.en.empty()) ExpectBilingual(e.evidence_required, w + " evidence");
        for (const auto& a : e.evidence_alternatives) ExpectBilingual(a, w + " alternative");
      }
      for (const auto* list : {&r.not_applicable, &r.decided, &r.ambiguous})
        for (const auto& c : *list) ExpectBilingual(c.reason, r.name + "." + c.id), ++n;
      for (const auto& q : r.requirements) ExpectBilingual(q.missing, r.name + "." + q.id);
      for (const auto& a : r.alerts) ExpectBilingual(a.text, r.name + "." + a.id);
      for (const auto& d : r.derivatives) ExpectBilingual(d.text, r.name + "." + d.id);
    }
  for (const auto& d : rs->deadlines) ExpectBilingual(d.basis, d.name);
  EXPECT_GT(n, 60);
}

TEST(RulesDeadlines, PracticeDeadlinesExtendHardOnesNeverMove) {
  auto rs = Rules();
  const DeadlineDef* hard = nullptr;
  const DeadlineDef* soft = nullptr;
  for (const auto& d : rs->deadlines) {
    if (d.name == "asylum_one_year_deadline") hard = &d;
    if (d.name == "asylum_filing_target") soft = &d;
  }
  ASSERT_TRUE(hard && soft);
  DeadlineInstance h{hard, 20000, 20000, {}}, s{soft, 19940, 19940, {}};
  EXPECT_FALSE(ExtendDeadline(h, 20010, "trauma_related").ok());
  EXPECT_FALSE(ExtendDeadline(s, 19950, "").ok());
  EXPECT_FALSE(ExtendDeadline(s, 19930, "trauma_related").ok());
  auto e = ExtendDeadline(s, 19960, "trauma_related: hospitalized");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->date, 19960);
  EXPECT_EQ(e->computed, 19940);
  EXPECT_TRUE(e->extended());
}

TEST(RulesDecoder, RejectsBadFactsNamingThem) {
  auto rs = Rules();
  Request req;
  struct Case {
    const char* json;
    const char* field;
  } cases[] = {
      {R"({"facts":{"favourite_color":"red"}})", "facts.favourite_color"},
      {R"({"facts":{"currently_in_us":"yes"}})", "facts.currently_in_us"},
      {R"({"facts":{"immigration_status":"martian"}})", "facts.immigration_status"},
      {R"({"facts":{"date_of_birth":"2023-02-29"}})", "facts.date_of_birth"},
      {R"({"facts":{"longest_single_absence_days":1.5}})", "facts.longest_single_absence_days"},
      {R"({"facts":{"victim_of_severe_trafficking":true}})", "facts.victim_of_severe_trafficking"},
      {R"({"facts":{"qualifying_crimes":["rape","jaywalking"]}})", "facts.qualifying_crimes"},
      {R"({"facts":{"family_members":[{"relationship":"cousin"}]}})", "facts.family_members[0].relationship"},
      {R"({"as_of":"2026-02-30","facts":{}})", "as_of"},
      {R"({"facts":{)", "json"},
      {R"([1,2])", "json"},
      {R"({"nofacts":{}})", "facts"},
  };
  for (const auto& c : cases) {
    Status st = DecodeRequest(*rs, c.json, &req);
    EXPECT_FALSE(st.ok()) << c.json;
    EXPECT_EQ(st.field(), c.field) << c.json << " -> " << st.message();
  }
  ASSERT_TRUE(DecodeRequest(*rs, R"({"facts":{"date_of_birth":"2027-01-01"}})", &req).ok());
  Screener screener(rs);
  ScreeningResult res;
  Status st = screener.Screen(req, *ParseDate("2026-03-02"), 0, &res);
  EXPECT_EQ(st.field(), "facts.date_of_birth") << st.message();
  ASSERT_TRUE(DecodeRequest(*rs, R"({"facts":{"date_of_birth":"2000-01-01","last_arrival_date":"1999-05-01"}})", &req).ok());
  st = screener.Screen(req, *ParseDate("2026-03-02"), 0, &res);
  EXPECT_EQ(st.field(), "facts.last_arrival_date") << st.message();
}

}  // namespace
}  // namespace trellis::rules
