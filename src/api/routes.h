// The HTTP API routes (/api/v1/...), their JSON shapes and the mapping of domain errors to
// HTTP statuses (the only place that mapping lives). See docs/api/openapi.yaml.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "api/http.h"

namespace trellis::app {
class App;
}

namespace trellis::api {

struct RouteOptions {
  std::string static_dir;  // built web UI (web/dist); empty = none
};

class Router {
 public:
  Router(app::App& app, RouteOptions options);
  ~Router();
  // Handles a request; returns once its audit entries are durable.
  HttpResponse Handle(const HttpRequest& req);
  // Handles a request without parking this thread on the audit group commit: `respond` is
  // called exactly once with the response when every audit entry of the request is durable
  // (or with the error response if one failed), on this thread or on the audit writer thread,
  // so it must only hand the response on (post it to the connection).
  void HandleDeferred(const HttpRequest& req, std::function<void(HttpResponse)> respond);
  // True when the raw Cookie / Authorization headers hold a session or bearer token that names
  // a user now (the server raises the body limit of upload routes only for such requests).
  bool Authenticated(const std::string& cookie, const std::string& authorization);
  // True for the reads that may take long (a file of up to tens of MiB decrypted, a document
  // rendered, the audit log scanned), as their routes declare: the server runs them on its
  // worker pool even where other reads run on the I/O thread, which would otherwise hold up
  // every connection of that thread. A HEAD counts as the GET of its path. Thread-safe.
  bool IsLongRead(const std::string& method, const std::string& path) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The body limit of a file upload route (evidence content, a release's signed copy): the
// largest file plus headroom; 0 for every other route (the server's default applies).
inline constexpr size_t kUploadBodyBytes = (10u << 20) + (64u << 10);
size_t UploadBodyLimit(const std::string& method, const std::string& path);

// Every route of the API as "METHOD /path/{param}", for the OpenAPI consistency test.
const std::vector<std::string>& RouteTable();
// The OpenAPI 3 document (docs/api/openapi.yaml) as JSON text.
const std::string& OpenApiJson();

}  // namespace trellis::api
