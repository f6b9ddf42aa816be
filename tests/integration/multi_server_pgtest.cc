// Several app servers on one PostgreSQL database (needs PostgreSQL: runs under
// scripts/with-postgres.sh, skipped without TRELLIS_PG_URL):
//  - a login on one server is a session on the other; a conflicting update answers 409;
//  - S17 with two servers: SIGKILL either server at random moments under concurrent writes to
//    both; every acknowledged write is there afterwards and the audit chain verifies (no fork);
//  - `trellis migrate-store` moves a SQLite store to PostgreSQL with the chain intact.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "conformance/backends.h"
#include "support/harness.h"
#include "support/test_dir.h"

namespace trellis::testing {
namespace {

using json = nlohmann::json;

class MultiServer : public ::testing::Test {
 protected:
  void SetUp() override {
    TRELLIS_SKIP_IF_UNAVAILABLE(std::string("Postgres"));
    pg_ = std::make_unique<ScratchStore>("Postgres", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    data_ = dir_.path() + "/data";  // the key ring, shared by both servers (same file)
  }
  std::vector<std::string> Store() const { return {"--data", data_, "--store", pg_->location}; }
  std::vector<std::string> Cmd(std::vector<std::string> args) const {
    auto s = Store();
    args.insert(args.end(), s.begin(), s.end());
    return args;
  }
  bool Start(ServerProcess& s, const std::string& log) { return s.Start(data_, dir_.path() + "/" + log, {"--quiet", "--store", pg_->location}); }

  TestDir dir_;
  std::unique_ptr<ScratchStore> pg_;
  std::string data_;
};

TEST_F(MultiServer, SessionsSharedAndConflictIs409) {
  ASSERT_EQ(RunTrellis(Cmd({"init"})), 0);
  ASSERT_EQ(RunTrellis(Cmd({"demo", "--cases", "3", "--seed", "3"})), 0);
  ServerProcess a, b;
  ASSERT_TRUE(Start(a, "a.log"));
  ASSERT_TRUE(Start(b, "b.log"));
  Session s = Login(a.port(), "casemanager");
  ASSERT_FALSE(s.cookie.empty());
  // The session made on A is valid on B.
  EXPECT_EQ(Http(b.port(), "GET", "/api/v1/me", "", s.Headers()).status, 200);
  auto created = Http(a.port(), "POST", "/api/v1/cases", R"({"fields":{"cas_Status":"Active"}})", s.Headers());
  if (created.status != 201) {  // cases need a survivor in this build: make one
    auto sv = Http(a.port(), "POST", "/api/v1/survivors", R"({"fields":{"prs_Gender":"Feminine"}})", s.Headers());
    ASSERT_EQ(sv.status, 201) << sv.body;
    const std::string sid = json::parse(sv.body)["id"];
    created = Http(a.port(), "POST", "/api/v1/cases",
                   json({{"survivor_id", sid}, {"fields", {{"cas_Status", "Active"}}}}).dump(), s.Headers());
  }
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = json::parse(created.body)["id"];
  const std::string patch = R"({"version":1,"fields":{"cas_Status":"Closed"}})";
  auto first = Http(a.port(), "PATCH", "/api/v1/cases/" + id, patch, s.Headers());
  auto second = Http(b.port(), "PATCH", "/api/v1/cases/" + id, patch, s.Headers());
  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_EQ(json::parse(second.body)["error"]["code"], "conflict") << second.body;
  // Logout on B ends the session on A.
  EXPECT_EQ(Http(b.port(), "POST", "/api/v1/logout", "", s.Headers()).status / 100, 2);
  EXPECT_EQ(Http(a.port(), "GET", "/api/v1/me", "", s.Headers()).status, 401);
}

TEST_F(MultiServer, AcknowledgedWritesSurviveSigkillOfEitherServer) {
  ASSERT_EQ(RunTrellis(Cmd({"init"})), 0);
  ASSERT_EQ(RunTrellis(Cmd({"demo", "--cases", "5"})), 0);
  std::string out;
  ASSERT_EQ(RunTrellis(Cmd({"token", "create", "--user", "casemanager", "--name", "crash"}), &out), 0);
  const std::string token = out.substr(0, out.find('\n'));
  const std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + token},
                                                   {"Content-Type", "application/json"}};
  std::mt19937 rng(4242);
  std::vector<std::pair<std::string, std::string>> acknowledged;  // id, first name
  std::mutex mu;
  const int kRounds = 25;  // as the foundation's crash test: at least 25 SIGKILLs
  for (int round = 0; round < kRounds; ++round) {
    ServerProcess servers[2];
    ASSERT_TRUE(Start(servers[0], "a.log")) << "round " << round;
    ASSERT_TRUE(Start(servers[1], "b.log")) << "round " << round;
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      const int port = servers[w % 2].port();
      writers.emplace_back([&, w, port] {
        for (int n = 0; !stop; ++n) {
          const std::string name = "r" + std::to_string(round) + "w" + std::to_string(w) + "n" + std::to_string(n);
          auto r = Http(port, "POST", "/api/v1/survivors",
                        json({{"fields", {{"prs_FirstName", name}, {"prs_Gender", "Feminine"}}}}).dump(), auth);
          if (r.status == 201) {
            std::lock_guard lock(mu);
            acknowledged.emplace_back(json::parse(r.body)["id"].get<std::string>(), name);
          } else if (r.status == 0) {
            return;  // this server is gone
          } else {
            ADD_FAILURE() << "unexpected status " << r.status << " " << r.body;
            return;
          }
        }
      });
    }
    // Kill one server at a random moment while both take writes, then the other.
    const int first = static_cast<int>(rng() % 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 350));
    servers[first].Kill(SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 200));
    servers[1 - first].Kill(SIGKILL);
    stop = true;
    for (auto& t : writers) t.join();
  }
  ASSERT_GT(acknowledged.size(), 50u);

  std::string verify;
  EXPECT_EQ(RunTrellis(Cmd({"audit", "verify"}), &verify), 0) << verify;

  ServerProcess server;
  ASSERT_TRUE(Start(server, "final.log"));
  for (const auto& [id, name] : acknowledged) {
    auto r = Http(server.port(), "GET", "/api/v1/survivors/" + id, "", auth);
    ASSERT_EQ(r.status, 200) << id;
    EXPECT_EQ(json::parse(r.body)["fields"]["prs_FirstName"], name);
  }
}

TEST_F(MultiServer, MigrateStoreFromSqliteKeepsEverything) {
  const std::string sqlite_data = dir_.path() + "/sqlite";
  ASSERT_EQ(RunTrellis({"init", "--data", sqlite_data, "--store", ""}), 0);
  ASSERT_EQ(RunTrellis({"demo", "--data", sqlite_data, "--store", "", "--cases", "8", "--seed", "5"}), 0);
  std::string out;
  ASSERT_EQ(RunTrellis({"token", "create", "--data", sqlite_data, "--store", "", "--user", "casemanager", "--name", "m"}, &out), 0);
  const std::string token = out.substr(0, out.find('\n'));
  const std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + token}};
  std::string before;
  {
    ServerProcess s;
    ASSERT_TRUE(s.Start(sqlite_data, dir_.path() + "/s.log", {"--quiet", "--store", ""}));
    auto list = Http(s.port(), "GET", "/api/v1/survivors?limit=100", "", auth);
    ASSERT_EQ(list.status, 200);
    before = list.body;
  }
  ASSERT_EQ(RunTrellis({"migrate-store", "--from", "sqlite:" + sqlite_data + "/trellis.db", "--to", pg_->location}, &out), 0) << out;
  EXPECT_NE(out.find("audit_log: "), std::string::npos) << out;
  // A second run is refused: the target is no longer empty.
  EXPECT_NE(RunTrellis({"migrate-store", "--from", "sqlite:" + sqlite_data + "/trellis.db", "--to", pg_->location}), 0);
  // The key ring stays with the data directory; the chain and every ciphertext moved intact.
  EXPECT_EQ(RunTrellis({"audit", "verify", "--data", sqlite_data, "--store", pg_->location}, &out), 0) << out;
  ServerProcess s;
  ASSERT_TRUE(s.Start(sqlite_data, dir_.path() + "/p.log", {"--quiet", "--store", pg_->location}));
  auto list = Http(s.port(), "GET", "/api/v1/survivors?limit=100", "", auth);  // the token moved too
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(json::parse(list.body)["items"], json::parse(before)["items"]);
  auto items = json::parse(list.body)["items"];
  ASSERT_FALSE(items.empty());
  auto one = Http(s.port(), "GET", "/api/v1/survivors/" + items[0]["id"].get<std::string>(), "", auth);
  EXPECT_EQ(one.status, 200) << one.body;  // sealed fields open with the moved data keys
}

}  // namespace
}  // namespace trellis::testing
