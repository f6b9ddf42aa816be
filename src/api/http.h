// Plain request/response values between the HTTP server (Boost.Beast, server.cc only) and
// the routes: keeps Beast and JSON headers out of everything else.
#pragma once

#include <map>
#include <string>
#include <string_view>
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

// The status line and header fields of a response, ending with the blank line. Beast parses
// every request; the response head is written here because Beast's serializer walks its header
// fields through nested buffer views at ~26,000 instructions a response, an eighth of a GET's
// user time (docs/benchmarks.md). Values lose any CR/LF; no Content-Type or Content-Length on
// 1xx/204/304; "Connection: close" when the connection will close.
std::string ResponseHead(int status, std::string_view content_type,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         std::string_view request_id, size_t body_bytes, bool keep_alive);

// Parses "a=1&b=%20x" (percent-decoding, '+' as space). Malformed escapes are kept verbatim.
std::map<std::string, std::string> ParseQuery(const std::string& query);

}  // namespace trellis::api
