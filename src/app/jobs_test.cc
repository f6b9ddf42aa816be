// Background jobs with an injected clock: the export's file expires, finished jobs are
// forgotten, a queued job is cancelled before it runs, and only the starter sees a job.
#include "app/jobs.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "support/app_fixture.h"
#include "support/harness.h"

namespace trellis::app {
namespace {

using domain::Role;

class JobsTest : public testing::AppFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(AppFixture::SetUp());
    supervisor_ = User(ngo_, "sup1", Role::kSupervisor);
    other_supervisor_ = User(ngo_, "sup2", Role::kSupervisor);
    advocate_ = User(ngo_, "adv1", Role::kAdvocate);
    jobs_ = std::make_unique<Jobs>(*app_);
  }
  JobView Wait(const std::string& id) {
    for (int i = 0; i < 400; ++i) {
      auto v = jobs_->Get(supervisor_, id, "r");
      EXPECT_TRUE(v.ok());
      if (v->state != "queued" && v->state != "running") return *v;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ADD_FAILURE() << "job did not finish";
    return {};
  }
  std::unique_ptr<Jobs> jobs_;  // destroyed before app_ (a member of the base)
  Principal supervisor_, other_supervisor_, advocate_;
};

TEST_F(JobsTest, ExportFileExpiresAndFinishedJobsAreForgotten) {
  auto j = jobs_->StartExport(supervisor_, false, "r1");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  JobView done = Wait(j->id);
  ASSERT_EQ(done.state, "done");
  EXPECT_TRUE(done.file_available);
  clock_.AdvanceSeconds(10 * 60 + 1);
  auto v = jobs_->Get(supervisor_, j->id, "r2");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->file_available);
  EXPECT_EQ(jobs_->TakeFile(supervisor_, j->id, "r3").status().code(), Code::kFailedPrecondition);
  clock_.AdvanceSeconds(60 * 60);
  EXPECT_EQ(jobs_->Get(supervisor_, j->id, "r4").status().code(), Code::kNotFound);
}

TEST_F(JobsTest, OnlyTheStarterSeesTheJobAndOnlySupervisorsStartOne) {
  EXPECT_EQ(jobs_->StartExport(advocate_, false, "r").status().code(), Code::kForbidden);
  EXPECT_EQ(jobs_->StartImport(advocate_, "prs_Gender\nFeminine\n", "r").status().code(), Code::kForbidden);
  auto j = jobs_->StartImport(supervisor_, "prs_Gender\nFeminine\n", "r1");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(jobs_->Get(other_supervisor_, j->id, "r").status().code(), Code::kNotFound);
  EXPECT_EQ(jobs_->Cancel(other_supervisor_, j->id, "r").status().code(), Code::kNotFound);
  EXPECT_EQ(jobs_->TakeFile(other_supervisor_, j->id, "r").status().code(), Code::kNotFound);
  EXPECT_EQ(Wait(j->id).imported.survivors, 1);
  // An import has no file to take; that looks like a missing job too.
  EXPECT_EQ(jobs_->TakeFile(supervisor_, j->id, "r").status().code(), Code::kNotFound);
}

TEST_F(JobsTest, AQueuedJobIsCancelledBeforeItRuns) {
  // Two jobs of one user: the second waits behind the first; cancelled, it never imports.
  std::string big = "prs_Gender\n";
  for (int i = 0; i < 20000; ++i) big += "Feminine\n";
  auto first = jobs_->StartImport(supervisor_, big, "r1");
  auto second = jobs_->StartImport(supervisor_, "prs_Gender\nFeminine\n", "r2");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(jobs_->StartExport(supervisor_, false, "r3").status().code(), Code::kRateLimited);  // two active
  auto c = jobs_->Cancel(supervisor_, second->id, "r4");
  if (c.ok()) {
    EXPECT_EQ(c->state, "cancelled");
    EXPECT_EQ(Wait(second->id).state, "cancelled");
  } else {
    // The machine was fast enough to start it already: an import that runs is not cut short.
    EXPECT_EQ(c.status().code(), Code::kConflict);
  }
  EXPECT_EQ(Wait(first->id).imported.survivors, 20000);
}

TEST_F(JobsTest, FullTableForgetsTheOldestFinishedJob) {
  jobs_ = std::make_unique<Jobs>(*app_, JobOptions{.max_jobs = 2});
  auto a = jobs_->StartExport(supervisor_, false, "r1");
  ASSERT_TRUE(a.ok());
  Wait(a->id);
  clock_.AdvanceSeconds(1);
  auto b = jobs_->StartExport(supervisor_, false, "r2");
  ASSERT_TRUE(b.ok());
  Wait(b->id);
  auto c = jobs_->StartExport(supervisor_, false, "r3");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(jobs_->Get(supervisor_, a->id, "r").status().code(), Code::kNotFound);
  EXPECT_TRUE(jobs_->Get(supervisor_, b->id, "r").ok());
  Wait(c->id);
}

// The export's one download consumes it only once the download's audit entry is durable: when
// that append fails, the caller gets the error and the file stays for the next try (until its
// normal expiry); once one succeeds, it is gone.
TEST_F(JobsTest, AFailedDownloadAuditKeepsTheExport) {
  auto j = jobs_->StartExport(supervisor_, false, "r1");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  ASSERT_EQ(Wait(j->id).state, "done");
  {
    testing::FailingAuditEntries failing(dir_, "job.file");
    ASSERT_TRUE(failing.ok());
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto lost = jobs_->TakeFile(supervisor_, j->id, "r2");
      ASSERT_FALSE(lost.ok());
      EXPECT_EQ(lost.status().code(), Code::kInternal) << lost.status().ToString();
    }
    auto v = jobs_->Get(supervisor_, j->id, "r3");
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_TRUE(v->file_available);
  }
  auto file = jobs_->TakeFile(supervisor_, j->id, "r4");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->rfind("\"prs_", 0), 0u) << file->substr(0, 100);
  EXPECT_EQ(jobs_->TakeFile(supervisor_, j->id, "r5").status().code(), Code::kFailedPrecondition);
  EXPECT_FALSE(jobs_->Get(supervisor_, j->id, "r6")->file_available);

  // Kept after a failed download, it still expires on time.
  auto k = jobs_->StartExport(supervisor_, false, "r7");
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  ASSERT_EQ(Wait(k->id).state, "done");
  {
    testing::FailingAuditEntries failing(dir_, "job.file");
    ASSERT_TRUE(failing.ok());
    EXPECT_FALSE(jobs_->TakeFile(supervisor_, k->id, "r8").ok());
  }
  clock_.AdvanceSeconds(10 * 60 + 1);
  EXPECT_EQ(jobs_->TakeFile(supervisor_, k->id, "r9").status().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace trellis::app
