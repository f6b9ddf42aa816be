#include "api/server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "api/http.h"
#include "api/routes.h"
#include "core/ids.h"
#include "core/rng.h"
#include <spdlog/spdlog.h>

namespace trellis::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

const std::vector<std::pair<std::string, std::string>>& SecurityHeaders() {
  static const std::vector<std::pair<std::string, std::string>> h = {
      {"Cache-Control", "no-store"},
      {"Pragma", "no-cache"},
      {"Content-Security-Policy",
       "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
      {"Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"},
  };
  return h;
}

namespace {

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexVal(s[i + 1]) >= 0 && HexVal(s[i + 2]) >= 0) {
      out += static_cast<char>(HexVal(s[i + 1]) * 16 + HexVal(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

namespace {

// A header value as sent: CR and LF never reach the wire (no header injection).
void AppendHeader(std::string* out, std::string_view name, std::string_view value) {
  out->append(name);
  out->append(": ");
  for (char c : value) out->push_back(c == '\r' || c == '\n' ? ' ' : c);
  out->append("\r\n");
}

// Server and the security headers: the same bytes on every response, built once.
const std::string& FixedHeaders() {
  static const std::string fixed = [] {
    std::string h;
    AppendHeader(&h, "Server", "trellis");
    for (const auto& [k, v] : SecurityHeaders()) AppendHeader(&h, k, v);
    return h;
  }();
  return fixed;
}

}  // namespace

std::string ResponseHead(int status, std::string_view content_type,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         std::string_view request_id, size_t body_bytes, bool keep_alive) {
  const auto reason = http::obsolete_reason(static_cast<http::status>(status));
  std::string head;
  head.reserve(FixedHeaders().size() + 256);
  head.append("HTTP/1.1 ");
  head.append(std::to_string(status));
  head.push_back(' ');
  head.append(reason.data(), reason.size());
  head.append("\r\n");
  head.append(FixedHeaders());
  AppendHeader(&head, "X-Request-Id", request_id);
  const bool bodiless = status < 200 || status == 204 || status == 304;
  if (!bodiless) AppendHeader(&head, "Content-Type", content_type);
  for (const auto& [k, v] : headers) AppendHeader(&head, k, v);
  if (!keep_alive) head.append("Connection: close\r\n");
  if (!bodiless) AppendHeader(&head, "Content-Length", std::to_string(body_bytes));
  head.append("\r\n");
  return head;
}

std::map<std::string, std::string> ParseQuery(const std::string& query) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string::npos) amp = query.size();
    std::string_view part(query.data() + pos, amp - pos);
    if (!part.empty()) {
      size_t eq = part.find('=');
      out[PercentDecode(part.substr(0, eq))] = eq == std::string_view::npos ? "" : PercentDecode(part.substr(eq + 1));
    }
    pos = amp + 1;
  }
  return out;
}

Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return Status::Invalid("must be HOST:PORT", "listen");
  std::string host = listen.substr(0, colon);
  unsigned port = 0;
  auto r = std::from_chars(listen.data() + colon + 1, listen.data() + listen.size(), port);
  if (r.ec != std::errc() || r.ptr != listen.data() + listen.size() || port > 65535) {
    return Status::Invalid("has a bad port", "listen");
  }
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  if (ec) return Status::Invalid("must be a numeric IP address", "listen");
  return std::make_pair(host, static_cast<uint16_t>(port));
}

// One io_context per I/O thread, each run by that thread alone (as nginx's workers): a
// connection lives on one of them, so its handlers never run concurrently and need no strand,
// and its executor is a concrete type, not asio's type-erased any_io_executor (whose copies and
// `prefer` calls cost ~4 % of a GET). The acceptor and the signals live on the first.
using IoContexts = std::vector<std::unique_ptr<asio::io_context>>;
using IoExecutor = asio::io_context::executor_type;
using Stream = beast::basic_stream<tcp, IoExecutor>;

IoContexts MakeIoContexts(int n) {
  IoContexts out;
  for (int i = 0; i < std::max(1, n); ++i) out.push_back(std::make_unique<asio::io_context>(1));
  return out;
}

struct Server::Impl {
  Router& router;
  ServerOptions options;
  IoContexts iocs;
  size_t next_ioc = 0;  // round robin; touched by the accept handler only
  std::vector<asio::executor_work_guard<IoExecutor>> keep_running;
  asio::thread_pool workers;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  uint16_t bound_port = 0;
  // Responses handed to the router whose audit entries are not yet durable: Run() waits for
  // them so that no commit callback posts to a destroyed io_context.
  // A counter, not a mutex, on the request path: the I/O threads and the audit writer's
  // callbacks would otherwise contend for one lock on every request.
  std::atomic<int> in_flight{0};
  std::mutex flight_mu;
  std::condition_variable flight_cv;

  void BeginFlight() { in_flight.fetch_add(1, std::memory_order_relaxed); }
  void EndFlight() {
    if (in_flight.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard lock(flight_mu);  // a waiter checks the count under this lock
      flight_cv.notify_all();
    }
  }
  void WaitFlights() {
    std::unique_lock lock(flight_mu);
    flight_cv.wait(lock, [&] { return in_flight.load(std::memory_order_acquire) == 0; });
  }

  Impl(Router& r, ServerOptions o)
      : router(r),
        options(std::move(o)),
        iocs(MakeIoContexts(options.io_threads)),
        workers(options.worker_threads),
        acceptor(*iocs[0]),
        signals(*iocs[0], SIGINT, SIGTERM) {
    for (auto& ioc : iocs) keep_running.push_back(asio::make_work_guard(*ioc));
  }

  void Accept();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::basic_stream_socket<tcp, IoExecutor>&& socket, Server::Impl& server)
      : stream_(std::move(socket)), server_(server) {}

  void Start() { asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); }); }

 private:
  void Read() {
    parser_.emplace();
    // Headers first, with room for the largest upload; then the route decides: file uploads
    // (UploadBodyLimit) and the HTCDS import (max_import_body_bytes) may be larger than every
    // other request (max_body_bytes). Beast checks Content-Length against the limit while it
    // parses the header.
    parser_->body_limit(std::max<uint64_t>({server_.options.max_body_bytes, kUploadBodyBytes,
                                            server_.options.max_import_body_bytes}));
    parser_->header_limit(16 * 1024);
    stream_.expires_after(std::chrono::seconds(server_.options.read_timeout_seconds));
    http::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->OnRead(ec);
      const std::string target(self->parser_->get().target());
      const std::string path = target.substr(0, target.find('?'));
      const std::string method(self->parser_->get().method_string());
      uint64_t limit = std::max<uint64_t>(self->server_.options.max_body_bytes, UploadBodyLimit(method, path));
      if (method == "POST" && path == "/api/v1/jobs/import-htcds") {
        limit = std::max<uint64_t>(limit, self->server_.options.max_import_body_bytes);
      }
      // Only a caller whose credentials name a user may send more than the default: an anonymous
      // client cannot make the server hold tens of MiB per connection before its 401.
      if (limit > self->server_.options.max_body_bytes &&
          !self->server_.router.Authenticated(std::string(self->parser_->get()[http::field::cookie]),
                                              std::string(self->parser_->get()[http::field::authorization]))) {
        limit = self->server_.options.max_body_bytes;
      }
      if (self->parser_->content_length().value_or(0) > limit) return self->OnRead(http::error::body_limit);
      self->parser_->body_limit(limit);  // chunked bodies: checked as they arrive
      if (self->parser_->is_done()) return self->OnRead({});
      http::async_read(self->stream_, self->buffer_, *self->parser_,
                       [self](beast::error_code ec2, size_t) { self->OnRead(ec2); });
    });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return Close();
    }
    if (ec) {
      HttpResponse r;
      r.status = ec == http::error::body_limit ? 413 : 400;
      r.body = ec == http::error::body_limit
                   ? R"({"error":{"code":"too_large","message":"the request body is too large"}})"
                   : R"({"error":{"code":"invalid_argument","message":"malformed HTTP request"}})";
      keep_alive_ = false;
      drain_ = true;  // read what the client is still sending, so the 413 reaches it
      return Write(std::move(r), "-", "-", std::chrono::steady_clock::now());
    }
    auto req = parser_->release();
    keep_alive_ = req.keep_alive();
    const auto start = std::chrono::steady_clock::now();
    auto hr = std::make_shared<HttpRequest>();
    hr->method = std::string(req.method_string());
    std::string target(req.target());
    size_t q = target.find('?');
    hr->path = target.substr(0, q);
    if (q != std::string::npos) hr->query = ParseQuery(target.substr(q + 1));
    hr->cookie = std::string(req[http::field::cookie]);
    hr->authorization = std::string(req[http::field::authorization]);
    hr->csrf_token = std::string(req["X-CSRF-Token"]);
    hr->content_type = std::string(req[http::field::content_type]);
    hr->body = std::move(req.body());
    hr->request_id = NewRandomId(SystemRng(), "r");
    // The use case may block on the store: run it on the worker pool. It does not wait for the
    // audit group commit: the response is written when the commit reports its entries durable.
    server_.BeginFlight();
    auto handle = [self = shared_from_this(), hr, start] {
      self->server_.router.HandleDeferred(*hr, [self, hr, start](HttpResponse resp) {
        asio::post(self->stream_.get_executor(), [self, hr, start, resp = std::move(resp)]() mutable {
          self->Write(std::move(resp), hr->method, hr->path, start, hr->request_id);
        });
        self->server_.EndFlight();
      });
    };
    if (server_.options.reads_on_io_threads && (hr->method == "GET" || hr->method == "HEAD") &&
        !server_.router.IsLongRead(hr->method, hr->path)) {
      handle();
    } else {
      asio::post(server_.workers, std::move(handle));
    }
  }

  void Write(HttpResponse r, const std::string& method, const std::string& path,
             std::chrono::steady_clock::time_point start, const std::string& request_id = "-") {
    if (server_.options.access_log) {
      // IDs only: paths carry opaque ids, never names (S11).
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
      spdlog::info("{} {} {} {} {}us", request_id, method, path, r.status, us.count());
    }
    // A response to HEAD carries the Content-Length a GET would, and no content (RFC 9110,
    // 9.3.2): sent, the body would be read as the start of the next response on the connection.
    std::string head = ResponseHead(r.status, r.content_type, r.headers, request_id, r.body.size(), keep_alive_);
    if (method == "HEAD") r.body.clear();
    auto out = std::make_shared<std::pair<std::string, std::string>>(std::move(head), std::move(r.body));
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(out->first), asio::buffer(out->second)};
    asio::async_write(stream_, buffers, [self = shared_from_this(), out](beast::error_code ec, size_t) {
      if (!ec && self->drain_) return self->Drain(0);
      if (ec || !self->keep_alive_) return self->Close();
      self->Read();
    });
  }

  // After refusing a request whose body is still arriving: half-close, then discard input
  // (at most 64 MiB or 5 s) so closing does not reset the connection under the response.
  void Drain(size_t seen) {
    if (seen == 0) {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      stream_.expires_after(std::chrono::seconds(5));
    }
    if (seen > (64u << 20)) return;
    auto buf = std::make_shared<std::array<char, 65536>>();
    stream_.async_read_some(asio::buffer(*buf), [self = shared_from_this(), buf, seen](beast::error_code ec, size_t n) {
      if (!ec) self->Drain(seen + n + 1);
    });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Server::Impl& server_;
  bool keep_alive_ = true;
  bool drain_ = false;
};

}  // namespace

void Server::Impl::Accept() {
  asio::io_context& target = *iocs[next_ioc++ % iocs.size()];
  acceptor.async_accept(target, [this](beast::error_code ec, asio::basic_stream_socket<tcp, IoExecutor> socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<Session>(std::move(socket), *this)->Start();
    Accept();
  });
}

Server::Server(Router& router, ServerOptions options) : impl_(std::make_unique<Impl>(router, std::move(options))) {}
Server::~Server() { impl_->workers.join(); }

Status Server::Listen() {
  beast::error_code ec;
  tcp::endpoint ep(asio::ip::make_address(impl_->options.host, ec), impl_->options.port);
  if (ec) return Status::Invalid("bad listen address", "listen");
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status(Code::kUnavailable, "cannot listen on " + impl_->options.host + ": " + ec.message());
  impl_->bound_port = impl_->acceptor.local_endpoint().port();
  return Status::Ok();
}

uint16_t Server::port() const { return impl_->bound_port; }

void Server::Run() {
  impl_->signals.async_wait([this](beast::error_code, int) { Stop(); });
  impl_->Accept();
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl_->iocs.size(); ++i) threads.emplace_back([this, i] { impl_->iocs[i]->run(); });
  impl_->iocs[0]->run();
  for (auto& t : threads) t.join();
  impl_->workers.join();
  impl_->WaitFlights();
}

void Server::Stop() {
  asio::post(*impl_->iocs[0], [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->signals.cancel(ec);
    impl_->keep_running.clear();
    for (auto& ioc : impl_->iocs) ioc->stop();
  });
}

}  // namespace trellis::api
