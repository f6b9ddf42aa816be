// Evidence items (docs/consent.md, "Evidence items"): documents, photos, recordings and
// statements of one survivor, with an optional file, and the signed copies of releases.
// Title, description, date and the file's SHA-256 are sealed together ("evidence.meta"), the
// file on its own ("evidence.content"), both with the survivor's data key: erasing the
// survivor makes them unreadable. Who sees an item is policy::DecideEvidence; a denied item
// answers kNotFound exactly like a missing one (S1); every read is audited and every read by
// another agency is a disclosure (S13).
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "app/app.h"
#include "app/file_type.h"
#include "app/impl.h"
#include "core/ids.h"
#include "core/rng.h"
#include "crypto/envelope.h"
#include "crypto/primitives.h"
#include "domain/evidence.h"
#include "policy/evidence.h"

namespace trellis::app {

using domain::RecordKind;
using json = nlohmann::json;

namespace {

constexpr char kMetaField[] = "evidence.meta";
constexpr char kContentField[] = "evidence.content";

policy::EvidenceResource ResourceOfItem(const storage::EvidenceRow& e) {
  return {e.id, e.agency_id, e.survivor_id, domain::IsWorkProductKind(e.kind)};
}

std::string SealMeta(const crypto::Key32& key, const std::string& id, const domain::EvidenceFields& f,
                     const std::string& sha256_hex) {
  json j = {{"title", f.title}, {"description", f.description}, {"date", f.date}, {"sha256", sha256_hex}};
  return crypto::SealField(key, 1, id, kMetaField, j.dump());
}

Result<domain::EvidenceFields> OpenMeta(const crypto::Key32& key, const storage::EvidenceRow& e, std::string* sha) {
  TRELLIS_ASSIGN_OR_RETURN(std::string pt, crypto::OpenField(key, e.id, kMetaField, e.sealed));
  json j = json::parse(pt, nullptr, false);
  if (!j.is_object()) return Status::DataLoss("evidence metadata is damaged");
  domain::EvidenceFields f;
  f.title = j.value("title", "");
  f.description = j.value("description", "");
  f.date = j.value("date", "");
  f.kind = e.kind;
  if (sha) *sha = j.value("sha256", "");
  return f;
}

Result<EvidenceView> ViewOfItem(App::Impl& impl, const storage::EvidenceRow& e) {
  TRELLIS_ASSIGN_OR_RETURN(crypto::Key32 key, impl.DataKey(e.survivor_id));
  EvidenceView v;
  std::string sha;
  TRELLIS_ASSIGN_OR_RETURN(auto f, OpenMeta(key, e, &sha));
  v.id = e.id;
  v.survivor_id = e.survivor_id;
  v.case_id = e.case_id;
  v.kind = e.kind;
  v.grant_id = e.grant_id;
  v.created_by = e.created_by;
  v.title = f.title;
  v.description = f.description;
  v.date = f.date;
  v.content_type = e.content_type;
  v.sha256 = sha;
  v.size = e.size;
  v.created_at = e.created_at;
  return v;
}

// What another agency sees of an item: not who of the owning agency added it, nor the release
// of its own the item may be the signed copy of, nor the case the item belongs to unless the
// reader may read that case itself (`case_readable`): the link would tell it that a case exists.
// When it is shown, the link is a disclosure of the case (RecordItemDisclosures).
void ForeignItem(EvidenceView* v, bool case_readable) {
  v->created_by.clear();
  v->grant_id.clear();
  if (!case_readable) v->case_id.clear();
}

// An item allowed to a reader: the row, the decision on it, and the grants that decision was
// made with (those on the item's survivor; none for the owning agency).
struct LoadedItem {
  storage::EvidenceRow row;
  policy::Decision decision;
  std::vector<policy::Grant> grants;
};

// The decision App::Get would make now on `subject` reading the case `case_id`, with `grants`:
// those on the item's survivor, whose case it is. A missing case (or none) is denied.
Result<policy::Decision> CaseDecision(App::Impl& impl, const policy::Subject& subject, const std::string& case_id,
                                      const std::vector<policy::Grant>& grants) {
  policy::Decision denied;
  if (case_id.empty()) return denied;
  auto c = impl.store->GetRecord(RecordKind::kCase, case_id);
  if (!c.ok()) {
    if (c.status().code() != Code::kNotFound) return c.status();
    return denied;
  }
  return DecideRecord(subject, policy::Action::kRead, *c, impl.clock->NowMicros(), grants);
}

// An item allowed to the reader, and for another agency the decision on the item's case (which
// says whether the reader sees the link, and on what grants).
struct ShownItem {
  const storage::EvidenceRow* row;
  const policy::Decision* decision;
  const policy::Decision* case_decision;  // null: no case shown through another agency's read
};

}  // namespace

// The disclosures of what cross-agency decisions showed (S13): each item (category
// named_evidence) and each case an item was shown linked to (category case_link, once per case
// and request, on the grants that let the reader read the case: the link tells it which case
// the item belongs to, and that the case exists). Each row rides with its "disclose" audit entry
// and commits in that entry's group-commit batch, as for records (Impl::RecordDisclosures).
static Status RecordItemDisclosures(App::Impl& impl, const Principal& p, const std::string& action,
                                    const std::vector<ShownItem>& items, const std::string& request_id) {
  std::vector<storage::DisclosureRow> rows;
  std::set<std::string> cases;
  const int64_t now = impl.clock->NowMicros();
  for (const ShownItem& it : items) {
    const storage::EvidenceRow& e = *it.row;
    if (!it.decision->disclosure) continue;
    rows.push_back(impl.DisclosureOf(p, action, e.survivor_id, e.id, policy::kEvidenceCategory, *it.decision,
                                     request_id, now));
    if (it.case_decision && it.case_decision->allowed() && it.case_decision->disclosure &&
        cases.insert(e.case_id).second) {
      rows.push_back(impl.DisclosureOf(p, action, e.survivor_id, e.case_id, policy::kCaseLinkCategory,
                                       *it.case_decision, request_id, now));
    }
  }
  return impl.AppendDisclosures(p, std::move(rows));
}

// One item and the decision on it; kNotFound (audited) when missing or denied.
static Result<LoadedItem> LoadItem(App::Impl& impl, const Principal& p, const std::string& id, bool with_content,
                                   const char* audit_action, const std::string& request_id) {
  auto e = impl.store->GetEvidence(id, with_content);
  if (!e.ok() && e.status().code() != Code::kNotFound) return e.status();
  policy::Decision d;
  d.reason = "missing";
  std::vector<policy::Grant> grants;
  if (e.ok()) {
    const int64_t now = impl.clock->NowMicros();
    if (e->agency_id != p.user.agency_id) {
      TRELLIS_ASSIGN_OR_RETURN(grants, impl.GrantsOnSurvivor(e->survivor_id));
    }
    d = policy::DecideEvidence(impl.SubjectOf(p), policy::Action::kRead, ResourceOfItem(*e), {now, grants});
  }
  if (!d.allowed()) {
    TRELLIS_RETURN_IF_ERROR(impl.AuditEntry(p, audit_action, "deny", id, e.ok() ? e->survivor_id : "", request_id,
                                            d.reason));
    return Status::NotFound();
  }
  return LoadedItem{std::move(*e), std::move(d), std::move(grants)};
}

Result<EvidenceView> App::CreateEvidence(const Principal& p, const EvidenceInput& in, const std::string& request_id) {
  const int64_t now = clock().NowMicros();
  auto surv = impl_->store->GetRecord(RecordKind::kSurvivor, in.survivor_id);
  if (!surv.ok() && surv.status().code() != Code::kNotFound) return surv.status();
  const bool wp = domain::IsWorkProductKind(in.kind);
  policy::Decision d;
  if (surv.ok()) {
    d = policy::DecideEvidence(impl_->SubjectOf(p), policy::Action::kCreate,
                               {"", surv->agency_id, surv->id, wp}, {now, {}});
  }
  if (!d.allowed()) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "evidence.create", "deny", "", in.survivor_id, request_id,
                                              surv.ok() ? d.reason : "missing"));
    // A user of the survivor's agency who may not add work product is told so; everyone else
    // gets the answer of a missing survivor.
    if (surv.ok() && wp && surv->agency_id == p.user.agency_id && policy::CanWorkCases(p.user.role)) {
      return Status::Forbidden("only the legal team adds attorney work product");
    }
    return Status::NotFound();
  }
  domain::EvidenceFields f{in.title, in.kind, in.description, in.date};
  if (in.kind == "signed_release") {
    return Status::Invalid("signed releases are attached to their release", "kind");
  }
  TRELLIS_RETURN_IF_ERROR(domain::ValidateEvidenceFields(f));
  if (!in.case_id.empty()) {
    auto c = impl_->store->GetRecord(RecordKind::kCase, in.case_id);
    if (!c.ok() || c->survivor_id != surv->id) return Status::Invalid("is not a case of this survivor", "case_id");
  }
  TRELLIS_ASSIGN_OR_RETURN(crypto::Key32 key, impl_->DataKey(surv->id));
  storage::EvidenceRow e;
  e.id = NewRandomId(SystemRng(), "e");
  e.survivor_id = surv->id;
  e.case_id = in.case_id;
  e.agency_id = surv->agency_id;
  e.kind = in.kind;
  e.created_at = now;
  e.created_by = p.user.id;
  e.sealed = SealMeta(key, e.id, f, "");
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) { return t.InsertEvidence(e); }));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "evidence.create", "ok", e.id, e.survivor_id, request_id, "kind=" + e.kind));
  return ViewOfItem(*impl_, e);
}

// Seals and stores the file of `e` (which has none yet).
static Result<EvidenceView> StoreFile(App::Impl& impl, const Principal& p, storage::EvidenceRow e,
                                      const std::string& content_type, const std::string& bytes, bool insert,
                                      const char* audit_action, const std::string& request_id) {
  auto type = CheckEvidenceFile(content_type, bytes);
  if (!type.ok()) {
    TRELLIS_RETURN_IF_ERROR(impl.AuditEntry(p, audit_action, "refused", e.id, e.survivor_id, request_id,
                                            "field=" + type.status().field()));
    return type.status();
  }
  TRELLIS_ASSIGN_OR_RETURN(crypto::Key32 key, impl.DataKey(e.survivor_id));
  domain::EvidenceFields f;
  if (insert) {
    f.title = "Signed release";
  } else {
    TRELLIS_ASSIGN_OR_RETURN(f, OpenMeta(key, e, nullptr));
  }
  const std::string sha = crypto::ToHex(crypto::Sha256(bytes));
  e.content_type = *type;
  e.size = static_cast<int64_t>(bytes.size());
  e.sealed = SealMeta(key, e.id, f, sha);
  e.content = crypto::SealField(key, 1, e.id, kContentField, bytes);
  TRELLIS_RETURN_IF_ERROR(impl.store->Write([&](storage::Txn& t) {
    return insert ? t.InsertEvidence(e) : t.SetEvidenceContent(e);
  }));
  TRELLIS_RETURN_IF_ERROR(impl.AuditEntry(p, audit_action, "ok", e.id, e.survivor_id, request_id,
                                          "type=" + e.content_type + ";bytes=" + std::to_string(e.size) +
                                              (e.grant_id.empty() ? "" : ";grant=" + e.grant_id)));
  e.content.clear();
  return ViewOfItem(impl, e);
}

Result<EvidenceView> App::PutEvidenceContent(const Principal& p, const std::string& evidence_id,
                                             const std::string& content_type, const std::string& bytes,
                                             const std::string& request_id) {
  TRELLIS_ASSIGN_OR_RETURN(auto item, LoadItem(*impl_, p, evidence_id, false, "evidence.upload", request_id));
  if (item.row.agency_id != p.user.agency_id) {  // a recipient reads; it never writes
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "evidence.upload", "deny", evidence_id, "", request_id, "other_agency"));
    return Status::NotFound();
  }
  if (item.row.size > 0) return Status::Conflict("this item already has a file");
  return StoreFile(*impl_, p, std::move(item.row), content_type, bytes, false, "evidence.upload", request_id);
}

Result<std::vector<EvidenceView>> App::ListEvidence(const Principal& p, const std::string& survivor_id,
                                                    const std::string& request_id) {
  const int64_t now = clock().NowMicros();
  auto surv = impl_->store->GetRecord(RecordKind::kSurvivor, survivor_id);
  if (!surv.ok() && surv.status().code() != Code::kNotFound) return surv.status();
  std::vector<policy::Grant> grants;
  if (surv.ok() && surv->agency_id != p.user.agency_id) {
    TRELLIS_ASSIGN_OR_RETURN(grants, impl_->GrantsOnSurvivor(survivor_id));
  }
  const policy::Subject subject = impl_->SubjectOf(p);
  std::vector<storage::EvidenceRow> rows;
  std::vector<std::pair<const storage::EvidenceRow*, policy::Decision>> allowed;
  bool visible = false;
  if (surv.ok()) {
    // The survivor is visible (same agency, or a grant in force with categories), or a release
    // names some of its items: else the answer of a missing survivor.
    visible = policy::Decide(subject, policy::Action::kList, ResourceOf(*surv), {now, grants}).allowed();
    TRELLIS_ASSIGN_OR_RETURN(rows, impl_->store->ListEvidence(survivor_id));
    for (const auto& e : rows) {
      policy::Decision d = policy::DecideEvidence(subject, policy::Action::kList, ResourceOfItem(e), {now, grants});
      if (d.allowed()) allowed.emplace_back(&e, std::move(d));
    }
  }
  if (!visible && allowed.empty()) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "evidence.list", "deny", "", survivor_id, request_id));
    return Status::NotFound();
  }
  std::vector<EvidenceView> out;
  std::vector<ShownItem> shown;
  std::map<std::string, policy::Decision> case_decisions;  // several items may belong to one case
  for (const auto& [e, d] : allowed) {
    TRELLIS_ASSIGN_OR_RETURN(EvidenceView v, ViewOfItem(*impl_, *e));
    const policy::Decision* case_decision = nullptr;
    if (d.disclosure) {
      auto known = case_decisions.find(e->case_id);
      if (known == case_decisions.end()) {
        TRELLIS_ASSIGN_OR_RETURN(policy::Decision cd, CaseDecision(*impl_, subject, e->case_id, grants));
        known = case_decisions.emplace(e->case_id, std::move(cd)).first;
      }
      case_decision = &known->second;
      ForeignItem(&v, case_decision->allowed());
    }
    shown.push_back({e, &d, case_decision});
    out.push_back(std::move(v));
  }
  TRELLIS_RETURN_IF_ERROR(RecordItemDisclosures(*impl_, p, "list", shown, request_id));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "evidence.list", "allow", "", survivor_id, request_id,
                                            "items=" + std::to_string(out.size())));
  return out;
}

Result<EvidenceView> App::GetEvidence(const Principal& p, const std::string& evidence_id, const std::string& request_id) {
  TRELLIS_ASSIGN_OR_RETURN(auto item, LoadItem(*impl_, p, evidence_id, false, "evidence.read", request_id));
  TRELLIS_ASSIGN_OR_RETURN(EvidenceView v, ViewOfItem(*impl_, item.row));
  policy::Decision case_decision;
  if (item.decision.disclosure) {
    TRELLIS_ASSIGN_OR_RETURN(case_decision, CaseDecision(*impl_, impl_->SubjectOf(p), item.row.case_id, item.grants));
    ForeignItem(&v, case_decision.allowed());
  }
  TRELLIS_RETURN_IF_ERROR(
      RecordItemDisclosures(*impl_, p, "read", {{&item.row, &item.decision, &case_decision}}, request_id));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "evidence.read", "allow", v.id, v.survivor_id, request_id,
                                            item.decision.reason));
  return v;
}

Result<EvidenceFile> App::GetEvidenceContent(const Principal& p, const std::string& evidence_id,
                                             const std::string& request_id) {
  TRELLIS_ASSIGN_OR_RETURN(auto item, LoadItem(*impl_, p, evidence_id, true, "evidence.download", request_id));
  const storage::EvidenceRow& e = item.row;
  if (e.size == 0) {  // no file: answered like a missing one
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "evidence.download", "deny", e.id, e.survivor_id, request_id, "no_file"));
    return Status::NotFound();
  }
  TRELLIS_ASSIGN_OR_RETURN(crypto::Key32 key, impl_->DataKey(e.survivor_id));
  TRELLIS_ASSIGN_OR_RETURN(std::string bytes, crypto::OpenField(key, e.id, kContentField, e.content));
  // A download carries the file only, not the case link.
  TRELLIS_RETURN_IF_ERROR(RecordItemDisclosures(*impl_, p, "download", {{&e, &item.decision, nullptr}}, request_id));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "evidence.download", "allow", e.id, e.survivor_id, request_id,
                                            item.decision.reason));
  return EvidenceFile{e.content_type, "evidence-" + e.id + "." + std::string(domain::ExtensionOf(e.content_type)),
                      std::move(bytes)};
}

Result<EvidenceView> App::AttachSignedCopy(const Principal& p, const std::string& grant_id,
                                           const std::string& content_type, const std::string& bytes,
                                           const std::string& request_id) {
  const int64_t now = clock().NowMicros();
  auto g = impl_->store->GetGrant(grant_id);
  bool ok = g.ok() && g->kind == "release" && g->owner_agency_id == p.user.agency_id &&
            policy::CanRecordReleases(p.user.role);
  if (ok) {  // the survivor must still be visible to the caller
    auto surv = impl_->store->GetRecord(RecordKind::kSurvivor, g->survivor_id);
    ok = surv.ok() && policy::Decide(impl_->SubjectOf(p), policy::Action::kRead, ResourceOf(*surv), {now}).allowed();
  }
  if (!ok) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "release.signed_copy", "deny", grant_id, "", request_id));
    return Status::NotFound();
  }
  TRELLIS_ASSIGN_OR_RETURN(auto items, impl_->store->ListEvidence(g->survivor_id));
  for (const auto& e : items) {
    if (e.kind == "signed_release" && e.grant_id == g->id) return Status::Conflict("this release already has a signed copy");
  }
  storage::EvidenceRow e;
  e.id = NewRandomId(SystemRng(), "e");
  e.survivor_id = g->survivor_id;
  e.agency_id = g->owner_agency_id;
  e.kind = "signed_release";
  e.grant_id = g->id;
  e.created_at = now;
  e.created_by = p.user.id;
  return StoreFile(*impl_, p, std::move(e), content_type, bytes, true, "release.signed_copy", request_id);
}

}  // namespace trellis::app
