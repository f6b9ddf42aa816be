// Integration tests of the TOTP second factor (S8) against the real binary over HTTP: enrol →
// login needs a code → wrong code → right code → reuse refused → recovery code once; API tokens
// unaffected; reset by an administrator of the same agency and by the CLI; audit with IDs only.
#include <gtest/gtest.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "crypto/totp.h"
#include "support/harness.h"

namespace trellis::testing {
namespace {

using json = nlohmann::json;

const std::map<std::string, std::string> kJson = {{"Content-Type", "application/json"}};

HttpResult LoginWith(int port, const std::string& user, const std::string& password, const json& extra = json::object()) {
  json body = {{"username", user}, {"password", password}};
  body.update(extra);
  return Http(port, "POST", "/api/v1/login", body.dump(), kJson);
}

Session SessionFrom(const HttpResult& r) {
  Session s;
  const std::string set = r.headers.at("set-cookie");
  s.cookie = set.substr(0, set.find(';'));
  s.csrf = json::parse(r.body)["csrf_token"].get<std::string>();
  return s;
}

// The code of the step `steps` after the one holding `base` (a time taken once, so that a test
// crossing a 30-second boundary still names the steps it means).
std::string CodeAt(const std::string& secret, int64_t base, int steps) {
  return crypto::TotpCode(secret, base + 30 * steps);
}
int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

TEST(TotpApiTest, EnrolLoginReplayRecoveryReset) {
  DemoServer demo;
  ASSERT_TRUE(demo.Start(2, 3));
  const int port = demo.port();
  const std::string pw = "trellis-demo-2026";
  Session s = Login(port, "casemanager");
  ASSERT_FALSE(s.cookie.empty());

  auto st = Http(port, "GET", "/api/v1/me/second-factor", "", s.Headers(false));
  ASSERT_EQ(st.status, 200);
  EXPECT_FALSE(json::parse(st.body)["enabled"].get<bool>());
  // Enrolment needs the CSRF token like every state change.
  EXPECT_EQ(Http(port, "POST", "/api/v1/me/second-factor/totp", "", {{"Cookie", s.cookie}}).status, 403);
  auto begin = Http(port, "POST", "/api/v1/me/second-factor/totp", "", s.Headers());
  ASSERT_EQ(begin.status, 201) << begin.body;
  const std::string b32 = json::parse(begin.body)["secret"].get<std::string>();
  EXPECT_EQ(json::parse(begin.body)["otpauth_uri"].get<std::string>().rfind("otpauth://totp/Trellis:casemanager?secret=" + b32, 0), 0u);
  auto secret = crypto::Base32Decode(b32);
  ASSERT_TRUE(secret.ok());
  // Pending: the password alone still logs in.
  EXPECT_EQ(LoginWith(port, "casemanager", pw).status, 200);

  auto bad_confirm = Http(port, "POST", "/api/v1/me/second-factor/totp/confirm", R"({"code":"12x456"})", s.Headers());
  EXPECT_EQ(bad_confirm.status, 400);
  EXPECT_EQ(json::parse(bad_confirm.body)["error"]["field"], "code");
  const int64_t t0 = Now();
  auto confirm = Http(port, "POST", "/api/v1/me/second-factor/totp/confirm",
                      json{{"code", CodeAt(*secret, t0, 0)}}.dump(), s.Headers());
  ASSERT_EQ(confirm.status, 200) << confirm.body;
  auto recovery = json::parse(confirm.body)["recovery_codes"].get<std::vector<std::string>>();
  ASSERT_EQ(recovery.size(), 10u);

  // Right password, no code: the distinct answer.
  auto missing = LoginWith(port, "casemanager", pw);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(json::parse(missing.body)["error"]["code"], "second_factor_required");
  EXPECT_EQ(missing.headers.count("set-cookie"), 0u);
  // Wrong code and wrong password: byte-for-byte the same answer, as for an unknown user.
  auto wrong_code = LoginWith(port, "casemanager", pw, {{"code", "000000"}});
  auto wrong_pw = LoginWith(port, "casemanager", "not-the-password-1", {{"code", CodeAt(*secret, t0, 1)}});
  auto unknown = LoginWith(port, "nobody_here", "not-the-password-1", {{"code", "000000"}});
  EXPECT_EQ(wrong_code.status, 401);
  EXPECT_EQ(wrong_code.body, wrong_pw.body);
  EXPECT_EQ(wrong_code.body, unknown.body);
  // The confirming step is spent; the next step (inside the window) logs in, once.
  EXPECT_EQ(LoginWith(port, "casemanager", pw, {{"code", CodeAt(*secret, t0, 0)}}).status, 401);
  const std::string next = CodeAt(*secret, t0, 1);
  auto ok = LoginWith(port, "casemanager", pw, {{"code", next}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto replay = LoginWith(port, "casemanager", pw, {{"code", next}});
  EXPECT_EQ(replay.status, 401);
  EXPECT_EQ(replay.body, wrong_pw.body);
  // A recovery code works once.
  auto rec = LoginWith(port, "casemanager", pw, {{"recovery_code", recovery[3]}});
  ASSERT_EQ(rec.status, 200) << rec.body;
  EXPECT_EQ(LoginWith(port, "casemanager", pw, {{"recovery_code", recovery[3]}}).status, 401);
  EXPECT_EQ(LoginWith(port, "casemanager", pw, {{"code", "1"}, {"recovery_code", "x"}}).status, 400);
  Session s2 = SessionFrom(rec);
  st = Http(port, "GET", "/api/v1/me/second-factor", "", s2.Headers(false));
  EXPECT_EQ(json::parse(st.body)["recovery_codes_left"], 9);

  // Bearer tokens made by the operator are not affected.
  std::string token;
  ASSERT_EQ(RunTrellis({"token", "create", "--data", demo.data, "--user", "casemanager"}, &token), 0);
  token.erase(token.find_last_not_of("\n") + 1);
  EXPECT_EQ(Http(port, "GET", "/api/v1/me", "", {{"Authorization", "Bearer " + token}}).status, 200);
  // ... but cannot manage the second factor.
  EXPECT_EQ(Http(port, "POST", "/api/v1/me/second-factor/disable", R"({"password":"x","code":"1"})",
                 {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}}).status, 403);

  std::string out;
  ASSERT_EQ(RunTrellis({"user", "totp-status", "--data", demo.data, "casemanager"}, &out), 0);
  EXPECT_EQ(out, "on (9 recovery codes left)\n");
  const std::string user_id = json::parse(rec.body)["user"]["id"].get<std::string>();
  // Another agency's administrator: as if the user did not exist.
  Session other_admin = Login(port, "attorney");  // not an administrator either
  auto denied = Http(port, "POST", "/api/v1/users/" + user_id + "/second-factor/reset", "", other_admin.Headers());
  auto missing_user = Http(port, "POST", "/api/v1/users/u_nobody/second-factor/reset", "", other_admin.Headers());
  EXPECT_EQ(denied.status, 404);
  EXPECT_EQ(denied.body, missing_user.body);
  Session admin = Login(port, "admin");
  EXPECT_EQ(Http(port, "POST", "/api/v1/users/" + user_id + "/second-factor/reset", "", admin.Headers()).status, 204);
  EXPECT_EQ(LoginWith(port, "casemanager", pw).status, 200);
  ASSERT_EQ(RunTrellis({"user", "totp-status", "--data", demo.data, "casemanager"}, &out), 0);
  EXPECT_EQ(out, "off\n");

  // Enrol again, disable with password + code; then the CLI reset on an enabled one.
  begin = Http(port, "POST", "/api/v1/me/second-factor/totp", "", s2.Headers());
  ASSERT_EQ(begin.status, 201);
  secret = crypto::Base32Decode(json::parse(begin.body)["secret"].get<std::string>());
  const int64_t t1 = Now();
  ASSERT_EQ(Http(port, "POST", "/api/v1/me/second-factor/totp/confirm", json{{"code", CodeAt(*secret, t1, 0)}}.dump(),
                 s2.Headers()).status, 200);
  EXPECT_EQ(Http(port, "POST", "/api/v1/me/second-factor/totp", "", s2.Headers()).status, 409);
  auto bad_off = Http(port, "POST", "/api/v1/me/second-factor/disable",
                      json{{"password", "wrong-password-12"}, {"code", CodeAt(*secret, t1, 1)}}.dump(), s2.Headers());
  EXPECT_EQ(bad_off.status, 400);
  EXPECT_EQ(Http(port, "POST", "/api/v1/me/second-factor/disable",
                 json{{"password", pw}, {"code", CodeAt(*secret, t1, 1)}}.dump(), s2.Headers()).status, 204);
  EXPECT_EQ(LoginWith(port, "casemanager", pw).status, 200);

  // Every step audited, IDs only: no secret, code or recovery code in the audit log.
  Session sup = Login(port, "supervisor");
  auto audit = Http(port, "GET", "/api/v1/audit?limit=200", "", sup.Headers(false));
  ASSERT_EQ(audit.status, 200);
  for (const char* action : {"second_factor.begin", "second_factor.enable", "second_factor.recovery_used",
                             "second_factor.reset", "second_factor.disable"}) {
    EXPECT_NE(audit.body.find(action), std::string::npos) << action;
  }
  EXPECT_NE(audit.body.find("second_factor_required"), std::string::npos);
  EXPECT_NE(audit.body.find("bad_second_factor"), std::string::npos);
  EXPECT_EQ(audit.body.find(b32), std::string::npos);
  for (const auto& c : recovery) EXPECT_EQ(audit.body.find(c), std::string::npos);
}

}  // namespace
}  // namespace trellis::testing
