// S3 over HTTP: revocation and expiry apply on the very next request of the same session, with
// an injected clock. The server is trellis_testclock (tests/clock/): the production command line
// on the system clock plus an offset the test rewrites; build/trellis has no such clock.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "support/harness.h"
#include "support/test_dir.h"

namespace trellis::testing {
namespace {

using json = nlohmann::json;
constexpr int64_t kDayMicros = 86'400'000'000;

std::map<std::string, std::string> Comparable(std::map<std::string, std::string> h) {
  h.erase("x-request-id");
  h.erase("date");
  return h;
}

TEST(ConsentClockTest, ExpiryAndRevocationApplyOnTheNextRequest) {
  TestDir dir;
  const std::string data = dir.path() + "/data", clock_file = dir.path() + "/clock";
  ASSERT_EQ(RunTrellis({"init", "--data", data}), 0);
  ASSERT_EQ(RunTrellis({"demo", "--data", data, "--cases", "3", "--seed", "7"}), 0);
  // The production binary knows no test clock: the flag is an error there.
  EXPECT_NE(RunTrellis({"version", "--test-clock-file=" + clock_file}), 0);

  // Server time: one minute before the end of tomorrow (UTC), so a release that ends "today"
  // (server time) runs out two minutes later — well inside the session's idle timeout.
  const int64_t real_now = SystemClock().NowMicros();
  const int64_t server_now = (real_now / kDayMicros + 2) * kDayMicros - 60'000'000;
  int64_t offset_seconds = (server_now - real_now) / 1'000'000;
  auto set_offset = [&](int64_t s) { std::ofstream(clock_file, std::ios::trunc) << s << "\n"; };
  set_offset(offset_seconds);
  ServerProcess server;
  ASSERT_TRUE(server.Start(data, dir.path() + "/server.log", {"--quiet", "--test-clock-file=" + clock_file}, TestClockBin()));
  const int port = server.port();

  Session adv = Login(port, "advocate");
  Session le = Login(port, "lespecialist");
  ASSERT_FALSE(adv.cookie.empty());
  ASSERT_FALSE(le.cookie.empty());
  const std::string le_agency = json::parse(Http(port, "GET", "/api/v1/me", "", le.Headers(false)).body)["agency_id"];
  auto created = Http(port, "POST", "/api/v1/survivors", R"({"fields":{"prs_FirstName":"Clockcanary"}})", adv.Headers());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string sid = json::parse(created.body)["id"];
  const std::string today = FormatDate(server_now);
  auto release = [&](const std::string& expires_on) {
    json body = {{"survivor_id", sid},           {"recipient_agency_id", le_agency}, {"categories", {"identity"}},
                 {"purpose", "investigation"},   {"expires_on", expires_on},
                 {"signers", {{{"relationship", "survivor"}, {"name", "A"}}}}};
    auto r = Http(port, "POST", "/api/v1/releases", body.dump(), adv.Headers());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? json::parse(r.body)["id"].get<std::string>() : std::string();
  };
  auto expect_shown = [&](const std::string& what) {
    auto r = Http(port, "GET", "/api/v1/survivors/" + sid, "", le.Headers(false));
    EXPECT_EQ(r.status, 200) << what;
    EXPECT_NE(r.body.find("Clockcanary"), std::string::npos) << what;
    EXPECT_NE(Http(port, "GET", "/api/v1/survivors?limit=200", "", le.Headers(false)).body.find(sid), std::string::npos) << what;
  };
  auto expect_gone = [&](const std::string& what) {
    auto denied = Http(port, "GET", "/api/v1/survivors/" + sid, "", le.Headers(false));
    auto absent = Http(port, "GET", "/api/v1/survivors/s_aaaaaaaaaaaaaaaaaaaaaaaaaa", "", le.Headers(false));
    EXPECT_EQ(denied.status, 404) << what;
    EXPECT_EQ(denied.body, absent.body) << what;
    EXPECT_EQ(Comparable(denied.headers), Comparable(absent.headers)) << what;
    auto list = Http(port, "GET", "/api/v1/survivors?limit=200", "", le.Headers(false));
    EXPECT_EQ(list.status, 200) << what;
    EXPECT_EQ(list.body.find(sid), std::string::npos) << what;
    // Still the same session: the answer changed because the grant did, not the login.
    EXPECT_EQ(Http(port, "GET", "/api/v1/me", "", le.Headers(false)).status, 200) << what;
  };

  // Expiry: in force through the whole last day, gone on the first request after it.
  const std::string expiring = release(today);
  expect_shown("before expiry");
  offset_seconds += 120;
  set_offset(offset_seconds);
  expect_gone("after expiry");
  auto grants = json::parse(Http(port, "GET", "/api/v1/survivors/" + sid + "/releases", "", adv.Headers(false)).body);
  ASSERT_EQ(grants["items"].size(), 1u);
  EXPECT_EQ(grants["items"][0]["id"], expiring);
  EXPECT_EQ(grants["items"][0]["status"], "expired");

  // Revocation: a new release (from the new day), then revoked: gone on the next request.
  const std::string gid = release(FormatDate(server_now + 5 * kDayMicros));
  expect_shown("new release");
  auto rv = Http(port, "POST", "/api/v1/releases/" + gid + "/revoke", R"({"reason":"survivor_request"})", adv.Headers());
  ASSERT_EQ(rv.status, 200) << rv.body;
  expect_gone("after revocation");
}

}  // namespace
}  // namespace trellis::testing
