// Relief screening with the store (issue 3 part 7).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "app/app.h"
#include "support/app_fixture.h"

namespace trellis::app {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using domain::RecordKind;

const char* kFacts = R"({"date_of_birth":"1995-04-12","immigration_status":"noncitizen_no_lawful_status",
  "last_arrival_date":"2021-11-20","currently_in_us":true})";

class CaseScreeningTest : public testing::AppFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(AppFixture::SetUp());
    auto att = app_->AddUser(CliOperator(), ngo_, "attorney1", "", domain::Role::kAttorney, "a good long passphrase");
    attorney_ = app_->PrincipalFor(*att);
    RecordInput s;
    s.set = {{"prs_FirstName", "Ana"}};
    survivor_ = app_->Create(attorney_, RecordKind::kSurvivor, s, "r")->record.id;
  }
  // The repository's rules, on the system clock.
  OpenOptions Options() override {
    return {.data_dir = dir_, .rules_dir = std::string(TRELLIS_SOURCE_DIR) + "/rules"};
  }
  std::string survivor_;
  Principal attorney_;
};

TEST_F(CaseScreeningTest, FactsAreSealedScreenedAndSummarised) {
  RecordInput c;
  c.survivor_id = survivor_;
  c.set = {{"cas_Status", "Active"}, {"trl_ReliefFacts", kFacts}};
  auto kase = app_->Create(attorney_, RecordKind::kCase, c, "r");
  ASSERT_TRUE(kase.ok()) << kase.status().ToString();
  json summary = json::parse(kase->record.fields.at("trl_ScreeningSummary"));
  EXPECT_EQ(summary["deadlines"]["asylum_one_year_deadline"], "2022-11-21");
  EXPECT_TRUE(summary["outcomes"].contains("T"));

  auto es = app_->ScreenCase(attorney_, kase->record.id, "2026-03-02", "es", "r");
  ASSERT_TRUE(es.ok()) << es.status().ToString();
  json r = json::parse(*es);
  EXPECT_EQ(r["as_of"], "2026-03-02");
  EXPECT_EQ(r["results"].size(), 7u);
  EXPECT_EQ(r["deadlines"][0]["name"], "asylum_one_year_deadline");
  EXPECT_NE(r["results"]["T"]["explanation"].get<std::string>().find("visa T"), std::string::npos);  // Spanish

  // Bad facts are refused naming the field and the fact; nothing changes.
  RecordInput bad;
  bad.set = {{"trl_ReliefFacts", R"({"date_of_birth":"not a date"})"}};
  auto up = app_->Update(attorney_, RecordKind::kCase, kase->record.id, 1, bad, "r");
  ASSERT_FALSE(up.ok());
  EXPECT_EQ(up.status().field(), "trl_ReliefFacts");
  EXPECT_NE(up.status().message().find("date_of_birth"), std::string::npos) << up.status().message();
  // The summary is Trellis's to write.
  RecordInput forged;
  forged.set = {{"trl_ScreeningSummary", "{}"}};
  EXPECT_EQ(app_->Update(attorney_, RecordKind::kCase, kase->record.id, 1, forged, "r").status().code(),
            Code::kInvalidArgument);
  // Changing the facts re-runs the screening.
  RecordInput later;
  later.set = {{"trl_ReliefFacts", R"({"date_of_birth":"1995-04-12","immigration_status":"noncitizen_no_lawful_status","last_arrival_date":"2025-12-24"})"}};
  auto v2 = app_->Update(attorney_, RecordKind::kCase, kase->record.id, 1, later, "r");
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(json::parse(v2->record.fields.at("trl_ScreeningSummary"))["deadlines"]["asylum_one_year_deadline"],
            "2026-12-24");
}

TEST_F(CaseScreeningTest, RulesDiffListsChangedDeadlines) {
  RecordInput c;
  c.survivor_id = survivor_;
  c.set = {{"trl_ReliefFacts", kFacts}};
  auto kase = app_->Create(attorney_, RecordKind::kCase, c, "r");
  ASSERT_TRUE(kase.ok());
  RecordInput c2;
  c2.survivor_id = survivor_;
  ASSERT_TRUE(app_->Create(attorney_, RecordKind::kCase, c2, "r").ok());  // no facts: not screened
  // A changed law: the asylum deadline becomes two years.
  const std::string from = std::string(TRELLIS_SOURCE_DIR) + "/rules", to = dir_ + "/rules_next";
  fs::copy(from, to, fs::copy_options::recursive);
  std::stringstream ss;
  ss << std::ifstream(to + "/deadlines.yaml").rdbuf();
  std::string text = std::regex_replace(ss.str(), std::regex("add_years\\(last_arrival_date, 1\\)"),
                                        "add_years(last_arrival_date, 2)");
  std::ofstream(to + "/deadlines.yaml") << text;
  auto rows = app_->RulesDiff(from, to, "2026-03-02");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  bool seen = false;
  for (const auto& r : *rows) {
    EXPECT_EQ(r.case_id, kase->record.id);
    if (r.what == "deadline asylum_one_year_deadline") {
      seen = true;
      EXPECT_EQ(r.from, "2022-11-21");
      EXPECT_EQ(r.to, "2023-11-20");
    }
  }
  EXPECT_TRUE(seen);
  EXPECT_TRUE(app_->RulesDiff(from, from, "2026-03-02")->empty());
}

}  // namespace
}  // namespace trellis::app
