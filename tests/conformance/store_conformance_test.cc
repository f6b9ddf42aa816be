// Storage conformance: the storage tests, written against the CaseStore interface, run on every
// backend (tests/conformance/backends.h): SQLite always, PostgreSQL when TRELLIS_PG_URL is set.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <numeric>
#include <thread>

#include "conformance/backends.h"
#include "storage/record_codec.h"
#include "storage/store.h"

namespace trellis::storage {
namespace {

using domain::RecordKind;
using trellis::testing::ScratchStore;

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    TRELLIS_SKIP_IF_UNAVAILABLE(GetParam());
    scratch_ = std::make_unique<ScratchStore>(GetParam(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    store_ = Open();
    ASSERT_TRUE(store_);
    ASSERT_TRUE(store_->Write([](Txn& t) {
      TRELLIS_RETURN_IF_ERROR(t.PutAgency({"a_1", "Agency One", domain::AgencyKind::kNgoServiceProvider}, 1));
      return t.PutAgency({"a_2", "Agency Two", domain::AgencyKind::kLawEnforcementFederal}, 1);
    }).ok());
  }
  void TearDown() override {
    store_.reset();
    scratch_.reset();
  }
  // Another handle on the same store: what a second process (app server) would hold.
  std::unique_ptr<CaseStore> Open() {
    auto s = OpenStore(scratch_->location, {.connections = 4, .create_if_missing = true});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
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
  std::unique_ptr<ScratchStore> scratch_;
  std::unique_ptr<CaseStore> store_;
};

TEST_P(StoreTest, InsertGetRoundTrip) {
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

TEST_P(StoreTest, OptimisticConcurrency) {
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

TEST_P(StoreTest, FailedTransactionChangesNothing) {
  Status st = store_->Write([&](Txn& t) {
    TRELLIS_RETURN_IF_ERROR(t.InsertRecord(MakeCase("c_1", "a_1", 1)));
    return Status::Invalid("row 2 is bad");
  });
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->GetRecord(RecordKind::kCase, "c_1").status().code(), Code::kNotFound);
}

// The bulk path of the HTCDS import: rows read back as InsertRecord would have stored them; a
// taken id fails the whole transaction.
TEST_P(StoreTest, InsertBulkRoundTripAndTakenIdChangesNothing) {
  std::vector<DataKeyRow> keys;
  std::vector<EncodedRecord> recs;
  for (int i = 0; i < 150; ++i) {  // more than one multi-row statement
    const StoredRecord c = MakeCase("c_b" + std::to_string(1000 + i), "a_1", 5 + i);
    keys.push_back({"s_b" + std::to_string(1000 + i), std::string("\x01wrapped", 8), 1});
    recs.push_back({c.kind, c.id, c.agency_id, c.survivor_id, c.case_number, c.status, c.version, c.created_at,
                    c.updated_at, EncodePlain(c.plain), EncodeSealed(c.sealed), EncodeTeam(c.team)});
  }
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertBulk(keys, recs); }).ok());
  auto got = store_->GetRecord(RecordKind::kCase, "c_b1149");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const StoredRecord want = MakeCase("c_b1149", "a_1", 154);
  EXPECT_EQ(got->plain, want.plain);
  EXPECT_EQ(got->sealed, want.sealed);
  EXPECT_EQ(got->team, want.team);
  EXPECT_EQ(got->created_at, 154);
  EXPECT_EQ(got->status, "Active");
  EXPECT_EQ(store_->GetDataKey("s_b1000")->wrapped, std::string("\x01wrapped", 8));
  EXPECT_EQ(*store_->CountRecords(RecordKind::kCase, {"a_1"}), 150);

  std::vector<EncodedRecord> again = {recs[0]};
  again[0].id = "c_fresh";
  again.push_back(recs[7]);  // taken
  std::vector<DataKeyRow> fresh_key = {{"s_fresh", "w", 1}};
  EXPECT_EQ(store_->Write([&](Txn& t) { return t.InsertBulk(fresh_key, again); }).code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->GetRecord(RecordKind::kCase, "c_fresh").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetDataKey("s_fresh").status().code(), Code::kNotFound);
}

TEST_P(StoreTest, ListFiltersByAgencyAndPagesByKeyset) {
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

TEST_P(StoreTest, UsersSessionsTokensKeys) {
  UserRow u;
  u.user = {"u_1", "a_1", "maria", "Maria", domain::Role::kAttorney, false};
  u.password_hash = "$argon2id$x";
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertUser(u); }).ok());
  EXPECT_EQ(store_->Write([&](Txn& t) { return t.InsertUser(u); }).code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->GetUserByName("maria")->user.role, domain::Role::kAttorney);
  // Only a key taken is a conflict: a row that breaks another constraint (here the foreign key
  // to its agency) is an internal fault, not a 409 "already exists".
  UserRow orphan = u;
  orphan.user.id = "u_9";
  orphan.user.username = "nobody";
  orphan.user.agency_id = "a_missing";
  EXPECT_EQ(store_->Write([&](Txn& t) { return t.InsertUser(orphan); }).code(), Code::kInternal);
  EXPECT_FALSE(store_->GetUserByName("nobody").ok());
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

// A failed login is counted in the database: increments from many threads on two handles (two
// app servers) at once all count, and a lock written in the same transaction follows the count.
TEST_P(StoreTest, IncrementFailedLoginsCountsEveryFailure) {
  constexpr int64_t kNow = 1'000'000'000;
  UserRow u;
  u.user = {"u_1", "a_1", "maria", "Maria", domain::Role::kAttorney, false};
  u.password_hash = "$argon2id$x";
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertUser(u); }).ok());
  // What app/ does with a failure: increment, then raise the lock to a time that grows with the
  // count (here kNow + count), in one transaction.
  auto fail = [&](CaseStore& s) {
    int64_t count = -1;
    Status st = s.Write([&](Txn& t) -> Status {
      TRELLIS_ASSIGN_OR_RETURN(count, t.IncrementFailedLogins("u_1"));
      return t.RaiseLockedUntil("u_1", kNow + count);
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return count;
  };
  int64_t count = -1;
  ASSERT_TRUE(store_->Write([&](Txn& t) -> Status {
    TRELLIS_ASSIGN_OR_RETURN(count, t.IncrementFailedLogins("u_1"));
    return Status::Ok();
  }).ok());
  EXPECT_EQ(count, 1);
  EXPECT_EQ(store_->GetUserById("u_1")->failed_logins, 1);
  EXPECT_EQ(store_->GetUserById("u_1")->locked_until, 0);  // the increment alone locks nothing
  EXPECT_EQ(fail(*store_), 2);
  EXPECT_EQ(fail(*store_), 3);
  EXPECT_EQ(store_->GetUserById("u_1")->locked_until, kNow + 3);
  EXPECT_EQ(store_->Write([](Txn& t) { return t.IncrementFailedLogins("u_nobody").status(); }).code(),
            Code::kNotFound);

  // Concurrent failures on two handles: none is lost, and the lock is the last count's.
  ASSERT_TRUE(store_->Write([](Txn& t) { return t.UpdateUserLogin("u_1", 0, 0); }).ok());
  auto other = Open();
  ASSERT_TRUE(other);
  constexpr int kThreads = 4, kEach = 10;
  std::mutex mu;
  std::vector<int64_t> counts;  // every count returned: each of 1..40 exactly once
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < kEach; ++n) {
        const int64_t c = fail(i % 2 ? *other : *store_);
        std::lock_guard lock(mu);
        counts.push_back(c);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::sort(counts.begin(), counts.end());
  std::vector<int64_t> expected(kThreads * kEach);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(counts, expected);
  auto row = other->GetUserById("u_1");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->failed_logins, kThreads * kEach);
  EXPECT_EQ(row->locked_until, kNow + kThreads * kEach);
}

// The store's write transactions rely on READ COMMITTED (a row lock waits, then the update
// reads the committed value): a server whose default isolation is stricter must not turn
// concurrent increments into serialization failures. PostgreSQL only (SQLite serialises writers).
TEST_P(StoreTest, ConcurrentIncrementsCountUnderAStricterServerDefault) {
  if (GetParam() != "Postgres") GTEST_SKIP() << "PostgreSQL's isolation levels";
  UserRow u;
  u.user = {"u_1", "a_1", "maria", "Maria", domain::Role::kAttorney, false};
  u.password_hash = "$argon2id$x";
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertUser(u); }).ok());
  // Both handles connect with "repeatable read" as the session default (as a server or database
  // setting would give them).
  auto strict = [&] {
    auto s = OpenStore(scratch_->location + "%20-cdefault_transaction_isolation%3Drepeatable%5C%20read",
                       {.connections = 4});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  };
  auto a = strict(), b = strict();
  ASSERT_TRUE(a && b);
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < 10; ++n) {
        Status st = (i % 2 ? *a : *b).Write([](Txn& t) { return t.IncrementFailedLogins("u_1").status(); });
        if (!st.ok()) ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(store_->GetUserById("u_1")->failed_logins, 40);
}

// The lock is raised, never lowered, and the count is left alone.
TEST_P(StoreTest, RaiseLockedUntilNeverLowersTheLock) {
  UserRow u;
  u.user = {"u_1", "a_1", "maria", "Maria", domain::Role::kAttorney, false};
  u.password_hash = "$argon2id$x";
  u.failed_logins = 7;
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertUser(u); }).ok());
  auto raise = [&](int64_t until) {
    return store_->Write([&](Txn& t) { return t.RaiseLockedUntil("u_1", until); });
  };
  ASSERT_TRUE(raise(2'000).ok());
  EXPECT_EQ(store_->GetUserById("u_1")->locked_until, 2'000);
  ASSERT_TRUE(raise(1'000).ok());  // earlier (a server whose clock lags): kept as it was
  EXPECT_EQ(store_->GetUserById("u_1")->locked_until, 2'000);
  ASSERT_TRUE(raise(2'000).ok());
  EXPECT_EQ(store_->GetUserById("u_1")->locked_until, 2'000);
  ASSERT_TRUE(raise(3'000).ok());
  EXPECT_EQ(store_->GetUserById("u_1")->locked_until, 3'000);
  EXPECT_EQ(store_->GetUserById("u_1")->failed_logins, 7);
  EXPECT_EQ(store_->Write([](Txn& t) { return t.RaiseLockedUntil("u_nobody", 1); }).code(), Code::kNotFound);
}

TEST_P(StoreTest, AuditRowsAndCheckpoints) {
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

TEST_P(StoreTest, ConcurrentReadersAndWriter) {
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

// Two handles on one store stand for two app servers: the same record updated from both at
// once with the same expected version: exactly one wins, the other gets kConflict.
TEST_P(StoreTest, TwoServersNoLostUpdate) {
  auto other = Open();
  ASSERT_TRUE(other);
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertRecord(MakeCase("c_1", "a_1", 1)); }).ok());
  for (int round = 1; round <= 20; ++round) {
    std::atomic<int> ok{0}, conflict{0};
    auto update = [&](CaseStore& s, const std::string& who) {
      StoredRecord r = MakeCase("c_1", "a_1", 1);
      r.version = round + 1;
      r.plain["cas_Status"] = who + std::to_string(round);
      Status st = s.Write([&](Txn& t) { return t.UpdateRecord(r, round); });
      (st.ok() ? ok : conflict)++;
      if (!st.ok()) {
        EXPECT_EQ(st.code(), Code::kConflict) << st.ToString();
      }
    };
    std::thread a(update, std::ref(*store_), "a"), b(update, std::ref(*other), "b");
    a.join();
    b.join();
    EXPECT_EQ(ok.load(), 1) << "round " << round;
    EXPECT_EQ(conflict.load(), 1) << "round " << round;
    EXPECT_EQ(store_->GetRecord(RecordKind::kCase, "c_1")->version, round + 1);
  }
}

// Many appenders on two handles: one chain, every seq once, each entry chained to the previous.
TEST_P(StoreTest, AuditChainFromTwoServersHasNoForkOrGap) {
  auto other = Open();
  ASSERT_TRUE(other);
  auto chain = [](const std::string& prev, const std::string& entry) {
    return std::to_string(std::hash<std::string>{}(prev + "|" + entry));
  };
  constexpr int kThreads = 3, kAppends = 15;
  std::vector<std::thread> threads;
  for (int i = 0; i < 2 * kThreads; ++i) {
    threads.emplace_back([&, i] {
      CaseStore& s = i % 2 ? *other : *store_;
      for (int n = 0; n < kAppends; ++n) {
        Status st = s.AppendAudit([&](const AuditRow& last) {
          const std::string entry = "w" + std::to_string(i) + "n" + std::to_string(n);
          AuditRow row{last.seq + 1, entry, chain(last.chain_hash, entry)};
          return std::make_pair(std::vector<AuditRow>{row}, AuditCheckpointRow{row.seq, row.chain_hash, "sig", 1});
        });
        EXPECT_TRUE(st.ok()) << st.ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  int64_t expect = 1;
  std::string prev;
  ASSERT_TRUE(store_->ForEachAudit(1, [&](const AuditRow& r) {
    EXPECT_EQ(r.seq, expect++);
    EXPECT_EQ(r.chain_hash, chain(prev, r.encoded)) << "fork at " << r.seq;
    prev = r.chain_hash;
    return true;
  }).ok());
  EXPECT_EQ(expect - 1, 2 * kThreads * kAppends);
  EXPECT_EQ(static_cast<int64_t>(other->ListCheckpoints()->size()), 2 * kThreads * kAppends);
  EXPECT_TRUE(other->CheckIntegrity().ok());
}

std::vector<std::string> Dump(CaseStore& s) {
  std::vector<std::string> out;
  EXPECT_TRUE(s.ExportTables([&](const TableRow& row) {
    std::string line = row.table->name;
    for (const Cell& c : row.cells) {
      line += "|";
      line += std::holds_alternative<int64_t>(c) ? std::to_string(std::get<int64_t>(c)) : std::get<std::string>(c);
    }
    out.push_back(std::move(line));
    return Status::Ok();
  }).ok());
  return out;
}

// Moving a store (trellis migrate-store): every row of every table, byte for byte, to every
// backend; a non-empty target is refused.
TEST_P(StoreTest, CopyStoreMovesEveryRowExactly) {
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte += static_cast<char>(i);
  StoredRecord r = MakeCase("c_1", "a_1", 5);
  r.sealed["prs_FirstName"] = every_byte;
  UserRow u;
  u.user = {"u_1", "a_1", "maria", "María Ñ", domain::Role::kAttorney, false};
  u.password_hash = "$argon2id$x";
  u.failed_logins = 2;
  ASSERT_TRUE(store_->Write([&](Txn& t) {
    TRELLIS_RETURN_IF_ERROR(t.InsertRecord(r));
    TRELLIS_RETURN_IF_ERROR(t.InsertUser(u));
    TRELLIS_RETURN_IF_ERROR(t.InsertSession({std::string("\0h\xff", 3), "u_1", every_byte, 1, 2, 3}));
    TRELLIS_RETURN_IF_ERROR(t.InsertToken({"t_1", std::string("\0t", 2), "u_1", "script", 1, 0, 0}));
    TRELLIS_RETURN_IF_ERROR(t.PutDataKey({"s_1", every_byte, 3}));
    return t.SetMeta("audit_public_key", every_byte);
  }).ok());
  ASSERT_TRUE(store_->AppendAudit(
                        [&](const AuditRow&) {
                          return std::make_pair(std::vector<AuditRow>{{1, every_byte, "h1"}, {2, "e2", every_byte}},
                                                AuditCheckpointRow{2, every_byte, every_byte, 9});
                        },
                        [&](Txn& t) -> Status {
                          for (const char* survivor : {"s_1", "s_2", "s_1"}) {
                            TRELLIS_RETURN_IF_ERROR(t.InsertDisclosure({0, survivor, "c_1", 7, "u_1", "a_2", "read",
                                                                        "identity", "release", "g_1", "r_1"}));
                          }
                          return Status::Ok();
                        })
                  .ok());
  const auto source = Dump(*store_);
  // agencies meta user session token key record audit checkpoint disclosures
  ASSERT_EQ(source.size(), 2u + 1 + 1 + 1 + 1 + 1 + 1 + 2 + 1 + 3);
  for (const std::string& backend : trellis::testing::StoreBackends()) {
    ScratchStore target_dir(backend, "copy_target");
    if (!target_dir.available()) continue;
    auto target = OpenStore(target_dir.location, {.create_if_missing = true});
    ASSERT_TRUE(target.ok()) << target.status().ToString();
    auto counts = CopyStore(*store_, **target);
    ASSERT_TRUE(counts.ok()) << backend << ": " << counts.status().ToString();
    EXPECT_EQ(Dump(**target), source) << backend;
    EXPECT_EQ((*target)->GetRecord(RecordKind::kCase, "c_1")->sealed.at("prs_FirstName"), every_byte);
    EXPECT_EQ((*target)->GetSession(std::string("\0h\xff", 3))->csrf_hash, every_byte);
    // The accounting of disclosures reads them as the source does (on SQLite through the survivor
    // index the copy fills; the store of a row the copy brought and of one written after it).
    ASSERT_TRUE((*target)->AppendAudit(
                             [&](const AuditRow& last) {
                               return std::make_pair(std::vector<AuditRow>{{last.seq + 1, "e3", "h3"}},
                                                     AuditCheckpointRow{last.seq + 1, "h3", "sig", 10});
                             },
                             [&](Txn& t) {
                               return t.InsertDisclosure(
                                   {0, "s_1", "c_1", 8, "u_1", "a_2", "read", "identity", "release", "g_1", "r"});
                             })
                    .ok());
    auto listed = (*target)->ListDisclosures("s_1");
    ASSERT_TRUE(listed.ok()) << backend;
    ASSERT_EQ(listed->size(), 3u) << backend;
    EXPECT_EQ((*listed)[0].seq, 1);
    EXPECT_EQ((*listed)[0].request_id, "r_1");
    EXPECT_EQ((*listed)[1].seq, 3);
    EXPECT_EQ((*listed)[2].seq, 4);
    EXPECT_EQ((*target)->ListDisclosures("s_2")->size(), 1u) << backend;
    EXPECT_EQ(CopyStore(*store_, **target).status().code(), Code::kFailedPrecondition) << backend;
    EXPECT_TRUE((*target)->CheckIntegrity().ok());
  }
  // A snapshot is a SQLite file holding the same rows, on every backend.
  const std::string snap = scratch_->dir + "/snapshot.db";
  ASSERT_TRUE(store_->SnapshotTo(snap).ok());
  auto copy = OpenSqliteStore(snap);
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(Dump(**copy), source);
}

// Consent rows: grants (releases, break-glass, compelled) and the accounting of disclosures,
// and lists that include records released to an agency (ListQuery::survivor_ids).
TEST_P(StoreTest, GrantsDisclosuresAndReleasedRecordsInLists) {
  GrantRow g;
  g.id = "g_1";
  g.kind = "release";
  g.survivor_id = "s_1";
  g.owner_agency_id = "a_1";
  g.recipient_agency_id = "a_2";
  g.categories = "trafficking_history,case_workflow";
  g.purpose = "investigation";
  g.language = "es";
  g.effective_at = 100;
  g.expires_at = 1'900'000'000'000'000;  // micros, past 32 bits
  g.created_at = 100;
  g.created_by = "u_1";
  g.sealed = std::string("\x01\x00\xfe", 3);
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertGrant(g); }).ok());
  EXPECT_EQ(store_->Write([&](Txn& t) { return t.InsertGrant(g); }).code(), Code::kAlreadyExists);
  auto got = store_->GetGrant("g_1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->sealed, g.sealed);
  EXPECT_EQ(got->expires_at, g.expires_at);
  GrantQuery q;
  q.recipient_agency_id = "a_2";
  q.in_force_at = 1'800'000'000'000'000;
  EXPECT_EQ(store_->ListGrants(q)->size(), 1u);
  q.in_force_at = 1'950'000'000'000'000;  // past expiry
  EXPECT_EQ(store_->ListGrants(q)->size(), 0u);
  g.revoked_at = 200;
  g.revoked_by = "u_1";
  g.revoke_reason = "survivor_request";
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.UpdateGrant(g); }).ok());
  q.in_force_at = 1'800'000'000'000'000;
  EXPECT_EQ(store_->ListGrants(q)->size(), 0u);  // revoked: not in force
  GrantRow missing = g;
  missing.id = "g_missing";
  EXPECT_EQ(store_->Write([&](Txn& t) { return t.UpdateGrant(missing); }).code(), Code::kNotFound);

  for (int i = 0; i < 3; ++i) {
    DisclosureRow d{0, "s_1", "c_1", 300 + i, "u_9", "a_2", "read", "trafficking_history", "release", "g_1", "r"};
    ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertDisclosure(d); }).ok());
  }
  auto ds = store_->ListDisclosures("s_1");
  ASSERT_TRUE(ds.ok());
  ASSERT_EQ(ds->size(), 3u);
  EXPECT_LT((*ds)[0].seq, (*ds)[2].seq);
  EXPECT_EQ((*ds)[2].at, 302);

  // A record of agency a_1 is listed for a_2 only through survivor_ids.
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertRecord(MakeCase("c_1", "a_1", 5)); }).ok());
  ListQuery lq;
  lq.agency_ids = {"a_2"};
  EXPECT_TRUE(store_->ListRecords(lq)->empty());
  lq.survivor_ids = {"s_1"};
  EXPECT_EQ(store_->ListRecords(lq)->size(), 1u);
  lq.agency_ids = {};
  EXPECT_EQ(store_->ListRecords(lq)->size(), 1u);
}

// Evidence items: sealed metadata and file byte for byte, lists without files, the file stored
// once, the items a release names, erasure, and copies between backends.
TEST_P(StoreTest, EvidenceRowsNamedItemsAndErasure) {
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte += static_cast<char>(i);
  EvidenceRow e{"e_1", "s_1", "", "a_1", "photo", "", "", 0, 10, "u_1", every_byte, ""};
  EvidenceRow f{"e_2", "s_1", "c_1", "a_1", "signed_release", "g_1", "application/pdf", 3, 20, "u_1", "m", every_byte};
  ASSERT_TRUE(store_->Write([&](Txn& t) {
    TRELLIS_RETURN_IF_ERROR(t.InsertEvidence(f));
    return t.InsertEvidence(e);
  }).ok());
  EXPECT_EQ(store_->Write([&](Txn& t) { return t.InsertEvidence(e); }).code(), Code::kAlreadyExists);
  auto got = store_->GetEvidence("e_2", true);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->content, every_byte);
  EXPECT_EQ(got->grant_id, "g_1");
  EXPECT_EQ(got->case_id, "c_1");
  EXPECT_EQ(got->size, 3);
  EXPECT_TRUE(store_->GetEvidence("e_2", false)->content.empty());
  EXPECT_EQ(store_->GetEvidence("e_nope", false).status().code(), Code::kNotFound);
  auto list = store_->ListEvidence("s_1");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "e_1");  // oldest first
  EXPECT_EQ((*list)[0].sealed, every_byte);
  EXPECT_TRUE((*list)[1].content.empty());
  EXPECT_TRUE(store_->ListEvidence("s_2")->empty());

  // The file is stored once.
  e.content_type = "image/png";
  e.size = 256;
  e.sealed = "meta2";
  e.content = every_byte;
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.SetEvidenceContent(e); }).ok());
  EXPECT_EQ(store_->GetEvidence("e_1", true)->content, every_byte);
  EXPECT_EQ(store_->GetEvidence("e_1", false)->sealed, "meta2");
  EXPECT_EQ(store_->Write([&](Txn& t) { return t.SetEvidenceContent(e); }).code(), Code::kConflict);
  EvidenceRow missing = e;
  missing.id = "e_missing";
  EXPECT_EQ(store_->Write([&](Txn& t) { return t.SetEvidenceContent(missing); }).code(), Code::kNotFound);

  // A release names items.
  GrantRow g;
  g.id = "g_1";
  g.kind = "release";
  g.survivor_id = "s_1";
  g.owner_agency_id = "a_1";
  g.recipient_agency_id = "a_2";
  g.evidence_ids = "e_1,e_2";
  g.expires_at = 1000;
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertGrant(g); }).ok());
  EXPECT_EQ(store_->GetGrant("g_1")->evidence_ids, "e_1,e_2");
  GrantQuery q;
  q.survivor_id = "s_1";
  EXPECT_EQ(store_->ListGrants(q)->at(0).evidence_ids, "e_1,e_2");

  // Copies carry the items and the named ids, byte for byte.
  for (const std::string& backend : trellis::testing::StoreBackends()) {
    ScratchStore target_dir(backend, "evidence_copy_target");
    if (!target_dir.available()) continue;
    auto target = OpenStore(target_dir.location, {.create_if_missing = true});
    ASSERT_TRUE(target.ok()) << target.status().ToString();
    ASSERT_TRUE(CopyStore(*store_, **target).ok()) << backend;
    EXPECT_EQ((*target)->GetEvidence("e_2", true)->content, every_byte) << backend;
    EXPECT_EQ((*target)->GetGrant("g_1")->evidence_ids, "e_1,e_2") << backend;
  }

  // Erasing the survivor deletes the items.
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.DeleteSurvivorRecords("s_1"); }).ok());
  EXPECT_TRUE(store_->ListEvidence("s_1")->empty());
  EXPECT_EQ(store_->GetEvidence("e_2", true).status().code(), Code::kNotFound);
}

// The one-read paths of authentication and of GET one record return what the separate reads do.
TEST_P(StoreTest, OneReadAuthenticationAndRecordRead) {
  UserRow u;
  u.user = {"u_1", "a_1", "maria", "Maria", domain::Role::kAttorney, false};
  u.password_hash = "$argon2id$x";
  u.failed_logins = 2;
  ASSERT_TRUE(store_->Write([&](Txn& t) {
    TRELLIS_RETURN_IF_ERROR(t.InsertUser(u));
    TRELLIS_RETURN_IF_ERROR(t.InsertSession({"h1", "u_1", "c1", 1, 2, 3}));
    return t.InsertToken({"t_1", "th", "u_1", "script", 1, 9, 0});
  }).ok());
  auto s = store_->GetSessionWithUser("h1");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->first.csrf_hash, "c1");
  EXPECT_EQ(s->first.expires_at, 3);
  EXPECT_EQ(s->second.user.username, "maria");
  EXPECT_EQ(s->second.user.role, domain::Role::kAttorney);
  EXPECT_EQ(s->second.failed_logins, 2);
  auto t = store_->GetTokenWithUser("th");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->first.id, "t_1");
  EXPECT_EQ(t->first.expires_at, 9);
  EXPECT_EQ(t->second.user.id, "u_1");
  EXPECT_EQ(store_->GetSessionWithUser("nope").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetTokenWithUser("nope").status().code(), Code::kNotFound);
  // Disabling and revocation are seen at once, also through another handle (app server).
  auto other = Open();
  ASSERT_TRUE(store_->Write([&](Txn& tx) {
    TRELLIS_RETURN_IF_ERROR(tx.SetUserDisabled("u_1", true));
    return tx.RevokeToken("t_1", 7);
  }).ok());
  EXPECT_TRUE(other->GetSessionWithUser("h1")->second.user.disabled);
  EXPECT_EQ(other->GetTokenWithUser("th")->first.revoked_at, 7);

  // A record without key or grants, then with a key and two grants (newest first).
  ASSERT_TRUE(store_->Write([&](Txn& tx) { return tx.InsertRecord(MakeCase("c_1", "a_1", 5)); }).ok());
  auto r = store_->GetRecordForRead(RecordKind::kCase, "c_1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->record.id, "c_1");
  EXPECT_EQ(r->record.sealed, MakeCase("c_1", "a_1", 5).sealed);
  EXPECT_EQ(r->record.team, (std::vector<std::string>{"u_1", "u_2"}));
  EXPECT_FALSE(r->key.has_value());
  EXPECT_TRUE(r->grants.empty());
  EXPECT_EQ(store_->GetRecordForRead(RecordKind::kSurvivor, "c_1").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetRecordForRead(RecordKind::kCase, "c_2").status().code(), Code::kNotFound);
  GrantRow g;
  g.kind = "release";
  g.survivor_id = "s_1";
  g.owner_agency_id = "a_1";
  g.recipient_agency_id = "a_2";
  g.categories = "case_workflow";
  g.purpose = "investigation";
  g.language = "en";
  g.effective_at = 100;
  g.expires_at = 1'900'000'000'000'000;
  g.created_by = "u_1";
  g.sealed = std::string("\x01\x00", 2);
  ASSERT_TRUE(store_->Write([&](Txn& tx) {
    TRELLIS_RETURN_IF_ERROR(tx.PutDataKey({"s_1", std::string("w\x00k", 3), 2}));
    GrantRow a = g, b = g, other_survivor = g;
    a.id = "g_a";
    a.created_at = 100;
    b.id = "g_b";
    b.created_at = 200;
    other_survivor.id = "g_c";
    other_survivor.survivor_id = "s_2";
    TRELLIS_RETURN_IF_ERROR(tx.InsertGrant(a));
    TRELLIS_RETURN_IF_ERROR(tx.InsertGrant(other_survivor));
    return tx.InsertGrant(b);
  }).ok());
  r = other->GetRecordForRead(RecordKind::kCase, "c_1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->key.has_value());
  EXPECT_EQ(r->key->wrapped, std::string("w\x00k", 3));
  EXPECT_EQ(r->key->key_version, 2u);
  ASSERT_EQ(r->grants.size(), 2u);
  EXPECT_EQ(r->grants[0].id, "g_b");
  EXPECT_EQ(r->grants[1].id, "g_a");
  EXPECT_EQ(r->grants[1].sealed, g.sealed);
  EXPECT_EQ(r->grants[1].expires_at, g.expires_at);
  EXPECT_EQ(r->record.case_number, "TR-c_1");
  // Erasing the key shows at once.
  ASSERT_TRUE(store_->Write([&](Txn& tx) { return tx.DeleteDataKey("s_1"); }).ok());
  EXPECT_FALSE(other->GetRecordForRead(RecordKind::kCase, "c_1")->key.has_value());
}

TEST_P(StoreTest, ReopenKeepsDataAndSchema) {
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertRecord(MakeCase("c_1", "a_1", 1)); }).ok());
  store_.reset();
  store_ = Open();
  ASSERT_TRUE(store_);
  EXPECT_TRUE(store_->GetRecord(RecordKind::kCase, "c_1").ok());
  EXPECT_EQ(store_->ListAgencies()->size(), 2u);
}

// The TOTP second factor row: insert or replace, compare-and-set on the version (a code is
// accepted once even across app servers), delete, list; copied between backends.
TEST_P(StoreTest, SecondFactorRows) {
  UserRow u;
  u.user = {"u_1", "a_1", "maria", "Maria", domain::Role::kAttorney, false};
  u.password_hash = "$argon2id$x";
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.InsertUser(u); }).ok());
  EXPECT_EQ(store_->GetSecondFactor("u_1").status().code(), Code::kNotFound);
  SecondFactorRow r{"u_1", "pending", std::string("\x01\0sealed\xff", 9), 1, 0, "", 1, 10, 10};
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.PutSecondFactor(r); }).ok());
  r.state = "enabled";
  r.recovery_hashes = "aa,bb";
  r.version = 2;
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.PutSecondFactor(r); }).ok());  // replaces
  auto got = store_->GetSecondFactor("u_1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->secret_sealed, r.secret_sealed);
  EXPECT_EQ(got->state, "enabled");
  EXPECT_EQ(got->recovery_hashes, "aa,bb");
  // Two servers use one code: the first update wins, the second sees kConflict.
  auto other = Open();
  SecondFactorRow next = *got;
  next.last_step = 57;
  next.version = 3;
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.UpdateSecondFactor(next, 2); }).ok());
  EXPECT_EQ(other->Write([&](Txn& t) { return t.UpdateSecondFactor(next, 2); }).code(), Code::kConflict);
  EXPECT_EQ(other->GetSecondFactor("u_1")->last_step, 57);
  SecondFactorRow nobody = next;
  nobody.user_id = "u_nobody";
  EXPECT_EQ(store_->Write([&](Txn& t) { return t.UpdateSecondFactor(nobody, 2); }).code(), Code::kNotFound);
  EXPECT_EQ(store_->ListSecondFactors()->size(), 1u);
  for (const std::string& backend : trellis::testing::StoreBackends()) {
    ScratchStore target_dir(backend, "copy_second_factor");
    if (!target_dir.available()) continue;
    auto target = OpenStore(target_dir.location, {.create_if_missing = true});
    ASSERT_TRUE(target.ok());
    ASSERT_TRUE(CopyStore(*store_, **target).ok()) << backend;
    EXPECT_EQ((*target)->GetSecondFactor("u_1")->secret_sealed, r.secret_sealed) << backend;
  }
  ASSERT_TRUE(store_->Write([&](Txn& t) { return t.DeleteSecondFactor("u_1"); }).ok());
  EXPECT_EQ(store_->GetSecondFactor("u_1").status().code(), Code::kNotFound);
  EXPECT_TRUE(store_->ListSecondFactors()->empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::ValuesIn(trellis::testing::StoreBackends()),
                         trellis::testing::BackendName);

}  // namespace
}  // namespace trellis::storage
