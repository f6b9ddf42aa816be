// Integration tests: the real `trellis` binary over HTTP.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "api/routes.h"
#include "support/harness.h"

namespace trellis::testing {
namespace {

using json = nlohmann::json;

class ApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    demo_ = new DemoServer();
    ASSERT_TRUE(demo_->Start(12, 7));
    data_ = demo_->data;
  }
  static void TearDownTestSuite() { delete demo_; }
  int port() const { return demo_->port(); }
  std::string AnyCaseId(const Session& s) {
    auto r = Http(port(), "GET", "/api/v1/cases?limit=1", "", s.Headers(false));
    return json::parse(r.body)["items"][0]["id"].get<std::string>();
  }
  int64_t CountSurvivors(const Session& s) {
    int64_t n = 0;
    std::string cursor;
    while (true) {
      auto r = Http(port(), "GET", "/api/v1/survivors?limit=200" + (cursor.empty() ? "" : "&cursor=" + cursor), "",
                    s.Headers(false));
      auto j = json::parse(r.body);
      n += static_cast<int64_t>(j["items"].size());
      if (j["next_cursor"].is_null()) return n;
      cursor = j["next_cursor"].get<std::string>();
    }
  }
  static void ExpectErrorShape(const HttpResult& r) {
    auto j = json::parse(r.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.body;
    ASSERT_TRUE(j.contains("error")) << r.body;
    EXPECT_TRUE(j["error"]["code"].is_string());
    EXPECT_TRUE(j["error"]["message"].is_string());
  }

  static DemoServer* demo_;
  static std::string data_;
};
DemoServer* ApiTest::demo_ = nullptr;
std::string ApiTest::data_;

// Everything a server sends on one connection for `requests` (raw HTTP/1.1 text; the last one
// should close the connection).
std::string Exchange(int port, const std::string& requests) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, requests.data(), requests.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(requests.size())) {
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[65536];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// HEAD is answered as GET would be — status, headers, Content-Length — with no content, so the
// next response on the connection is read as what it is (RFC 9110, 9.3.2); a method a path
// does not take is a 405 naming those it takes (Allow).
TEST_F(ApiTest, HeadIsAGetWithoutContentAnd405NamesTheMethods) {
  Session s = Login(port(), "supervisor");
  ASSERT_FALSE(s.cookie.empty());
  const std::string id = AnyCaseId(s);
  auto get = Http(port(), "GET", "/api/v1/cases/" + id, "", s.Headers(false));
  ASSERT_EQ(get.status, 200);
  const std::string cookie = "Cookie: " + s.cookie + "\r\n";
  for (const std::string& target : {"/api/v1/cases/" + id, std::string("/")}) {
    const std::string raw = Exchange(port(), "HEAD " + target + " HTTP/1.1\r\nHost: t\r\n" + cookie + "\r\n" +
                                                 "GET /api/v1/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    const size_t end = raw.find("\r\n\r\n");
    ASSERT_NE(end, std::string::npos) << raw;
    const std::string head = raw.substr(0, end + 4), rest = raw.substr(end + 4);
    EXPECT_EQ(head.rfind("HTTP/1.1 200 ", 0), 0u) << target << ": " << head;
    if (target != "/") EXPECT_NE(head.find("Content-Length: " + std::to_string(get.body.size()) + "\r\n"), std::string::npos) << head;
    EXPECT_EQ(rest.rfind("HTTP/1.1 200 ", 0), 0u) << target << ": the HEAD response carried content: " << rest.substr(0, 200);
    EXPECT_NE(rest.find(R"({"status":"ok"})"), std::string::npos) << rest;
  }
  // HEAD is authenticated and decided as GET is.
  EXPECT_EQ(Http(port(), "HEAD", "/api/v1/cases/" + id).status, 401);
  EXPECT_EQ(Http(port(), "HEAD", "/api/v1/cases/c_nosuchcase", "", s.Headers(false)).status, 404);
  auto del = Http(port(), "DELETE", "/api/v1/cases/" + id, "", s.Headers());
  EXPECT_EQ(del.status, 405);
  EXPECT_EQ(del.headers["allow"], "GET, HEAD, PATCH") << del.headers["allow"];
  // Not on a long read: fetching an export's file uses it up.
  auto file = Http(port(), "HEAD", "/api/v1/jobs/j_nosuchjob/file", "", s.Headers(false));
  EXPECT_EQ(file.status, 405);
  EXPECT_EQ(file.headers["allow"], "GET");
}

// S10: the security headers on every route, authenticated or not, success or error.
TEST_F(ApiTest, SecurityHeadersOnEveryResponse) {
  Session s = Login(port(), "supervisor");
  ASSERT_FALSE(s.cookie.empty());
  const std::string id = AnyCaseId(s);
  std::vector<std::pair<std::string, std::string>> targets;
  for (const std::string& route : api::RouteTable()) {
    std::string method = route.substr(0, route.find(' '));
    std::string path = std::regex_replace(route.substr(route.find(' ') + 1), std::regex("\\{id\\}"), id);
    if (method == "POST" && path == "/api/v1/logout") continue;  // would end the session used below
    targets.emplace_back(method, path);
  }
  targets.emplace_back("GET", "/");
  targets.emplace_back("GET", "/no/such/page");
  targets.emplace_back("GET", "/api/v1/nope");
  for (const auto& [method, path] : targets) {
    for (bool authed : {true, false}) {
      auto r = Http(port(), method, path, method == "GET" || method == "DELETE" ? "" : "{}",
                    authed ? s.Headers() : std::map<std::string, std::string>{{"Content-Type", "application/json"}});
      ASSERT_NE(r.status, 0) << method << " " << path;
      EXPECT_LT(r.status, 500) << method << " " << path << " " << r.body;
      EXPECT_EQ(r.headers["cache-control"], "no-store") << path;
      EXPECT_NE(r.headers["content-security-policy"].find("frame-ancestors 'none'"), std::string::npos) << path;
      EXPECT_EQ(r.headers["x-content-type-options"], "nosniff") << path;
      EXPECT_EQ(r.headers["referrer-policy"], "no-referrer") << path;
      EXPECT_FALSE(r.headers["x-request-id"].empty()) << path;
    }
  }
}

// S9: cookie attributes, CSRF on state changes, logout kills the session server-side.
TEST_F(ApiTest, SessionsCookiesCsrfAndLogout) {
  auto r = Http(port(), "POST", "/api/v1/login", R"({"username":"advocate","password":"trellis-demo-2026"})",
                {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 200);
  const std::string set = r.headers["set-cookie"];
  EXPECT_EQ(set.rfind("__Host-trellis=", 0), 0u);
  for (const char* attr : {"Secure", "HttpOnly", "SameSite=Strict", "Path=/"}) {
    EXPECT_NE(set.find(attr), std::string::npos) << attr;
  }
  EXPECT_EQ(set.find("Domain"), std::string::npos);
  Session s = Login(port(), "advocate");
  const std::string body = R"({"fields":{"prs_Gender":"Feminine"}})";
  auto no_csrf = Http(port(), "POST", "/api/v1/survivors", body, {{"Cookie", s.cookie}, {"Content-Type", "application/json"}});
  EXPECT_EQ(no_csrf.status, 403);
  ExpectErrorShape(no_csrf);
  EXPECT_EQ(Http(port(), "POST", "/api/v1/survivors", body, s.Headers()).status, 201);
  // A second login gives a new session token (no fixation).
  Session s2 = Login(port(), "advocate");
  EXPECT_NE(s.cookie, s2.cookie);
  auto out = Http(port(), "POST", "/api/v1/logout", "", s.Headers());
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(out.headers["clear-site-data"].find("cookies"), std::string::npos);
  EXPECT_EQ(Http(port(), "GET", "/api/v1/me", "", s.Headers(false)).status, 401);
  EXPECT_EQ(Http(port(), "GET", "/api/v1/me", "", s2.Headers(false)).status, 200);
}

// S8: the same answer for an unknown user and a wrong password.
TEST_F(ApiTest, NoUserEnumeration) {
  auto unknown = Http(port(), "POST", "/api/v1/login", R"({"username":"nobody_here","password":"x-very-long-password"})",
                      {{"Content-Type", "application/json"}});
  auto wrong = Http(port(), "POST", "/api/v1/login", R"({"username":"paralegal","password":"x-very-long-password"})",
                    {{"Content-Type", "application/json"}});
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.status, wrong.status);
  EXPECT_EQ(unknown.body, wrong.body);
}

// S1: another agency's record answers exactly like a missing record.
TEST_F(ApiTest, DeniedReadEqualsNotFoundByteForByte) {
  Session ngo = Login(port(), "advocate");
  Session le = Login(port(), "lespecialist");
  const std::string id = AnyCaseId(ngo);
  auto denied = Http(port(), "GET", "/api/v1/cases/" + id, "", le.Headers(false));
  auto missing = Http(port(), "GET", "/api/v1/cases/c_aaaaaaaaaaaaaaaaaaaaaaaaaa", "", le.Headers(false));
  EXPECT_EQ(denied.status, 404);
  EXPECT_EQ(denied.status, missing.status);
  EXPECT_EQ(denied.body, missing.body);
  auto h1 = denied.headers, h2 = missing.headers;
  h1.erase("x-request-id");
  h2.erase("x-request-id");
  h1.erase("date");
  h2.erase("date");
  EXPECT_EQ(h1, h2);
  auto patch = Http(port(), "PATCH", "/api/v1/cases/" + id, R"({"version":1,"fields":{"cas_Status":"Closed"}})", le.Headers());
  auto patch_missing = Http(port(), "PATCH", "/api/v1/cases/c_aaaaaaaaaaaaaaaaaaaaaaaaaa",
                            R"({"version":1,"fields":{"cas_Status":"Closed"}})", le.Headers());
  EXPECT_EQ(patch.status, 404);
  EXPECT_EQ(patch.body, patch_missing.body);
  auto list = json::parse(Http(port(), "GET", "/api/v1/cases", "", le.Headers(false)).body);
  EXPECT_TRUE(list["items"].empty());
}

// Bad input: a 4xx with the JSON error shape, nothing changed, never a 5xx.
TEST_F(ApiTest, BadInputIsRejectedAndChangesNothing) {
  Session s = Login(port(), "casemanager");
  const int64_t before = CountSurvivors(s);
  const std::string id = AnyCaseId(s);
  std::vector<std::string> bodies = {
      "",
      "{",
      "[]",
      "null",
      "\"text\"",
      R"({"fields":"nope"})",
      R"({"fields":{"prs_FirstName":42}})",
      R"({"fields":{"prs_Birthdate":"2023-02-29"}})",
      R"({"fields":{"prs_Birthdate":"yesterday"}})",
      R"({"fields":{"prs_Gender":"Robot"}})",
      R"({"fields":{"vic_TypeOfExploitation":"ForcedLabour"}})",
      R"({"fields":{"vic_TypeOfExploitation":["ForcedLabour;Other"]}})",
      R"({"fields":{"prs_NumberOfChildren":-3}})",
      R"({"fields":{"prs_NumberOfChildren":1.5}})",
      R"({"fields":{"favourite_colour":"red"}})",
      R"({"fields":{"prs_FirstName":"x"},"unknown":1})",
      R"({"fields":{"prs_FirstName":null}})",
      "{\"fields\":{\"prs_FirstName\":\"\xff\xfe\"}}",
      "{\"fields\":{\"prs_FirstName\":\"\xc0\xaf\"}}",
      R"({"fields":{"prs_FirstName":"a\u0000b"}})",
      R"({"fields":{"prs_FirstName":"Robert'); DROP TABLE records;--", "prs_Gender":"Feminine' OR '1'='1"}})",
      std::string(2000, '[') + std::string(2000, ']'),
      R"({"fields":{"prs_FirstName":")" + std::string(600, 'a') + R"("}})",
      R"({"team":["u_nobody"]})",
  };
  for (const auto& b : bodies) {
    auto r = Http(port(), "POST", "/api/v1/survivors", b, s.Headers());
    EXPECT_GE(r.status, 400) << b.substr(0, 80);
    EXPECT_LT(r.status, 500) << b.substr(0, 80);
    ExpectErrorShape(r);
  }
  // Wrong content type, oversize body, bad query parameters, bad versions.
  auto ct = Http(port(), "POST", "/api/v1/survivors", R"({"fields":{}})", {{"Cookie", s.cookie}, {"X-CSRF-Token", s.csrf}, {"Content-Type", "text/plain"}});
  EXPECT_EQ(ct.status, 400);
  auto big = Http(port(), "POST", "/api/v1/survivors", std::string(2 << 20, ' '), s.Headers());
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(Http(port(), "GET", "/api/v1/cases?limit=abc", "", s.Headers(false)).status, 400);
  EXPECT_EQ(Http(port(), "GET", "/api/v1/cases?limit=100000", "", s.Headers(false)).status, 400);
  EXPECT_EQ(Http(port(), "GET", "/api/v1/cases?cursor=%%%", "", s.Headers(false)).status, 400);
  EXPECT_EQ(Http(port(), "GET", "/api/v1/cases?bogus=1", "", s.Headers(false)).status, 400);
  EXPECT_EQ(Http(port(), "PATCH", "/api/v1/cases/" + id, R"({"fields":{"cas_Status":"Closed"}})", s.Headers()).status, 400);
  EXPECT_EQ(Http(port(), "PATCH", "/api/v1/cases/" + id, R"({"version":"1"})", s.Headers()).status, 400);
  EXPECT_EQ(Http(port(), "PATCH", "/api/v1/cases/" + id, R"({"version":999,"fields":{"cas_Status":"Closed"}})", s.Headers()).status, 409);
  EXPECT_EQ(Http(port(), "DELETE", "/api/v1/cases/" + id, "", s.Headers()).status, 405);
  EXPECT_EQ(CountSurvivors(s), before);
  // The SQL-looking strings are just text: stored as given when valid.
  auto ok = Http(port(), "POST", "/api/v1/survivors", R"({"fields":{"prs_FirstName":"Robert'); DROP TABLE records;--"}})", s.Headers());
  ASSERT_EQ(ok.status, 201);
  EXPECT_EQ(json::parse(ok.body)["fields"]["prs_FirstName"], "Robert'); DROP TABLE records;--");
  EXPECT_EQ(CountSurvivors(s), before + 1);
}

TEST_F(ApiTest, CreateReadUpdateAndRedaction) {
  Session adv = Login(port(), "advocate");
  auto s = Http(port(), "POST", "/api/v1/survivors",
                R"({"fields":{"prs_FirstName":"Ana","prs_MailingCity":"Lakeside","vic_TypeOfExploitation":["Servitude","ForcedLabour"],"prs_Deceased":false}})",
                adv.Headers());
  ASSERT_EQ(s.status, 201) << s.body;
  auto sj = json::parse(s.body);
  EXPECT_EQ(sj["fields"]["vic_TypeOfExploitation"], json({"ForcedLabour", "Servitude"}));
  EXPECT_EQ(sj["fields"]["prs_Deceased"], false);
  const std::string sid = sj["id"];
  auto c = Http(port(), "POST", "/api/v1/cases", json({{"survivor_id", sid}, {"fields", {{"cas_Status", "Active"}}}}).dump(),
                adv.Headers());
  ASSERT_EQ(c.status, 201) << c.body;
  auto cj = json::parse(c.body);
  EXPECT_TRUE(std::regex_match(cj["case_number"].get<std::string>(), std::regex("TR-[0-9A-Z]{4}-[0-9A-Z]{4}")));
  auto up = Http(port(), "PATCH", "/api/v1/cases/" + cj["id"].get<std::string>(),
                 R"({"version":1,"fields":{"cas_Status":"FollowUp","trl_SafetyPlan":"call on Tuesdays"}})", adv.Headers());
  ASSERT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(json::parse(up.body)["version"], 2);
  // The supervisor is not on this survivor's team: the location is withheld and named.
  Session sup = Login(port(), "supervisor");
  auto r = json::parse(Http(port(), "GET", "/api/v1/survivors/" + sid, "", sup.Headers(false)).body);
  EXPECT_FALSE(r["fields"].contains("prs_MailingCity"));
  EXPECT_EQ(r["redacted"], json({"prs_MailingCity"}));
  // The auditor sees the trail, not the data.
  Session aud = Login(port(), "auditor");
  EXPECT_EQ(Http(port(), "GET", "/api/v1/survivors/" + sid, "", aud.Headers(false)).status, 404);
  auto trail = Http(port(), "GET", "/api/v1/audit?limit=20", "", aud.Headers(false));
  ASSERT_EQ(trail.status, 200);
  EXPECT_FALSE(json::parse(trail.body)["items"].empty());
  EXPECT_EQ(trail.body.find("Ana"), std::string::npos);  // IDs only
  EXPECT_EQ(Http(port(), "GET", "/api/v1/audit", "", adv.Headers(false)).status, 403);
}

// A failure to record an audit entry is a fault of the server, never of the request: on every
// route it answers 500 with the generic JSON error — not 409 already_exists, which the store's
// code for the injected failure (an abort in a trigger: a constraint error to SQLite) used to
// become — and no word of the storage detail. (A data write's own constraint conflict keeps its
// kAlreadyExists: AppTest.AFailedAuditAppendIsInternalAndAConstraintOfADataWriteAConflict.)
TEST_F(ApiTest, AFailedAuditIsAnInternalErrorOnEveryRoute) {
  Session adv = Login(port(), "advocate");
  const std::string id = AnyCaseId(adv);
  auto me = Http(port(), "GET", "/api/v1/me", "", adv.Headers(false));
  ASSERT_EQ(me.status, 200) << me.body;
  const std::string user_id = json::parse(me.body)["id"];
  auto expect_internal = [](const HttpResult& r, const std::string& what) {
    EXPECT_EQ(r.status, 500) << what << " " << r.body;
    auto j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j["error"].is_object()) << what << " " << r.body;
    EXPECT_EQ(j["error"]["code"], "internal") << what << " " << r.body;
    EXPECT_EQ(j["error"]["message"], "the server could not complete the request") << what;
    EXPECT_FALSE(j["error"].contains("field")) << what << " " << r.body;
  };
  {
    FailingAuditEntries failing(data_, user_id);  // every entry of this user's requests
    ASSERT_TRUE(failing.ok());
    // A read (answered once its entry is durable), a write, a list.
    expect_internal(Http(port(), "GET", "/api/v1/cases/" + id, "", adv.Headers(false)), "GET case");
    expect_internal(Http(port(), "POST", "/api/v1/survivors", R"({"fields":{"prs_FirstName":"Ana"}})", adv.Headers()),
                    "POST survivor");
    expect_internal(Http(port(), "GET", "/api/v1/cases?limit=5", "", adv.Headers(false)), "GET cases");
    // Every route, whatever it answers: never a conflict made of the audit failure, never a detail.
    for (const std::string& route : api::RouteTable()) {
      const std::string method = route.substr(0, route.find(' '));
      const std::string path = std::regex_replace(route.substr(route.find(' ') + 1), std::regex("\\{id\\}"), id);
      if (method == "POST" && path == "/api/v1/logout") continue;  // would end the session used here
      auto r = Http(port(), method, path, method == "GET" || method == "DELETE" ? "" : "{}", adv.Headers());
      ASSERT_NE(r.status, 0) << route;
      if (r.status < 400) continue;  // not audited by this user (the OpenAPI document, a health check)
      EXPECT_NE(r.status, 409) << route << " " << r.body;
      for (const char* detail : {"already", "audit:", "injected", "constraint"}) {
        EXPECT_EQ(r.body.find(detail), std::string::npos) << route << " " << r.body;
      }
      if (r.status >= 500) expect_internal(r, route);
    }
  }
  // Recorded again once the store can: the same read answers.
  EXPECT_EQ(Http(port(), "GET", "/api/v1/cases/" + id, "", adv.Headers(false)).status, 200);
}

TEST_F(ApiTest, BearerTokenFromCli) {
  std::string out;
  ASSERT_EQ(RunTrellis({"token", "create", "--data", data_, "--user", "casemanager", "--name", "it"}, &out), 0);
  std::string token = out.substr(0, out.find('\n'));
  auto r = Http(port(), "GET", "/api/v1/me", "", {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["username"], "casemanager");
  // Bearer requests need no CSRF token (not sent ambiently by browsers).
  EXPECT_EQ(Http(port(), "POST", "/api/v1/survivors", R"({"fields":{}})",
                 {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}}).status, 201);
  EXPECT_EQ(Http(port(), "GET", "/api/v1/me", "", {{"Authorization", "Bearer trl_wrong"}}).status, 401);
}

TEST_F(ApiTest, OpenApiDocumentMatchesTheRoutes) {
  auto r = Http(port(), "GET", "/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  auto doc = json::parse(r.body);
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 2), "3.");
  std::set<std::string> documented;
  for (auto& [path, ops] : doc["paths"].items()) {
    for (auto& [method, _] : ops.items()) {
      if (method == "parameters") continue;
      std::string m = method;
      std::transform(m.begin(), m.end(), m.begin(), ::toupper);
      documented.insert(m + " " + path);
    }
  }
  std::set<std::string> served(api::RouteTable().begin(), api::RouteTable().end());
  EXPECT_EQ(documented, served);
}

}  // namespace
}  // namespace trellis::testing
