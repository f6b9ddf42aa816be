// Consent use cases over a real store with an injected clock: revocation and expiry on the next
// request (S3), signer rules (S2), break-glass (S14), compelled disclosure (S20) and the
// accounting of disclosures (S13).
#include <gtest/gtest.h>

#include "app/app.h"
#include "support/app_fixture.h"

namespace trellis::app {
namespace {

using domain::RecordKind;
using domain::Role;

class ConsentTest : public testing::AppFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(AppFixture::SetUp());
    le_ = app_->AddAgency(CliOperator(), "Sheriff", domain::AgencyKind::kLawEnforcementLocal)->id;
    advocate_ = User(ngo_, "advocate1", Role::kAdvocate);
    colleague_ = User(ngo_, "advocate2", Role::kAdvocate);
    supervisor_ = User(ngo_, "supervisor1", Role::kSupervisor);
    officer_ = User(le_, "officer1", Role::kLeInvestigator);
    RecordInput in;
    in.set = {{"prs_FirstName", "Ana"},         {"prs_MailingCity", "Lakeside"},
              {"trl_Statement", "what happened"}, {"prs_Birthdate", "1990-02-03"},
              {"trl_AllegedPerpetrators", "Victor Lobo"}};
    in.team = std::vector<std::string>{advocate_.user.id};
    auto s = app_->Create(advocate_, RecordKind::kSurvivor, in, "r");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    survivor_ = s->record.id;
  }
  ReleaseInput Release(std::vector<std::string> cats, const std::string& expires) {
    ReleaseInput in;
    in.survivor_id = survivor_;
    in.recipient_agency_id = le_;
    in.categories = std::move(cats);
    in.purpose = "investigation";
    in.expires_on = expires;
    in.signers = {{"survivor", "Ana"}};
    return in;
  }
  std::string Today() const { return FormatDate(clock_.NowMicros()); }
  std::string DaysAhead(int d) const { return FormatDate(clock_.NowMicros() + int64_t{d} * 86'400'000'000); }

  std::string le_, survivor_;
  Principal advocate_, colleague_, supervisor_, officer_;
};

TEST_F(ConsentTest, RevocationAndExpiryApplyOnTheNextRequest) {
  EXPECT_EQ(app_->Get(officer_, RecordKind::kSurvivor, survivor_, "r").status().code(), Code::kNotFound);
  auto g = app_->CreateRelease(advocate_, Release({"trafficking_history"}, DaysAhead(10)), "r");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  auto v = app_->Get(officer_, RecordKind::kSurvivor, survivor_, "r");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->record.fields.at("trl_Statement"), "what happened");
  EXPECT_FALSE(v->record.fields.count("prs_FirstName"));
  EXPECT_FALSE(v->record.fields.count("prs_MailingCity"));
  // Listed too, with the same fields.
  auto page = app_->List(officer_, {.kind = RecordKind::kSurvivor}, "r");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_FALSE(page->items[0].record.fields.count("prs_FirstName"));
  // Expiry: in force through the last day, gone the moment after.
  clock_.Set(domain::DayStartMicros(DaysAhead(11)) - 1);
  EXPECT_TRUE(app_->Get(officer_, RecordKind::kSurvivor, survivor_, "r").ok());
  clock_.Set(domain::DayStartMicros(DaysAhead(11)));
  EXPECT_EQ(app_->Get(officer_, RecordKind::kSurvivor, survivor_, "r").status().code(), Code::kNotFound);
  EXPECT_TRUE(app_->List(officer_, {.kind = RecordKind::kSurvivor}, "r")->items.empty());
  // Revocation: a new release, revoked mid-session.
  clock_.Set(1'780'000'000'000'000);
  auto g2 = app_->CreateRelease(advocate_, Release({"identity"}, DaysAhead(30)), "r");
  ASSERT_TRUE(g2.ok());
  EXPECT_TRUE(app_->Get(officer_, RecordKind::kSurvivor, survivor_, "r").ok());
  EXPECT_EQ(app_->RevokeGrant(advocate_, g2->id, "because", "r").status().field(), "reason");
  EXPECT_TRUE(app_->Get(officer_, RecordKind::kSurvivor, survivor_, "r")->record.fields.count("prs_FirstName"));
  ASSERT_TRUE(app_->RevokeGrant(advocate_, g2->id, "survivor_request", "r").ok());
  auto after = app_->Get(officer_, RecordKind::kSurvivor, survivor_, "r");  // the first release still holds
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->record.fields.count("prs_FirstName"));
  EXPECT_TRUE(after->record.fields.count("trl_Statement"));
  ASSERT_TRUE(app_->RevokeGrant(advocate_, g->id, "purpose_fulfilled", "r").ok());
  EXPECT_EQ(app_->Get(officer_, RecordKind::kSurvivor, survivor_, "r").status().code(), Code::kNotFound);
  EXPECT_EQ(app_->RevokeGrant(advocate_, g2->id, "survivor_request", "r").status().code(), Code::kConflict);
  // The recipient cannot revoke or list the survivor's grants.
  EXPECT_EQ(app_->RevokeGrant(officer_, g2->id, "other", "r").status().code(), Code::kNotFound);
  EXPECT_EQ(app_->ListGrants(officer_, survivor_, "r").status().code(), Code::kNotFound);
}

TEST_F(ConsentTest, ValidationNamesTheField) {
  auto field = [&](ReleaseInput in) { return app_->CreateRelease(advocate_, in, "r").status().field(); };
  EXPECT_EQ(field(Release({"identity"}, "")), "expires_on");
  EXPECT_EQ(field(Release({"identity"}, DaysAhead(400))), "expires_on");
  EXPECT_EQ(field(Release({"identity"}, DaysAhead(-1))), "expires_on");
  EXPECT_EQ(field(Release({}, DaysAhead(10))), "categories");
  EXPECT_EQ(field(Release({"legal_work_product"}, DaysAhead(10))), "categories");
  auto in = Release({"identity"}, DaysAhead(10));
  in.purpose = "curiosity";
  EXPECT_EQ(field(in), "purpose");
  in = Release({"identity"}, DaysAhead(10));
  in.recipient_agency_id = ngo_;
  EXPECT_EQ(field(in), "recipient_agency_id");
  in = Release({"identity"}, DaysAhead(10));
  in.language = "fr";
  EXPECT_EQ(field(in), "language");
  in = Release({"identity"}, DaysAhead(10));
  in.effective_on = DaysAhead(-3);
  EXPECT_EQ(field(in), "effective_on");
  in = Release({"identity"}, DaysAhead(10));
  in.signers = {{"survivor", "Ana"}, {"guardian", "victor lobo"}};  // alleged perpetrator
  EXPECT_EQ(field(in), "signers");
  EXPECT_TRUE(app_->CreateRelease(advocate_, Release({"identity"}, DaysAhead(365)), "r").ok());
  // Law enforcement does not record releases; another agency's survivor is not found.
  EXPECT_EQ(app_->CreateRelease(officer_, Release({"identity"}, DaysAhead(10)), "r").status().code(), Code::kForbidden);
}

TEST_F(ConsentTest, MinorNeedsAGuardian) {
  RecordInput in;
  in.set = {{"prs_Birthdate", FormatDate(clock_.NowMicros() - int64_t{15} * 365 * 86'400'000'000)}};
  auto minor = app_->Create(advocate_, RecordKind::kSurvivor, in, "r");
  ASSERT_TRUE(minor.ok());
  auto rel = Release({"identity"}, DaysAhead(10));
  rel.survivor_id = minor->record.id;
  EXPECT_EQ(app_->CreateRelease(advocate_, rel, "r").status().field(), "signers");
  rel.signers.push_back({"guardian", "Rosa"});
  EXPECT_TRUE(app_->CreateRelease(advocate_, rel, "r").ok());
}

TEST_F(ConsentTest, BreakGlassAlertsSupervisorsAndExpiresInAnHour) {
  const auto& city = "prs_MailingCity";
  auto before = app_->Get(colleague_, RecordKind::kSurvivor, survivor_, "r");
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->record.fields.count(city));  // not on the team
  EXPECT_EQ(app_->BreakGlass(colleague_, survivor_, "", "r").status().field(), "reason");
  auto g = app_->BreakGlass(colleague_, survivor_, "survivor called in crisis, needs pickup", "r");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(app_->Get(colleague_, RecordKind::kSurvivor, survivor_, "r")->record.fields.at(city), "Lakeside");
  auto alerts = app_->ListAlerts(supervisor_, "r");
  ASSERT_TRUE(alerts.ok());
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ((*alerts)[0].reason, "survivor called in crisis, needs pickup");
  EXPECT_EQ(app_->ListAlerts(colleague_, "r").status().code(), Code::kForbidden);
  clock_.AdvanceSeconds(3600);
  EXPECT_FALSE(app_->Get(colleague_, RecordKind::kSurvivor, survivor_, "r")->record.fields.count(city));
  // Another agency: the same answer for a survivor that does not exist.
  auto missing = app_->BreakGlass(officer_, "s_aaaaaaaaaaaaaaaaaaaaaaaaaa", "emergency at the border", "r");
  ASSERT_TRUE(missing.ok());
  auto real = app_->BreakGlass(officer_, survivor_, "emergency at the border", "r");
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(missing->owner_agency_id, real->owner_agency_id);
  EXPECT_TRUE(app_->Get(officer_, RecordKind::kSurvivor, survivor_, "r").ok());
}

TEST_F(ConsentTest, CompelledDisclosureCreatesATaskAndAccountingListsEveryDisclosure) {
  CompelledInput c;
  c.survivor_id = survivor_;
  c.recipient_agency_id = le_;
  c.categories = {"identity"};
  c.basis = "subpoena";
  c.reference = "Case 26-CR-0042";
  c.expires_on = DaysAhead(7);
  EXPECT_EQ(app_->RecordCompelledDisclosure(advocate_, c, "r").status().code(), Code::kForbidden);
  c.basis = "because";
  EXPECT_EQ(app_->RecordCompelledDisclosure(supervisor_, c, "r").status().field(), "basis");
  c.basis = "subpoena";
  auto g = app_->RecordCompelledDisclosure(supervisor_, c, "r");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  auto tasks = app_->ListTasks(advocate_, "r");
  ASSERT_TRUE(tasks.ok());
  ASSERT_EQ(tasks->size(), 1u);
  // A sequence of shares: compelled read, a release, a list, then a revoked release (no disclosure).
  ASSERT_TRUE(app_->Get(officer_, RecordKind::kSurvivor, survivor_, "r1").ok());
  auto rel = app_->CreateRelease(advocate_, Release({"trafficking_history"}, DaysAhead(10)), "r");
  ASSERT_TRUE(rel.ok());
  ASSERT_TRUE(app_->List(officer_, {.kind = RecordKind::kSurvivor}, "r2").ok());
  ASSERT_TRUE(app_->RevokeGrant(supervisor_, g->id, "purpose_fulfilled", "r").ok());
  ASSERT_TRUE(app_->RevokeGrant(advocate_, rel->id, "survivor_request", "r").ok());
  EXPECT_FALSE(app_->Get(officer_, RecordKind::kSurvivor, survivor_, "r3").ok());
  ASSERT_TRUE(app_->Get(advocate_, RecordKind::kSurvivor, survivor_, "r4").ok());  // own agency: not a disclosure
  auto acc = app_->ListDisclosures(advocate_, survivor_, "r");
  ASSERT_TRUE(acc.ok());
  ASSERT_EQ(acc->size(), 2u);
  EXPECT_EQ((*acc)[0].basis, "compelled");
  EXPECT_EQ((*acc)[0].categories, "identity");
  EXPECT_EQ((*acc)[0].actor_user_id, officer_.user.id);
  EXPECT_EQ((*acc)[0].grant_ids, g->id);
  EXPECT_EQ((*acc)[1].action, "survivor.list");
  EXPECT_EQ((*acc)[1].categories, "identity,trafficking_history");
  EXPECT_EQ(app_->ListDisclosures(officer_, survivor_, "r").status().code(), Code::kNotFound);
  ASSERT_TRUE(app_->CompleteTask(advocate_, g->id, "r").ok());
  EXPECT_TRUE(app_->ListTasks(advocate_, "r")->empty());
}

}  // namespace
}  // namespace trellis::app
