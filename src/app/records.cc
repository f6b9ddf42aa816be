// Survivor and case use cases: create, read, update, list — through policy, crypto and audit.
#include <algorithm>
#include <charconv>
#include <set>

#include "app/app.h"
#include "app/impl.h"
#include "app/leftovers.h"
#include "core/ids.h"
#include "core/rng.h"
#include "crypto/envelope.h"
#include "crypto/primitives.h"

namespace trellis::app {

using domain::RecordKind;

namespace {

const char* Noun(RecordKind k) { return k == RecordKind::kSurvivor ? "survivor" : "case"; }

}  // namespace

std::string NewCaseNumber() { return NewCaseNumber(SystemRng()); }

std::string NewCaseNumber(Rng& rng) {
  // Pseudonymous: random, never derived from names or sequence. Unambiguous alphabet.
  static constexpr char kAlpha[] = "23456789ABCDEFGHJKMNPQRSTVWXYZ";
  uint8_t b[8];
  rng.Fill(b, sizeof b);
  std::string s = "TR-";
  for (int i = 0; i < 8; ++i) {
    if (i == 4) s += '-';
    s += kAlpha[b[i] % (sizeof(kAlpha) - 1)];
  }
  return s;
}

namespace {

std::string EncodeCursor(int64_t created, const std::string& id) {
  return crypto::ToBase64Url(std::to_string(created) + ":" + id);
}

bool DecodeCursor(const std::string& cursor, int64_t* created, std::string* id) {
  auto raw = crypto::FromBase64Url(cursor);
  if (!raw.ok()) return false;
  size_t colon = raw->find(':');
  if (colon == std::string::npos) return false;
  auto r = std::from_chars(raw->data(), raw->data() + colon, *created);
  if (r.ec != std::errc() || r.ptr != raw->data() + colon) return false;
  *id = raw->substr(colon + 1);
  return true;
}

// Checks that `subject` may write every field it sets or unsets, per the decision.
Status CheckWritable(const policy::Decision& d, RecordKind kind, const RecordInput& in) {
  auto check = [&](const std::string& name) -> Status {
    const domain::FieldSpec* spec = domain::FindField(kind, name);
    if (!spec) return Status::Invalid(std::string("is not a field of a ") + Noun(kind), name);
    if (spec->system_only) return Status::Invalid("is written by Trellis, not by hand", name);
    if (!d.FieldAllowed(*spec)) return Status(Code::kForbidden, "you may not change this field", name);
    return Status::Ok();
  };
  for (const auto& [name, _] : in.set) TRELLIS_RETURN_IF_ERROR(check(name));
  for (const auto& name : in.unset) TRELLIS_RETURN_IF_ERROR(check(name));
  return Status::Ok();
}

Status ValidateTeam(storage::CaseStore& store, const std::string& agency_id, const std::vector<std::string>& team) {
  if (team.size() > 50) return Status::Invalid("may name at most 50 users", "team");
  for (const auto& uid : team) {
    auto u = store.GetUserById(uid);
    if (!u.ok() || u->user.agency_id != agency_id) return Status::Invalid("names a user who is not in this agency", "team");
  }
  return Status::Ok();
}

}  // namespace

policy::Resource ResourceOf(const storage::StoredRecord& s) { return {s.kind, s.agency_id, s.team, s.survivor_id}; }

policy::Decision DecideRecord(const policy::Subject& subject, policy::Action action, const storage::StoredRecord& s,
                              int64_t now, const std::vector<policy::Grant>& grants) {
  // Only the grants on this record's survivor: a small stack copy for lists mixing survivors.
  std::vector<policy::Grant> mine;
  bool all_same = true;
  for (const auto& g : grants) all_same = all_same && g.survivor_id == s.survivor_id;
  if (!all_same) {
    for (const auto& g : grants) {
      if (g.survivor_id == s.survivor_id) mine.push_back(g);
    }
  }
  policy::Context ctx{now, all_same ? std::span<const policy::Grant>(grants) : std::span<const policy::Grant>(mine)};
  return policy::Decide(subject, action, ResourceOf(s), ctx);
}

storage::StoredRecord SealRecord(const domain::Record& r, const crypto::Key32& key) {
  storage::StoredRecord s;
  s.kind = r.kind;
  s.id = r.id;
  s.agency_id = r.agency_id;
  s.survivor_id = r.survivor_id;
  s.case_number = r.case_number;
  s.version = r.version;
  s.created_at = r.created_at;
  s.updated_at = r.updated_at;
  s.team = r.team;
  for (const auto& [name, value] : r.fields) {
    const domain::FieldSpec* spec = domain::FindField(r.kind, name);
    TRELLIS_INVARIANT(spec != nullptr, "sealing a field that is not in the field table");
    if (spec->sealed()) {
      s.sealed[name] = crypto::SealField(key, 1, r.id, name, value);
    } else {
      s.plain[name] = value;
    }
  }
  auto st = r.fields.find("cas_Status");
  s.status = st == r.fields.end() ? "" : st->second;
  return s;
}

Result<RecordView> OpenRecord(const storage::StoredRecord& s, const crypto::Key32* key, const policy::Decision& d) {
  RecordView v;
  domain::Record& r = v.record;
  r.kind = s.kind;
  r.id = s.id;
  r.agency_id = s.agency_id;
  r.survivor_id = s.survivor_id;
  r.case_number = s.case_number;
  r.version = s.version;
  r.created_at = s.created_at;
  r.updated_at = s.updated_at;
  r.team = s.team;
  // The stored fields (only those that hold data), each looked up in the field table; a name
  // the table does not list for this kind, or a field stored in the wrong column, is not shown.
  std::vector<const domain::FieldSpec*> withheld;
  for (const bool sealed : {false, true}) {
    for (const auto& [name, stored] : sealed ? s.sealed : s.plain) {
      const domain::FieldSpec* spec = domain::FindField(s.kind, name);
      if (spec == nullptr || spec->sealed() != sealed) continue;
      if (!d.FieldAllowed(*spec) || (sealed && !key)) {
        withheld.push_back(spec);
        continue;
      }
      if (!sealed) {
        r.fields.emplace(name, stored);
        continue;
      }
      auto pt = crypto::OpenField(*key, s.id, name, stored);
      if (!pt.ok()) return Status::DataLoss("a sealed field of " + s.id + " does not open");
      r.fields.emplace(name, std::move(pt).value());
    }
  }
  // Withheld names in the field table's order (FieldSpecs are one array: address order).
  std::sort(withheld.begin(), withheld.end(), std::less<const domain::FieldSpec*>());
  v.redacted.reserve(withheld.size());
  for (const domain::FieldSpec* spec : withheld) v.redacted.emplace_back(spec->name);
  return v;
}

void ForeignView(const Principal& p, RecordView* v) {
  // Another agency learns only what was released: not which other fields hold data, nor who
  // works the case.
  if (v->record.agency_id == p.user.agency_id) return;
  v->redacted.clear();
  v->record.team.clear();
}

std::string CategoriesOf(const RecordView& v) {
  std::vector<std::string_view> cats;
  for (const auto& [name, _] : v.record.fields) {
    const domain::FieldSpec* spec = domain::FindField(v.record.kind, name);
    if (!spec) continue;
    std::string_view c = domain::CategoryName(spec->category);
    if (std::find(cats.begin(), cats.end(), c) == cats.end()) cats.push_back(c);
  }
  std::sort(cats.begin(), cats.end());
  std::string out;
  for (const auto& c : cats) {
    if (!out.empty()) out += ',';
    out += c;
  }
  return out;
}

Result<RecordView> App::Create(const Principal& p, RecordKind kind, const RecordInput& in, const std::string& request_id) {
  const std::string action = std::string(Noun(kind)) + ".create";
  const int64_t now = clock().NowMicros();
  domain::Record r;
  r.kind = kind;
  r.agency_id = p.user.agency_id;
  r.version = 1;
  r.created_at = r.updated_at = now;
  r.team = in.team.value_or(std::vector<std::string>{p.user.id});
  policy::Decision d = policy::Decide(impl_->SubjectOf(p), policy::Action::kCreate, {kind, r.agency_id, r.team},
                                      {clock().NowMicros()});
  if (!d.allowed()) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, action, "deny", "", "", request_id, d.reason));
    return Status::Forbidden("you may not create records");
  }
  if (!in.unset.empty()) return Status::Invalid("cannot remove fields from a new record", "unset");
  TRELLIS_RETURN_IF_ERROR(CheckWritable(d, kind, in));
  TRELLIS_ASSIGN_OR_RETURN(r.fields, domain::NormalizeFields(kind, in.set));
  TRELLIS_RETURN_IF_ERROR(impl_->ScreenFactsInto(&r.fields));
  TRELLIS_RETURN_IF_ERROR(ValidateTeam(*impl_->store, r.agency_id, r.team));

  crypto::Key32 key;
  std::optional<storage::DataKeyRow> new_key;
  if (kind == RecordKind::kSurvivor) {
    r.id = NewRandomId(SystemRng(), "s");
    r.survivor_id = r.id;
    new_key = impl_->NewDataKey(r.id, &key);
  } else {
    if (in.survivor_id.empty()) return Status::Invalid("is required", "survivor_id");
    // The survivor must exist and be visible to the caller; otherwise answer as missing.
    auto surv = impl_->store->GetRecord(RecordKind::kSurvivor, in.survivor_id);
    if (!surv.ok() || !policy::Decide(impl_->SubjectOf(p), policy::Action::kRead, ResourceOf(*surv), {now}).allowed()) {
      TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, action, "deny", "", in.survivor_id, request_id, "survivor_not_visible"));
      return Status::Invalid("no such survivor", "survivor_id");
    }
    r.id = NewRandomId(SystemRng(), "c");
    r.survivor_id = in.survivor_id;
    r.case_number = NewCaseNumber();
    TRELLIS_ASSIGN_OR_RETURN(key, impl_->DataKey(r.survivor_id));
  }
  storage::StoredRecord stored = SealRecord(r, key);
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) {
    if (new_key) TRELLIS_RETURN_IF_ERROR(t.PutDataKey(*new_key));
    return t.InsertRecord(stored);
  }));
  TRELLIS_ASSIGN_OR_RETURN(RecordView v, OpenRecord(stored, &key, d));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, action, "ok", r.id, r.survivor_id, request_id, CategoriesOf(v)));
  return v;
}

Result<RecordView> App::Get(const Principal& p, RecordKind kind, const std::string& id, const std::string& request_id) {
  const std::string action = std::string(Noun(kind)) + ".read";
  // The record, its survivor's wrapped data key and the grants on the survivor in one read (no
  // cached grant, S3; no cached key: an erasure applies on the next request).
  auto read = impl_->store->GetRecordForRead(kind, id);
  if (!read.ok()) {
    if (read.status().code() != Code::kNotFound) return read.status();
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, action, "not_found", id, "", request_id));
    return Status::NotFound();
  }
  const storage::StoredRecord* stored = &read->record;
  std::vector<policy::Grant> grants;
  grants.reserve(read->grants.size());
  for (const auto& g : read->grants) grants.push_back(ToPolicyGrant(g));
  policy::Decision d = DecideRecord(impl_->SubjectOf(p), policy::Action::kRead, *stored, clock().NowMicros(), grants);
  if (!d.allowed()) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, action, "deny", id, stored->survivor_id, request_id, d.reason));
    return Status::NotFound();  // S1: a denied read looks exactly like a missing record
  }
  std::optional<crypto::Key32> key;
  if (!stored->sealed.empty()) {
    if (!read->key) return Status::DataLoss("the data key is gone");
    auto k = impl_->UnwrapDataKey(*read->key);
    if (!k.ok()) return k.status();
    key = std::move(k).value();
  }
  TRELLIS_ASSIGN_OR_RETURN(RecordView v, OpenRecord(*stored, key ? &*key : nullptr, d));
  ForeignView(p, &v);
  if (d.disclosure) {
    TRELLIS_RETURN_IF_ERROR(impl_->RecordDisclosures(p, action, {{&v, &d}}, request_id));
    return v;
  }
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, action, d.effect == policy::Effect::kAllow ? "allow" : "redact", id,
                                            stored->survivor_id, request_id,
                                            CategoriesOf(v) + (d.grant_ids.empty() ? "" : ";break_glass")));
  return v;
}

Result<RecordView> App::Update(const Principal& p, RecordKind kind, const std::string& id, int64_t expected_version,
                               const RecordInput& in, const std::string& request_id) {
  const std::string action = std::string(Noun(kind)) + ".update";
  auto stored = impl_->store->GetRecord(kind, id);
  if (!stored.ok()) return stored.status().code() == Code::kNotFound ? Status::NotFound() : stored.status();
  const int64_t now = clock().NowMicros();
  policy::Decision d = policy::Decide(impl_->SubjectOf(p), policy::Action::kUpdate, ResourceOf(*stored), {now});
  if (!d.allowed()) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, action, "deny", id, stored->survivor_id, request_id, d.reason));
    return Status::NotFound();
  }
  if (stored->version != expected_version) {
    return Status::Conflict("the record was changed by someone else since you read it; reload it");
  }
  TRELLIS_RETURN_IF_ERROR(CheckWritable(d, kind, in));
  TRELLIS_ASSIGN_OR_RETURN(auto fields, domain::NormalizeFields(kind, in.set));
  // Facts changed: validate them and re-run the screening (its summary is stored with them).
  TRELLIS_RETURN_IF_ERROR(impl_->ScreenFactsInto(&fields));
  if (in.team) TRELLIS_RETURN_IF_ERROR(ValidateTeam(*impl_->store, stored->agency_id, *in.team));
  TRELLIS_ASSIGN_OR_RETURN(crypto::Key32 key, impl_->DataKey(stored->survivor_id));

  storage::StoredRecord next = *stored;
  next.version = stored->version + 1;
  next.updated_at = now;
  if (in.team) next.team = *in.team;
  std::string changed;
  for (const auto& name : in.unset) {
    next.plain.erase(name);
    next.sealed.erase(name);
    if (name == "trl_ReliefFacts") next.sealed.erase("trl_ScreeningSummary");  // no facts, no screening
    changed += (changed.empty() ? "" : ",") + name;
  }
  for (const auto& [name, value] : fields) {
    const domain::FieldSpec* spec = domain::FindField(kind, name);
    if (spec->sealed()) {
      next.sealed[name] = crypto::SealField(key, 1, id, name, value);
    } else {
      next.plain[name] = value;
    }
    changed += (changed.empty() ? "" : ",") + name;
  }
  auto st = next.plain.find("cas_Status");
  next.status = st == next.plain.end() ? "" : st->second;
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) { return t.UpdateRecord(next, expected_version); }));
  // The caller's own view after the update, with the decision for the (possibly new) team.
  policy::Decision after = policy::Decide(impl_->SubjectOf(p), policy::Action::kRead, ResourceOf(next), {now});
  TRELLIS_ASSIGN_OR_RETURN(RecordView v, OpenRecord(next, &key, after));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, action, "ok", id, next.survivor_id, request_id, changed));
  return v;
}

Result<ListPage> App::List(const Principal& p, const ListRequest& req, const std::string& request_id) {
  const std::string action = std::string(Noun(req.kind)) + ".list";
  if (req.limit < 1 || req.limit > 200) return Status::Invalid("must be from 1 to 200", "limit");
  storage::ListQuery q;
  q.kind = req.kind;
  q.limit = req.limit;
  q.survivor_id = req.survivor_id;
  q.status = req.status;
  q.updated_since = req.updated_since;
  if (req.mine) q.team_member = p.user.id;
  if (!req.cursor.empty() && !DecodeCursor(req.cursor, &q.after_created, &q.after_id)) {
    return Status::Invalid("is not a cursor from a previous page", "cursor");
  }
  const int64_t now = clock().NowMicros();
  // The agencies whose records this subject may list: its own, when its role works cases, and
  // the survivors released to its agency (grants in force, loaded now: one indexed query).
  std::vector<policy::Grant> grants;
  if (policy::CanWorkCases(p.user.role)) {
    q.agency_ids = {p.user.agency_id};
    TRELLIS_ASSIGN_OR_RETURN(grants, impl_->GrantsToAgency(p.user.agency_id, now));
    std::set<std::string> released;
    for (const auto& g : grants) released.insert(g.survivor_id);
    q.survivor_ids.assign(released.begin(), released.end());
  }
  TRELLIS_ASSIGN_OR_RETURN(auto rows, impl_->store->ListRecords(q));
  // A filter on a field's value may only match where the caller may see that field: another
  // agency whose release leaves case_workflow out would otherwise learn a case's status by
  // searching for it (docs/consent.md: searches go through the same decisions).
  const domain::FieldSpec* status_field = req.status ? domain::FindField(req.kind, "cas_Status") : nullptr;
  ListPage page;
  std::string ids;
  std::vector<policy::Decision> decisions;
  decisions.reserve(rows.size());
  for (const auto& s : rows) {
    policy::Decision d = DecideRecord(impl_->SubjectOf(p), policy::Action::kList, s, now, grants);
    if (!d.allowed()) continue;  // never counted, never shown
    if (req.status && (!status_field || !d.FieldAllowed(*status_field))) continue;
    std::optional<crypto::Key32> key;
    if (!s.sealed.empty()) {
      auto k = impl_->DataKey(s.survivor_id);
      if (!k.ok()) continue;  // erased survivor: nothing left to show
      key = std::move(k).value();
    }
    auto v = OpenRecord(s, key ? &*key : nullptr, d);
    if (v.ok()) ForeignView(p, &v.value());
    if (!v.ok()) return v.status();
    ids += (ids.empty() ? "" : ",") + s.id;
    page.items.push_back(std::move(v).value());
    decisions.push_back(std::move(d));
  }
  if (rows.size() == static_cast<size_t>(req.limit)) page.next_cursor = EncodeCursor(rows.back().created_at, rows.back().id);
  std::vector<Impl::Disclosed> disclosed;
  for (size_t i = 0; i < page.items.size(); ++i) {
    if (decisions[i].disclosure) disclosed.push_back({&page.items[i], &decisions[i]});
  }
  if (!disclosed.empty()) TRELLIS_RETURN_IF_ERROR(impl_->RecordDisclosures(p, action, disclosed, request_id));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, action, "allow", "", "", request_id, ids));
  return page;
}

Result<int> App::EraseSurvivor(const Principal& p, const std::string& survivor_id, const std::string& request_id) {
  auto stored = impl_->store->GetRecord(RecordKind::kSurvivor, survivor_id);
  if (!stored.ok()) return Status::NotFound();
  if (p.user.id != "cli") {
    policy::Decision d = policy::Decide(impl_->SubjectOf(p), policy::Action::kErase, ResourceOf(*stored),
                                        {clock().NowMicros()});
    if (!d.allowed()) {
      TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "survivor.erase", "deny", survivor_id, survivor_id, request_id, d.reason));
      return Status::NotFound();
    }
  }
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) {
    TRELLIS_RETURN_IF_ERROR(t.DeleteDataKey(survivor_id));  // crypto-shredding (S6)
    return t.DeleteSurvivorRecords(survivor_id);
  }));
  // A copy of the store that a backup or restore cut short left behind still holds the key.
  const int running_backups = RemoveLeftovers(impl_->data_dir);
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "survivor.erase", "ok", survivor_id, survivor_id, request_id));
  return running_backups;
}

}  // namespace trellis::app
