// The SQLite store's reader connections keep the token and session rows they read (with their
// users') until the store file changes: the copies follow every commit, by any connection of any
// process, and a pinned request keeps its one snapshot.
#include <gtest/gtest.h>

#include <thread>

#include "core/status.h"
#include "storage/store.h"
#include "support/test_dir.h"

namespace trellis::storage {
namespace {

class SqliteRowCacheTest : public ::testing::Test {
 protected:
  // One reader connection: every read of the store goes through the same (caching) reader.
  std::unique_ptr<CaseStore> Open(bool create = false) {
    auto s = OpenSqliteStore(path_, {.reader_connections = 1, .create_if_missing = create});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  static Status PutMeta(CaseStore& s, const std::string& v) {
    return s.Write([&](Txn& t) { return t.SetMeta("k", v); });
  }

  // A user of agency a_1 with one API token; returns the token's hash.
  static std::string AddUserWithToken(CaseStore& s) {
    EXPECT_TRUE(s.Write([](Txn& t) -> Status {
                   TRELLIS_RETURN_IF_ERROR(t.PutAgency({"a_1", "Agency", domain::AgencyKind::kNgoServiceProvider}, 1));
                   UserRow u;
                   u.user = {"u_1", "a_1", "ana", "Ana", domain::Role::kAdvocate, false};
                   u.password_hash = "x";
                   u.created_at = 1;
                   TRELLIS_RETURN_IF_ERROR(t.InsertUser(u));
                   return t.InsertToken({"t_1", "hash-1", "u_1", "script", 1, 0, 0});
                 }).ok());
    return "hash-1";
  }

  trellis::testing::TestDir test_dir_;
  const std::string path_ = test_dir_.path() + "/trellis.db";
};

TEST_F(SqliteRowCacheTest, CachedTokenRowsFollowEveryCommit) {
  auto s = Open(/*create=*/true);
  ASSERT_TRUE(s);
  const std::string hash = AddUserWithToken(*s);
  for (int i = 0; i < 2; ++i) {  // read, then served from the reader's cache
    auto r = s->GetTokenWithUser(hash);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->first.revoked_at, 0);
    EXPECT_FALSE(r->second.user.disabled);
  }
  // Revoked by another connection of another store object, as by another process (the CLI).
  {
    auto other = Open();
    ASSERT_TRUE(other);
    ASSERT_TRUE(other->Write([](Txn& t) { return t.RevokeToken("t_1", 42); }).ok());
  }
  auto revoked = s->GetTokenWithUser(hash);
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->first.revoked_at, 42);
  // Changed through this store's own writer.
  ASSERT_TRUE(s->Write([](Txn& t) { return t.SetUserDisabled("u_1", true); }).ok());
  auto disabled = s->GetTokenWithUser(hash);
  ASSERT_TRUE(disabled.ok());
  EXPECT_TRUE(disabled->second.user.disabled);
  // An unrelated write drops the cache too; a deleted row is then gone.
  ASSERT_TRUE(PutMeta(*s, "v").ok());
  EXPECT_FALSE(s->GetTokenWithUser("no-such-hash").ok());
}

TEST_F(SqliteRowCacheTest, CachedSessionRowsFollowEveryCommit) {
  auto s = Open(/*create=*/true);
  ASSERT_TRUE(s);
  AddUserWithToken(*s);
  ASSERT_TRUE(s->Write([](Txn& t) { return t.InsertSession({"cookie-1", "u_1", "csrf", 1, 1, 1000}); }).ok());
  for (int i = 0; i < 2; ++i) {
    auto r = s->GetSessionWithUser("cookie-1");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->first.last_seen_at, 1);
  }
  ASSERT_TRUE(s->Write([](Txn& t) { return t.TouchSession("cookie-1", 5); }).ok());
  auto touched = s->GetSessionWithUser("cookie-1");
  ASSERT_TRUE(touched.ok());
  EXPECT_EQ(touched->first.last_seen_at, 5);
  {
    auto other = Open();  // a logout served by another process
    ASSERT_TRUE(other);
    ASSERT_TRUE(other->Write([](Txn& t) { return t.DeleteSession("cookie-1"); }).ok());
  }
  EXPECT_FALSE(s->GetSessionWithUser("cookie-1").ok());
}

TEST_F(SqliteRowCacheTest, CachedTokenRowsKeepAPinnedSnapshot) {
  auto s = Open(/*create=*/true);
  ASSERT_TRUE(s);
  const std::string hash = AddUserWithToken(*s);
  {
    auto pin = s->PinReads();
    ASSERT_TRUE(pin);
    ASSERT_TRUE(s->GetTokenWithUser(hash).ok());
    std::thread t([&] { ASSERT_TRUE(s->Write([](Txn& t) { return t.RevokeToken("t_1", 7); }).ok()); });
    t.join();
    auto same = s->GetTokenWithUser(hash);
    ASSERT_TRUE(same.ok());
    EXPECT_EQ(same->first.revoked_at, 0) << "one snapshot per request";
  }
  auto after = s->GetTokenWithUser(hash);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->first.revoked_at, 7) << "the next request sees the revocation";
}

}  // namespace
}  // namespace trellis::storage
