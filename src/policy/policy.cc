#include "policy/policy.h"

#include <algorithm>

namespace trellis::policy {

using domain::Category;
using domain::Role;
using domain::Sensitivity;

const char* ActionName(Action a) {
  switch (a) {
    case Action::kRead: return "read";
    case Action::kList: return "list";
    case Action::kSearch: return "search";
    case Action::kExport: return "export";
    case Action::kCreate: return "create";
    case Action::kUpdate: return "update";
    case Action::kErase: return "erase";
  }
  return "unknown";
}

const char* GrantKindName(GrantKind k) {
  switch (k) {
    case GrantKind::kRelease: return "release";
    case GrantKind::kBreakGlass: return "break_glass";
    case GrantKind::kCompelled: return "compelled";
  }
  return "release";
}

bool CanWorkCases(Role role) {
  switch (role) {
    case Role::kAdvocate:
    case Role::kCaseManager:
    case Role::kAttorney:
    case Role::kParalegal:
    case Role::kSocialWorker:
    case Role::kSupervisor:
    case Role::kLeVictimSpecialist:
    case Role::kLeInvestigator:
      return true;
    case Role::kAuditor:
    case Role::kAdministrator:
      return false;
  }
  return false;
}

bool CanReadAudit(Role role) { return role == Role::kAuditor || role == Role::kSupervisor; }
bool CanManageUsers(Role role) { return role == Role::kAdministrator; }
bool CanRecordReleases(Role role) {
  return CanWorkCases(role) && role != Role::kLeVictimSpecialist && role != Role::kLeInvestigator;
}
bool CanRecordCompelledDisclosure(Role role) { return role == Role::kSupervisor || domain::IsLegalTeam(role); }
bool CanRunBulkJobs(Role role) { return role == Role::kSupervisor; }

bool Grant::Covers(const Subject& s, const std::string& survivor, int64_t now) const {
  return InForceAt(now) && survivor_id == survivor && !recipient_agency_id.empty() &&
         recipient_agency_id == s.agency_id && (recipient_user_id.empty() || recipient_user_id == s.user_id);
}

bool Decision::FieldAllowed(const domain::FieldSpec& spec) const {
  if (!allowed()) return false;
  auto all = domain::FieldsOf(spec.kind);
  for (size_t i = 0; i < all.size() && i < fields.size(); ++i) {
    if (all[i] == &spec) return fields[i];
  }
  return false;
}

namespace {

bool IsReadAction(Action a) {
  return a == Action::kRead || a == Action::kList || a == Action::kSearch || a == Action::kExport;
}

// Same agency: the foundation rules, widened by the subject's own break-glass grants.
Decision DecideSameAgency(const Subject& subject, Action action, const Resource& resource, const Context& context) {
  Decision d;
  if (action == Action::kErase && subject.role != Role::kSupervisor) {
    d.reason = "erase_needs_supervisor";
    return d;
  }
  bool on_team = std::find(resource.team.begin(), resource.team.end(), subject.user_id) != resource.team.end();
  bool broke_glass = false;
  if (!on_team && IsReadAction(action)) {
    for (const Grant& g : context.grants) {
      if (g.kind == GrantKind::kBreakGlass && g.Covers(subject, resource.survivor_id, context.now) &&
          (g.categories & CategoryBit(Category::kLocation))) {
        broke_glass = true;
        d.grant_ids.push_back(g.id);
      }
    }
  }
  const bool legal = domain::IsLegalTeam(subject.role);
  auto specs = domain::FieldsOf(resource.kind);
  d.fields.assign(specs.size(), true);
  bool redacted = false;
  for (size_t i = 0; i < specs.size(); ++i) {
    const domain::FieldSpec& f = *specs[i];
    bool ok = true;
    if (f.sensitivity == Sensitivity::kPrivileged && !legal) ok = false;                    // S4
    if (f.category == Category::kLocation && !on_team && !broke_glass) ok = false;          // location secrecy
    if (!ok) {
      d.fields[i] = false;
      redacted = true;
    }
  }
  d.effect = redacted ? Effect::kAllowRedacted : Effect::kAllow;
  d.reason = broke_glass ? "same_agency_break_glass" : redacted ? "same_agency_redacted" : "same_agency";
  if (broke_glass) d.basis = GrantKind::kBreakGlass;
  return d;
}

// Another agency: only through grants in force naming the subject; only their categories.
Decision DecideOtherAgency(const Subject& subject, Action action, const Resource& resource, const Context& context) {
  Decision d;
  if (!IsReadAction(action)) {
    d.reason = "other_agency";
    return d;
  }
  CategoryMask mask = 0;
  bool any = false;
  for (const Grant& g : context.grants) {
    // A release naming evidence items only (no category) shares those items, not the records.
    if (!g.Covers(subject, resource.survivor_id, context.now) || g.categories == 0) continue;
    if (!any || g.kind < d.basis) d.basis = g.kind;  // the strongest basis: release < break-glass < compelled
    any = true;
    mask |= g.categories;
    d.grant_ids.push_back(g.id);
  }
  if (!any) {
    d.reason = "other_agency";
    return d;
  }
  auto specs = domain::FieldsOf(resource.kind);
  d.fields.assign(specs.size(), false);
  for (size_t i = 0; i < specs.size(); ++i) {
    const domain::FieldSpec& f = *specs[i];
    // S4: attorney work product never leaves the owning agency's legal team, whatever a grant says.
    d.fields[i] = f.sensitivity != Sensitivity::kPrivileged && (mask & CategoryBit(f.category)) != 0;
  }
  d.effect = Effect::kAllowRedacted;
  d.disclosure = true;
  d.reason = d.basis == GrantKind::kRelease ? "release" : d.basis == GrantKind::kBreakGlass ? "break_glass" : "compelled";
  return d;
}

}  // namespace

Decision Decide(const Subject& subject, Action action, const Resource& resource, const Context& context) {
  if (subject.agency_id.empty() || resource.agency_id.empty()) {
    Decision d;
    d.reason = "other_agency";
    return d;
  }
  if (!CanWorkCases(subject.role)) {
    Decision d;
    d.reason = "role_has_no_case_access";
    return d;
  }
  if (subject.agency_id == resource.agency_id) return DecideSameAgency(subject, action, resource, context);
  return DecideOtherAgency(subject, action, resource, context);
}

}  // namespace trellis::policy
