// App conformance: the use cases that touch the store (sealing, optimistic concurrency, login
// and lockout, sessions, audit chain, key rotation, erasure, backup) on every backend, with two
// App instances on one store standing for two app servers.
#include <gtest/gtest.h>

#include <latch>
#include <thread>
#include <vector>

#include "app/app.h"
#include "crypto/totp.h"
#include "conformance/backends.h"
#include "storage/store.h"

namespace trellis::app {
namespace {

using domain::RecordKind;
using domain::Role;
using trellis::testing::ScratchStore;

class AppConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    TRELLIS_SKIP_IF_UNAVAILABLE(GetParam());
    scratch_ = std::make_unique<ScratchStore>(GetParam(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(App::Init({.data_dir = scratch_->dir + "/data", .store = Store(), .fast_kdf_for_tests = true}).ok());
    app_ = Open();
    ASSERT_TRUE(app_);
    ngo_ = app_->AddAgency(CliOperator(), "NGO", domain::AgencyKind::kNgoServiceProvider)->id;
    auto u = app_->AddUser(CliOperator(), ngo_, "advocate1", "Advocate", Role::kAdvocate, "a good long passphrase");
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    advocate_ = app_->PrincipalFor(*u);
  }
  void TearDown() override {
    app_.reset();
    scratch_.reset();
  }
  // SQLite keeps the default location (trellis.db in the data dir) so that path is covered too.
  std::string Store() const { return GetParam() == "Sqlite" ? "" : scratch_->location; }
  std::unique_ptr<App> Open() {
    auto a = App::Open({.data_dir = scratch_->dir + "/data", .store = Store(), .clock = &clock_});
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? std::move(a).value() : nullptr;
  }
  RecordView NewSurvivor(App& app, const std::string& first_name) {
    RecordInput in;
    in.set = {{"prs_FirstName", first_name}, {"prs_Gender", "Feminine"}};
    auto v = app.Create(advocate_, RecordKind::kSurvivor, in, "r");
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : RecordView{};
  }
  // Every byte the backend holds, through the backend-neutral export.
  std::string AllStoredBytes() {
    auto store = storage::OpenStore(Store().empty() ? "sqlite:" + scratch_->dir + "/data/trellis.db" : Store());
    EXPECT_TRUE(store.ok());
    std::string all;
    EXPECT_TRUE((*store)->ExportTables([&](const storage::TableRow& row) {
      for (const auto& c : row.cells) {
        if (auto* s = std::get_if<std::string>(&c)) all += *s + "\n";
      }
      return Status::Ok();
    }).ok());
    return all;
  }

  FakeClock clock_{1'780'000'000'000'000};
  std::unique_ptr<ScratchStore> scratch_;
  std::unique_ptr<App> app_;
  std::string ngo_;
  Principal advocate_;
};

TEST_P(AppConformance, InitTwiceIsRefused) {
  EXPECT_EQ(App::Init({.data_dir = scratch_->dir + "/other", .store = Store().empty() ? "sqlite:" + scratch_->dir + "/data/trellis.db" : Store()})
                .code(),
            Code::kAlreadyExists);
}

TEST_P(AppConformance, SealedFieldsNeverReachTheStoreInClear) {
  RecordView s = NewSurvivor(*app_, "CanaryFirstName");
  auto got = app_->Get(advocate_, RecordKind::kSurvivor, s.record.id, "r");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->record.fields.at("prs_FirstName"), "CanaryFirstName");
  const std::string bytes = AllStoredBytes();
  EXPECT_EQ(bytes.find("CanaryFirstName"), std::string::npos);
  EXPECT_NE(bytes.find("Feminine"), std::string::npos);
}

// Evidence on every backend: a file written by one server is read, named in a release and
// downloaded by another agency through the second server; revoked, gone; never in clear at rest.
TEST_P(AppConformance, EvidenceItemsAcrossServersAndAgencies) {
  const std::string file = "%PDF-1.4\n% CanaryEvidenceBytes\n%%EOF\n";
  RecordView s = NewSurvivor(*app_, "Ana");
  auto item = app_->CreateEvidence(advocate_, {s.record.id, "", "CanaryEvidenceTitle", "written_statement", "", ""}, "r");
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  ASSERT_TRUE(app_->PutEvidenceContent(advocate_, item->id, "application/pdf", file, "r").ok());
  auto other = Open();
  ASSERT_TRUE(other);
  auto le = other->AddAgency(CliOperator(), "Sheriff", domain::AgencyKind::kLawEnforcementLocal);
  ASSERT_TRUE(le.ok());
  auto u = other->AddUser(CliOperator(), le->id, "officer1", "Officer", Role::kLeVictimSpecialist, "a good long passphrase");
  ASSERT_TRUE(u.ok());
  Principal officer = other->PrincipalFor(*u);
  EXPECT_EQ(other->GetEvidenceContent(officer, item->id, "r").status().code(), Code::kNotFound);
  ReleaseInput rel;
  rel.survivor_id = s.record.id;
  rel.recipient_agency_id = le->id;
  rel.evidence_ids = {item->id};
  rel.purpose = "investigation";
  rel.expires_on = FormatDate(clock_.NowMicros() + 5 * 86'400'000'000LL);
  rel.signers = {{"survivor", "Ana"}};
  auto g = app_->CreateRelease(advocate_, rel, "r");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  auto f = other->GetEvidenceContent(officer, item->id, "r");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->bytes, file);
  ASSERT_TRUE(app_->RevokeGrant(advocate_, g->id, "survivor_request", "r").ok());
  EXPECT_EQ(other->GetEvidenceContent(officer, item->id, "r").status().code(), Code::kNotFound);
  const std::string bytes = AllStoredBytes();
  EXPECT_EQ(bytes.find("CanaryEvidenceBytes"), std::string::npos);
  EXPECT_EQ(bytes.find("CanaryEvidenceTitle"), std::string::npos);
}

TEST_P(AppConformance, TwoServersConflictAndShareSessions) {
  auto other = Open();
  ASSERT_TRUE(other);
  RecordView s = NewSurvivor(*app_, "Ana");
  RecordInput up;
  up.set = {{"prs_FirstName", "Ana María"}};
  ASSERT_TRUE(other->Update(advocate_, RecordKind::kSurvivor, s.record.id, s.record.version, up, "r").ok());
  EXPECT_EQ(app_->Update(advocate_, RecordKind::kSurvivor, s.record.id, s.record.version, up, "r").status().code(),
            Code::kConflict);
  EXPECT_EQ(app_->Get(advocate_, RecordKind::kSurvivor, s.record.id, "r")->record.fields.at("prs_FirstName"), "Ana María");
  // A session made by one server authenticates on the other; logout on one ends it on both.
  auto login = app_->Login("advocate1", "a good long passphrase", "r");
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  auto p = other->AuthenticateSession(login->session_token);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(other->Logout(*p, "r").ok());
  EXPECT_FALSE(app_->AuthenticateSession(login->session_token).ok());
}

TEST_P(AppConformance, LockoutIsSharedByServers) {
  auto other = Open();
  ASSERT_TRUE(other);
  for (int i = 0; i < 6; ++i) {
    App& a = i % 2 ? *other : *app_;
    EXPECT_FALSE(a.Login("advocate1", "wrong password, long enough", "r").ok());
  }
  // Locked on both, even with the right password.
  EXPECT_FALSE(app_->Login("advocate1", "a good long passphrase", "r").ok());
  EXPECT_FALSE(other->Login("advocate1", "a good long passphrase", "r").ok());
}

// Wrong passwords sent at once to two servers all count (the store increments the counter):
// as many as the limit lock the account on both.
TEST_P(AppConformance, ConcurrentFailuresOnTwoServersAllCount) {
  auto other = Open();
  ASSERT_TRUE(other);
  // As many attempts as the limit: the lock comes with the last failure, after every attempt
  // has read the user, so none is turned away as locked (uncounted) and the count is exact.
  const int attempts = app_->session_limits().max_failures_before_lockout;
  std::latch start(attempts);
  std::vector<std::thread> threads;
  for (int i = 0; i < attempts; ++i) {
    threads.emplace_back([&, i] {
      App& a = i % 2 ? *other : *app_;
      start.arrive_and_wait();
      EXPECT_FALSE(a.Login("advocate1", "wrong password, long enough", "r").ok());
    });
  }
  for (auto& t : threads) t.join();
  auto store = storage::OpenStore(Store().empty() ? "sqlite:" + scratch_->dir + "/data/trellis.db" : Store());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto row = (*store)->GetUserByName("advocate1");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->failed_logins, attempts);
  EXPECT_EQ(row->locked_until, clock_.NowMicros() + 60'000'000);
  EXPECT_FALSE(app_->Login("advocate1", "a good long passphrase", "r").ok());
  EXPECT_FALSE(other->Login("advocate1", "a good long passphrase", "r").ok());
  clock_.AdvanceSeconds(60);
  EXPECT_TRUE(other->Login("advocate1", "a good long passphrase", "r").ok());
}

TEST_P(AppConformance, AuditChainOfTwoServersVerifies) {
  auto other = Open();
  ASSERT_TRUE(other);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      App& a = t % 2 ? *other : *app_;
      for (int i = 0; i < 8; ++i) NewSurvivor(a, "n" + std::to_string(t) + "_" + std::to_string(i));
    });
  }
  for (auto& th : threads) th.join();
  auto v = other->VerifyAudit();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->reason << " at " << v->first_bad_seq;
  EXPECT_GE(v->entries, 32);
  EXPECT_TRUE(app_->Integrity().ok());
}

TEST_P(AppConformance, RotateEraseBackup) {
  RecordView keep = NewSurvivor(*app_, "Keep");
  RecordView gone = NewSurvivor(*app_, "Gone");
  auto n = app_->RotateKeys("", false);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2);
  auto other = Open();  // another server reads the re-wrapped keys with the new ring file
  ASSERT_TRUE(other);
  EXPECT_EQ(other->Get(advocate_, RecordKind::kSurvivor, keep.record.id, "r")->record.fields.at("prs_FirstName"), "Keep");
  ASSERT_TRUE(app_->EraseSurvivor(CliOperator(ngo_), gone.record.id, "r").ok());
  EXPECT_EQ(other->Get(advocate_, RecordKind::kSurvivor, gone.record.id, "r").status().code(), Code::kNotFound);
  EXPECT_TRUE(app_->Backup(scratch_->dir + "/backup.trellis", false).ok());
  auto v = app_->VerifyAudit();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->reason;
}

// TOTP (S8) on two app servers: a code is accepted once across them; the secret and the
// recovery codes never reach the store in clear; key rotation re-seals the secret.
TEST_P(AppConformance, SecondFactorAcrossServers) {
  auto login = app_->Login("advocate1", "a good long passphrase", "r");
  ASSERT_TRUE(login.ok());
  auto begin = app_->BeginTotp(login->principal, "r");
  ASSERT_TRUE(begin.ok()) << begin.status().ToString();
  const std::string secret = *crypto::Base32Decode(begin->secret_base32);
  auto recovery = app_->ConfirmTotp(login->principal, crypto::TotpCode(secret, clock_.NowSeconds()), "r");
  ASSERT_TRUE(recovery.ok()) << recovery.status().ToString();
  clock_.AdvanceSeconds(30);
  auto other = Open();
  ASSERT_TRUE(other);
  const std::string code = crypto::TotpCode(secret, clock_.NowSeconds());
  EXPECT_EQ(other->Login("advocate1", "a good long passphrase", "r").status().field(), "second_factor");
  EXPECT_TRUE(other->Login("advocate1", "a good long passphrase", "r", code).ok());
  EXPECT_FALSE(app_->Login("advocate1", "a good long passphrase", "r", code).ok());  // replay on the other server
  EXPECT_TRUE(app_->Login("advocate1", "a good long passphrase", "r", (*recovery)[0]).ok());
  EXPECT_FALSE(other->Login("advocate1", "a good long passphrase", "r", (*recovery)[0]).ok());
  const std::string all = AllStoredBytes();
  EXPECT_EQ(all.find(secret), std::string::npos);
  EXPECT_EQ(all.find(begin->secret_base32), std::string::npos);
  for (const auto& c : *recovery) EXPECT_EQ(all.find(c), std::string::npos);
  ASSERT_TRUE(app_->RotateKeys("", false).ok());
  clock_.AdvanceSeconds(30);
  auto third = Open();  // reads the re-sealed secret with the new ring file
  ASSERT_TRUE(third);
  EXPECT_TRUE(third->Login("advocate1", "a good long passphrase", "r", crypto::TotpCode(secret, clock_.NowSeconds())).ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, AppConformance, ::testing::ValuesIn(trellis::testing::StoreBackends()),
                         trellis::testing::BackendName);

}  // namespace
}  // namespace trellis::app
