// Use-case tests over a real SQLite store in a temporary data directory.
#include "app/app.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <csignal>

#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "app/leftovers.h"
#include "core/ids.h"
#include "core/rng.h"
#include "storage/store.h"
#include "support/app_fixture.h"
#include "support/harness.h"
#include "support/test_dir.h"

namespace trellis::app {
namespace {

namespace fs = std::filesystem;
using domain::RecordKind;
using domain::Role;
using testing::ReadFile;

class AppTest : public testing::AppFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(AppFixture::SetUp());
    le_ = app_->AddAgency(CliOperator(), "Sheriff", domain::AgencyKind::kLawEnforcementLocal)->id;
    advocate_ = User(ngo_, "advocate1", Role::kAdvocate);
    attorney_ = User(ngo_, "attorney1", Role::kAttorney);
    supervisor_ = User(ngo_, "supervisor1", Role::kSupervisor);
    auditor_ = User(ngo_, "auditor1", Role::kAuditor);
    officer_ = User(le_, "officer1", Role::kLeVictimSpecialist);
  }
  RecordView NewSurvivor(const Principal& p, std::map<std::string, std::string> fields) {
    RecordInput in;
    in.set = std::move(fields);
    auto v = app_->Create(p, RecordKind::kSurvivor, in, "r1");
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return *v;
  }

  std::string le_;
  Principal advocate_, attorney_, supervisor_, auditor_, officer_;
};

TEST_F(AppTest, CreateReadSealsIdentifyingFields) {
  RecordView s = NewSurvivor(advocate_, {{"prs_FirstName", "CanaryFirst"}, {"prs_Gender", "Feminine"}});
  auto got = app_->Get(advocate_, RecordKind::kSurvivor, s.record.id, "r2");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->record.fields.at("prs_FirstName"), "CanaryFirst");
  app_.reset();
  std::string db = ReadFile(dir_ + "/trellis.db") + ReadFile(dir_ + "/trellis.db-wal") +
                   ReadFile(dir_ + "/trellis-audit.db") + ReadFile(dir_ + "/trellis-audit.db-wal");
  EXPECT_EQ(db.find("CanaryFirst"), std::string::npos);
  EXPECT_NE(db.find("Feminine"), std::string::npos);  // statistical fields are not sealed
}

// Inside an AuditDeferral a read returns before its entry commits; Finish reports when it is
// durable, and a scope closed without Finish waits (the synchronous behaviour).
TEST_F(AppTest, AuditDeferralReportsWhenTheReadIsRecorded) {
  RecordView s = NewSurvivor(advocate_, {{"prs_FirstName", "Ana"}});
  const int64_t before = app_->VerifyAudit()->entries;
  std::promise<Status> durable;
  {
    AuditDeferral deferral;
    auto got = app_->Get(advocate_, RecordKind::kSurvivor, s.record.id, "r-deferred");
    ASSERT_TRUE(got.ok());
    EXPECT_FALSE(app_->Get(officer_, RecordKind::kSurvivor, s.record.id, "r-deferred").ok());  // deny, audited
    deferral.Finish([&](const Status& st) { durable.set_value(st); });
  }
  EXPECT_TRUE(durable.get_future().get().ok());
  auto after = app_->VerifyAudit();
  EXPECT_TRUE(after->ok);
  EXPECT_EQ(after->entries, before + 2);
  {
    AuditDeferral deferral;
    ASSERT_TRUE(app_->Get(advocate_, RecordKind::kSurvivor, s.record.id, "r-sync").ok());
  }
  EXPECT_EQ(app_->VerifyAudit()->entries, before + 3);
  bool called = false;
  {
    AuditDeferral deferral;
    deferral.Finish([&](const Status& st) { called = st.ok(); });  // nothing queued: at once
  }
  EXPECT_TRUE(called);
}

TEST_F(AppTest, OtherAgencySeesNothingAndDenialLooksLikeMissing) {
  RecordView s = NewSurvivor(advocate_, {{"prs_FirstName", "Ana"}});
  auto denied = app_->Get(officer_, RecordKind::kSurvivor, s.record.id, "r");
  auto missing = app_->Get(officer_, RecordKind::kSurvivor, "s_aaaaaaaaaaaaaaaaaaaaaaaaaa", "r");
  EXPECT_EQ(denied.status().code(), Code::kNotFound);
  EXPECT_EQ(denied.status().ToString(), missing.status().ToString());
  auto list = app_->List(officer_, {.kind = RecordKind::kSurvivor}, "r");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->items.empty());
  EXPECT_EQ(app_->Get(auditor_, RecordKind::kSurvivor, s.record.id, "r").status().code(), Code::kNotFound);
}

TEST_F(AppTest, WorkProductAndLocationRedaction) {
  RecordView s = NewSurvivor(advocate_, {{"prs_FirstName", "Ana"}, {"prs_MailingCity", "Lakeside"}});
  RecordInput cin;
  cin.survivor_id = s.record.id;
  cin.team = std::vector<std::string>{advocate_.user.id, attorney_.user.id};
  cin.set = {{"cas_Status", "Active"}, {"trl_AttorneyWorkProduct", "theory of the case"}};
  EXPECT_EQ(app_->Create(advocate_, RecordKind::kCase, cin, "r").status().code(), Code::kForbidden);
  auto c = app_->Create(attorney_, RecordKind::kCase, cin, "r");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto as_adv = app_->Get(advocate_, RecordKind::kCase, c->record.id, "r");
  ASSERT_TRUE(as_adv.ok());
  EXPECT_EQ(as_adv->record.fields.count("trl_AttorneyWorkProduct"), 0u);
  EXPECT_EQ(as_adv->redacted, std::vector<std::string>{"trl_AttorneyWorkProduct"});
  EXPECT_EQ(app_->Get(attorney_, RecordKind::kCase, c->record.id, "r")->record.fields.at("trl_AttorneyWorkProduct"),
            "theory of the case");
  // The supervisor is not on the survivor's team: no location.
  auto sup = app_->Get(supervisor_, RecordKind::kSurvivor, s.record.id, "r");
  ASSERT_TRUE(sup.ok());
  EXPECT_EQ(sup->record.fields.count("prs_MailingCity"), 0u);
  EXPECT_EQ(sup->record.fields.at("prs_FirstName"), "Ana");
}

TEST_F(AppTest, UpdateWithOptimisticConcurrency) {
  RecordView s = NewSurvivor(advocate_, {{"prs_FirstName", "Ana"}});
  RecordInput up;
  up.set = {{"prs_FirstName", "Ana Maria"}};
  auto v2 = app_->Update(advocate_, RecordKind::kSurvivor, s.record.id, 1, up, "r");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->record.version, 2);
  EXPECT_EQ(app_->Update(advocate_, RecordKind::kSurvivor, s.record.id, 1, up, "r").status().code(), Code::kConflict);
  RecordInput bad;
  bad.set = {{"prs_Birthdate", "2001-02-30"}};
  auto b = app_->Update(advocate_, RecordKind::kSurvivor, s.record.id, 2, bad, "r");
  EXPECT_EQ(b.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(b.status().field(), "prs_Birthdate");
  EXPECT_EQ(app_->Get(advocate_, RecordKind::kSurvivor, s.record.id, "r")->record.version, 2);
}

TEST_F(AppTest, LoginLockoutAndSessions) {
  auto bad_user = app_->Login("nobody", "a good long passphrase", "r");
  auto bad_pw = app_->Login("advocate1", "wrong password!!", "r");
  EXPECT_EQ(bad_user.status().ToString(), bad_pw.status().ToString());
  auto ok = app_->Login("advocate1", "a good long passphrase", "r");
  ASSERT_TRUE(ok.ok());
  auto p = app_->AuthenticateSession(ok->session_token);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(app_->CheckCsrf(*p, ok->csrf_token));
  EXPECT_FALSE(app_->CheckCsrf(*p, "nope"));
  clock_.AdvanceSeconds(31 * 60);  // idle timeout
  EXPECT_FALSE(app_->AuthenticateSession(ok->session_token).ok());
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(app_->Login("advocate1", "wrong password!!", "r").ok());
  // Locked: even the right password fails, with the same message.
  auto locked = app_->Login("advocate1", "a good long passphrase", "r");
  EXPECT_EQ(locked.status().ToString(), bad_pw.status().ToString());
  clock_.AdvanceSeconds(120);
  EXPECT_TRUE(app_->Login("advocate1", "a good long passphrase", "r").ok());
  EXPECT_EQ(app_->AddUser(CliOperator(), ngo_, "weak", "", Role::kAdvocate, "password1234").status().field(), "password");
  EXPECT_EQ(app_->AddUser(CliOperator(), ngo_, "shorty", "", Role::kAdvocate, "short").status().field(), "password");
}

// A store constraint that a data write breaks is the caller's conflict (a username taken:
// kAlreadyExists, 409); a failure to append the audit entry is a fault of the server (kInternal,
// 500) whatever the store reports — the injected failure is an abort in a trigger, which SQLite
// reports as a constraint error.
TEST_F(AppTest, AFailedAuditAppendIsInternalAndAConstraintOfADataWriteAConflict) {
  auto taken = app_->AddUser(CliOperator(), ngo_, "advocate1", "", Role::kAdvocate, "a good long passphrase");
  EXPECT_EQ(taken.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(taken.status().field(), "username");
  {
    testing::FailingAuditEntries failing(dir_, "user.create");
    ASSERT_TRUE(failing.ok());
    auto unaudited = app_->AddUser(CliOperator(), ngo_, "advocate2", "", Role::kAdvocate, "a good long passphrase");
    EXPECT_EQ(unaudited.status().code(), Code::kInternal) << unaudited.status().ToString();
    EXPECT_TRUE(unaudited.status().field().empty());
  }
  // Deferred (as the server answers reads): the same code reaches the response.
  RecordView s = NewSurvivor(advocate_, {{"prs_FirstName", "Ana"}});
  testing::FailingAuditEntries failing(dir_, s.record.id);
  ASSERT_TRUE(failing.ok());
  std::promise<Status> durable;
  {
    AuditDeferral deferral;
    ASSERT_TRUE(app_->Get(advocate_, RecordKind::kSurvivor, s.record.id, "r").ok());
    deferral.Finish([&](const Status& st) { durable.set_value(st); });
  }
  EXPECT_EQ(durable.get_future().get().code(), Code::kInternal);
}

// Wrong passwords sent in parallel all count: each failure is one increment in the store, not a
// write of the count read before the (slow) password check, so guessing concurrently locks the
// account out exactly like guessing in turn.
TEST_F(AppTest, ConcurrentWrongPasswordsAllCountTowardTheLockout) {
  // As many attempts as the limit: the lock comes with the last failure, after every attempt
  // has read the user, so none is turned away as locked (uncounted) and the count is exact.
  const int attempts = app_->session_limits().max_failures_before_lockout;
  ASSERT_GE(attempts, 2);
  testing::RunTogether(attempts, [&] { EXPECT_FALSE(app_->Login("advocate1", "wrong password!!", "r").ok()); });
  auto store = storage::OpenStore("sqlite:" + dir_ + "/trellis.db");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto row = (*store)->GetUserByName("advocate1");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->failed_logins, attempts);
  EXPECT_EQ(row->locked_until, clock_.NowMicros() + 60'000'000);  // locked for one minute
  EXPECT_FALSE(app_->Login("advocate1", "a good long passphrase", "r").ok());
  clock_.AdvanceSeconds(59);
  EXPECT_FALSE(app_->Login("advocate1", "a good long passphrase", "r").ok());
  clock_.AdvanceSeconds(1);
  EXPECT_TRUE(app_->Login("advocate1", "a good long passphrase", "r").ok());
  EXPECT_EQ((*store)->GetUserByName("advocate1")->failed_logins, 0);
}

// The backoff through the app: a failure after the first lock ran out doubles it; a failure
// while locked is not counted; a successful login resets the count.
TEST_F(AppTest, LockoutDoublesWithTheNextFailure) {
  const int limit = app_->session_limits().max_failures_before_lockout;
  for (int i = 0; i < limit; ++i) EXPECT_FALSE(app_->Login("advocate1", "wrong password!!", "r").ok());
  auto store = storage::OpenStore("sqlite:" + dir_ + "/trellis.db");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->GetUserByName("advocate1")->locked_until, clock_.NowMicros() + 60'000'000);
  clock_.AdvanceSeconds(60);
  EXPECT_FALSE(app_->Login("advocate1", "wrong password!!", "r").ok());
  auto row = (*store)->GetUserByName("advocate1");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->failed_logins, limit + 1);
  EXPECT_EQ(row->locked_until, clock_.NowMicros() + 120'000'000);  // two minutes
  EXPECT_FALSE(app_->Login("advocate1", "wrong password!!", "r").ok());
  EXPECT_EQ((*store)->GetUserByName("advocate1")->failed_logins, limit + 1);
  clock_.AdvanceSeconds(119);
  EXPECT_FALSE(app_->Login("advocate1", "a good long passphrase", "r").ok());
  clock_.AdvanceSeconds(1);
  EXPECT_TRUE(app_->Login("advocate1", "a good long passphrase", "r").ok());
  EXPECT_EQ((*store)->GetUserByName("advocate1")->failed_logins, 0);
}

TEST_F(AppTest, BearerTokens) {
  auto token = app_->CreateToken(CliOperator(), "advocate1", "script", 3600);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(app_->AuthenticateBearer(*token)->user.username, "advocate1");
  EXPECT_FALSE(app_->AuthenticateBearer(*token + "x").ok());
  clock_.AdvanceSeconds(3601);
  EXPECT_FALSE(app_->AuthenticateBearer(*token).ok());
}

TEST_F(AppTest, AuditChainVerifiesAndRecordsDecisions) {
  RecordView s = NewSurvivor(advocate_, {{"prs_FirstName", "Ana"}});
  ASSERT_TRUE(app_->Get(officer_, RecordKind::kSurvivor, s.record.id, "r").status().code() == Code::kNotFound);
  auto v = app_->VerifyAudit();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->reason;
  EXPECT_GT(v->entries, 5);
}

// A leftover audit file is never taken over by a new store.
TEST(AppInitTest, RefusesALeftoverAuditFile) {
  const testing::TestDir test_dir;
  const std::string& dir = test_dir.path();
  std::ofstream(dir + "/trellis-audit.db") << "";
  EXPECT_EQ(App::Init({dir}).code(), Code::kAlreadyExists);
  EXPECT_FALSE(fs::exists(dir + "/trellis.db"));
}

// A store of the one-file layout (before the audit file) is moved on open and still verifies.
TEST_F(AppTest, OneFileStoreMovedToTheAuditFileStillVerifies) {
  RecordView s = NewSurvivor(advocate_, {{"prs_FirstName", "Ana"}});
  ASSERT_TRUE(app_->Get(advocate_, RecordKind::kSurvivor, s.record.id, "r").ok());
  const int64_t entries = app_->VerifyAudit()->entries;
  app_.reset();
  const std::string store = dir_ + "/trellis.db", audit = dir_ + "/trellis-audit.db";
  ASSERT_TRUE(fs::exists(audit));
  ASSERT_TRUE(storage::FoldSqliteAuditFile(store).ok());  // the layout of older stores
  ASSERT_FALSE(fs::exists(audit));
  Reopen();
  EXPECT_TRUE(fs::exists(audit));
  auto v = app_->VerifyAudit();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->ok) << v->reason;
  EXPECT_EQ(v->entries, entries);
  EXPECT_EQ(app_->Get(advocate_, RecordKind::kSurvivor, s.record.id, "r")->record.fields.at("prs_FirstName"), "Ana");
}

// Backup (one file) and restore (two files): the audit chain of the backup comes back and
// verifies; the replaced store's later entries do not survive beside it; no file is left over.
TEST_F(AppTest, BackupRestoreRoundTripKeepsTheAuditChain) {
  RecordView s = NewSurvivor(advocate_, {{"prs_FirstName", "Ana"}});
  const std::string backup = dir_ + "/../" + std::to_string(::getpid()) + "_chain_backup.trb";
  ASSERT_TRUE(app_->Backup(backup, /*include_keys=*/true).ok());
  const int64_t at_backup = app_->VerifyAudit()->entries;  // includes backup.create (after the snapshot)
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(app_->Get(advocate_, RecordKind::kSurvivor, s.record.id, "r").ok());
  ASSERT_GT(app_->VerifyAudit()->entries, at_backup + 4);
  app_.reset();
  ASSERT_TRUE(Restore(dir_, "", backup).ok());
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(dir_)) files.insert(e.path().filename().string());
  EXPECT_EQ(files, (std::set<std::string>{"keyring", "trellis.db", "trellis-audit.db"}));
  Reopen();
  auto v = app_->VerifyAudit();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->ok) << v->reason;
  // The snapshot's entries: all but backup.create, which is appended after it.
  EXPECT_EQ(v->entries, at_backup - 1);
  EXPECT_EQ(app_->Get(advocate_, RecordKind::kSurvivor, s.record.id, "r")->record.fields.at("prs_FirstName"), "Ana");
  std::remove(backup.c_str());
}

// Plants in `dir` what a restore or a backup (`prefix`: ".restore-" or ".backup-") never makes,
// named almost or exactly like its temporary files of id `id`: the regular files `near_misses`,
// one named with the id in capitals, a directory and a symbolic link (to near_misses[0]) named
// exactly like one. Appends every name planted to `planted`, near_misses first.
void PlantLookAlikes(const std::string& dir, const std::string& prefix, const std::string& id,
                     const std::vector<std::string>& near_misses, std::vector<std::string>* planted) {
  std::vector<std::string> names = near_misses;
  std::string upper = id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  names.push_back(prefix + upper + ".db");
  for (const std::string& name : names) std::ofstream(dir + "/" + name) << "not " + prefix + "'s";
  const std::string dir_named_like_one = prefix + NewRandomId(SystemRng(), "t") + ".db";
  ASSERT_TRUE(fs::create_directory(dir + "/" + dir_named_like_one));
  const std::string link_named_like_one = prefix + NewRandomId(SystemRng(), "t") + "-audit.db";
  fs::create_symlink(near_misses[0], dir + "/" + link_named_like_one);
  names.push_back(dir_named_like_one);
  names.push_back(link_named_like_one);
  planted->insert(planted->end(), names.begin(), names.end());
}

// A restore cut short (killed, power loss) leaves its temporary files — a decrypted copy of the
// store and its audit file — in the data directory. The next restore, and the next open of the
// store, remove them unless a restore is running (it holds a lock on the directory); nothing
// else is removed, only files named exactly as a restore names them. A restore that fails
// leaves none of its own.
TEST_F(AppTest, RestoreLeftoversAreRemovedAndOnlyThose) {
  RecordView s = NewSurvivor(advocate_, {{"prs_FirstName", "Ana"}});
  const std::string backup = dir_ + "/../" + std::to_string(::getpid()) + "_leftover_backup.trb";
  ASSERT_TRUE(app_->Backup(backup, /*include_keys=*/false).ok());
  const std::string damaged = backup + ".damaged";
  {
    const std::string bytes = ReadFile(backup);
    std::ofstream(damaged, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  app_.reset();
  auto copy = [&](const std::string& from, const std::string& to) {
    ASSERT_TRUE(fs::copy_file(dir_ + "/" + from, dir_ + "/" + to, fs::copy_options::overwrite_existing));
  };
  // What an interrupted restore leaves: the copy, its audit file, SQLite's files beside them.
  auto leave_leftovers = [&]() {
    std::vector<std::string> names;
    const std::string t = ".restore-" + NewRandomId(SystemRng(), "t");
    copy("trellis.db", t + ".db");
    copy("trellis-audit.db", t + "-audit.db");
    for (const std::string& name : {t + ".db", t + "-audit.db"}) names.push_back(name);
    for (const std::string& name : {t + ".db-wal", t + ".db-shm", t + "-audit.db-wal", t + "-audit.db-journal"}) {
      std::ofstream(dir_ + "/" + name) << "x";
      names.push_back(name);
    }
    return names;
  };
  // Files a restore never makes, some named almost like its own: never removed.
  const std::string id = NewRandomId(SystemRng(), "t");
  std::vector<std::string> keep;
  PlantLookAlikes(dir_, ".restore-", id,
                  {".restore-" + id + ".db.bak", ".restore-" + id + "-audit.db~", ".restore-notes.db",
                   ".restore-t_short-audit.db", "restore-" + id + ".db", ".restore_" + id + ".db",
                   ".restore-" + id + "-old.db", ".restore-" + id + ".db-wal.1"},
                  &keep);
  if (HasFatalFailure()) return;
  auto files = [&]() {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.insert(e.path().filename().string());
    return out;
  };
  std::set<std::string> expected = {"keyring", "trellis.db", "trellis-audit.db"};
  expected.insert(keep.begin(), keep.end());

  // A restore removes the leftovers first; failing (a damaged backup), it leaves none of its own.
  leave_leftovers();
  EXPECT_FALSE(Restore(dir_, "", damaged).ok());
  EXPECT_EQ(files(), expected);

  // Opening the store removes them, but not while a restore holds the directory.
  std::vector<std::string> left = leave_leftovers();
  {
    const int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // as a restore in progress does
    Reopen();
    app_.reset();
    ::close(fd);
  }
  for (const std::string& name : left) EXPECT_TRUE(fs::exists(dir_ + "/" + name)) << name;
  Reopen();
  app_.reset();
  EXPECT_EQ(files(), expected);

  // A restore that succeeds leaves exactly the store, its audit file and what was there before.
  leave_leftovers();
  ASSERT_TRUE(Restore(dir_, "", backup).ok());
  EXPECT_EQ(files(), expected);
  Reopen();
  EXPECT_EQ(app_->Get(advocate_, RecordKind::kSurvivor, s.record.id, "r")->record.fields.at("prs_FirstName"), "Ana");
  std::remove(backup.c_str());
  std::remove(damaged.c_str());
}

// The names in the data directory that mention "backup" (every file a backup makes, and the
// look-alikes of BackupLeftoversAreRemovedAndOnlyThose).
std::set<std::string> BackupNames(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find("backup") != std::string::npos) out.insert(name);
  }
  return out;
}

// A backup makes a copy of the store in the data directory (.backup-<id>.db and the audit file
// beside it), which holds every data key until they are stripped, under a lock file of its own
// (.backup-<id>.lock, flock held while it runs). One cut short (killed, power loss) leaves them:
// the next backup, every open of the store and every erasure remove them — files named exactly
// so, and nothing else — but never while the backup that made them holds its lock. A backup,
// whether it succeeds or fails, leaves none of its own.
TEST_F(AppTest, BackupLeftoversAreRemovedAndOnlyThose) {
  RecordView s = NewSurvivor(advocate_, {{"prs_FirstName", "Ana"}});
  const std::string out = dir_ + "/out";
  ASSERT_TRUE(fs::create_directory(out));
  auto copy = [&](const std::string& from, const std::string& to) {
    ASSERT_TRUE(fs::copy_file(dir_ + "/" + from, dir_ + "/" + to, fs::copy_options::overwrite_existing));
  };
  // What an interrupted backup leaves: the copy, its audit file, SQLite's files beside them, and
  // (unless it was cut short before making it) its lock file, no longer locked.
  auto leave_leftovers = [&](bool lock_file) {
    const std::string t = ".backup-" + NewRandomId(SystemRng(), "t");
    copy("trellis.db", t + ".db");
    copy("trellis-audit.db", t + "-audit.db");
    std::vector<std::string> extra = {t + ".db-wal", t + ".db-shm", t + ".db-journal", t + "-audit.db-journal"};
    if (lock_file) extra.push_back(t + ".lock");
    for (const std::string& name : extra) std::ofstream(dir_ + "/" + name) << "x";
    return t;
  };
  // Files a backup never makes, some named almost like its own: never removed.
  const std::string id = NewRandomId(SystemRng(), "t");
  std::vector<std::string> keep;
  PlantLookAlikes(dir_, ".backup-", id,
                  {".backup-" + id + ".db.bak", ".backup-" + id + ".lock~", ".backup-notes.db", ".backup-t_short.db",
                   "backup-" + id + ".db", ".backup-" + id + "-old.db", ".backup-" + id + ".db-wal.1",
                   ".backup-" + id + ".lock.db", ".backup-" + id + ".LOCK", ".backup-.lock", "my-backup.db"},
                  &keep);
  if (HasFatalFailure()) return;
  const std::string link_named_like_a_lock = ".backup-" + NewRandomId(SystemRng(), "t") + ".lock";
  fs::create_symlink(keep[1], dir_ + "/" + link_named_like_a_lock);
  keep.push_back(link_named_like_a_lock);
  const std::set<std::string> expected(keep.begin(), keep.end());

  // The next backup removes them first; it succeeds and leaves none of its own.
  leave_leftovers(true);
  leave_leftovers(false);
  ASSERT_TRUE(app_->Backup(out + "/1.trb", /*include_keys=*/false).ok());
  EXPECT_EQ(BackupNames(dir_), expected);
  // So does opening the store; so does an erasure (the copies hold the erased survivor's key).
  leave_leftovers(true);
  leave_leftovers(false);
  std::ofstream(dir_ + "/.backup-" + NewRandomId(SystemRng(), "t") + ".lock");  // a lock file alone
  Reopen();
  EXPECT_EQ(BackupNames(dir_), expected);
  leave_leftovers(true);
  leave_leftovers(false);
  RecordView gone = NewSurvivor(advocate_, {{"prs_FirstName", "Gone"}});
  auto erased = app_->EraseSurvivor(supervisor_, gone.record.id, "r");
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(*erased, 0);  // the backups that left these are not running
  EXPECT_EQ(BackupNames(dir_), expected);

  // A backup that fails (here: it cannot write its output) leaves none of its own either.
  EXPECT_FALSE(app_->Backup(out + "/no/such/dir/2.trb", /*include_keys=*/false).ok());
  EXPECT_EQ(BackupNames(dir_), expected);

  // A running backup's files (its lock file held, as a backup in progress holds it) are kept by
  // all three, until it no longer holds the lock.
  const std::string running = leave_leftovers(true);
  std::set<std::string> with_running = BackupNames(dir_);
  const int fd = ::open((dir_ + "/" + running + ".lock").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  EXPECT_EQ(CountRunningBackups(dir_), 1);
  ASSERT_TRUE(app_->Backup(out + "/3.trb", /*include_keys=*/false).ok());
  Reopen();
  RecordView gone2 = NewSurvivor(advocate_, {{"prs_FirstName", "Gone"}});
  erased = app_->EraseSurvivor(supervisor_, gone2.record.id, "r");
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(*erased, 1);  // the erasure tells of the running backup (the CLI and the API say so)
  EXPECT_EQ(BackupNames(dir_), with_running);
  ::close(fd);
  EXPECT_EQ(CountRunningBackups(dir_), 0);
  Reopen();
  EXPECT_EQ(BackupNames(dir_), expected);

  // The backups taken meanwhile are whole.
  app_.reset();
  ASSERT_TRUE(Restore(dir_, "", out + "/3.trb").ok());
  Reopen();
  EXPECT_EQ(app_->Get(advocate_, RecordKind::kSurvivor, s.record.id, "r")->record.fields.at("prs_FirstName"), "Ana");
}

// A real backup in another process: while it runs (held up writing its output, a pipe nobody
// reads), a backup, an open and an erasure in this process leave its files alone; killed, it
// leaves its copy of the store behind, and the next open removes it.
TEST_F(AppTest, ABackupKilledLeavesNothingOnceTheStoreIsOpenedAgain) {
  NewSurvivor(advocate_, {{"prs_FirstName", "Ana"}});
  RecordView gone = NewSurvivor(advocate_, {{"prs_FirstName", "Gone"}});
  const std::string out = dir_ + "/out", fifo = out + "/backup.fifo";
  ASSERT_TRUE(fs::create_directory(out));
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Opened first, without waiting for a writer, and made one page small: the backup blocks on
  // its first full page, inside the encryption, its copy made and its lock held.
  const int rd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(rd, 0);
  ASSERT_GE(::fcntl(rd, F_SETPIPE_SZ, 4096), 0);
  testing::TrellisProcess backup;
  ASSERT_TRUE(backup.Start({"backup", "--data", dir_, "--out", fifo}, out + "/backup.log"));
  pollfd p{rd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 60'000), 1) << ReadFile(out + "/backup.log");
  ASSERT_TRUE(p.revents & POLLIN) << ReadFile(out + "/backup.log");

  const std::set<std::string> in_progress = BackupNames(dir_);
  std::string copy_of_store;  // .backup-<id>.db, stripped of its data keys by now
  for (const std::string& name : in_progress) {
    if (name.ends_with(".db")) copy_of_store = name;
  }
  ASSERT_FALSE(copy_of_store.empty());
  const std::string t = copy_of_store.substr(0, copy_of_store.size() - 3);
  EXPECT_EQ(in_progress, (std::set<std::string>{t + ".db", t + ".lock"}));
  EXPECT_EQ(CountRunningBackups(dir_), 1);
  ASSERT_TRUE(app_->Backup(out + "/other.trb", /*include_keys=*/false).ok());
  Reopen();
  auto erased = app_->EraseSurvivor(supervisor_, gone.record.id, "r");
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(*erased, 1);
  EXPECT_EQ(BackupNames(dir_), in_progress);

  backup.Kill(SIGKILL);
  ::close(rd);
  EXPECT_EQ(BackupNames(dir_), in_progress);  // what an interrupted backup leaves
  EXPECT_EQ(CountRunningBackups(dir_), 0);
  Reopen();
  EXPECT_TRUE(BackupNames(dir_).empty());
}

TEST_F(AppTest, RotationKeepsEveryRecordReadable) {
  RecordView s = NewSurvivor(advocate_, {{"prs_FirstName", "Ana"}});
  auto n = app_->RotateKeys("", /*keep_old=*/false);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);
  Reopen();
  EXPECT_EQ(app_->Get(advocate_, RecordKind::kSurvivor, s.record.id, "r")->record.fields.at("prs_FirstName"), "Ana");
}

TEST_F(AppTest, ShreddedSurvivorStaysUnreadableAfterRestoringOldBackup) {
  RecordView keep = NewSurvivor(advocate_, {{"prs_FirstName", "Keep"}});
  RecordView gone = NewSurvivor(advocate_, {{"prs_FirstName", "Gone"}});
  const std::string backup = dir_ + "/../" + std::to_string(::getpid()) + "_backup.trb";
  ASSERT_TRUE(app_->Backup(backup, /*include_keys=*/false).ok());
  EXPECT_EQ(ReadFile(backup).find("Keep"), std::string::npos);
  ASSERT_TRUE(app_->EraseSurvivor(supervisor_, gone.record.id, "r").ok());
  EXPECT_EQ(app_->Get(advocate_, RecordKind::kSurvivor, gone.record.id, "r").status().code(), Code::kNotFound);
  app_.reset();
  ASSERT_TRUE(Restore(dir_, "", backup).ok());
  Reopen();
  // The old backup brought the erased survivor's record back, but not its key.
  EXPECT_EQ(app_->Get(advocate_, RecordKind::kSurvivor, keep.record.id, "r")->record.fields.at("prs_FirstName"), "Keep");
  EXPECT_EQ(app_->Get(advocate_, RecordKind::kSurvivor, gone.record.id, "r").status().code(), Code::kDataLoss);
  std::remove(backup.c_str());
}

TEST_F(AppTest, ImportIsAllOrNothingWithRowAndColumn) {
  const std::string csv = dir_ + "/in.csv";
  std::ofstream(csv) << "prs_FirstName,prs_Gender,vic_TypeOfExploitation,cas_Status\n"
                        "Ana,Feminine,ForcedLabour;Servitude,Active\n"
                        "Luz,Purple,ForcedLabour,Active\n";
  auto r = app_->ImportHtcds(CliOperator(), ngo_, csv, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("row 3, column 2 (prs_Gender)"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("Purple"), std::string::npos);
  EXPECT_TRUE(app_->List(advocate_, {.kind = RecordKind::kSurvivor}, "r")->items.empty());

  std::ofstream(csv) << "prs_FirstName,prs_Gender,vic_TypeOfExploitation,cas_Status\n"
                        "Ana,Feminine,ForcedLabour;Servitude,Active\n"
                        "\"Luz, Maria\",Masculine,,Closed\n";
  r = app_->ImportHtcds(CliOperator(), ngo_, csv, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->survivors, 2);
  EXPECT_EQ(r->cases, 2);

  std::ofstream(csv) << "prs_FirstName,favourite_colour\nAna,red\n";
  r = app_->ImportHtcds(CliOperator(), ngo_, csv, nullptr);
  EXPECT_NE(r.status().message().find("row 1, column 2 (favourite_colour)"), std::string::npos);
  std::ofstream(csv) << "prs_FirstName,prs_Gender\nAna\n";
  EXPECT_NE(app_->ImportHtcds(CliOperator(), ngo_, csv, nullptr).status().message().find("row 2"), std::string::npos);
  std::ofstream(csv) << "prs_FirstName\n\"unterminated\n";
  EXPECT_EQ(app_->ImportHtcds(CliOperator(), ngo_, csv, nullptr).status().code(), Code::kInvalidArgument);

  const std::string out = dir_ + "/out.csv";
  auto rows = app_->ExportHtcds(advocate_, out, /*identifying=*/false, "r");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(*rows, 2);
  std::string text = ReadFile(out);
  EXPECT_EQ(text.find("Ana"), std::string::npos);  // de-identified by default
  EXPECT_NE(text.find("ForcedLabour;Servitude"), std::string::npos);
  ASSERT_TRUE(app_->ExportHtcds(advocate_, out, /*identifying=*/true, "r").ok());
  EXPECT_NE(ReadFile(out).find("\"Luz, Maria\""), std::string::npos);
  EXPECT_EQ(app_->ExportHtcds(auditor_, out, false, "r").status().code(), Code::kForbidden);
}

// An import of several chunks: every row stored with its fields sealed under the survivor's own
// key, progress reported in order up to the total, and every record created named in the audit.
TEST_F(AppTest, ImportManyRowsProgressAndAudit) {
  const std::string csv = dir_ + "/many.csv";
  const int rows = 2345;  // three chunks
  {
    std::ofstream out(csv);
    out << "prs_FirstName,prs_Gender,cas_Status\n";
    for (int i = 0; i < rows; ++i) out << "Name" << i << ",Feminine," << (i % 2 ? "Active" : "Closed") << "\n";
  }
  std::vector<std::pair<int64_t, int64_t>> calls;
  auto r = app_->ImportHtcds(advocate_, ngo_, csv, [&](int64_t done, int64_t total) { calls.emplace_back(done, total); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows, rows);
  EXPECT_EQ(r->survivors, rows);
  EXPECT_EQ(r->cases, rows);
  ASSERT_GE(calls.size(), 3u);
  EXPECT_EQ(calls.front(), std::make_pair(int64_t{0}, int64_t{rows}));
  EXPECT_EQ(calls.back(), std::make_pair(int64_t{rows}, int64_t{rows}));
  for (size_t i = 1; i < calls.size(); ++i) EXPECT_LE(calls[i - 1].first, calls[i].first);

  // The audit names every survivor and its case (IDs only), one entry per chunk.
  std::set<std::string> survivors, cases;
  bool summary = false;
  auto page = app_->ListAudit(supervisor_, 0, 100, "", "r");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  for (const auto& e : page->items) {
    if (e.action == "import.htcds") summary = e.detail == "rows=2345,entries=3";
    if (e.action != "import.htcds.records") continue;
    EXPECT_EQ(e.target, ngo_);
    EXPECT_EQ(e.detail.find("Name"), std::string::npos);
    std::stringstream ss(e.detail);
    for (std::string pair; std::getline(ss, pair, ',');) {
      const size_t colon = pair.find(':');
      ASSERT_NE(colon, std::string::npos) << pair;
      survivors.insert(pair.substr(0, colon));
      cases.insert(pair.substr(colon + 1));
    }
  }
  EXPECT_TRUE(summary);
  ASSERT_EQ(survivors.size(), static_cast<size_t>(rows));
  ASSERT_EQ(cases.size(), static_cast<size_t>(rows));

  // Each record opens with its survivor's key; the survivor/case link and the plain fields hold.
  for (const std::string& id : {*survivors.begin(), *survivors.rbegin()}) {
    auto s = app_->Get(advocate_, RecordKind::kSurvivor, id, "r");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->record.fields.at("prs_FirstName").rfind("Name", 0), 0u);
    EXPECT_EQ(s->record.fields.at("prs_Gender"), "Feminine");
  }
  const std::string out = dir_ + "/out.csv";
  auto exported = app_->ExportHtcds(advocate_, out, /*identifying=*/true, "r");
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  EXPECT_EQ(*exported, rows);
  const std::string text = ReadFile(out);
  for (int i : {0, 1, 1000, 1999, 2000, 2344}) EXPECT_NE(text.find("\"Name" + std::to_string(i) + "\""), std::string::npos) << i;
  for (const std::string& id : {*cases.begin(), *cases.rbegin()}) {
    auto c = app_->Get(advocate_, RecordKind::kCase, id, "r");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_TRUE(survivors.count(c->record.survivor_id));
    EXPECT_FALSE(c->record.case_number.empty());
  }

  // A bad value in the last chunk: nothing of the file is imported.
  {
    std::ofstream out(csv);
    out << "prs_FirstName,prs_Gender,cas_Status\n";
    for (int i = 0; i < rows; ++i) out << "Other" << i << ",Feminine," << (i == 2300 ? "Pending" : "Active") << "\n";
  }
  r = app_->ImportHtcds(advocate_, ngo_, csv, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("row 2302, column 3 (cas_Status)"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("Pending"), std::string::npos);
  // The refusal is audited: outcome and column, never the value.
  auto refused = app_->ListAudit(supervisor_, 0, 5, "", "r");
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  bool audited_refusal = false;
  for (const auto& e : refused->items) {
    if (e.action != "import.htcds" || e.outcome != "invalid") continue;
    audited_refusal = true;
    EXPECT_EQ(e.target, ngo_);
    EXPECT_EQ(e.detail, "field=cas_Status");
  }
  EXPECT_TRUE(audited_refusal);
  size_t listed = 0;
  ListRequest req{.kind = RecordKind::kSurvivor, .limit = 200};
  do {
    auto list = app_->List(advocate_, req, "r");
    ASSERT_TRUE(list.ok()) << list.status().ToString();
    listed += list->items.size();
    req.cursor = list->next_cursor;
  } while (!req.cursor.empty());
  EXPECT_EQ(listed, static_cast<size_t>(rows));
}

TEST_F(AppTest, ExportNeutralisesFormulas) {
  RecordInput in;
  in.set = {{"prs_FirstName", "=HYPERLINK(\"http://x\")"}};
  ASSERT_TRUE(app_->Create(advocate_, RecordKind::kSurvivor, in, "r").ok());
  const std::string out = dir_ + "/out.csv";
  ASSERT_TRUE(app_->ExportHtcds(advocate_, out, true, "r").ok());
  EXPECT_NE(ReadFile(out).find("\"'=HYPERLINK"), std::string::npos);
}

}  // namespace
}  // namespace trellis::app
