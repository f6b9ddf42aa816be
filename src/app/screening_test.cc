// Declarative scenario tests: every tests/scenarios/*.json runs through the ScreeningService
// (adding a case needs no C++). Format: a JSON list of {id, as_of, facts, expected:
// {relief: outcome}, expected_deadlines?: [{name, date}], expected_derived?: {fact: value},
// expected_elements?: {"relief.element": "met|unmet|unknown[:exemption]"},
// expected_derivatives?: {relief: [{member, qualifies, age_out_date?}]}}.
// expected_deadlines, when present, is the exact set of statutory deadlines (name and date);
// practice (soft) deadlines are the team's own and are not listed. expected_derived lists
// derived facts that must have exactly that value (absent ones are not checked).
// Also: CLI contract tests that run the built `trellis` binary.
#include "app/screening.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace trellis::app {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kSource = TRELLIS_SOURCE_DIR;

ScreeningService& Service() {
  static auto svc = ScreeningService::Open(kSource + "/rules");
  EXPECT_TRUE(svc.ok()) << svc.status().message();
  return **svc;
}

TEST(ScreenScenarios, AllScenarioFiles) {
  int files = 0, scenarios = 0;
  for (const auto& entry : fs::directory_iterator(kSource + "/tests/scenarios")) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    std::ifstream in(entry.path());
    json all = json::parse(in);
    ASSERT_TRUE(all.is_array()) << entry.path();
    for (const json& s : all) {
      ++scenarios;
      SCOPED_TRACE(entry.path().filename().string() + " " + s.value("id", "?") + ": " +
                   s.value("description", ""));
      auto out = Service().Screen(s.dump(), {});
      ASSERT_TRUE(out.ok()) << out.status().message();
      json r = json::parse(*out);
      for (const auto& [relief, outcome] : s["expected"].items()) {
        ASSERT_TRUE(r["results"].contains(relief)) << relief;
        EXPECT_EQ(r["results"][relief]["outcome"], outcome)
            << relief << ": " << r["results"][relief]["explanation"];
      }
      if (s.contains("expected_deadlines")) {
        std::set<std::pair<std::string, std::string>> want, got;
        for (const auto& d : s["expected_deadlines"])
          want.insert({d["name"].get<std::string>(), d["date"].get<std::string>()});
        for (const auto& d : r["deadlines"]) {
          EXPECT_EQ(d["kind"], "statutory");
          got.insert({d["name"].get<std::string>(), d["date"].get<std::string>()});
          EXPECT_TRUE(d.contains("citation") && d.contains("relief") && d.contains("basis"));
        }
        EXPECT_EQ(want, got);
      }
      if (s.contains("expected_derived")) {
        for (const auto& [fact, value] : s["expected_derived"].items()) {
          EXPECT_EQ(r["derived"].value(fact, json()), value) << fact;
        }
      }
      if (s.contains("expected_elements"))
        for (const auto& [key, want] : s["expected_elements"].items()) {
          auto dot = key.find('.');
          std::string relief = key.substr(0, dot), id = key.substr(dot + 1), got = "missing";
          for (const auto& e : r["results"][relief]["elements"])
            if (e["id"] == id) {
              got = e["status"].get<std::string>();
              if (e.contains("exemption")) got += ":" + e["exemption"]["id"].get<std::string>();
              EXPECT_FALSE(e["citation"].get<std::string>().empty());
            }
          EXPECT_EQ(got, want) << key;
        }
      if (s.contains("expected_derivatives"))
        for (const auto& [relief, list] : s["expected_derivatives"].items())
          for (const auto& want : list) {
            json got;
            for (const auto& d : r["results"][relief]["derivatives"])
              if (d["member"] == want["member"]) got = d;
            for (const auto& [k, v] : want.items()) EXPECT_EQ(got.value(k, json()), v) << relief << " " << want;
          }
    }
  }
  EXPECT_GE(files, 2);
  EXPECT_GE(scenarios, 70);
}

TEST(ScreenService, OutputContractAndLanguages) {
  const std::string req = R"({"as_of":"2026-03-02","facts":{"date_of_birth":"2000-01-01",
      "immigration_status":"noncitizen_no_lawful_status"},"id":"x","expected":{}})";
  auto en = Service().Screen(req, {});
  ScreenOptions es_opts;
  es_opts.lang = "es";
  auto es = Service().Screen(req, es_opts);
  ASSERT_TRUE(en.ok() && es.ok());
  json a = json::parse(*en), b = json::parse(*es);
  for (const char* k : {"as_of", "rules_version", "results", "deadlines", "derived"}) EXPECT_TRUE(a.contains(k)) << k;
  for (const char* relief : {"T", "U", "CP", "SIJS", "asylum", "HHS_certification", "HHS_eligibility_letter"}) {
    const json& r = a["results"][relief];
    for (const char* k : {"outcome", "elements", "missing_facts", "evidence", "explanation"})
      EXPECT_TRUE(r.contains(k)) << relief << " " << k;
    for (const auto& e : r["elements"])
      for (const char* k : {"id", "status", "citation", "facts"}) EXPECT_TRUE(e.contains(k));
    EXPECT_NE(r["explanation"], b["results"][relief]["explanation"]) << relief;
  }
  EXPECT_EQ(a["results"]["T"]["outcome"], "likely_eligible_missing_evidence");
  EXPECT_NE(a["results"]["T"]["missing_facts"].dump().find("trafficking_action_present"), std::string::npos);
  ScreenOptions over;
  over.as_of = "2010-01-01";
  auto old = Service().Screen(req, over);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(json::parse(*old)["derived"]["age_at_as_of"], 10);
}

TEST(ScreenService, SoftDeadlineExtensionIsRecorded) {
  const std::string req = R"({"as_of":"2026-03-02","facts":{"date_of_birth":"1990-01-01",
      "immigration_status":"noncitizen_no_lawful_status","last_arrival_date":"2025-09-01"},
      "extensions":[{"deadline":"asylum_filing_target","until":"2026-08-01","reason":"trauma_related"}]})";
  auto out = Service().Screen(req, {});
  ASSERT_TRUE(out.ok()) << out.status().message();
  bool seen = false;
  json parsed = json::parse(*out);
  for (const auto& d : parsed["practice_deadlines"])
    if (d["name"] == "asylum_filing_target") {
      seen = true;
      EXPECT_EQ(d["date"], "2026-08-01");
      EXPECT_EQ(d["computed_date"], "2026-07-03");
      EXPECT_EQ(d["extension_reason"], "trauma_related");
    }
  EXPECT_TRUE(seen);
  std::string hard = req;
  hard.replace(hard.find("asylum_filing_target"), 20, "asylum_one_year_deadline");
  auto bad = Service().Screen(hard, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
}

// ---- CLI contract: spawn the real binary ----

std::string Bin() {
  if (const char* b = std::getenv("TRELLIS_BIN"); b && *b) return b;
  std::error_code ec;
  return (fs::read_symlink("/proc/self/exe", ec).parent_path() / "trellis").string();
}

struct CliRun {
  int code;
  std::string out, err;
};

CliRun Exec(const std::string& args, const std::string& stdin_text = "") {
  fs::path dir = fs::temp_directory_path() / ("trellis_cli_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "in") << stdin_text;
  std::string cmd = Bin() + " " + args + " < " + (dir / "in").string() + " > " + (dir / "out").string() +
                    " 2> " + (dir / "err").string();
  int st = std::system(cmd.c_str());
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  CliRun r{WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(dir / "out"), slurp(dir / "err")};
  fs::remove_all(dir);
  return r;
}

class ScreenCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(Bin())) GTEST_SKIP() << "trellis binary not built: " << Bin();
  }
};

TEST_F(ScreenCli, ScreensAFileAndStdin) {
  std::string file = kSource + "/tests/scenarios/public.json";
  std::ifstream in(file);
  json first = json::parse(in)[0];
  CliRun r = Exec("screen --lang es -", first.dump());
  ASSERT_EQ(r.code, 0) << r.err;
  json out = json::parse(r.out);
  EXPECT_EQ(out["results"]["T"]["outcome"], first["expected"]["T"]);
  EXPECT_NE(out["results"]["T"]["explanation"].get<std::string>().find("visa T"), std::string::npos);
  r = Exec("screen --as-of 2030-01-01 --rules " + kSource + "/rules -", first.dump());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["as_of"], "2030-01-01");
}

TEST_F(ScreenCli, InvalidInputExitsTwoNamingTheFact) {
  struct Case {
    std::string input, needle;
  } cases[] = {
      {R"({"facts":{"date_of_birth":"2023-02-29"}})", "date_of_birth"},
      {R"({"as_of":"2026-03-02","facts":{"date_of_birth":"2027-01-01"}})", "date_of_birth"},
      {R"({"facts":{"date_of_birth":"2000-01-01","last_arrival_date":"1999-01-01"}})", "last_arrival_date"},
      {R"({"facts":{"shoe_size":42}})", "shoe_size"},
      {R"({"facts":{"currently_in_us":1}})", "currently_in_us"},
      {R"({"facts":{"le_agency_level":"interpol"}})", "le_agency_level"},
      {R"({"facts": )", "JSON"},
  };
  for (const auto& c : cases) {
    CliRun r = Exec("screen -", c.input);
    EXPECT_EQ(r.code, 2) << c.input << " " << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  CliRun r = Exec("screen --as-of 2023-02-29 -", R"({"facts":{}})");
  EXPECT_EQ(r.code, 2) << r.err;
  r = Exec("screen /nonexistent/file.json");
  EXPECT_EQ(r.code, 2) << r.err;
  r = Exec("screen --rules /nonexistent -", R"({"facts":{}})");
  EXPECT_EQ(r.code, 1) << r.err;
}

TEST_F(ScreenCli, BatchWritesOneLinePerRequestAndNamesTheBadLine) {
  std::string lines = R"({"as_of":"2026-03-02","facts":{"date_of_birth":"2000-01-01"}})" "\n"
                      R"({"as_of":"2026-03-02","facts":{"date_of_birth":"2010-01-01"}})" "\n";
  CliRun r = Exec("screen --batch -", lines);
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream ss(r.out);
  std::string line;
  int n = 0;
  while (std::getline(ss, line)) {
    EXPECT_TRUE(json::parse(line).contains("results"));
    ++n;
  }
  EXPECT_EQ(n, 2);
  r = Exec("screen --batch -", lines + R"({"facts":{"currently_in_us":"maybe"}})" "\n");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("line 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("currently_in_us"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace trellis::app
