// Loader tests: errors name the file and the line; the shipped rules load.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "rules/rule_set.h"

namespace trellis::rules {
namespace {

std::string Read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Sources {
  RuleSource vocab;
  std::vector<RuleSource> files;
};

Sources ShippedSources() {
  std::filesystem::path dir = std::filesystem::path(TRELLIS_SOURCE_DIR) / "rules";
  Sources s{{"facts_vocabulary.json", Read(dir / "facts_vocabulary.json")}, {}};
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".yaml") s.files.push_back({e.path().filename().string(), Read(e.path())});
  return s;
}

// Line (1-based) of the first occurrence of `needle` in `text`.
int LineOf(const std::string& text, const std::string& needle) {
  size_t pos = text.find(needle);
  EXPECT_NE(pos, std::string::npos) << needle;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + pos, '\n'));
}

// Replaces `from` by `to` in file `name` and returns the load error.
std::string LoadWith(const std::string& name, const std::string& from, const std::string& to,
                     int* line = nullptr) {
  Sources s = ShippedSources();
  for (auto& f : s.files)
    if (f.name == name) {
      size_t pos = f.text.find(from);
      EXPECT_NE(pos, std::string::npos) << from;
      if (line) *line = LineOf(f.text, from);
      f.text.replace(pos, from.size(), to);
    }
  auto r = LoadRuleSetFromSources(s.vocab, s.files);
  return r.ok() ? std::string("loaded") : r.status().message();
}

TEST(RulesLoader, ShippedRulesLoad) {
  auto r = LoadRuleSet(std::string(TRELLIS_SOURCE_DIR) + "/rules");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)->relief_names.size(), 7u);
  EXPECT_NE((*r)->version.find("T.yaml="), std::string::npos);
}

TEST(RulesLoader, UnknownFactNamesFileAndLine) {
  int line = 0;
  std::string err = LoadWith("T.yaml", "expr: victim_of_severe_trafficking\n",
                             "expr: victim_of_trafficking\n", &line);
  EXPECT_NE(err.find("T.yaml:" + std::to_string(line) + ":"), std::string::npos) << err;
  EXPECT_NE(err.find("unknown fact 'victim_of_trafficking'"), std::string::npos) << err;
}

TEST(RulesLoader, TypeErrorDateComparedWithEnumValue) {
  int line = 0;
  std::string err = LoadWith("U.yaml", "expr: substantial_physical_or_mental_abuse\n",
                             "expr: date_of_birth == has_been\n", &line);
  EXPECT_NE(err.find("U.yaml:" + std::to_string(line) + ":"), std::string::npos) << err;
  EXPECT_NE(err.find("type error"), std::string::npos) << err;
}

TEST(RulesLoader, EnumValueOutsideAllowedList) {
  int line = 0;
  std::string err = LoadWith("CP.yaml", "expr: le_agency_level in {federal, both}",
                             "expr: le_agency_level in {federal, county}", &line);
  EXPECT_NE(err.find("CP.yaml:" + std::to_string(line) + ":"), std::string::npos) << err;
  EXPECT_NE(err.find("'county' is not an allowed value of 'le_agency_level'"), std::string::npos)
      << err;
}

TEST(RulesLoader, TypeErrorOrderingBools) {
  std::string err = LoadWith("CP.yaml", "expr: currently_in_us\n",
                             "expr: currently_in_us < potential_witness\n");
  EXPECT_NE(err.find("CP.yaml:"), std::string::npos) << err;
  EXPECT_NE(err.find("type error"), std::string::npos) << err;
}

TEST(RulesLoader, CycleBetweenDerivedFactsNamesFileAndLine) {
  Sources s = ShippedSources();
  s.files.push_back({"zz_cycle.yaml",
                     "derived:\n"
                     "  - name: helper_a\n"
                     "    type: int\n"
                     "    expr: helper_b + 1\n"
                     "  - name: helper_b\n"
                     "    type: int\n"
                     "    expr: helper_a + age_at_as_of\n"});
  auto r = LoadRuleSetFromSources(s.vocab, s.files);
  ASSERT_FALSE(r.ok());
  const std::string& err = r.status().message();
  EXPECT_NE(err.find("zz_cycle.yaml:4: cycle: helper_a -> helper_b -> helper_a"), std::string::npos)
      << err;
}

TEST(RulesLoader, CycleThroughAVocabularyDerivedFact) {
  int line = 0;
  std::string err = LoadWith("common.yaml", "expr: coalesce(planned_filing_date, as_of)",
                             "expr: coalesce(planned_filing_date, add_days(as_of, age_at_filing))",
                             &line);
  EXPECT_NE(err.find("common.yaml:" + std::to_string(line) + ": cycle: filing_date -> age_at_filing"),
            std::string::npos) << err;
}

TEST(RulesLoader, SyntaxErrorsAndMissingTextsNameTheLine) {
  int line = 0;
  std::string err = LoadWith("SIJS.yaml", "expr: currently_in_us\n", "expr: currently_in_us and (\n",
                             &line);
  EXPECT_NE(err.find("SIJS.yaml:" + std::to_string(line) + ":"), std::string::npos) << err;
  err = LoadWith("asylum.yaml", "title: {en: \"In the U.S.\", es: \"En EE. UU.\"}",
                 "title: {en: \"In the U.S.\"}");
  EXPECT_NE(err.find("asylum.yaml:"), std::string::npos) << err;
  EXPECT_NE(err.find("'en' and 'es'"), std::string::npos) << err;
  err = LoadWith("HHS_certification.yaml", "relief: HHS_certification", "relief: [unclosed");
  EXPECT_NE(err.find("HHS_certification.yaml:"), std::string::npos) << err;
}

TEST(RulesLoader, UnknownHelperAndDuplicateDefinitions) {
  Sources s = ShippedSources();
  s.files.push_back({"zz_dup.yaml", "derived:\n  - name: age_at_as_of\n    expr: 3\n"});
  auto r = LoadRuleSetFromSources(s.vocab, s.files);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("zz_dup.yaml:2"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace trellis::rules
