// The conformance suite's backends: every suite here is a TEST_P over StoreBackends(), so one
// set of tests runs against SQLite and PostgreSQL. The PostgreSQL parameter runs when
// TRELLIS_PG_URL names a server (scripts/with-postgres.sh sets it) and is skipped otherwise.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace trellis::testing {

// "Sqlite" and "Postgres".
std::vector<std::string> StoreBackends();
// The PostgreSQL URL of the test server, empty when none.
std::string PgUrl();

// An empty store location on one backend, removed by the destructor: a SQLite file in a
// temporary directory, or a fresh schema of the test database (search_path set in the URL).
// The directory is its own, not a TestDir (support/test_dir.h): a test may hold several at once
// (a store and the targets it is copied to), and a TestDir is the one directory of its test,
// emptied when made.
class ScratchStore {
 public:
  ScratchStore(const std::string& backend, const std::string& tag);
  ~ScratchStore();
  ScratchStore(const ScratchStore&) = delete;
  ScratchStore& operator=(const ScratchStore&) = delete;
  bool available() const { return !location.empty(); }
  std::string location;  // for OpenStore / App::Open's `store`
  std::string dir;       // a temporary directory (SQLite file, key ring)

 private:
  std::string schema_;
};

// GTEST_SKIP()s the current test when `backend` is unavailable.
#define TRELLIS_SKIP_IF_UNAVAILABLE(backend)                                                       \
  if ((backend) == "Postgres" && ::trellis::testing::PgUrl().empty())                             \
  GTEST_SKIP() << "PostgreSQL: set TRELLIS_PG_URL (or run under scripts/with-postgres.sh) to run"

inline std::string BackendName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

}  // namespace trellis::testing
