// Integration tests: erasing a survivor (crypto-shredding, S6) while a backup of the store is
// running. The erasure is neither refused nor delayed, but the running backup's temporary copy
// of the store may still hold the erased data key until it ends, and the operator is told:
// `trellis erase survivor` prints a note, the server logs a warning (docs/architecture.md, "A
// backup's temporary files").
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.h"
#include "core/rng.h"
#include "support/harness.h"
#include "support/test_dir.h"

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr char kCliNote[] =
    "backup(s) running in ";  // "note: N backup(s) running in <data>; the temporary copy ..."
constexpr char kServerWarning[] = "survivor erased while a backup is running in the data directory";

// A backup in progress as other processes see it: its lock file, <data>/.backup-<id>.lock, held
// with an exclusive flock (as App::Backup holds it, and as the leftover tests of
// src/app/app_test.cc simulate one). Kill() lets the lock go and leaves the file, as a backup
// killed leaves it.
class BackupInProgress {
 public:
  explicit BackupInProgress(const std::string& data_dir)
      : path_(data_dir + "/.backup-" + NewRandomId(SystemRng(), "t") + ".lock"),
        fd_(::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) {
    held_ = fd_ >= 0 && ::flock(fd_, LOCK_EX) == 0;
  }
  ~BackupInProgress() {
    if (fd_ < 0) return;
    ::unlink(path_.c_str());
    ::close(fd_);
  }
  BackupInProgress(const BackupInProgress&) = delete;
  BackupInProgress& operator=(const BackupInProgress&) = delete;
  bool held() const { return held_; }
  const std::string& path() const { return path_; }
  void Kill() {
    ::close(fd_);
    fd_ = -1;
    held_ = false;
  }

 private:
  std::string path_;
  int fd_;
  bool held_ = false;
};

class EraseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(RunTrellis({"init", "--data", data_}), 0);
    ASSERT_EQ(RunTrellis({"demo", "--data", data_, "--cases", "0"}), 0);
    ASSERT_TRUE(server_.Start(data_, log_, {"--quiet"})) << ReadFile(log_);
    advocate_ = Login(server_.port(), "advocate");
    supervisor_ = Login(server_.port(), "supervisor");  // the same agency; erases
    ASSERT_FALSE(advocate_.csrf.empty());
    ASSERT_FALSE(supervisor_.csrf.empty());
  }

  // A new survivor of the advocate's agency; its id.
  std::string NewSurvivor() {
    auto r = Http(server_.port(), "POST", "/api/v1/survivors", R"({"fields":{"prs_FirstName":"Ana"}})",
                  advocate_.Headers());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? json::parse(r.body)["id"].get<std::string>() : std::string("missing");
  }
  int GetSurvivor(const std::string& id) {
    return Http(server_.port(), "GET", "/api/v1/survivors/" + id, "", advocate_.Headers(false)).status;
  }

  // The lines of the server's log holding `text`.
  std::vector<std::string> LogLines(const std::string& text) const {
    std::vector<std::string> out;
    std::istringstream in(ReadFile(log_));
    for (std::string line; std::getline(in, line);) {
      if (line.find(text) != std::string::npos) out.push_back(line);
    }
    return out;
  }

  TestDir dir_;
  const std::string data_ = dir_.path() + "/data", log_ = dir_.path() + "/server.log";
  ServerProcess server_;
  Session advocate_, supervisor_;
};

// `trellis erase survivor` erases whether a backup runs or not (exit 0), and notes a running
// backup, only then: not without one, nor for what a killed backup left (its lock file, free).
TEST_F(EraseTest, TheCliNotesABackupRunningAndOnlyThen) {
  const std::string before = NewSurvivor(), during = NewSurvivor(), after_kill = NewSurvivor();
  std::string out;
  ASSERT_EQ(RunTrellis({"erase", "survivor", "--data", data_, before}, &out), 0) << out;
  EXPECT_NE(out.find("erased " + before), std::string::npos) << out;
  EXPECT_EQ(out.find("note:"), std::string::npos) << out;
  EXPECT_EQ(out.find(kCliNote), std::string::npos) << out;

  BackupInProgress backup(data_);
  ASSERT_TRUE(backup.held());
  ASSERT_EQ(RunTrellis({"erase", "survivor", "--data", data_, during}, &out), 0) << out;
  EXPECT_NE(out.find("erased " + during), std::string::npos) << out;
  EXPECT_NE(out.find("note: 1 " + std::string(kCliNote) + data_ +
                     "; the temporary copy of the store each holds may still have this survivor's data key"),
            std::string::npos)
      << out;
  EXPECT_TRUE(fs::exists(backup.path()));  // a running backup's files are kept

  backup.Kill();
  ASSERT_EQ(RunTrellis({"erase", "survivor", "--data", data_, after_kill}, &out), 0) << out;
  EXPECT_NE(out.find("erased " + after_kill), std::string::npos) << out;
  EXPECT_EQ(out.find("note:"), std::string::npos) << out;
  EXPECT_EQ(out.find(kCliNote), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(backup.path()));  // a killed backup's are removed

  for (const std::string& id : {before, during, after_kill}) EXPECT_EQ(GetSurvivor(id), 404) << id;
}

// DELETE /api/v1/survivors/{id} answers 204 whether a backup runs or not; the server logs a
// warning naming the request only when one runs (the response is the same either way).
TEST_F(EraseTest, TheServerWarnsOfABackupRunningAndOnlyThen) {
  const std::string before = NewSurvivor(), during = NewSurvivor();
  auto quiet = Http(server_.port(), "DELETE", "/api/v1/survivors/" + before, "", supervisor_.Headers(false));
  ASSERT_EQ(quiet.status, 204) << quiet.body;
  const std::string quiet_request = quiet.headers["x-request-id"];
  ASSERT_FALSE(quiet_request.empty());

  HttpResult warned;
  {
    BackupInProgress backup(data_);
    ASSERT_TRUE(backup.held());
    warned = Http(server_.port(), "DELETE", "/api/v1/survivors/" + during, "", supervisor_.Headers(false));
  }
  ASSERT_EQ(warned.status, 204) << warned.body;
  const std::string warned_request = warned.headers["x-request-id"];
  ASSERT_FALSE(warned_request.empty());

  // The warning is logged before the response is written; the wait is for the log file only.
  std::vector<std::string> lines;
  for (int i = 0; i < 100 && (lines = LogLines(kServerWarning)).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // One warning, the second request's: the log is in order, so none came for the first.
  ASSERT_EQ(lines.size(), 1u) << ReadFile(log_);
  EXPECT_NE(lines[0].find("(request " + warned_request + ")"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("warn"), std::string::npos) << lines[0];  // at the warning level
  EXPECT_TRUE(LogLines(quiet_request).empty()) << ReadFile(log_);

  for (const std::string& id : {before, during}) EXPECT_EQ(GetSurvivor(id), 404) << id;
}

}  // namespace
}  // namespace trellis::testing
