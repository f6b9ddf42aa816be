// The policy engine: decide(subject, action, resource, context) -> allow | allow with
// redaction | deny. Pure: no I/O, no clock reads (time comes in the context), so it is
// tested exhaustively. Every caller audits the decision it gets.
//
// This first version implements the same-agency rules of the foundation: another agency sees
// nothing (deny, answered as not-found, S1); attorney work product is for the legal team only
// (S4); location fields only for users named on the record's team; auditors and
// administrators see no survivor data. Releases (cross-agency consent) extend `Context`.
#pragma once

#include <string>
#include <vector>

#include "domain/fields.h"
#include "domain/model.h"

namespace trellis::policy {

struct Subject {
  std::string user_id;
  std::string agency_id;
  domain::Role role = domain::Role::kAdvocate;
};

enum class Action { kRead, kList, kSearch, kExport, kCreate, kUpdate, kErase };
const char* ActionName(Action a);

struct Resource {
  domain::RecordKind kind = domain::RecordKind::kCase;
  std::string agency_id;          // owning agency
  std::vector<std::string> team;  // users named on the record
};

struct Context {
  int64_t now = 0;  // micros
};

enum class Effect { kDeny, kAllow, kAllowRedacted };

struct Decision {
  Effect effect = Effect::kDeny;
  // For allow decisions: may the subject see (or, for updates, write) each field?
  // Indexed like domain::FieldsOf(resource.kind).
  std::vector<bool> fields;
  const char* reason = "";  // a code for the audit log, never content

  bool allowed() const { return effect != Effect::kDeny; }
  bool FieldAllowed(const domain::FieldSpec& spec) const;
};

Decision Decide(const Subject& subject, Action action, const Resource& resource, const Context& context);

// May this subject create records in its own agency at all (and see lists there)?
bool CanWorkCases(domain::Role role);
// May this subject read the audit trail / manage users of its agency?
bool CanReadAudit(domain::Role role);
bool CanManageUsers(domain::Role role);

}  // namespace trellis::policy
