#include "support/harness.h"

#include <latch>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>  // before Boost 1.74 asio under C++20 (std::exchange)
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

extern char** environ;

namespace trellis::testing {

namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

std::string TrellisBin() {
  const char* env = std::getenv("TRELLIS_BIN");
  return env ? env : std::string(TRELLIS_SOURCE_DIR) + "/build/trellis";
}

std::string TestClockBin() {
  const std::string bin = TrellisBin();
  return bin.substr(0, bin.rfind('/') + 1) + "trellis_testclock";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {
pid_t Spawn(const std::vector<std::string>& args, const std::string& out_path, const std::string& in_path,
            std::string bin = TrellisBin()) {
  std::vector<char*> argv;
  argv.push_back(bin.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  if (!in_path.empty()) posix_spawn_file_actions_addopen(&fa, 0, in_path.c_str(), O_RDONLY, 0);
  pid_t pid = -1;
  if (posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}
}  // namespace

TempDir::TempDir() {
  std::random_device rd;
  path = (fs::temp_directory_path() / ("trellis_it_" + std::to_string(::getpid()) + "_" + std::to_string(rd()))).string();
  fs::create_directories(path);
}
TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}

int RunTrellis(const std::vector<std::string>& args, std::string* out, const std::string& stdin_text) {
  TempDir tmp;
  const std::string out_path = tmp.path + "/out", in_path = tmp.path + "/in";
  if (!stdin_text.empty()) std::ofstream(in_path) << stdin_text;
  pid_t pid = Spawn(args, out_path, stdin_text.empty() ? "" : in_path);
  if (pid < 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  if (out) *out = ReadFile(out_path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

ServerProcess::~ServerProcess() { Kill(SIGTERM); }

bool ServerProcess::Start(const std::string& data_dir, const std::string& log_path,
                          const std::vector<std::string>& extra, const std::string& binary) {
  std::vector<std::string> args = {"serve", "--data", data_dir, "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra.begin(), extra.end());
  pid_ = binary.empty() ? Spawn(args, log_path, "") : Spawn(args, log_path, "", binary);
  if (pid_ < 0) return false;
  for (int i = 0; i < 300; ++i) {
    std::string log = ReadFile(log_path);
    size_t at = log.find("serving http://127.0.0.1:");
    if (at != std::string::npos) {
      port_ = std::atoi(log.c_str() + at + std::strlen("serving http://127.0.0.1:"));
      if (Http(port_, "GET", "/api/v1/health").status == 200) return true;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

void ServerProcess::Kill(int sig) {
  if (pid_ <= 0) return;
  ::kill(pid_, sig);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

TrellisProcess::~TrellisProcess() { Kill(SIGKILL); }

bool TrellisProcess::Start(const std::vector<std::string>& args, const std::string& log_path) {
  pid_ = Spawn(args, log_path, "");
  return pid_ > 0;
}

int TrellisProcess::Kill(int sig) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

bool DemoServer::Start(int cases, int seed) {
  data = dir.path + "/data";
  return RunTrellis({"init", "--data", data}) == 0 &&
         RunTrellis({"demo", "--data", data, "--cases", std::to_string(cases), "--seed", std::to_string(seed)}) == 0 &&
         server.Start(data, dir.path + "/server.log");
}

HttpResult Http(int port, const std::string& method, const std::string& target, const std::string& body,
                const std::map<std::string, std::string>& headers) {
  HttpResult out;
  try {
    boost::asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)));
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    beast::error_code wec;
    http::write(stream, req, wec);  // a server may answer (413) before reading the whole body
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    parser.skip(method == "HEAD");  // a response to HEAD has no content, whatever its Content-Length
    http::read(stream, buf, parser);
    auto res = parser.release();
    out.status = res.result_int();
    for (const auto& f : res) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      auto& slot = out.headers[name];
      slot += (slot.empty() ? "" : "\n") + std::string(f.value());
    }
    out.body = res.body();
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  } catch (const std::exception&) {
    out.status = 0;
  }
  return out;
}

std::map<std::string, std::string> Session::Headers(bool json) const {
  std::map<std::string, std::string> h = {{"Cookie", cookie}, {"X-CSRF-Token", csrf}};
  if (json) h["Content-Type"] = "application/json";
  return h;
}

Session Login(int port, const std::string& user, const std::string& password) {
  nlohmann::json body = {{"username", user}, {"password", password}};
  HttpResult r = Http(port, "POST", "/api/v1/login", body.dump(), {{"Content-Type", "application/json"}});
  Session s;
  if (r.status != 200) return s;
  std::string set = r.headers["set-cookie"];
  s.cookie = set.substr(0, set.find(';'));
  s.csrf = nlohmann::json::parse(r.body)["csrf_token"].get<std::string>();
  return s;
}

void RunTogether(int n, const std::function<void()>& fn) {
  std::latch start(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      fn();
    });
  }
  for (auto& t : threads) t.join();
}

namespace {

bool ExecOnAuditFile(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  bool ok = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK &&
            sqlite3_busy_timeout(db, 10'000) == SQLITE_OK &&
            sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  return ok;
}

}  // namespace

FailingAuditEntries::FailingAuditEntries(const std::string& data_dir, const std::string& value)
    : audit_path_(data_dir + "/trellis-audit.db") {
  // An encoded entry is TAB-separated: v1, seq, time, actor, action, outcome, target, ...
  // (docs/formats/audit-chain.md).
  ok_ = ExecOnAuditFile(audit_path_,
                        "CREATE TRIGGER test_failing_audit BEFORE INSERT ON audit_log "
                        "WHEN instr(CAST(NEW.entry AS TEXT), char(9) || '" + value + "' || char(9)) > 0 "
                        "BEGIN SELECT RAISE(ABORT, 'injected audit failure'); END;");
}

FailingAuditEntries::~FailingAuditEntries() {
  if (ok_) ExecOnAuditFile(audit_path_, "DROP TRIGGER IF EXISTS test_failing_audit;");
}

}  // namespace trellis::testing
