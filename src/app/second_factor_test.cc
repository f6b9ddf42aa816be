// TOTP second factor use cases over a real SQLite store: enrolment, login with a code, replay,
// window, recovery codes, lockout, disabling, reset, sealing at rest and key rotation.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "app/app.h"
#include "crypto/totp.h"
#include "storage/store.h"
#include "support/app_fixture.h"
#include "support/harness.h"

namespace trellis::app {
namespace {

using domain::Role;
using testing::ReadFile;

constexpr char kPassword[] = "a good long passphrase";

class SecondFactorTest : public testing::AppFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(AppFixture::SetUp());
    other_ = app_->AddAgency(CliOperator(), "Clinic", domain::AgencyKind::kLegalServices)->id;
    AddUser(ngo_, "advocate1", Role::kAdvocate);
    AddUser(ngo_, "admin1", Role::kAdministrator);
    AddUser(other_, "admin2", Role::kAdministrator);
  }
  void AddUser(const std::string& agency, const std::string& name, Role role) {
    ASSERT_TRUE(app_->AddUser(CliOperator(), agency, name, name, role, kPassword).ok());
  }
  Principal Session(const std::string& name, const std::string& code = {}) {
    auto r = app_->Login(name, kPassword, "r", code);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->principal : Principal{};
  }
  std::string Code(int64_t offset_seconds = 0) {
    return crypto::TotpCode(secret_, clock_.NowSeconds() + offset_seconds);
  }
  // Enrols advocate1 and returns the recovery codes.
  std::vector<std::string> Enrol() {
    Principal p = Session("advocate1");
    auto begin = app_->BeginTotp(p, "r");
    EXPECT_TRUE(begin.ok()) << begin.status().ToString();
    secret_ = *crypto::Base32Decode(begin->secret_base32);
    EXPECT_NE(begin->otpauth_uri.find("otpauth://totp/Trellis:advocate1?secret=" + begin->secret_base32), std::string::npos);
    auto codes = app_->ConfirmTotp(p, Code(), "r");
    EXPECT_TRUE(codes.ok()) << codes.status().ToString();
    clock_.AdvanceSeconds(30);  // the confirming step is spent
    return codes.ok() ? *codes : std::vector<std::string>{};
  }

  std::string other_, secret_;
};

TEST_F(SecondFactorTest, EnrolThenLoginNeedsACurrentCodeOnce) {
  auto recovery = Enrol();
  ASSERT_EQ(recovery.size(), 10u);
  auto st = app_->SecondFactor(Session("advocate1", Code()));
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->enabled);
  EXPECT_EQ(st->recovery_codes_left, 10);
  clock_.AdvanceSeconds(30);

  // Right password, no code: a distinct answer naming the second factor.
  auto missing = app_->Login("advocate1", kPassword, "r");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(missing.status().field(), "second_factor");
  // Wrong code: exactly the answer of a wrong password.
  auto wrong = app_->Login("advocate1", kPassword, "r", Code() == "000000" ? "111111" : "000000");
  auto bad_password = app_->Login("advocate1", "not the passphrase", "r", Code());
  ASSERT_FALSE(wrong.ok());
  ASSERT_FALSE(bad_password.ok());
  EXPECT_EQ(wrong.status().ToString(), bad_password.status().ToString());
  EXPECT_TRUE(wrong.status().field().empty());
  // The right code works once; the same step is refused afterwards (replay).
  const std::string code = Code();
  EXPECT_TRUE(app_->Login("advocate1", kPassword, "r", code).ok());
  auto replay = app_->Login("advocate1", kPassword, "r", code);
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.status().ToString(), bad_password.status().ToString());
  // An older step (still inside the window) is refused once a later one was used.
  clock_.AdvanceSeconds(30);
  EXPECT_TRUE(app_->Login("advocate1", kPassword, "r", Code()).ok());
  EXPECT_FALSE(app_->Login("advocate1", kPassword, "r", Code(-30)).ok());
}

TEST_F(SecondFactorTest, WindowAcceptsOneStepOfClockDrift) {
  Enrol();
  clock_.AdvanceSeconds(300);
  EXPECT_TRUE(app_->Login("advocate1", kPassword, "r", Code(-30)).ok());
  clock_.AdvanceSeconds(300);
  EXPECT_TRUE(app_->Login("advocate1", kPassword, "r", Code(30)).ok());
  clock_.AdvanceSeconds(300);
  EXPECT_FALSE(app_->Login("advocate1", kPassword, "r", Code(-60)).ok());
  EXPECT_FALSE(app_->Login("advocate1", kPassword, "r", Code(90)).ok());
}

TEST_F(SecondFactorTest, RecoveryCodesWorkOnceEach) {
  auto recovery = Enrol();
  ASSERT_EQ(recovery.size(), 10u);
  EXPECT_EQ(recovery[0].size(), 11u);  // XXXXX-XXXXX
  std::string lower = recovery[0];
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_TRUE(app_->Login("advocate1", kPassword, "r", lower).ok());  // case and dash forgiven
  EXPECT_FALSE(app_->Login("advocate1", kPassword, "r", recovery[0]).ok());
  auto p = Session("advocate1", recovery[1]);
  EXPECT_EQ(app_->SecondFactor(p)->recovery_codes_left, 8);
  EXPECT_FALSE(app_->Login("advocate1", kPassword, "r", "ABCDE-FGHJK").ok());
}

TEST_F(SecondFactorTest, WrongCodesCountTowardTheLockout) {
  Enrol();
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(app_->Login("advocate1", kPassword, "r", "ZZZZZ-ZZZZZ").ok());
  // Locked now: even the right code fails, with the same message as a wrong password.
  auto locked = app_->Login("advocate1", kPassword, "r", Code());
  ASSERT_FALSE(locked.ok());
  EXPECT_EQ(locked.status().message(), "invalid username or password");
  clock_.AdvanceSeconds(3600);
  EXPECT_TRUE(app_->Login("advocate1", kPassword, "r", Code()).ok());
}

TEST_F(SecondFactorTest, ConfirmNeedsTheCurrentCodeAndBeginRefusesWhenOn) {
  Principal p = Session("advocate1");
  EXPECT_EQ(app_->ConfirmTotp(p, "123456", "r").status().code(), Code::kFailedPrecondition);
  auto begin = app_->BeginTotp(p, "r");
  ASSERT_TRUE(begin.ok());
  secret_ = *crypto::Base32Decode(begin->secret_base32);
  EXPECT_EQ(app_->ConfirmTotp(p, Code(120), "r").status().field(), "code");
  // Pending is not enabled: login still works with the password alone.
  EXPECT_TRUE(app_->Login("advocate1", kPassword, "r").ok());
  ASSERT_TRUE(app_->ConfirmTotp(p, Code(), "r").ok());
  EXPECT_EQ(app_->BeginTotp(p, "r").status().code(), Code::kConflict);
  // API tokens cannot manage the second factor.
  Principal bearer = app_->PrincipalFor(*app_->FindUser("advocate1"));
  EXPECT_EQ(app_->BeginTotp(bearer, "r").status().code(), Code::kForbidden);
}

TEST_F(SecondFactorTest, DisableNeedsPasswordAndCode) {
  Enrol();
  Principal p = Session("advocate1", Code());
  clock_.AdvanceSeconds(30);
  EXPECT_EQ(app_->DisableTotp(p, "wrong passphrase!", Code(), "r").field(), "code");
  EXPECT_EQ(app_->DisableTotp(p, kPassword, "000000", "r").code(), Code::kInvalidArgument);
  ASSERT_TRUE(app_->DisableTotp(p, kPassword, Code(), "r").ok());
  EXPECT_FALSE(app_->SecondFactor(p)->enabled);
  EXPECT_TRUE(app_->Login("advocate1", kPassword, "r").ok());
}

// Wrong codes sent in parallel (here to turn the second factor off, which needs the password
// and a code) all count toward the lockout: guessing codes concurrently gains nothing.
TEST_F(SecondFactorTest, ConcurrentWrongCodesAllCountTowardTheLockout) {
  Enrol();
  Principal p = Session("advocate1", Code());
  clock_.AdvanceSeconds(30);
  // As many attempts as the limit: the lock comes with the last failure, after every attempt
  // has read the user, so none is turned away as locked (uncounted) and the count is exact.
  const int attempts = app_->session_limits().max_failures_before_lockout;
  ASSERT_GE(attempts, 2);
  testing::RunTogether(attempts, [&] { EXPECT_EQ(app_->DisableTotp(p, kPassword, "ZZZZZ-ZZZZZ", "r").code(), Code::kInvalidArgument); });
  auto store = storage::OpenStore("sqlite:" + dir_ + "/trellis.db");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto row = (*store)->GetUserByName("advocate1");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->failed_logins, attempts);
  EXPECT_EQ(row->locked_until, clock_.NowMicros() + 60'000'000);  // locked for one minute
  // Locked: the right password and code are refused too, to turn it off and to log in.
  EXPECT_EQ(app_->DisableTotp(p, kPassword, Code(), "r").code(), Code::kInvalidArgument);
  EXPECT_FALSE(app_->Login("advocate1", kPassword, "r", Code()).ok());
  clock_.AdvanceSeconds(60);
  EXPECT_TRUE(app_->Login("advocate1", kPassword, "r", Code()).ok());
  EXPECT_TRUE(app_->SecondFactor(p)->enabled);
}

TEST_F(SecondFactorTest, AdministratorOfTheSameAgencyResets) {
  Enrol();
  const std::string id = app_->FindUser("advocate1")->id;
  Principal foreign_admin = Session("admin2");
  EXPECT_EQ(app_->ResetTotp(foreign_admin, id, "r").code(), Code::kNotFound);
  EXPECT_EQ(app_->ResetTotp(foreign_admin, "u_nobody", "r").code(), Code::kNotFound);
  Principal advocate = app_->PrincipalFor(*app_->FindUser("advocate1"));
  EXPECT_EQ(app_->ResetTotp(advocate, app_->FindUser("admin1")->id, "r").code(), Code::kNotFound);
  ASSERT_TRUE(app_->ResetTotp(Session("admin1"), id, "r").ok());
  EXPECT_TRUE(app_->Login("advocate1", kPassword, "r").ok());
  Enrol();
  ASSERT_TRUE(app_->ResetTotp(CliOperator(), id, "r").ok());
  EXPECT_TRUE(app_->Login("advocate1", kPassword, "r").ok());
}

TEST_F(SecondFactorTest, SecretSealedAtRestAndSurvivesKeyRotation) {
  auto recovery = Enrol();
  const std::string b32 = crypto::Base32Encode(secret_);
  ASSERT_TRUE(app_->RotateKeys("", false).ok());
  Reopen();
  EXPECT_TRUE(app_->Login("advocate1", kPassword, "r", Code()).ok());
  app_.reset();
  const std::string db = ReadFile(dir_ + "/trellis.db") + ReadFile(dir_ + "/trellis.db-wal") +
                         ReadFile(dir_ + "/trellis-audit.db") + ReadFile(dir_ + "/trellis-audit.db-wal");
  EXPECT_EQ(db.find(secret_), std::string::npos);
  EXPECT_EQ(db.find(b32), std::string::npos);
  for (const auto& c : recovery) {
    EXPECT_EQ(db.find(c), std::string::npos);
    EXPECT_EQ(db.find(c.substr(0, 5) + c.substr(6)), std::string::npos);
  }
}

}  // namespace
}  // namespace trellis::app
