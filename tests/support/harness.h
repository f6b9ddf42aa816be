// Test support: run the real `trellis` binary and talk HTTP to it.
#pragma once

#include <sys/types.h>

#include <map>
#include <functional>
#include <string>
#include <vector>

namespace trellis::testing {

// The binary under test: $TRELLIS_BIN (set by ctest) or build/trellis.
std::string TrellisBin();
// The test-only variant whose clock a test moves (tests/clock/trellis_testclock.cc), next to
// TrellisBin(). Never used for anything but time travel.
std::string TestClockBin();

// Runs `trellis args...` to completion; returns the exit code, stdout in *out (if given).
int RunTrellis(const std::vector<std::string>& args, std::string* out = nullptr, const std::string& stdin_text = {});

// A fresh temporary directory of a random name, removed by the destructor. A test's own files
// go in a TestDir (support/test_dir.h); this one is for the two places a TestDir does not fit:
// RunTrellis's scratch files, one directory per call (a test makes many calls, and a TestDir is
// one directory per test, emptied when made), and suite-wide servers (DemoServer,
// ConsentMatrixTest) made in SetUpTestSuite, where no test runs to name a TestDir.
struct TempDir {
  TempDir();
  ~TempDir();
  std::string path;
};

// `trellis serve` on a free port of 127.0.0.1, for one data directory.
class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess();
  // Starts the server and waits until it answers /api/v1/health. Logs go to `log_path`.
  // `binary`: empty for TrellisBin().
  bool Start(const std::string& data_dir, const std::string& log_path, const std::vector<std::string>& extra = {},
             const std::string& binary = {});
  void Kill(int signal);  // SIGKILL / SIGTERM, then reaps
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// `trellis args...` started without waiting for it (stdout and stderr to `log_path`), for a test
// that acts while the command runs or cuts it short. The destructor kills (SIGKILL) and reaps
// it if it still runs.
class TrellisProcess {
 public:
  TrellisProcess() = default;
  ~TrellisProcess();
  TrellisProcess(const TrellisProcess&) = delete;
  TrellisProcess& operator=(const TrellisProcess&) = delete;
  bool Start(const std::vector<std::string>& args, const std::string& log_path);
  // Sends `signal` and reaps the process; returns its wait status (-1 when none was running).
  int Kill(int signal);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// A demo store (init + demo) served by one `trellis serve`, for a whole test suite.
struct DemoServer {
  // Returns false (and the caller fails) when the store or the server cannot be set up.
  bool Start(int cases, int seed);
  int port() const { return server.port(); }
  TempDir dir;
  std::string data;
  ServerProcess server;
};

struct HttpResult {
  int status = 0;  // 0: the connection failed
  std::map<std::string, std::string> headers;  // lower-case names; repeated headers joined by "\n"
  std::string body;
};

// One request on a fresh connection to 127.0.0.1:port.
HttpResult Http(int port, const std::string& method, const std::string& target, const std::string& body = {},
                const std::map<std::string, std::string>& headers = {});

// Logs in and returns the cookie header value and CSRF token.
struct Session {
  std::string cookie;
  std::string csrf;
  std::map<std::string, std::string> Headers(bool json = true) const;
};
Session Login(int port, const std::string& user, const std::string& password = "trellis-demo-2026");

// Reads a whole file (binary); empty when missing.
std::string ReadFile(const std::string& path);

// Runs `fn` on `n` threads released together (a latch), and joins them.
void RunTogether(int n, const std::function<void()>& fn);

// Fault injection for the audit sink of a SQLite store, without a hook in the production code:
// while it lives, every group commit holding an audit entry one of whose fields equals `value`
// (its action, such as "job.file", or an id it names as its target) fails: a trigger in the
// audit file `<data_dir>/trellis-audit.db` aborts the batch's transaction, as a full disk or a
// failing database would. Works for a store opened in this process or served by another one
// (SQLite re-reads the schema). The destructor removes the trigger.
class FailingAuditEntries {
 public:
  FailingAuditEntries(const std::string& data_dir, const std::string& value);
  ~FailingAuditEntries();
  FailingAuditEntries(const FailingAuditEntries&) = delete;
  FailingAuditEntries& operator=(const FailingAuditEntries&) = delete;
  bool ok() const { return ok_; }  // the trigger is in place

 private:
  std::string audit_path_;
  bool ok_ = false;
};

}  // namespace trellis::testing
