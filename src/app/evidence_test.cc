// Evidence items over a real store: files sealed and round-tripped, the content-type check,
// named items under a release (and nothing else; an item's case only for a reader who may read
// that case), revocation, attorney work product (S4), the signed copy of a release, the
// accounting of disclosures, erasure and backups (S6).
#include <gtest/gtest.h>

#include "app/app.h"
#include "app/file_type.h"
#include "domain/evidence.h"
#include "support/app_fixture.h"
#include "support/harness.h"

namespace trellis::app {
namespace {

using domain::RecordKind;
using domain::Role;

const std::string kPdf = "%PDF-1.4\n% evidence canary QX7-EVIDENCE-BYTES\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

class EvidenceTest : public testing::AppFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(AppFixture::SetUp());
    le_ = app_->AddAgency(CliOperator(), "Sheriff", domain::AgencyKind::kLawEnforcementLocal)->id;
    advocate_ = User(ngo_, "advocate1", Role::kAdvocate);
    attorney_ = User(ngo_, "attorney1", Role::kAttorney);
    supervisor_ = User(ngo_, "supervisor1", Role::kSupervisor);
    officer_ = User(le_, "officer1", Role::kLeVictimSpecialist);
    RecordInput in;
    in.set = {{"prs_FirstName", "Ana"}};
    in.team = std::vector<std::string>{advocate_.user.id};
    auto s = app_->Create(advocate_, RecordKind::kSurvivor, in, "r");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    survivor_ = s->record.id;
  }
  std::string Item(const Principal& by, const std::string& title, const std::string& kind = "written_statement") {
    auto v = app_->CreateEvidence(by, {survivor_, "", title, kind, "said on the phone", "2026-01-05"}, "r");
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? v->id : "";
  }
  Result<GrantView> Release(std::vector<std::string> items, std::vector<std::string> cats = {}) {
    ReleaseInput in;
    in.survivor_id = survivor_;
    in.recipient_agency_id = le_;
    in.categories = std::move(cats);
    in.evidence_ids = std::move(items);
    in.purpose = "investigation";
    in.expires_on = FormatDate(clock_.NowMicros() + 10 * 86'400'000'000LL);
    in.signers = {{"survivor", "Ana"}};
    return app_->CreateRelease(advocate_, in, "r");
  }

  std::string le_, survivor_;
  Principal advocate_, attorney_, supervisor_, officer_;
};

TEST_F(EvidenceTest, FileTypeIsCheckedAgainstTheBytes) {
  EXPECT_EQ(DetectMimeType(kPdf), "application/pdf");
  EXPECT_EQ(*CheckEvidenceFile("application/pdf", kPdf), "application/pdf");
  EXPECT_EQ(*CheckEvidenceFile("text/plain; charset=utf-8", "Hola, esto es una declaración.\n"), "text/plain");
  EXPECT_EQ(CheckEvidenceFile("text/html", "<html></html>").status().field(), "content_type");
  EXPECT_EQ(CheckEvidenceFile("image/png", kPdf).status().field(), "content_type");             // a PDF posing as a photo
  EXPECT_EQ(CheckEvidenceFile("text/plain", "<html><script>x</script></html>").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(CheckEvidenceFile("application/pdf", "").status().field(), "content");
  EXPECT_EQ(CheckEvidenceFile("application/pdf", std::string(domain::kMaxEvidenceBytes + 1, 'a')).status().code(),
            Code::kTooLarge);
}

TEST_F(EvidenceTest, SameAgencyAddsUploadsAndDownloads) {
  const std::string id = Item(advocate_, "Statement to the advocate");
  auto bad = app_->CreateEvidence(advocate_, {survivor_, "", "", "photo", "", ""}, "r");
  EXPECT_EQ(bad.status().field(), "title");
  EXPECT_EQ(app_->CreateEvidence(advocate_, {survivor_, "", "x", "selfie", "", ""}, "r").status().field(), "kind");
  EXPECT_EQ(app_->CreateEvidence(advocate_, {survivor_, "c_nope", "x", "photo", "", ""}, "r").status().field(), "case_id");
  EXPECT_EQ(app_->CreateEvidence(advocate_, {"s_missing", "", "x", "photo", "", ""}, "r").status().code(), Code::kNotFound);
  EXPECT_EQ(app_->GetEvidenceContent(advocate_, id, "r").status().code(), Code::kNotFound);  // no file yet
  EXPECT_EQ(app_->PutEvidenceContent(advocate_, id, "image/jpeg", kPdf, "r").status().code(), Code::kInvalidArgument);
  auto up = app_->PutEvidenceContent(advocate_, id, "application/pdf", kPdf, "r");
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->size, static_cast<int64_t>(kPdf.size()));
  EXPECT_EQ(up->sha256.size(), 64u);
  EXPECT_EQ(up->title, "Statement to the advocate");
  EXPECT_EQ(app_->PutEvidenceContent(advocate_, id, "application/pdf", kPdf, "r").status().code(), Code::kConflict);
  auto f = app_->GetEvidenceContent(advocate_, id, "r");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->bytes, kPdf);
  EXPECT_EQ(f->content_type, "application/pdf");
  EXPECT_EQ(f->filename, "evidence-" + id + ".pdf");
  auto list = app_->ListEvidence(advocate_, survivor_, "r");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].description, "said on the phone");
  EXPECT_EQ((*list)[0].date, "2026-01-05");
  // Another agency without a release: nothing, as for a missing survivor or item.
  EXPECT_EQ(app_->ListEvidence(officer_, survivor_, "r").status().code(), Code::kNotFound);
  EXPECT_EQ(app_->GetEvidence(officer_, id, "r").status().code(), Code::kNotFound);
  EXPECT_EQ(app_->GetEvidenceContent(officer_, id, "r").status().code(), Code::kNotFound);
  EXPECT_EQ(app_->CreateEvidence(officer_, {survivor_, "", "x", "photo", "", ""}, "r").status().code(), Code::kNotFound);
}

TEST_F(EvidenceTest, AReleaseOpensExactlyTheNamedItemsUntilRevoked) {
  const std::string named = Item(advocate_, "Recorded statement");
  const std::string other = Item(advocate_, "Medical note", "medical_record");
  ASSERT_TRUE(app_->PutEvidenceContent(advocate_, named, "application/pdf", kPdf, "r").ok());
  EXPECT_EQ(Release({"e_nope"}).status().field(), "evidence_ids");
  auto g = Release({named});  // named items alone, no field category
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->evidence_ids, std::vector<std::string>{named});
  EXPECT_TRUE(g->categories.empty());

  auto list = app_->ListEvidence(officer_, survivor_, "r");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, named);
  EXPECT_EQ((*list)[0].title, "Recorded statement");
  EXPECT_TRUE((*list)[0].created_by.empty());
  EXPECT_TRUE(app_->GetEvidence(officer_, named, "r").ok());
  EXPECT_EQ(app_->GetEvidence(officer_, other, "r").status().code(), Code::kNotFound);
  auto f = app_->GetEvidenceContent(officer_, named, "r");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->bytes, kPdf);
  // A recipient reads; it never writes.
  EXPECT_EQ(app_->PutEvidenceContent(officer_, other, "application/pdf", kPdf, "r").status().code(), Code::kNotFound);

  // Every read by the sheriff is in the accounting of disclosures.
  auto ds = app_->ListDisclosures(advocate_, survivor_, "r");
  ASSERT_TRUE(ds.ok());
  std::vector<std::string> actions;
  for (const auto& d : *ds) {
    if (d.record_id != named) continue;
    actions.push_back(d.action);
    EXPECT_EQ(d.categories, "named_evidence");
    EXPECT_EQ(d.grant_ids, g->id);
    EXPECT_EQ(d.basis, "release");
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"list", "read", "download"}));
  for (const auto& d : *ds) EXPECT_NE(d.record_id, other);

  ASSERT_TRUE(app_->RevokeGrant(advocate_, g->id, "survivor_request", "r").ok());
  EXPECT_EQ(app_->ListEvidence(officer_, survivor_, "r").status().code(), Code::kNotFound);
  EXPECT_EQ(app_->GetEvidence(officer_, named, "r").status().code(), Code::kNotFound);
  EXPECT_EQ(app_->GetEvidenceContent(officer_, named, "r").status().code(), Code::kNotFound);
}

// An item's case_id tells another agency that a case exists: it sees the link only while it may
// read that case itself (S1), the decision a read of the case would get; the owner always sees it.
TEST_F(EvidenceTest, ARecipientSeesTheCaseOfAnItemOnlyWhenItMayReadTheCase) {
  RecordInput cin;
  cin.survivor_id = survivor_;
  cin.set = {{"cas_Status", "Active"}};
  auto c = app_->Create(advocate_, RecordKind::kCase, cin, "r");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string case_id = c->record.id;
  auto item = app_->CreateEvidence(advocate_, {survivor_, case_id, "Recorded statement", "audio_recording", "", ""}, "r");
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  EXPECT_EQ(item->case_id, case_id);
  const std::string unlinked = Item(advocate_, "Written statement");
  auto items = Release({item->id, unlinked});  // the items alone: no record, so no case
  ASSERT_TRUE(items.ok()) << items.status().ToString();

  // The accounting's rows for the case link: (action, grant ids) in order. Each one says that
  // the sheriff was shown which case an item belongs to (S13), on the grants that let it read
  // the case.
  auto case_links = [&]() {
    std::vector<std::pair<std::string, std::string>> out;
    auto ds = app_->ListDisclosures(advocate_, survivor_, "r");
    EXPECT_TRUE(ds.ok()) << ds.status().ToString();
    if (!ds.ok()) return out;
    for (const auto& d : *ds) {
      if (d.categories != "case_link") continue;
      EXPECT_EQ(d.record_id, case_id);
      EXPECT_EQ(d.basis, "release");
      EXPECT_EQ(d.actor_agency_id, le_);
      out.emplace_back(d.action, d.grant_ids);
    }
    return out;
  };
  using Links = std::vector<std::pair<std::string, std::string>>;
  auto case_id_of = [&](const Principal& p, const std::string& id) -> std::string {
    auto one = app_->GetEvidence(p, id, "r");
    EXPECT_TRUE(one.ok()) << one.status().ToString();
    auto list = app_->ListEvidence(p, survivor_, "r");
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    if (!one.ok() || !list.ok()) return "?";
    for (const auto& v : *list) {
      if (v.id == id) {
        EXPECT_EQ(v.case_id, one->case_id) << "the list and the item disagree";
      }
    }
    return one->case_id;
  };
  EXPECT_EQ(app_->Get(officer_, RecordKind::kCase, case_id, "r").status().code(), Code::kNotFound);
  EXPECT_EQ(case_id_of(officer_, item->id), "");
  EXPECT_EQ(case_id_of(officer_, unlinked), "");
  EXPECT_EQ(case_id_of(advocate_, item->id), case_id);
  EXPECT_EQ(case_links(), Links{});  // not shown, not disclosed

  // A second release opening the survivor's records: the sheriff may read the case, so the link
  // shows; revoked, it is gone again on the next request (S3) while the items stay shared.
  auto records = Release({}, {"case_workflow"});
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_TRUE(app_->Get(officer_, RecordKind::kCase, case_id, "r").ok());
  EXPECT_EQ(case_links(), Links{});  // the read of the case is accounted for as such (case.read)
  EXPECT_EQ(case_id_of(officer_, item->id), case_id);
  // Shown through the item and through the list: one disclosure each, on the release that opens
  // the case (not the one naming the item).
  EXPECT_EQ(case_links(), (Links{{"read", records->id}, {"list", records->id}}));
  EXPECT_EQ(case_id_of(officer_, unlinked), "");
  EXPECT_EQ(case_links(), (Links{{"read", records->id}, {"list", records->id}, {"list", records->id}}));
  ASSERT_TRUE(app_->RevokeGrant(advocate_, records->id, "survivor_request", "r").ok());
  EXPECT_EQ(case_id_of(officer_, item->id), "");
  EXPECT_EQ(case_id_of(advocate_, item->id), case_id);
  EXPECT_EQ(case_links().size(), 3u);  // neither the sheriff without the link nor the owner

  // One release naming the item and opening the records does the same.
  ASSERT_TRUE(app_->RevokeGrant(advocate_, items->id, "survivor_request", "r").ok());
  auto both = Release({item->id}, {"trafficking_history"});
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(case_id_of(officer_, item->id), case_id);
  EXPECT_EQ(case_links(), (Links{{"read", records->id},
                                 {"list", records->id},
                                 {"list", records->id},
                                 {"read", both->id},
                                 {"list", both->id}}));

  // The link's disclosure row rides with its audit entry: if that entry cannot be made durable,
  // the read fails and no row is left without its entry.
  {
    testing::FailingAuditEntries failing(dir_, case_id);  // the "disclose" entry names the case
    ASSERT_TRUE(failing.ok());
    EXPECT_FALSE(app_->GetEvidence(officer_, item->id, "r").ok());
    EXPECT_FALSE(app_->ListEvidence(officer_, survivor_, "r").ok());
  }
  EXPECT_EQ(case_links().size(), 5u);
  EXPECT_EQ(case_id_of(officer_, item->id), case_id);
  EXPECT_EQ(case_links().size(), 7u);
}

TEST_F(EvidenceTest, ExpiryClosesTheItemsOnTheNextRequest) {
  const std::string named = Item(advocate_, "Photo of the injury", "photo");
  ASSERT_TRUE(Release({named}, {"trafficking_history"}).ok());
  EXPECT_TRUE(app_->GetEvidence(officer_, named, "r").ok());
  clock_.AdvanceSeconds(11 * 86400);
  EXPECT_EQ(app_->GetEvidence(officer_, named, "r").status().code(), Code::kNotFound);
}

TEST_F(EvidenceTest, AttorneyWorkProductStaysWithTheLegalTeam) {
  EXPECT_EQ(app_->CreateEvidence(advocate_, {survivor_, "", "Notes", "attorney_notes", "", ""}, "r").status().code(),
            Code::kForbidden);
  const std::string notes = Item(attorney_, "Interview notes", "attorney_notes");
  EXPECT_TRUE(app_->GetEvidence(attorney_, notes, "r").ok());
  EXPECT_EQ(app_->GetEvidence(advocate_, notes, "r").status().code(), Code::kNotFound);
  EXPECT_EQ(app_->ListEvidence(advocate_, survivor_, "r")->size(), 0u);
  EXPECT_EQ(app_->ListEvidence(attorney_, survivor_, "r")->size(), 1u);
  EXPECT_EQ(Release({notes}).status().field(), "evidence_ids");
}

TEST_F(EvidenceTest, TheSignedCopyOfAReleaseIsAnEvidenceItem) {
  auto g = Release({}, {"identity"});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(app_->AttachSignedCopy(officer_, g->id, "application/pdf", kPdf, "r").status().code(), Code::kNotFound);
  EXPECT_EQ(app_->AttachSignedCopy(advocate_, "g_nope", "application/pdf", kPdf, "r").status().code(), Code::kNotFound);
  EXPECT_EQ(app_->AttachSignedCopy(advocate_, g->id, "text/html", "<p>", "r").status().field(), "content_type");
  auto copy = app_->AttachSignedCopy(advocate_, g->id, "application/pdf", kPdf, "r");
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(copy->kind, "signed_release");
  EXPECT_EQ(copy->grant_id, g->id);
  EXPECT_EQ(app_->AttachSignedCopy(advocate_, g->id, "application/pdf", kPdf, "r").status().code(), Code::kConflict);
  auto gs = app_->ListGrants(advocate_, survivor_, "r");
  ASSERT_TRUE(gs.ok());
  EXPECT_EQ((*gs)[0].signed_copy_id, copy->id);
  EXPECT_EQ(app_->GetEvidenceContent(advocate_, copy->id, "r")->bytes, kPdf);
  // Not named, so not the sheriff's to see (the release names categories only).
  EXPECT_EQ(app_->GetEvidence(officer_, copy->id, "r").status().code(), Code::kNotFound);
  EXPECT_EQ(app_->CreateEvidence(advocate_, {survivor_, "", "x", "signed_release", "", ""}, "r").status().field(), "kind");
}

TEST_F(EvidenceTest, ErasureAndBackupsCryptoShredTheFiles) {
  const std::string id = Item(advocate_, "Passport scan", "identity_document");
  ASSERT_TRUE(app_->PutEvidenceContent(advocate_, id, "application/pdf", kPdf, "r").ok());
  const std::string backup = dir_ + "/backup.bin";
  ASSERT_TRUE(app_->Backup(backup, /*include_keys=*/false).ok());
  ASSERT_TRUE(app_->EraseSurvivor(supervisor_, survivor_, "r").ok());
  EXPECT_EQ(app_->GetEvidence(advocate_, id, "r").status().code(), Code::kNotFound);
  app_.reset();
  ASSERT_TRUE(Restore(dir_, "", backup).ok());
  Reopen();
  // The old backup brought the item back, but not the key: its file stays unreadable.
  auto f = app_->GetEvidenceContent(advocate_, id, "r");
  EXPECT_EQ(f.status().code(), Code::kDataLoss);
}

}  // namespace
}  // namespace trellis::app
