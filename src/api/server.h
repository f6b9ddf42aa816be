// The HTTP server: Boost.Beast, asynchronous, keep-alive. Reading and writing run on a few
// I/O threads; each request is handled on a worker pool (the use cases block on the store
// and on the audit group commit), then its response is written back on the connection.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace trellis::api {

class Router;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see Server::port())
  int io_threads = 2;
  int worker_threads = 32;
  size_t max_body_bytes = 1 << 20;
  size_t max_import_body_bytes = 32 << 20;  // POST /api/v1/jobs/import-htcds only
  int read_timeout_seconds = 30;
  bool access_log = true;
};

class Server {
 public:
  Server(Router& router, ServerOptions options);
  ~Server();
  Status Listen();         // binds; after this, port() is known
  uint16_t port() const;
  void Run();              // serves until Stop() or SIGINT/SIGTERM
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// "127.0.0.1:8080" -> host, port. Only loopback or explicit addresses; no name lookups.
Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen);

}  // namespace trellis::api
