// The hand-written response head, read back by Beast's own response parser.
#include <utility>  // before Boost.Asio under C++20
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "api/http.h"
#include "api/routes.h"
#include "support/app_fixture.h"

namespace trellis::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

// Parses head + body as a client would; fails the test on any parse error.
http::response<http::string_body> Parse(const std::string& wire, bool head_only = false) {
  http::response_parser<http::string_body> p;
  p.eager(true);
  if (head_only) p.skip(true);
  beast::error_code ec;
  size_t used = p.put(boost::asio::buffer(wire), ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(used, wire.size());
  EXPECT_TRUE(p.is_done());
  return p.release();
}

TEST(ResponseHead, ParsesBackWithEveryHeaderAndTheBody) {
  const std::string body = R"({"id":"c_1"})";
  const std::string wire =
      ResponseHead(200, "application/json", {{"Set-Cookie", "__Host-s=x; Path=/; Secure"}}, "r_1", body.size(), true) +
      body;
  auto res = Parse(wire);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.reason(), "OK");
  EXPECT_EQ(res.version(), 11);
  EXPECT_EQ(res.body(), body);
  EXPECT_EQ(res[http::field::content_type], "application/json");
  EXPECT_EQ(res[http::field::content_length], std::to_string(body.size()));
  EXPECT_EQ(res["X-Request-Id"], "r_1");
  EXPECT_EQ(res[http::field::set_cookie], "__Host-s=x; Path=/; Secure");
  EXPECT_EQ(res[http::field::server], "trellis");
  for (const auto& [k, v] : SecurityHeaders()) EXPECT_EQ(res[k], v) << k;
  EXPECT_TRUE(res.keep_alive());
}

TEST(ResponseHead, ClosingConnectionSaysSo) {
  auto res = Parse(ResponseHead(413, "application/json", {}, "-", 2, false) + "{}");
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_FALSE(res.keep_alive());
}

TEST(ResponseHead, NoContentHasNeitherTypeNorLength) {
  const std::string head = ResponseHead(204, "application/json", {}, "r_2", 0, true);
  EXPECT_EQ(head.find("\r\nContent-Type:"), std::string::npos);
  EXPECT_EQ(head.find("\r\nContent-Length:"), std::string::npos);
  auto res = Parse(head);
  EXPECT_EQ(res.result_int(), 204);
  EXPECT_EQ(res.reason(), "No Content");
}

TEST(ResponseHead, HeaderValuesCannotInjectLines) {
  const std::string head =
      ResponseHead(200, "text/plain", {{"Content-Disposition", "attachment\r\nSet-Cookie: evil=1"}}, "r\n3", 0, true);
  auto res = Parse(head);
  EXPECT_EQ(res[http::field::set_cookie], "");
  EXPECT_EQ(res[http::field::content_disposition], "attachment  Set-Cookie: evil=1");
  EXPECT_EQ(res["X-Request-Id"], "r 3");
}

// Which reads leave the I/O thread for the worker pool (server.cc): the long ones only, as their
// routes declare (kLongRead where they are added). A Router needs an App: the fixture's.
class IsLongRead : public testing::AppFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(AppFixture::SetUp());
    router_ = std::make_unique<Router>(*app_, RouteOptions{});
  }
  std::unique_ptr<Router> router_;  // destroyed before app_
};

TEST_F(IsLongRead, FileDownloadsDocumentsAndTheAuditLog) {
  const Router& r = *router_;
  EXPECT_TRUE(r.IsLongRead("GET", "/api/v1/evidence/ev_1/content"));
  EXPECT_TRUE(r.IsLongRead("HEAD", "/api/v1/evidence/ev_1/content"));
  EXPECT_TRUE(r.IsLongRead("GET", "/api/v1/jobs/job_1/file"));
  EXPECT_TRUE(r.IsLongRead("GET", "/api/v1/releases/rel_1/document"));
  EXPECT_TRUE(r.IsLongRead("GET", "/api/v1/audit"));
  EXPECT_FALSE(r.IsLongRead("GET", "/api/v1/cases/c_1"));
  EXPECT_FALSE(r.IsLongRead("GET", "/api/v1/evidence/ev_1"));
  EXPECT_FALSE(r.IsLongRead("GET", "/api/v1/jobs/job_1"));
  EXPECT_FALSE(r.IsLongRead("PUT", "/api/v1/evidence/ev_1/content"));  // writes go to the pool anyway
  // Exactly these four of all the routes.
  std::set<std::string> long_reads;
  for (const std::string& route : RouteTable()) {
    const size_t space = route.find(' ');
    std::string path = route.substr(space + 1);
    for (size_t at; (at = path.find("{id}")) != std::string::npos;) path.replace(at, 4, "x_1");
    if (r.IsLongRead(route.substr(0, space), path)) long_reads.insert(route);
  }
  EXPECT_EQ(long_reads, (std::set<std::string>{"GET /api/v1/evidence/{id}/content", "GET /api/v1/jobs/{id}/file",
                                               "GET /api/v1/releases/{id}/document", "GET /api/v1/audit"}));
}

}  // namespace
}  // namespace trellis::api
