// Decisions on evidence items (docs/consent.md, "Evidence items"). Pure, like Decide().
//  - Same agency: staff who work cases may add, list, read and download the agency's items;
//    attorney work product (domain::IsWorkProductKind) only the legal team, also to add (S4).
//  - Another agency: read/list/export only, and only the items a release in force names
//    (Grant::evidence_ids) for the subject's agency and the item's survivor; work product
//    never, whatever a release says (S4). Anything else is deny, answered as not-found (S1).
//  - Auditors and administrators see no evidence.
#pragma once

#include <string>

#include "policy/policy.h"

namespace trellis::policy {

struct EvidenceResource {
  std::string id;
  std::string agency_id;    // the survivor's (owning) agency
  std::string survivor_id;
  bool work_product = false;
};

// The category an evidence disclosure is accounted under.
inline constexpr char kEvidenceCategory[] = "named_evidence";
// The category of the disclosure of a case by its link from an item shown to another agency
// (the item's `case_id`, shown only while that agency may read the case).
inline constexpr char kCaseLinkCategory[] = "case_link";

// `fields` of the decision is unused (an item is seen whole or not at all).
Decision DecideEvidence(const Subject& subject, Action action, const EvidenceResource& item, const Context& context);

}  // namespace trellis::policy
