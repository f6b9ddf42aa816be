// Plain request/response values between the HTTP server (Boost.Beast, server.cc only) and
// the routes: keeps Beast and JSON headers out of everything else.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace trellis::api {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::map<std::string, std::string> query;
  std::string cookie;         // the raw Cookie header
  std::string authorization;  // the raw Authorization header
  std::string csrf_token;     // X-CSRF-Token
  std::string content_type;
  std::string body;
  std::string request_id;  // assigned by the server
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Set-Cookie, ...)
};

// Headers every response carries (S10).
const std::vector<std::pair<std::string, std::string>>& SecurityHeaders();

// Parses "a=1&b=%20x" (percent-decoding, '+' as space). Malformed escapes are kept verbatim.
std::map<std::string, std::string> ParseQuery(const std::string& query);

}  // namespace trellis::api
