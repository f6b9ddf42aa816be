// Storage tests, written against the CaseStore interface so every backend runs them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "storage/record_codec.h"
#include "storage/store.h"

namespace trellis::storage {
namespace {

using domain::RecordKind;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/store_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db";
    Cleanup();
    auto s = OpenSqliteStore(path_, {.create_if_missing = true});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->Write([](Txn& t) {
      TRELLIS_RETURN_IF_ERROR(t.PutAgency({"a_1", "Agency One", domain::AgencyKind::kNgoServiceProvider}, 1));
      return t.PutAgency({"a_2", "Agency Two", domain::AgencyKind::kLawEnforcementFederal}, 1);
    }).ok());
  }
  void TearDown() override {
    store_.reset();
    Cleanup();
  }
  void Cleanup() {
    for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path_ + suffix).c_str());
  }
  StoredRecord MakeCase(const std::string& id, const std::string& agency, int64_t created) {
    StoredRecord r;
    r.kind = RecordKind::kCase;
    r.id = id;
    r.agency_id = agency;
    r.survivor_id = "s_1";
    r.case_number = "TR-" + id;
    r.status = "Active";
    r.version = 1;
    r.created_at = created;
    r.updated_at = created;
    r.plain = {{"cas_Status", "Active"}};
    r.sealed = {{"cas_IncomingReferralDetails", std::string("\x01\x00\xff", 3)}};
    r.team = {"u_1", "u_2"};
    return r;
  }
  std::string path_;
  std::unique_ptr<CaseStore> store_;
};

TEST_F(StoreTest, InsertGetRoundTrip) {
  StoredRecord r = MakeCase("c_1", "a_1", 10);
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertRecord(r); }).ok());
  auto got = store_->GetRecord(RecordKind::kCase, "c_1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->plain, r.plain);
  EXPECT_EQ(got->sealed, r.sealed);
  EXPECT_EQ(got->team, r.team);
  EXPECT_EQ(got->case_number, "TR-c_1");
  EXPECT_EQ(store_->GetRecord(RecordKind::kSurvivor, "c_1").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Write([&](Txn& t) { return t.InsertRecord(r); }).code(), Code::kAlreadyExists);
}

TEST_F(StoreTest, OptimisticConcurrency) {
  StoredRecord r = MakeCase("c_1", "a_1", 10);
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertRecord(r); }).ok());
  r.version = 2;
  r.plain["cas_Status"] = "Closed";
  EXPECT_TRUE(store_->Write([&](Txn& t) { return t.UpdateRecord(r, 1); }).ok());
  r.version = 3;
  EXPECT_EQ(store_->Write([&](Txn& t) { return t.UpdateRecord(r, 1); }).code(), Code::kConflict);
  r.id = "c_missing";
  EXPECT_EQ(store_->Write([&](Txn& t) { return t.UpdateRecord(r, 2); }).code(), Code::kNotFound);
  EXPECT_EQ(store_->GetRecord(RecordKind::kCase, "c_1")->plain.at("cas_Status"), "Closed");
}

TEST_F(StoreTest, FailedTransactionChangesNothing) {
  Status st = store_->Write([&](Txn& t) {
    TRELLIS_RETURN_IF_ERROR(t.InsertRecord(MakeCase("c_1", "a_1", 1)));
    return Status::Invalid("row 2 is bad");
  });
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->GetRecord(RecordKind::kCase, "c_1").status().code(), Code::kNotFound);
}

TEST_F(StoreTest, ListFiltersByAgencyAndPagesByKeyset) {
  ASSERT_TRUE(store_->Write([&](Txn& t) {
    for (int i = 0; i < 25; ++i) TRELLIS_RETURN_IF_ERROR(t.InsertRecord(MakeCase("c_a" + std::to_string(100 + i), "a_1", i)));
    for (int i = 0; i < 5; ++i) TRELLIS_RETURN_IF_ERROR(t.InsertRecord(MakeCase("c_b" + std::to_string(i), "a_2", i)));
    return Status::Ok();
  }).ok());
  ListQuery q;
  q.agency_ids = {"a_1"};
  q.limit = 10;
  std::vector<std::string> seen;
  while (true) {
    auto page = store_->ListRecords(q);
    ASSERT_TRUE(page.ok());
    for (auto& r : *page) {
      EXPECT_EQ(r.agency_id, "a_1");
      seen.push_back(r.id);
    }
    if (page->size() < 10) break;
    q.after_created = page->back().created_at;
    q.after_id = page->back().id;
  }
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(*store_->CountRecords(RecordKind::kCase, {"a_1"}), 25);
  EXPECT_EQ(*store_->CountRecords(RecordKind::kCase, {"a_2"}), 5);
  q = {};
  q.agency_ids = {};
  EXPECT_TRUE(store_->ListRecords(q)->empty());  // no agency, nothing: deny by default
  q.agency_ids = {"a_1", "a_2"};
  q.team_member = "u_2";
  q.limit = 100;
  EXPECT_EQ(store_->ListRecords(q)->size(), 30u);
  q.team_member = "u_";
  EXPECT_EQ(store_->ListRecords(q)->size(), 0u);  // whole ids only
}

TEST_F(StoreTest, UsersSessionsTokensKeys) {
  UserRow u;
  u.user = {"u_1", "a_1", "maria", "Maria", domain::Role::kAttorney, false};
  u.password_hash = "$argon2id$x";
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertUser(u); }).ok());
  EXPECT_EQ(store_->Write([&](Txn& t) { return t.InsertUser(u); }).code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->GetUserByName("maria")->user.role, domain::Role::kAttorney);
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertSession({"h1", "u_1", "c1", 1, 2, 3}); }).ok());
  EXPECT_EQ(store_->GetSession("h1")->expires_at, 3);
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.DeleteUserSessions("u_1"); }).ok());
  EXPECT_FALSE(store_->GetSession("h1").ok());
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertToken({"t_1", "th", "u_1", "script", 1, 0, 0}); }).ok());
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.RevokeToken("t_1", 5); }).ok());
  EXPECT_EQ(store_->GetToken("th")->revoked_at, 5);
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.PutDataKey({"s_1", "wrapped", 1}); }).ok());
  EXPECT_EQ(store_->GetDataKey("s_1")->wrapped, "wrapped");
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.DeleteDataKey("s_1"); }).ok());
  EXPECT_EQ(store_->GetDataKey("s_1").status().code(), Code::kNotFound);
}

TEST_F(StoreTest, AuditRowsAndCheckpoints) {
  using Rows = std::pair<std::vector<AuditRow>, AuditCheckpointRow>;
  ASSERT_TRUE(store_->AppendAudit([](const AuditRow& last) {
    EXPECT_EQ(last.seq, 0);
    return Rows{{{1, "e1", "h1"}, {2, "e2", "h2"}}, {2, "h2", "sig", 7}};
  }).ok());
  EXPECT_EQ(store_->LastAudit()->seq, 2);
  // Appending a sequence number twice fails and changes nothing.
  EXPECT_FALSE(store_->AppendAudit([](const AuditRow& last) {
    EXPECT_EQ(last.seq, 2);
    EXPECT_EQ(last.chain_hash, "h2");
    return Rows{{{3, "e3", "h3"}, {2, "dup", "x"}}, {3, "h3", "sig", 8}};
  }).ok());
  EXPECT_EQ(store_->LastAudit()->seq, 2);
  EXPECT_EQ(store_->ListCheckpoints()->size(), 1u);
  ASSERT_TRUE(store_->CheckIntegrity().ok());
}

TEST_F(StoreTest, ConcurrentReadersAndWriter) {
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop) {
      ListQuery q;
      q.agency_ids = {"a_1"};
      ASSERT_TRUE(store_->ListRecords(q).ok());
    }
  });
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertRecord(MakeCase("c_" + std::to_string(i), "a_1", i)); }).ok());
  }
  stop = true;
  reader.join();
  EXPECT_EQ(*store_->CountRecords(RecordKind::kCase, {"a_1"}), 50);
}

TEST(RecordCodec, SealedRoundTripAndTotalOnGarbage) {
  std::map<std::string, std::string> m = {{"a", std::string("\0\1", 2)}, {"bb", ""}};
  std::map<std::string, std::string> back;
  ASSERT_TRUE(DecodeSealed(EncodeSealed(m), &back));
  EXPECT_EQ(back, m);
  std::map<std::string, std::string> junk;
  EXPECT_FALSE(DecodeSealed("\xff\xff", &junk));
  EXPECT_FALSE(DecodePlain("{", &junk));
}

}  // namespace
}  // namespace trellis::storage
