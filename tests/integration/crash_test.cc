// S17: SIGKILL the server at random moments under concurrent writes, many times. Every
// write that was acknowledged is there afterwards, the store passes integrity_check and
// the audit chain verifies.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "support/harness.h"
#include "support/test_dir.h"

namespace trellis::testing {
namespace {

using json = nlohmann::json;

TEST(Crash, AcknowledgedWritesSurviveSigkill) {
  TestDir dir;
  const std::string data = dir.path() + "/data";
  ASSERT_EQ(RunTrellis({"init", "--data", data}), 0);
  ASSERT_EQ(RunTrellis({"demo", "--data", data, "--cases", "5"}), 0);
  std::string out;
  ASSERT_EQ(RunTrellis({"token", "create", "--data", data, "--user", "casemanager", "--name", "crash"}, &out), 0);
  const std::string token = out.substr(0, out.find('\n'));
  const std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + token},
                                                   {"Content-Type", "application/json"}};

  std::mt19937 rng(12345);
  std::vector<std::pair<std::string, std::string>> acknowledged;  // id, first name
  std::mutex mu;
  const int kRounds = 25;
  for (int round = 0; round < kRounds; ++round) {
    ServerProcess server;
    ASSERT_TRUE(server.Start(data, dir.path() + "/server.log", {"--quiet"})) << "round " << round;
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        for (int n = 0; !stop; ++n) {
          const std::string name = "r" + std::to_string(round) + "w" + std::to_string(w) + "n" + std::to_string(n);
          auto r = Http(server.port(), "POST", "/api/v1/survivors",
                        json({{"fields", {{"prs_FirstName", name}, {"prs_Gender", "Feminine"}}}}).dump(), auth);
          if (r.status == 201) {
            std::lock_guard lock(mu);
            acknowledged.emplace_back(json::parse(r.body)["id"].get<std::string>(), name);
          } else if (r.status == 0) {
            return;  // the server is gone
          } else {
            ADD_FAILURE() << "unexpected status " << r.status << " " << r.body;
            return;
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 350));
    server.Kill(SIGKILL);
    stop = true;
    for (auto& t : writers) t.join();
  }
  ASSERT_GT(acknowledged.size(), 50u);

  // The store file and its audit file pass SQLite's integrity check (which covers every
  // attached database).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((data + "/trellis.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, ("ATTACH DATABASE '" + data + "/trellis-audit.db' AS audit").c_str(), nullptr, nullptr,
                         nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
  sqlite3_finalize(st);
  sqlite3_close(db);

  // The audit chain verifies.
  std::string verify;
  EXPECT_EQ(RunTrellis({"audit", "verify", "--data", data}, &verify), 0) << verify;

  // Every acknowledged write is there, and opens.
  ServerProcess server;
  ASSERT_TRUE(server.Start(data, dir.path() + "/server.log", {"--quiet"}));
  for (const auto& [id, name] : acknowledged) {
    auto r = Http(server.port(), "GET", "/api/v1/survivors/" + id, "", auth);
    ASSERT_EQ(r.status, 200) << id;
    EXPECT_EQ(json::parse(r.body)["fields"]["prs_FirstName"], name);
  }
}

}  // namespace
}  // namespace trellis::testing
