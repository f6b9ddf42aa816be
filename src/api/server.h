// The HTTP server: Boost.Beast, asynchronous, keep-alive. Reading and writing run on a few
// I/O threads; a request is handled on a worker pool (writes block on the store's commit), or
// on the I/O thread itself for reads of an embedded store (ServerOptions). No thread waits for
// the audit group commit: the response is written back on the connection once the request's
// audit entries are durable (Router::HandleDeferred).
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
  // GET and HEAD requests run on the I/O thread that read them, without a hop to the worker
  // pool: for an embedded store, whose reads take microseconds. They may still write now and
  // then (a session's activity once a minute, the disclosure row of a cross-agency read), which
  // holds that I/O thread for one commit. Other methods, and the long reads (Router::IsLongRead:
  // file downloads, documents, the audit log), always run on the worker pool.
  bool reads_on_io_threads = false;
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
