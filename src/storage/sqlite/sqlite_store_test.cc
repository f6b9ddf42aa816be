// The SQLite store's two files: the store file and the audit file beside it (audit chain,
// checkpoints, disclosures), how older one-file stores are moved, and the property the split
// exists for: an audit commit leaves the store file — and so the readers' cache of it — alone.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "storage/store.h"
#include "support/test_dir.h"

namespace trellis::storage {
namespace {

namespace fs = std::filesystem;

// Runs `sql` on the file at `path` without attaching anything; the first column of each row.
std::vector<std::string> Query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::vector<std::string> out;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK) << path;
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(st, 0);
    out.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::set<std::string> TableNames(const std::string& path) {
  auto v = Query(path, "SELECT name FROM sqlite_master WHERE type='table'");
  return {v.begin(), v.end()};
}

class SqliteAuditFileTest : public ::testing::Test {
 protected:
  std::unique_ptr<CaseStore> Open(bool create = false) {
    auto s = OpenSqliteStore(path_, {.reader_connections = 2, .create_if_missing = create});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  // Appends `n` entries (seq continues the log) with one checkpoint and one disclosure row.
  static void Append(CaseStore& s, int n) {
    ASSERT_TRUE(s.AppendAudit(
                     [&](const AuditRow& last) {
                       std::vector<AuditRow> rows;
                       for (int i = 1; i <= n; ++i) {
                         rows.push_back({last.seq + i, "e" + std::to_string(last.seq + i),
                                         "h" + std::to_string(last.seq + i)});
                       }
                       return std::make_pair(
                           rows, AuditCheckpointRow{rows.back().seq, rows.back().chain_hash, "sig", 1});
                     },
                     [](Txn& t) {
                       return t.InsertDisclosure(
                           {0, "s_1", "c_1", 1, "u_1", "a_2", "read", "identity", "release", "g_1", "r"});
                     })
                    .ok());
  }
  static int64_t Count(CaseStore& s) {
    int64_t n = 0;
    EXPECT_TRUE(s.ForEachAudit(1, [&](const AuditRow&) { return ++n, true; }).ok());
    return n;
  }

  trellis::testing::TestDir test_dir_;
  const std::string dir_ = test_dir_.path();
  const std::string path_ = dir_ + "/trellis.db", audit_path_ = dir_ + "/trellis-audit.db";
};

TEST_F(SqliteAuditFileTest, AuditFileNamedAfterTheStore) {
  EXPECT_EQ(SqliteAuditPath("/d/trellis.db"), "/d/trellis-audit.db");
  EXPECT_EQ(SqliteAuditPath("/d/other.db"), "/d/other-audit.db");
  EXPECT_EQ(SqliteAuditPath("/d/store"), "/d/store-audit.db");
  EXPECT_EQ(SqliteAuditPath("/d/store.sqlite"), "/d/store.sqlite-audit.db");
}

TEST_F(SqliteAuditFileTest, AuditTablesLiveInTheAuditFileOnly) {
  {
    auto s = Open(/*create=*/true);
    ASSERT_TRUE(s);
    Append(*s, 3);
    EXPECT_EQ(Count(*s), 3);
    EXPECT_EQ(s->ListDisclosures("s_1")->size(), 1u);
    EXPECT_TRUE(s->CheckIntegrity().ok());
  }
  struct stat st {};
  ASSERT_EQ(::stat(audit_path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::set<std::string> audit_tables{"audit_log", "audit_checkpoints", "disclosures", "disclosure_index",
                                           "disclosure_index_mark"};
  const auto main_tables = TableNames(path_);
  for (const auto& t : audit_tables) EXPECT_EQ(main_tables.count(t), 0u) << t;
  EXPECT_EQ(main_tables.count("records"), 1u);
  EXPECT_EQ(TableNames(audit_path_), audit_tables);
  EXPECT_EQ(Query(audit_path_, "SELECT count(*) FROM audit_log"), std::vector<std::string>{"3"});
  // No index on `disclosures`: the survivor index is the table disclosure_index.
  EXPECT_EQ(Query(audit_path_, "SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"),
            std::vector<std::string>{});
}

// The property the audit file exists for: a reader's page cache of the store file stays valid
// across audit group commits (SQLite drops it when another connection changed that file, which
// PRAGMA data_version reports).
TEST_F(SqliteAuditFileTest, AuditCommitLeavesTheStoreFileUnchanged) {
  auto s = Open(/*create=*/true);
  ASSERT_TRUE(s);
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &reader, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  auto data_version = [&] {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(reader, "PRAGMA main.data_version", -1, &st, nullptr);
    EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
    const int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  };
  auto wal_size = [&] {
    std::error_code ec;
    auto n = fs::file_size(path_ + "-wal", ec);
    return ec ? uintmax_t{0} : n;
  };
  const int64_t v0 = data_version();
  const uintmax_t wal0 = wal_size();
  for (int i = 0; i < 20; ++i) Append(*s, 2);
  EXPECT_EQ(data_version(), v0);
  EXPECT_EQ(wal_size(), wal0);
  EXPECT_EQ(Count(*s), 40);
  // A data write does change it (so the check above can fail).
  ASSERT_TRUE(s->Write([](Txn& t) {
                 return t.PutAgency({"a_1", "One", domain::AgencyKind::kNgoServiceProvider}, 1);
               }).ok());
  EXPECT_NE(data_version(), v0);
  sqlite3_close(reader);
}

// A store of the one-file layout (every store before the audit file, and every backup) is
// moved on open; a move cut short by a crash is finished by the next open.
TEST_F(SqliteAuditFileTest, OneFileStoreIsMovedOnOpen) {
  {
    auto s = Open(/*create=*/true);
    ASSERT_TRUE(s);
    Append(*s, 5);
  }
  ASSERT_TRUE(FoldSqliteAuditFile(path_).ok());  // the one-file layout
  ASSERT_FALSE(fs::exists(audit_path_));
  EXPECT_EQ(Query(path_, "SELECT count(*) FROM audit_log"), std::vector<std::string>{"5"});
  {
    auto s = Open();
    ASSERT_TRUE(s);
    EXPECT_EQ(Count(*s), 5);
    EXPECT_EQ(s->ListDisclosures("s_1")->size(), 1u);
    Append(*s, 1);
    EXPECT_EQ(s->LastAudit()->seq, 6);
  }
  EXPECT_EQ(TableNames(path_).count("audit_log"), 0u);
  EXPECT_EQ(Query(audit_path_, "SELECT count(*) FROM audit_log"), std::vector<std::string>{"6"});

  // A crash after the copy, before the drop: both files hold the same rows.
  ASSERT_TRUE(fs::copy_file(audit_path_, dir_ + "/copy.db"));
  ASSERT_TRUE(FoldSqliteAuditFile(path_).ok());
  fs::rename(dir_ + "/copy.db", audit_path_);
  {
    auto s = Open();
    ASSERT_TRUE(s);
    EXPECT_EQ(Count(*s), 6);
    EXPECT_EQ(s->ListDisclosures("s_1")->size(), 2u);
  }
  EXPECT_EQ(TableNames(path_).count("disclosures"), 0u);
}

// The audit file is never silently replaced nor mixed with another history.
TEST_F(SqliteAuditFileTest, MissingOrForeignAuditFileRefusesToOpen) {
  {
    auto s = Open(/*create=*/true);
    ASSERT_TRUE(s);
    Append(*s, 2);
  }
  fs::rename(audit_path_, dir_ + "/moved.db");
  auto missing = OpenSqliteStore(path_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kDataLoss);
  EXPECT_FALSE(fs::exists(audit_path_));  // not created empty

  // The store file of the one-file layout beside an audit file of another history.
  fs::rename(dir_ + "/moved.db", audit_path_);
  ASSERT_TRUE(fs::copy_file(audit_path_, dir_ + "/other.db"));
  ASSERT_TRUE(FoldSqliteAuditFile(path_).ok());
  fs::rename(dir_ + "/other.db", audit_path_);
  Query(audit_path_, "UPDATE audit_log SET entry='forged' WHERE seq=2");
  auto foreign = OpenSqliteStore(path_);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.status().code(), Code::kDataLoss);
  // The store file still holds its own rows (nothing was dropped).
  EXPECT_EQ(Query(path_, "SELECT entry FROM audit_log WHERE seq=2"), std::vector<std::string>{"e2"});
}

// integrity_check covers the attached audit file.
TEST_F(SqliteAuditFileTest, IntegrityCheckCoversTheAuditFile) {
  {
    auto s = Open(/*create=*/true);
    ASSERT_TRUE(s);
    for (int i = 0; i < 30; ++i) Append(*s, 20);
    EXPECT_TRUE(s->CheckIntegrity().ok());
  }
  ASSERT_FALSE(fs::exists(audit_path_ + "-wal"));  // checkpointed at close
  const auto size = fs::file_size(audit_path_);
  ASSERT_GT(size, 3 * 4096u);
  {
    std::fstream f(audit_path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 4096 / 2 * 4096));  // a b-tree page, from its header on
    const std::string junk(2048, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto s = OpenSqliteStore(path_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_FALSE((*s)->CheckIntegrity().ok());
}

// A snapshot (backup) is one file with every table; opening it moves the audit tables out.
TEST_F(SqliteAuditFileTest, SnapshotIsOneFile) {
  auto s = Open(/*create=*/true);
  ASSERT_TRUE(s);
  Append(*s, 4);
  const std::string snap = dir_ + "/snap.db";
  ASSERT_TRUE(s->SnapshotTo(snap).ok());
  EXPECT_FALSE(fs::exists(SqliteAuditPath(snap)));
  EXPECT_EQ(Query(snap, "SELECT count(*) FROM audit_log"), std::vector<std::string>{"4"});
  EXPECT_EQ(Query(snap, "SELECT count(*) FROM disclosures"), std::vector<std::string>{"1"});
  EXPECT_EQ(Query(snap, "SELECT count(*) FROM disclosure_index"), std::vector<std::string>{"0"});
  EXPECT_EQ(Query(snap, "SELECT seq FROM disclosure_index_mark"), std::vector<std::string>{"0"});
}

void SetMeta(CaseStore& s, const std::string& v) {
  ASSERT_TRUE(s.Write([&](Txn& t) { return t.SetMeta("k", v); }).ok());
}
std::string Meta(CaseStore& s) {
  auto m = s.GetMeta("k");
  return m.ok() && m->has_value() ? **m : "?";
}
// Writes from another thread (whose writes do not end this thread's snapshot).
void SetMetaElsewhere(CaseStore& s, const std::string& v) {
  std::thread t([&] { SetMeta(s, v); });
  t.join();
}

// The accounting of disclosures: new rows wait past the mark of the survivor index and are
// indexed in bulk by the audit writer (kIndexDisclosures rows); the accounting lists both.
class SqliteDisclosureIndexTest : public SqliteAuditFileTest {
 protected:
  // One audit batch (one entry) carrying `n` disclosure rows, survivors s_0..s_2 in turn.
  static void Disclose(CaseStore& s, int n) {
    ASSERT_TRUE(s.AppendAudit(
                     [](const AuditRow& last) {
                       return std::make_pair(std::vector<AuditRow>{{last.seq + 1, "e", "h"}},
                                             AuditCheckpointRow{last.seq + 1, "h", "sig", 1});
                     },
                     [n](Txn& t) -> Status {
                       for (int i = 0; i < n; ++i) {
                         TRELLIS_RETURN_IF_ERROR(t.InsertDisclosure({0, "s_" + std::to_string(i % 3), "c_1", i, "u_1",
                                                                     "a_2", "read", "identity", "release", "g_1", "r"}));
                       }
                       return Status::Ok();
                     })
                    .ok());
  }
  std::string Unindexed(const std::string& audit_file = "") {
    return Query(audit_file.empty() ? audit_path_ : audit_file,
                 "SELECT count(*) FROM disclosures WHERE seq > (SELECT seq FROM disclosure_index_mark)")[0];
  }
  // Whether the index holds exactly the rows up to the mark.
  bool IndexMatchesMark(const std::string& audit_file = "") {
    return Query(audit_file.empty() ? audit_path_ : audit_file,
                 "SELECT (SELECT count(*) FROM disclosure_index) = (SELECT count(*) FROM disclosures WHERE seq <="
                 " (SELECT seq FROM disclosure_index_mark)) AND NOT EXISTS (SELECT 1 FROM disclosure_index i"
                 " LEFT JOIN disclosures d ON d.seq = i.seq WHERE d.seq IS NULL OR d.survivor_id <> i.survivor_id"
                 " OR i.seq > (SELECT seq FROM disclosure_index_mark))")[0] == "1";
  }
  // The survivor's rows as listed: their number, and whether their seq ascends.
  static std::pair<size_t, bool> Listed(CaseStore& s, const std::string& survivor) {
    auto rows = s.ListDisclosures(survivor);
    EXPECT_TRUE(rows.ok());
    if (!rows.ok()) return {0, false};
    bool ascending = true;
    for (size_t i = 1; i < rows->size(); ++i) ascending = ascending && (*rows)[i - 1].seq < (*rows)[i].seq;
    for (const auto& r : *rows) EXPECT_EQ(r.survivor_id, survivor);
    return {rows->size(), ascending};
  }
};

TEST_F(SqliteDisclosureIndexTest, NewRowsWaitPastTheMarkAndAreListedWithTheIndexedOnes) {
  auto s = Open(/*create=*/true);
  ASSERT_TRUE(s);
  Disclose(*s, 30);
  EXPECT_EQ(Unindexed(), "30");
  EXPECT_EQ(Listed(*s, "s_0"), std::make_pair(size_t{10}, true));
  for (int i = 0; i < 4; ++i) Disclose(*s, 999);  // 4,026 past the mark: below kIndexDisclosures (4,096)
  EXPECT_EQ(Unindexed(), "4026");
  EXPECT_TRUE(IndexMatchesMark());
  Disclose(*s, 99);  // 4,125: indexed in this batch
  EXPECT_EQ(Unindexed(), "0");
  EXPECT_TRUE(IndexMatchesMark());
  Disclose(*s, 9);
  EXPECT_EQ(Unindexed(), "9");
  // Per batch of 999: 333 rows of each survivor; of 99: 33.
  EXPECT_EQ(Listed(*s, "s_0"), std::make_pair(size_t{10 + 4 * 333 + 33 + 3}, true));
  EXPECT_EQ(Listed(*s, "s_2"), std::make_pair(size_t{10 + 4 * 333 + 33 + 3}, true));
  EXPECT_EQ(Listed(*s, "s_9"), std::make_pair(size_t{0}, true));
  EXPECT_EQ(Query(audit_path_, "SELECT count(*) FROM disclosure_index WHERE survivor_id = 's_1'"),
            std::vector<std::string>{std::to_string(10 + 4 * 333 + 33)});
}

TEST_F(SqliteDisclosureIndexTest, RowsLeftUnindexedAreCountedAtTheNextOpen) {
  {
    auto s = Open(/*create=*/true);
    ASSERT_TRUE(s);
    for (int i = 0; i < 4; ++i) Disclose(*s, 1000);
  }
  auto s = Open();
  ASSERT_TRUE(s);
  EXPECT_EQ(Unindexed(), "4000");
  Disclose(*s, 150);  // 4,150 with the ones of the last run
  EXPECT_EQ(Unindexed(), "0");
  EXPECT_TRUE(IndexMatchesMark());
}

// Moving a store into SQLite (migrate-store, a PostgreSQL backup) brings its disclosures past a
// mark of 0; they are listed at once, and the next open of the copy indexes them in bulk.
TEST_F(SqliteDisclosureIndexTest, ACopiedStoreIsIndexedAtItsNextOpen) {
  auto source = Open(/*create=*/true);
  ASSERT_TRUE(source);
  Disclose(*source, 4100);  // the source indexes them in this batch
  EXPECT_EQ(Unindexed(), "0");
  const std::string copy_dir = dir_ + "/copy", copy_path = copy_dir + "/trellis.db";
  const std::string copy_audit = SqliteAuditPath(copy_path);
  fs::create_directories(copy_dir);
  {
    auto target = OpenSqliteStore(copy_path, {.reader_connections = 2, .create_if_missing = true});
    ASSERT_TRUE(target.ok()) << target.status().ToString();
    ASSERT_TRUE(CopyStore(*source, **target).ok());
    EXPECT_EQ(Unindexed(copy_audit), "4100");
    EXPECT_EQ(Listed(**target, "s_0"), std::make_pair(size_t{1367}, true));
  }
  auto target = OpenSqliteStore(copy_path, {.reader_connections = 2});
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(Unindexed(copy_audit), "0");
  EXPECT_EQ(Query(copy_audit, "SELECT seq FROM disclosure_index_mark"), std::vector<std::string>{"4100"});
  EXPECT_TRUE(IndexMatchesMark(copy_audit));
  EXPECT_EQ(Listed(**target, "s_0"), std::make_pair(size_t{1367}, true));
}

// The index and its mark are derived: an index or a mark lost or emptied (a damaged file; an
// older binary's crash between the two files' commits of step 6) is rebuilt at the next open,
// never an open that fails or an accounting that hides rows.
TEST_F(SqliteDisclosureIndexTest, ALostIndexOrMarkIsRebuiltAtOpen) {
  for (const char* damage : {"DROP TABLE disclosure_index_mark", "DELETE FROM disclosure_index_mark",
                             "DROP TABLE disclosure_index"}) {
    SCOPED_TRACE(damage);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    {
      auto s = Open(/*create=*/true);
      ASSERT_TRUE(s);
      Disclose(*s, 12);
    }
    Query(audit_path_, damage);
    auto s = Open();
    ASSERT_TRUE(s);
    EXPECT_EQ(Query(audit_path_, "SELECT seq FROM disclosure_index_mark"), std::vector<std::string>{"12"});
    EXPECT_TRUE(IndexMatchesMark());
    EXPECT_EQ(Listed(*s, "s_1"), std::make_pair(size_t{4}, true));
  }
}

// Two processes append disclosures to one store, each counting its own rows; whichever reaches
// kIndexDisclosures indexes every row past the mark, the other's included.
TEST_F(SqliteDisclosureIndexTest, TwoStoresOnOneFileIndexEachOthersRows) {
  auto a = Open(/*create=*/true);
  ASSERT_TRUE(a);
  auto b = Open();
  ASSERT_TRUE(b);
  Disclose(*a, 3000);
  Disclose(*b, 3000);
  EXPECT_EQ(Unindexed(), "6000");
  Disclose(*a, 1100);  // a's 4,100
  EXPECT_EQ(Unindexed(), "0");
  EXPECT_TRUE(IndexMatchesMark());
  EXPECT_EQ(Listed(*b, "s_2"), std::make_pair(size_t{1000 + 1000 + 366}, true));
}

// A backup taken before step 6 (the one-file layout, the step-5 indexes) is migrated in the
// main file, then its tables move to the audit file.
TEST_F(SqliteDisclosureIndexTest, AOneFileStoreFromBeforeTheIndexIsMigratedThenMoved) {
  {
    auto s = Open(/*create=*/true);
    ASSERT_TRUE(s);
    Disclose(*s, 12);
  }
  ASSERT_TRUE(FoldSqliteAuditFile(path_).ok());
  Query(path_, "DROP TABLE disclosure_index");
  Query(path_, "DROP TABLE disclosure_index_mark");
  Query(path_, "CREATE INDEX disclosures_by_survivor ON disclosures(survivor_id, seq) WHERE folded = 1");
  Query(path_, "CREATE INDEX disclosures_unfolded ON disclosures(seq) WHERE folded = 0");
  Query(path_, "DELETE FROM schema_version WHERE version = 6");
  auto s = Open();
  ASSERT_TRUE(s);
  const auto main_tables = TableNames(path_);
  EXPECT_EQ(main_tables.count("disclosure_index") + main_tables.count("disclosures"), 0u);
  EXPECT_EQ(Query(audit_path_, "SELECT seq FROM disclosure_index_mark"), std::vector<std::string>{"12"});
  EXPECT_TRUE(IndexMatchesMark());
  EXPECT_EQ(Query(audit_path_, "SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"),
            std::vector<std::string>{});
  EXPECT_EQ(Listed(*s, "s_1"), std::make_pair(size_t{4}, true));
}

// A store from before step 5 (one index on every row, no `folded` column) goes through steps 5
// and 6; a store at step 5 (folded and unfolded rows, two partial indexes) through step 6. Either
// way every row is indexed, the mark is the last row, the old indexes are gone, and a step run
// twice (the audit file migrated, the version not recorded) changes nothing.
TEST_F(SqliteDisclosureIndexTest, StoresOfBothEarlierLayoutsAreMigratedAndAStepMayRunTwice) {
  for (const bool before_step_5 : {true, false}) {
    SCOPED_TRACE(before_step_5 ? "before step 5" : "at step 5");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    {
      auto s = Open(/*create=*/true);
      ASSERT_TRUE(s);
      Disclose(*s, 12);
    }
    Query(audit_path_, "DROP TABLE disclosure_index");
    Query(audit_path_, "DROP TABLE disclosure_index_mark");
    if (before_step_5) {
      Query(audit_path_, "ALTER TABLE disclosures DROP COLUMN folded");
      Query(audit_path_, "CREATE INDEX disclosures_survivor ON disclosures(survivor_id, seq)");
      Query(path_, "DELETE FROM schema_version WHERE version >= 5");
    } else {
      Query(audit_path_, "CREATE INDEX disclosures_by_survivor ON disclosures(survivor_id, seq) WHERE folded = 1");
      Query(audit_path_, "CREATE INDEX disclosures_unfolded ON disclosures(seq) WHERE folded = 0");
      Query(audit_path_, "UPDATE disclosures SET folded = 0 WHERE seq > 8");
      Query(path_, "DELETE FROM schema_version WHERE version = 6");
    }
    for (int run = 0; run < 2; ++run) {
      auto s = Open();
      ASSERT_TRUE(s);
      EXPECT_EQ(Query(audit_path_, "SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"),
                std::vector<std::string>{});
      EXPECT_EQ(Unindexed(), "0") << "rows from before are indexed";
      EXPECT_EQ(Query(audit_path_, "SELECT seq FROM disclosure_index_mark"), std::vector<std::string>{"12"});
      EXPECT_TRUE(IndexMatchesMark());
      EXPECT_EQ(Listed(*s, "s_1"), std::make_pair(size_t{4}, true));
      Disclose(*s, 3);
      EXPECT_EQ(Listed(*s, "s_1"), std::make_pair(size_t{5}, true));
      s.reset();
      Query(audit_path_, "DELETE FROM disclosures WHERE seq > 12");
      Query(path_, "DELETE FROM schema_version WHERE version = 6");
    }
  }
}

// ReadPin: the reads of one thread share one snapshot until that thread writes.
class SqliteReadPinTest : public SqliteAuditFileTest {
 protected:
  // Each test starts with a new store whose meta key "k" is "1".
  void SetUp() override {
    store_ = Open(/*create=*/true);
    ASSERT_TRUE(store_);
    ASSERT_NO_FATAL_FAILURE(SetMeta(*store_, "1"));
  }
  std::unique_ptr<CaseStore> store_;
};

TEST_F(SqliteReadPinTest, WithoutAPinEveryReadSeesTheLatestCommit) {
  const auto& s = store_;
  EXPECT_EQ(Meta(*s), "1");
  SetMetaElsewhere(*s, "2");
  EXPECT_EQ(Meta(*s), "2");
}

TEST_F(SqliteReadPinTest, PinnedReadsShareOneSnapshot) {
  const auto& s = store_;
  {
    auto pin = s->PinReads();
    ASSERT_TRUE(pin);
    EXPECT_EQ(Meta(*s), "1");
    SetMetaElsewhere(*s, "2");
    EXPECT_EQ(Meta(*s), "1");  // the snapshot of the first read
    EXPECT_FALSE(s->PinReads()) << "one pin per thread";
    std::string other;
    std::thread t([&] { other = Meta(*s); });  // another thread is not pinned
    t.join();
    EXPECT_EQ(other, "2");
  }
  EXPECT_EQ(Meta(*s), "2");
  EXPECT_TRUE(s->PinReads()) << "the pin is released with its scope";
}

TEST_F(SqliteReadPinTest, AWriteOnThePinnedThreadEndsTheSnapshot) {
  const auto& s = store_;
  auto pin = s->PinReads();
  ASSERT_TRUE(pin);
  EXPECT_EQ(Meta(*s), "1");
  SetMeta(*s, "2");
  EXPECT_EQ(Meta(*s), "2");  // reads its own write
  SetMetaElsewhere(*s, "3");
  EXPECT_EQ(Meta(*s), "2");  // and shares the new snapshot again
}

}  // namespace
}  // namespace trellis::storage
