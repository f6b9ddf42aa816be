// Consent use cases: releases of information (S2), revocation (S3), break-glass access (S14),
// compelled disclosure (S20) and the accounting of disclosures (S13). The rules of who sees
// what under a grant live in policy/; this file records, validates and lists grants.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "app/app.h"
#include "app/impl.h"
#include "core/ids.h"
#include "core/rng.h"
#include "crypto/envelope.h"
#include "domain/evidence.h"

namespace trellis::app {

using domain::RecordKind;
using json = nlohmann::json;

namespace {

constexpr char kSealedField[] = "grant";
constexpr int64_t kDayMicros = 86'400'000'000;

std::vector<std::string> SplitCategories(const std::string& s) {
  std::vector<std::string> out;
  for (auto part : domain::SplitList(s, ',')) out.emplace_back(part);
  return out;
}

std::string JoinCategories(const std::vector<domain::Category>& cats) {
  std::string out;
  for (auto c : cats) out += (out.empty() ? "" : ",") + std::string(domain::CategoryName(c));
  return out;
}

bool OneOf(const std::vector<std::string_view>& allowed, const std::string& v) {
  return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
}

const char* StatusOf(const storage::GrantRow& g, int64_t now) {
  if (g.revoked_at) return "revoked";
  if (now < g.effective_at) return "pending";
  if (now >= g.expires_at) return "expired";
  return "active";
}

}  // namespace

policy::Grant ToPolicyGrant(const storage::GrantRow& g) {
  policy::Grant out;
  out.id = g.id;
  out.kind = g.kind == "break_glass" ? policy::GrantKind::kBreakGlass
             : g.kind == "compelled" ? policy::GrantKind::kCompelled
                                     : policy::GrantKind::kRelease;
  out.survivor_id = g.survivor_id;
  out.recipient_agency_id = g.recipient_agency_id;
  out.recipient_user_id = g.recipient_user_id;
  for (auto name : domain::SplitList(g.categories, ',')) {
    auto c = domain::ParseCategory(name);
    if (c.ok()) out.categories |= policy::CategoryBit(*c);
  }
  out.effective_at = g.effective_at;
  out.expires_at = g.expires_at;
  out.revoked_at = g.revoked_at;
  for (auto id : domain::SplitList(g.evidence_ids, ',')) out.evidence_ids.emplace_back(id);
  return out;
}

Result<std::vector<policy::Grant>> App::Impl::GrantsOnSurvivor(const std::string& survivor_id) {
  storage::GrantQuery q;
  q.survivor_id = survivor_id;
  TRELLIS_ASSIGN_OR_RETURN(auto rows, store->ListGrants(q));
  std::vector<policy::Grant> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(ToPolicyGrant(r));
  return out;
}

Result<std::vector<policy::Grant>> App::Impl::GrantsToAgency(const std::string& agency_id, int64_t now) {
  storage::GrantQuery q;
  q.recipient_agency_id = agency_id;
  q.in_force_at = now;
  q.limit = 10000;
  TRELLIS_ASSIGN_OR_RETURN(auto rows, store->ListGrants(q));
  std::vector<policy::Grant> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(ToPolicyGrant(r));
  return out;
}

storage::DisclosureRow App::Impl::DisclosureOf(const Principal& p, const std::string& action,
                                              const std::string& survivor_id, const std::string& record_id,
                                              std::string categories, const policy::Decision& d,
                                              const std::string& request_id, int64_t at) const {
  storage::DisclosureRow r;
  r.survivor_id = survivor_id;
  r.record_id = record_id;
  r.at = at;
  r.actor_user_id = p.user.id;
  r.actor_agency_id = p.user.agency_id;
  r.action = action;
  r.categories = std::move(categories);
  r.basis = policy::GrantKindName(d.basis);
  for (const auto& g : d.grant_ids) r.grant_ids += (r.grant_ids.empty() ? "" : ",") + g;
  r.request_id = request_id;
  return r;
}

Status App::Impl::AppendDisclosures(const Principal& p, std::vector<storage::DisclosureRow> rows) {
  for (auto& r : rows) {
    std::string detail = "basis=" + r.basis + ";grants=" + r.grant_ids + ";categories=" + r.categories;
    std::string action = r.action, record_id = r.record_id, survivor_id = r.survivor_id, request_id = r.request_id;
    // Shared, not copied: the audit writer copies an entry's attachment into its batch (a
    // retried transaction builds the batch again), ten strings a row otherwise.
    auto row = std::make_shared<const storage::DisclosureRow>(std::move(r));
    TRELLIS_RETURN_IF_ERROR(AuditEntryWith(std::move(row), p, std::move(action), "disclose", std::move(record_id),
                                           std::move(survivor_id), std::move(request_id), std::move(detail)));
  }
  return Status::Ok();
}

Status App::Impl::RecordDisclosures(const Principal& p, const std::string& action, const std::vector<Disclosed>& items,
                                    const std::string& request_id) {
  const int64_t now = clock->NowMicros();
  std::vector<storage::DisclosureRow> rows;
  rows.reserve(items.size());
  for (const auto& it : items) {
    rows.push_back(DisclosureOf(p, action, it.view->record.survivor_id, it.view->record.id, CategoriesOf(*it.view),
                                *it.decision, request_id, now));
  }
  return AppendDisclosures(p, std::move(rows));
}

namespace {

// The survivor, if the caller's agency owns it and the caller may read it; else kNotFound.
Result<storage::StoredRecord> OwnSurvivor(App::Impl& impl, const Principal& p, const std::string& survivor_id,
                                          int64_t now) {
  auto s = impl.store->GetRecord(RecordKind::kSurvivor, survivor_id);
  if (!s.ok()) return s.status().code() == Code::kNotFound ? Status::NotFound() : s.status();
  if (s->agency_id != p.user.agency_id) return Status::NotFound();
  if (!policy::Decide(impl.SubjectOf(p), policy::Action::kRead, ResourceOf(*s), {now}).allowed()) {
    return Status::NotFound();
  }
  return s;
}

std::string SealGrant(App::Impl& impl, const std::string& survivor_id, const std::string& grant_id, const json& j) {
  auto key = impl.DataKey(survivor_id);
  if (!key.ok()) return {};
  return crypto::SealField(*key, 1, grant_id, kSealedField, j.dump());
}

GrantView ViewOf(App::Impl& impl, const storage::GrantRow& g, int64_t now, bool open_sealed) {
  GrantView v;
  v.id = g.id;
  v.kind = g.kind;
  v.survivor_id = g.survivor_id;
  v.owner_agency_id = g.owner_agency_id;
  v.recipient_agency_id = g.recipient_agency_id;
  v.recipient_user_id = g.recipient_user_id;
  v.categories = SplitCategories(g.categories);
  v.purpose = g.purpose;
  v.language = g.language;
  v.effective_at = g.effective_at;
  v.expires_at = g.expires_at;
  v.created_at = g.created_at;
  v.created_by = g.created_by;
  v.revoked_at = g.revoked_at;
  v.revoked_by = g.revoked_by;
  v.revoke_reason = g.revoke_reason;
  v.task_done_at = g.task_done_at;
  v.status = StatusOf(g, now);
  v.evidence_ids = SplitCategories(g.evidence_ids);
  if (open_sealed && !g.sealed.empty()) {
    auto key = impl.DataKey(g.survivor_id);
    if (key.ok()) {
      auto pt = crypto::OpenField(*key, g.id, kSealedField, g.sealed);
      if (pt.ok()) {
        json j = json::parse(*pt, nullptr, false);
        if (j.is_object()) {
          for (const auto& s : j.value("signers", json::array())) {
            v.signers.push_back({s.value("relationship", ""), s.value("name", "")});
          }
          v.reason = j.value("reason", "");
        }
      }
    }
  }
  return v;
}

Result<std::string> ValidDate(const std::string& v, const char* field) {
  if (v.empty()) return Status::Invalid("is required (YYYY-MM-DD)", field);
  if (!domain::IsValidDate(v)) return Status::Invalid("must be a date YYYY-MM-DD", field);
  return v;
}

Status CheckRecipient(App::Impl& impl, const Principal& p, const std::string& agency_id) {
  if (agency_id.empty()) return Status::Invalid("is required", "recipient_agency_id");
  auto a = impl.store->GetAgency(agency_id);
  if (!a.ok()) return Status::Invalid("is not a known agency", "recipient_agency_id");
  if (agency_id == p.user.agency_id) return Status::Invalid("must be another agency", "recipient_agency_id");
  return Status::Ok();
}

// The evidence items a release names: each an item of this survivor, never attorney work
// product (S4); de-duplicated, comma-joined. Errors name "evidence_ids" and never echo titles.
Result<std::string> NamedEvidence(App::Impl& impl, const std::string& survivor_id, const std::vector<std::string>& ids) {
  if (ids.size() > 100) return Status::Invalid("may name at most 100 items", "evidence_ids");
  std::set<std::string> seen;
  std::string out;
  for (const auto& id : ids) {
    if (!seen.insert(id).second) continue;
    auto e = impl.store->GetEvidence(id, false);
    if (!e.ok() || e->survivor_id != survivor_id) {
      return Status::Invalid("names an item that is not this survivor's evidence", "evidence_ids");
    }
    if (domain::IsWorkProductKind(e->kind)) {
      return Status::Invalid("attorney work product cannot be released", "evidence_ids");
    }
    out += (out.empty() ? "" : ",") + id;
  }
  return out;
}

// The signed copies (evidence items) of a survivor's releases, by grant id.
std::map<std::string, std::string> SignedCopies(App::Impl& impl, const std::string& survivor_id) {
  std::map<std::string, std::string> out;
  auto items = impl.store->ListEvidence(survivor_id);
  if (!items.ok()) return out;
  for (const auto& e : *items) {
    if (e.kind == "signed_release" && !e.grant_id.empty()) out[e.grant_id] = e.id;
  }
  return out;
}

}  // namespace

Result<GrantView> App::CreateRelease(const Principal& p, const ReleaseInput& in, const std::string& request_id) {
  const int64_t now = clock().NowMicros();
  if (!policy::CanRecordReleases(p.user.role)) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "release.create", "deny", "", in.survivor_id, request_id, "role"));
    return Status::Forbidden("your role may not record releases");
  }
  if (in.survivor_id.empty()) return Status::Invalid("is required", "survivor_id");
  auto surv = OwnSurvivor(*impl_, p, in.survivor_id, now);
  if (!surv.ok()) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "release.create", "deny", "", in.survivor_id, request_id, "survivor_not_visible"));
    return Status::Invalid("no such survivor", "survivor_id");
  }
  TRELLIS_RETURN_IF_ERROR(CheckRecipient(*impl_, p, in.recipient_agency_id));
  // Named evidence items may stand alone: then no field category is needed.
  std::vector<domain::Category> cats;
  if (!in.categories.empty() || in.evidence_ids.empty()) {
    TRELLIS_ASSIGN_OR_RETURN(cats, domain::ParseReleaseCategories(in.categories, "categories"));
  }
  TRELLIS_ASSIGN_OR_RETURN(std::string evidence_ids, NamedEvidence(*impl_, surv->id, in.evidence_ids));
  if (!OneOf(domain::ReleasePurposes(), in.purpose)) return Status::Invalid("is not a known purpose", "purpose");
  if (!OneOf(domain::ReleaseLanguages(), in.language)) return Status::Invalid("must be en or es", "language");
  const std::string today = FormatDate(now);
  const std::string effective = in.effective_on.empty() ? today : in.effective_on;
  TRELLIS_RETURN_IF_ERROR(ValidDate(effective, "effective_on").status());
  if (domain::DaysBetween(today, effective) < 0) return Status::Invalid("may not be in the past", "effective_on");
  TRELLIS_ASSIGN_OR_RETURN(std::string expires, ValidDate(in.expires_on, "expires_on"));
  const int64_t days = domain::DaysBetween(effective, expires);
  if (days < 0) return Status::Invalid("must be on or after the effective date", "expires_on");
  if (days >= domain::kMaxReleaseDays) {
    return Status::Invalid("a release may last at most one year; record a new release to continue", "expires_on");
  }
  // The survivor's facts for the signer rules (opened with the survivor's key).
  domain::SurvivorConsentFacts facts;
  {
    TRELLIS_ASSIGN_OR_RETURN(crypto::Key32 key, impl_->DataKey(surv->id));
    auto open = [&](const char* name) -> std::string {
      auto it = surv->sealed.find(name);
      if (it != surv->sealed.end()) {
        auto pt = crypto::OpenField(key, surv->id, name, it->second);
        return pt.ok() ? *pt : std::string();
      }
      auto jt = surv->plain.find(name);
      return jt == surv->plain.end() ? std::string() : jt->second;
    };
    facts.birthdate = open("prs_Birthdate");
    facts.minor_flag = open("trl_Minor") == "true";
    facts.may_consent_alone = open("trl_MinorMayConsentAlone") == "true";
    facts.alleged_perpetrators = open("trl_AllegedPerpetrators");
  }
  if (Status st = domain::ValidateSigners(in.signers, facts, effective); !st.ok()) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "release.create", "refused", "", surv->id, request_id, "signers"));
    return st;
  }
  storage::GrantRow g;
  g.id = NewRandomId(SystemRng(), "g");
  g.kind = "release";
  g.survivor_id = surv->id;
  g.owner_agency_id = surv->agency_id;
  g.recipient_agency_id = in.recipient_agency_id;
  g.categories = JoinCategories(cats);
  g.evidence_ids = evidence_ids;
  g.purpose = in.purpose;
  g.language = in.language;
  g.effective_at = domain::DayStartMicros(effective);
  g.expires_at = domain::DayStartMicros(expires) + kDayMicros;  // through the whole last day
  g.created_at = now;
  g.created_by = p.user.id;
  json signers = json::array();
  for (const auto& s : in.signers) signers.push_back({{"relationship", s.relationship}, {"name", s.name}});
  g.sealed = SealGrant(*impl_, g.survivor_id, g.id, {{"signers", signers}});
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) { return t.InsertGrant(g); }));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "release.create", "ok", g.id, g.survivor_id, request_id,
                                            "recipient=" + g.recipient_agency_id + ";categories=" + g.categories +
                                                ";purpose=" + g.purpose + ";evidence=" + g.evidence_ids));
  return ViewOf(*impl_, g, now, true);
}

Result<GrantView> App::RevokeGrant(const Principal& p, const std::string& grant_id, const std::string& reason,
                                   const std::string& request_id) {
  const int64_t now = clock().NowMicros();
  auto g = impl_->store->GetGrant(grant_id);
  if (!g.ok() || g->owner_agency_id != p.user.agency_id || !policy::CanRecordReleases(p.user.role)) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "grant.revoke", "deny", grant_id, "", request_id));
    return Status::NotFound();
  }
  if (!OneOf(domain::RevocationReasons(), reason)) return Status::Invalid("is not a known reason", "reason");
  if (g->revoked_at) return Status::Conflict("this grant is already revoked");
  g->revoked_at = now;
  g->revoked_by = p.user.id;
  g->revoke_reason = reason;
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) { return t.UpdateGrant(*g); }));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "grant.revoke", "ok", g->id, g->survivor_id, request_id, "reason=" + reason));
  GrantView v = ViewOf(*impl_, *g, now, true);
  v.signed_copy_id = SignedCopies(*impl_, g->survivor_id)[g->id];
  return v;
}

Result<std::vector<GrantView>> App::ListGrants(const Principal& p, const std::string& survivor_id,
                                               const std::string& request_id) {
  const int64_t now = clock().NowMicros();
  auto surv = OwnSurvivor(*impl_, p, survivor_id, now);
  if (!surv.ok()) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "grant.list", "deny", "", survivor_id, request_id));
    return Status::NotFound();
  }
  storage::GrantQuery q;
  q.survivor_id = survivor_id;
  TRELLIS_ASSIGN_OR_RETURN(auto rows, impl_->store->ListGrants(q));
  std::vector<GrantView> out;
  auto copies = SignedCopies(*impl_, survivor_id);
  for (const auto& g : rows) {
    out.push_back(ViewOf(*impl_, g, now, true));
    if (auto it = copies.find(g.id); it != copies.end()) out.back().signed_copy_id = it->second;
  }
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "grant.list", "allow", "", survivor_id, request_id,
                                            "grants=" + std::to_string(out.size())));
  return out;
}

Result<std::vector<GrantView>> App::ListSharedWithMe(const Principal& p, const std::string& request_id) {
  const int64_t now = clock().NowMicros();
  std::vector<GrantView> out;
  if (policy::CanWorkCases(p.user.role) && !p.user.agency_id.empty()) {
    storage::GrantQuery q;
    q.recipient_agency_id = p.user.agency_id;
    q.in_force_at = now;
    TRELLIS_ASSIGN_OR_RETURN(auto rows, impl_->store->ListGrants(q));
    for (const auto& g : rows) {
      if (g.owner_agency_id == p.user.agency_id) continue;  // own break-glass: not a share
      if (!g.recipient_user_id.empty() && g.recipient_user_id != p.user.id) continue;
      out.push_back(ViewOf(*impl_, g, now, false));
    }
  }
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "grant.shared", "allow", "", "", request_id,
                                            "grants=" + std::to_string(out.size())));
  return out;
}

Result<GrantView> App::BreakGlass(const Principal& p, const std::string& survivor_id, const std::string& reason,
                                  const std::string& request_id) {
  const int64_t now = clock().NowMicros();
  if (!policy::CanWorkCases(p.user.role) || p.user.agency_id.empty()) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "break_glass", "deny", "", survivor_id, request_id, "role"));
    return Status::Forbidden("your role may not use emergency access");
  }
  if (!IsWellFormedId(survivor_id, "s")) return Status::Invalid("is not a survivor id", "survivor_id");
  if (reason.size() < 10 || reason.size() > 2000 || !domain::IsValidUtf8(reason)) {
    return Status::Invalid("explain the emergency (10 to 2,000 characters)", "reason");
  }
  // The same answer whether the survivor exists or not: the grant is recorded either way (no
  // existence oracle); only an existing survivor's agency gets an alert.
  auto surv = impl_->store->GetRecord(RecordKind::kSurvivor, survivor_id);
  storage::GrantRow g;
  g.id = NewRandomId(SystemRng(), "g");
  g.kind = "break_glass";
  g.survivor_id = survivor_id;
  g.owner_agency_id = surv.ok() ? surv->agency_id : "";
  g.recipient_agency_id = p.user.agency_id;
  g.recipient_user_id = p.user.id;
  std::vector<domain::Category> cats;
  for (const auto& f : domain::AllFields()) {
    if (f.category != domain::Category::kLegalWorkProduct &&
        std::find(cats.begin(), cats.end(), f.category) == cats.end()) {
      cats.push_back(f.category);
    }
  }
  std::sort(cats.begin(), cats.end());
  g.categories = JoinCategories(cats);
  g.purpose = "emergency";
  g.language = "en";
  g.effective_at = now;
  g.expires_at = now + domain::kBreakGlassSeconds * 1'000'000;
  g.created_at = now;
  g.created_by = p.user.id;
  if (surv.ok()) g.sealed = SealGrant(*impl_, survivor_id, g.id, {{"reason", reason}});
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) { return t.InsertGrant(g); }));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "break_glass", "ok", g.id, survivor_id, request_id,
                                            "alert=" + std::string(surv.ok() ? g.owner_agency_id : "none")));
  GrantView v = ViewOf(*impl_, g, now, false);
  v.owner_agency_id.clear();  // never tells the caller whose survivor this is
  return v;
}

Result<GrantView> App::RecordCompelledDisclosure(const Principal& p, const CompelledInput& in,
                                                 const std::string& request_id) {
  const int64_t now = clock().NowMicros();
  if (!policy::CanRecordCompelledDisclosure(p.user.role)) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "compelled.create", "deny", "", in.survivor_id, request_id, "role"));
    return Status::Forbidden("only supervisors and the legal team record compelled disclosures");
  }
  if (in.survivor_id.empty()) return Status::Invalid("is required", "survivor_id");
  auto surv = OwnSurvivor(*impl_, p, in.survivor_id, now);
  if (!surv.ok()) return Status::Invalid("no such survivor", "survivor_id");
  TRELLIS_RETURN_IF_ERROR(CheckRecipient(*impl_, p, in.recipient_agency_id));
  TRELLIS_ASSIGN_OR_RETURN(auto cats, domain::ParseReleaseCategories(in.categories, "categories"));
  if (!OneOf(domain::CompelledBases(), in.basis)) return Status::Invalid("is not a known legal basis", "basis");
  if (in.reference.empty() || in.reference.size() > 500 || !domain::IsValidUtf8(in.reference)) {
    return Status::Invalid("name the order or subpoena (1 to 500 characters)", "reference");
  }
  TRELLIS_ASSIGN_OR_RETURN(std::string expires, ValidDate(in.expires_on, "expires_on"));
  const int64_t days = domain::DaysBetween(FormatDate(now), expires);
  if (days < 0 || days >= domain::kMaxCompelledDays) {
    return Status::Invalid("must be from today to 90 days ahead", "expires_on");
  }
  storage::GrantRow g;
  g.id = NewRandomId(SystemRng(), "g");
  g.kind = "compelled";
  g.survivor_id = surv->id;
  g.owner_agency_id = surv->agency_id;
  g.recipient_agency_id = in.recipient_agency_id;
  g.categories = JoinCategories(cats);
  g.purpose = in.basis;
  g.language = "en";
  g.effective_at = now;
  g.expires_at = domain::DayStartMicros(expires) + kDayMicros;
  g.created_at = now;
  g.created_by = p.user.id;
  g.sealed = SealGrant(*impl_, g.survivor_id, g.id, {{"reason", in.reference}});
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) { return t.InsertGrant(g); }));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "compelled.create", "ok", g.id, g.survivor_id, request_id,
                                            "basis=" + g.purpose + ";recipient=" + g.recipient_agency_id +
                                                ";categories=" + g.categories + ";task=notify_survivor"));
  return ViewOf(*impl_, g, now, true);
}

namespace {
// The newest grants of one kind that the caller's agency holds (alerts, notification tasks);
// `open_tasks_only` drops those whose task is done.
Result<std::vector<GrantView>> OwnGrantsOfKind(App::Impl& impl, const Principal& p, const char* kind, int64_t now,
                                               bool open_tasks_only, bool open_sealed) {
  storage::GrantQuery q;
  q.owner_agency_id = p.user.agency_id;
  q.kind = kind;
  q.limit = 200;
  TRELLIS_ASSIGN_OR_RETURN(auto rows, impl.store->ListGrants(q));
  std::vector<GrantView> out;
  for (const auto& g : rows) {
    if (!open_tasks_only || g.task_done_at == 0) out.push_back(ViewOf(impl, g, now, open_sealed));
  }
  return out;
}
}  // namespace

Result<std::vector<GrantView>> App::ListAlerts(const Principal& p, const std::string& request_id) {
  const int64_t now = clock().NowMicros();
  if (p.user.role != domain::Role::kSupervisor) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "alert.list", "deny", "", "", request_id, "role"));
    return Status::Forbidden("only supervisors see break-glass alerts");
  }
  TRELLIS_ASSIGN_OR_RETURN(auto out, OwnGrantsOfKind(*impl_, p, "break_glass", now, /*open_tasks_only=*/false,
                                                      /*open_sealed=*/true));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "alert.list", "allow", "", "", request_id,
                                            "alerts=" + std::to_string(out.size())));
  return out;
}

Result<std::vector<GrantView>> App::ListTasks(const Principal& p, const std::string& request_id) {
  const int64_t now = clock().NowMicros();
  if (!policy::CanRecordReleases(p.user.role)) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "task.list", "deny", "", "", request_id, "role"));
    return Status::Forbidden("your role has no consent tasks");
  }
  TRELLIS_ASSIGN_OR_RETURN(auto out, OwnGrantsOfKind(*impl_, p, "compelled", now, /*open_tasks_only=*/true,
                                                      /*open_sealed=*/false));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "task.list", "allow", "", "", request_id,
                                            "tasks=" + std::to_string(out.size())));
  return out;
}

Result<GrantView> App::CompleteTask(const Principal& p, const std::string& grant_id, const std::string& request_id) {
  const int64_t now = clock().NowMicros();
  auto g = impl_->store->GetGrant(grant_id);
  if (!g.ok() || g->kind != "compelled" || g->owner_agency_id != p.user.agency_id ||
      !policy::CanRecordReleases(p.user.role)) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "task.done", "deny", grant_id, "", request_id));
    return Status::NotFound();
  }
  if (g->task_done_at) return Status::Conflict("the survivor was already notified");
  g->task_done_at = now;
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) { return t.UpdateGrant(*g); }));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "task.done", "ok", g->id, g->survivor_id, request_id, "notify_survivor"));
  return ViewOf(*impl_, *g, now, false);
}

Result<std::vector<DisclosureItem>> App::ListDisclosures(const Principal& p, const std::string& survivor_id,
                                                         const std::string& request_id) {
  const int64_t now = clock().NowMicros();
  if (p.user.id != "cli") {
    auto surv = OwnSurvivor(*impl_, p, survivor_id, now);
    if (!surv.ok()) {
      TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "disclosure.list", "deny", "", survivor_id, request_id));
      return Status::NotFound();
    }
  } else {
    auto surv = impl_->store->GetRecord(RecordKind::kSurvivor, survivor_id);
    if (!surv.ok()) return Status::NotFound();
  }
  TRELLIS_ASSIGN_OR_RETURN(auto rows, impl_->store->ListDisclosures(survivor_id));
  std::vector<DisclosureItem> out;
  for (const auto& r : rows) {
    out.push_back({r.seq, r.at, r.record_id, r.actor_user_id, r.actor_agency_id, r.action, r.categories, r.basis,
                   r.grant_ids});
  }
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "disclosure.list", "allow", "", survivor_id, request_id,
                                            "entries=" + std::to_string(out.size())));
  return out;
}

}  // namespace trellis::app
