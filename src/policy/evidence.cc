#include "policy/evidence.h"

#include <algorithm>

namespace trellis::policy {

Decision DecideEvidence(const Subject& subject, Action action, const EvidenceResource& item, const Context& context) {
  Decision d;
  d.reason = "other_agency";
  if (subject.agency_id.empty() || item.agency_id.empty() || item.survivor_id.empty()) return d;
  if (!CanWorkCases(subject.role)) {
    d.reason = "role_has_no_case_access";
    return d;
  }
  const bool read = action == Action::kRead || action == Action::kList || action == Action::kSearch ||
                    action == Action::kExport;
  if (subject.agency_id == item.agency_id) {
    if (!read && action != Action::kCreate) {
      d.reason = "evidence_is_append_only";
      return d;
    }
    if (item.work_product && !domain::IsLegalTeam(subject.role)) {
      d.reason = "work_product";  // S4
      return d;
    }
    d.effect = Effect::kAllow;
    d.reason = "same_agency";
    return d;
  }
  if (!read) return d;
  if (item.work_product) {
    d.reason = "work_product";  // S4: whatever a release says
    return d;
  }
  for (const Grant& g : context.grants) {
    if (g.kind != GrantKind::kRelease || !g.Covers(subject, item.survivor_id, context.now)) continue;
    if (std::find(g.evidence_ids.begin(), g.evidence_ids.end(), item.id) == g.evidence_ids.end()) continue;
    d.grant_ids.push_back(g.id);
  }
  if (d.grant_ids.empty()) return d;
  d.effect = Effect::kAllow;
  d.disclosure = true;
  d.basis = GrantKind::kRelease;
  d.reason = "release";
  return d;
}

}  // namespace trellis::policy
