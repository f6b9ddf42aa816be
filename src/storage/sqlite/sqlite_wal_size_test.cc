// A store opened and then only read does not ask the file system for the size of its file on
// every read transaction (SqliteStore::RecordSizeInWal): SQLite takes the size from the WAL
// header once the WAL holds a frame. Counted through a VFS that wraps the default one and counts
// xFileSize calls on the store file.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cstring>
#include <string_view>

#include "core/status.h"
#include "storage/store.h"
#include "support/test_dir.h"

namespace trellis::storage {
namespace {

std::atomic<int> g_store_size_calls{0};
sqlite3_vfs* g_real = nullptr;
sqlite3_vfs g_counting{};
// The default VFS's methods for a database file, with xFileSize counting. SQLite keeps no
// pointer to the methods it did not hand out, so swapping them on the opened file is safe.
const sqlite3_io_methods* g_real_methods = nullptr;
sqlite3_io_methods g_counting_methods{};

int CountingFileSize(sqlite3_file* f, sqlite3_int64* size) {
  ++g_store_size_calls;
  return g_real_methods->xFileSize(f, size);
}

int CountingOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  const int rc = g_real->xOpen(g_real, name, f, flags, out_flags);
  const std::string_view n = name != nullptr ? std::string_view(name) : std::string_view();
  if (rc != SQLITE_OK || (flags & SQLITE_OPEN_MAIN_DB) == 0 || !n.ends_with("/trellis.db")) return rc;
  if (g_real_methods == nullptr) {
    g_real_methods = f->pMethods;
    g_counting_methods = *f->pMethods;
    g_counting_methods.xFileSize = CountingFileSize;
  }
  if (f->pMethods == g_real_methods) f->pMethods = &g_counting_methods;
  return rc;
}

class SqliteWalSizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_real = sqlite3_vfs_find(nullptr);
    ASSERT_NE(g_real, nullptr);
    std::memcpy(&g_counting, g_real, sizeof(g_counting));
    g_counting.zName = "trellis-counting";
    g_counting.pNext = nullptr;
    g_counting.xOpen = CountingOpen;
    ASSERT_EQ(sqlite3_vfs_register(&g_counting, /*makeDflt=*/1), SQLITE_OK);
  }
  void TearDown() override {
    sqlite3_vfs_unregister(&g_counting);
    ASSERT_EQ(sqlite3_vfs_register(g_real, /*makeDflt=*/1), SQLITE_OK);
  }

  trellis::testing::TestDir test_dir_;
  const std::string path_ = test_dir_.path() + "/trellis.db";
};

TEST_F(SqliteWalSizeTest, ReadsOfAStoreOpenedAndNotWrittenDoNotAskForTheFileSize) {
  {
    auto s = OpenSqliteStore(path_, {.reader_connections = 1, .create_if_missing = true});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE((*s)->Write([](Txn& t) { return t.SetMeta("k", "v"); }).ok());
  }  // the last connection closes: SQLite checkpoints and deletes the WAL
  auto s = OpenSqliteStore(path_, {.reader_connections = 1});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE((*s)->GetMeta("k").ok());  // the reader connection is opened (and its size read once)
  const int before = g_store_size_calls.load();
  for (int i = 0; i < 50; ++i) {
    auto v = (*s)->GetMeta("k");
    ASSERT_TRUE(v.ok() && v->has_value());
    EXPECT_EQ(**v, "v");
  }
  EXPECT_EQ(g_store_size_calls.load() - before, 0) << "an fstat per read transaction";
}

}  // namespace
}  // namespace trellis::storage
