// Consent over HTTP, against the real binary: denied answers equal not-found answers byte for
// byte (S1), no response carries a field outside the release, revocation applies at once (S3),
// accounting of disclosures (S13) and the CLI report.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <atomic>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "support/harness.h"

namespace trellis::testing {
namespace {

using json = nlohmann::json;

class ConsentApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    demo_ = new DemoServer();
    ASSERT_TRUE(demo_->Start(4, 3));
    data_ = demo_->data;
  }
  static void TearDownTestSuite() { delete demo_; }
  int port() const { return demo_->port(); }
  static std::map<std::string, std::string> Comparable(std::map<std::string, std::string> h) {
    h.erase("x-request-id");
    h.erase("date");
    return h;
  }
  std::string LeAgency(const Session& le) {
    return json::parse(Http(port(), "GET", "/api/v1/me", "", le.Headers(false)).body)["agency_id"];
  }
  static DemoServer* demo_;
  static std::string data_;
};
DemoServer* ConsentApiTest::demo_ = nullptr;
std::string ConsentApiTest::data_;

TEST_F(ConsentApiTest, MatrixOverHttp) {
  Session adv = Login(port(), "advocate");
  Session le = Login(port(), "lespecialist");
  const std::string le_agency = LeAgency(le);
  auto created = Http(port(), "POST", "/api/v1/survivors",
                      R"({"fields":{"prs_FirstName":"Canaryfirst","prs_MailingCity":"Canarycity","prs_Email":"c@x.org",)"
                      R"("trl_Statement":"Canarystatement","vic_TypeOfExploitation":["ForcedLabour"],"prs_Gender":"Feminine"}})",
                      adv.Headers());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string sid = json::parse(created.body)["id"];
  const std::string missing = "s_aaaaaaaaaaaaaaaaaaaaaaaaaa";
  auto expect_denied_like_missing = [&](const std::string& what) {
    auto denied = Http(port(), "GET", "/api/v1/survivors/" + sid, "", le.Headers(false));
    auto absent = Http(port(), "GET", "/api/v1/survivors/" + missing, "", le.Headers(false));
    EXPECT_EQ(denied.status, 404) << what;
    EXPECT_EQ(denied.body, absent.body) << what;
    EXPECT_EQ(Comparable(denied.headers), Comparable(absent.headers)) << what;
    auto list = Http(port(), "GET", "/api/v1/survivors?limit=200", "", le.Headers(false));
    EXPECT_EQ(list.body.find(sid), std::string::npos) << what;
  };
  expect_denied_like_missing("no release");
  // For each category: an active release shows exactly that category; revoked, gone at once.
  const std::map<std::string, std::vector<std::string>> canaries = {
      {"identity", {"Canaryfirst"}}, {"location", {"Canarycity"}}, {"contact", {"c@x.org"}},
      {"trafficking_history", {"Canarystatement", "ForcedLabour"}}, {"demographic", {"Feminine"}}};
  for (const auto& [cat, values] : canaries) {
    json body = {{"survivor_id", sid},       {"recipient_agency_id", le_agency},  {"categories", {cat}},
                 {"purpose", "investigation"}, {"expires_on", "2099-01-01"},     {"signers", {{{"relationship", "survivor"}, {"name", "A"}}}}};
    auto too_long = Http(port(), "POST", "/api/v1/releases", body.dump(), adv.Headers());
    ASSERT_EQ(too_long.status, 400) << too_long.body;
    EXPECT_EQ(json::parse(too_long.body)["error"]["field"], "expires_on");
    body.erase("expires_on");
    body["expires_on"] = FormatDate(SystemClock().NowMicros() + int64_t{30} * 86'400'000'000);
    auto rel = Http(port(), "POST", "/api/v1/releases", body.dump(), adv.Headers());
    ASSERT_EQ(rel.status, 201) << rel.body;
    const std::string gid = json::parse(rel.body)["id"];
    for (const std::string& path : {"/api/v1/survivors/" + sid, std::string("/api/v1/survivors?limit=200")}) {
      auto r = Http(port(), "GET", path, "", le.Headers(false));
      ASSERT_EQ(r.status, 200) << path;
      EXPECT_NE(r.body.find(sid), std::string::npos) << cat << " " << path;
      for (const auto& [other, other_values] : canaries) {
        for (const auto& v : other_values) {
          EXPECT_EQ(r.body.find(v) != std::string::npos, other == cat) << cat << " " << path << " " << v;
        }
      }
    }
    auto rv = Http(port(), "POST", "/api/v1/releases/" + gid + "/revoke", R"({"reason":"survivor_request"})", adv.Headers());
    ASSERT_EQ(rv.status, 200) << rv.body;
    expect_denied_like_missing("revoked " + cat);
  }
  // The accounting lists every disclosure (a read and a list per category), nothing identifying.
  auto acc = Http(port(), "GET", "/api/v1/survivors/" + sid + "/disclosures", "", adv.Headers(false));
  ASSERT_EQ(acc.status, 200);
  auto items = json::parse(acc.body)["items"];
  EXPECT_EQ(items.size(), 2 * canaries.size());
  EXPECT_EQ(items[0]["basis"], "release");
  EXPECT_EQ(acc.body.find("Canary"), std::string::npos);
  EXPECT_EQ(Http(port(), "GET", "/api/v1/survivors/" + sid + "/disclosures", "", le.Headers(false)).status, 404);
  std::string out;
  ASSERT_EQ(RunTrellis({"disclosures", "--data", data_, "--survivor", sid}, &out), 0);
  size_t rows = 0;
  for (size_t pos = 0; (pos = out.find("\tsurvivor.", pos)) != std::string::npos; ++pos) ++rows;
  EXPECT_EQ(rows, 2 * canaries.size()) << out;
  // The printable release, in Spanish.
  auto list = json::parse(Http(port(), "GET", "/api/v1/survivors/" + sid + "/releases", "", adv.Headers(false)).body);
  const std::string gid = list["items"][0]["id"];
  auto doc = Http(port(), "GET", "/api/v1/releases/" + gid + "/document?lang=es", "", adv.Headers(false));
  EXPECT_EQ(doc.status, 200);
  EXPECT_NE(doc.headers["content-type"].find("text/html"), std::string::npos);
  EXPECT_NE(doc.body.find("No tiene que firmar"), std::string::npos);
  EXPECT_EQ(Http(port(), "GET", "/api/v1/releases/" + gid + "/document", "", le.Headers(false)).status, 404);
}


// S13: a read through a release answers only once its disclosure row is durable (the row is
// group-committed with the read's audit entry), so the accounting lists it right after the
// response, and concurrent reads sharing batches record exactly one row each.
TEST_F(ConsentApiTest, DisclosureIsRecordedBeforeTheResponse) {
  Session adv = Login(port(), "advocate");
  Session le = Login(port(), "lespecialist");
  auto created = Http(port(), "POST", "/api/v1/survivors", R"({"fields":{"prs_FirstName":"Groupfirst"}})", adv.Headers());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string sid = json::parse(created.body)["id"];
  json body = {{"survivor_id", sid}, {"recipient_agency_id", LeAgency(le)}, {"categories", {"identity"}},
               {"purpose", "investigation"},
               {"expires_on", FormatDate(SystemClock().NowMicros() + int64_t{30} * 86'400'000'000)},
               {"signers", {{{"relationship", "survivor"}, {"name", "A"}}}}};
  ASSERT_EQ(Http(port(), "POST", "/api/v1/releases", body.dump(), adv.Headers()).status, 201);
  auto count = [&] {
    auto acc = Http(port(), "GET", "/api/v1/survivors/" + sid + "/disclosures", "", adv.Headers(false));
    EXPECT_EQ(acc.status, 200);
    return json::parse(acc.body)["items"].size();
  };
  for (size_t i = 1; i <= 3; ++i) {
    ASSERT_EQ(Http(port(), "GET", "/api/v1/survivors/" + sid, "", le.Headers(false)).status, 200);
    EXPECT_EQ(count(), i);  // listed as soon as the read has been answered
  }
  constexpr int kThreads = 8, kReads = 15;
  std::atomic<int> ok{0}, seen_late{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kReads; ++i) {
        if (Http(port(), "GET", "/api/v1/survivors/" + sid, "", le.Headers(false)).status != 200) continue;
        const int mine = ++ok;
        // Every read answered so far (ours included) is already in the accounting.
        if (count() < static_cast<size_t>(3 + mine)) ++seen_late;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kReads);
  EXPECT_EQ(seen_late.load(), 0);
  EXPECT_EQ(count(), static_cast<size_t>(3 + kThreads * kReads));  // exactly one row per read
}

}  // namespace
}  // namespace trellis::testing
