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

bool Decision::FieldAllowed(const domain::FieldSpec& spec) const {
  if (!allowed()) return false;
  auto all = domain::FieldsOf(spec.kind);
  for (size_t i = 0; i < all.size() && i < fields.size(); ++i) {
    if (all[i] == &spec) return fields[i];
  }
  return false;
}

Decision Decide(const Subject& subject, Action action, const Resource& resource, const Context& context) {
  Decision d;
  if (subject.agency_id.empty() || subject.agency_id != resource.agency_id) {
    d.reason = "other_agency";
    return d;
  }
  if (!CanWorkCases(subject.role)) {
    d.reason = "role_has_no_case_access";
    return d;
  }
  if (action == Action::kErase && subject.role != Role::kSupervisor) {
    d.reason = "erase_needs_supervisor";
    return d;
  }
  const bool on_team = std::find(resource.team.begin(), resource.team.end(), subject.user_id) != resource.team.end();
  const bool legal = domain::IsLegalTeam(subject.role);
  auto specs = domain::FieldsOf(resource.kind);
  d.fields.assign(specs.size(), true);
  bool redacted = false;
  for (size_t i = 0; i < specs.size(); ++i) {
    const domain::FieldSpec& f = *specs[i];
    bool ok = true;
    if (f.sensitivity == Sensitivity::kPrivileged && !legal) ok = false;             // S4
    if (f.category == Category::kLocation && !on_team) ok = false;                   // location secrecy
    if (!ok) {
      d.fields[i] = false;
      redacted = true;
    }
  }
  d.effect = redacted ? Effect::kAllowRedacted : Effect::kAllow;
  d.reason = redacted ? "same_agency_redacted" : "same_agency";
  return d;
}

}  // namespace trellis::policy
