// The policy engine: decide(subject, action, resource, context) -> allow | allow with
// redaction | deny. Pure: no I/O, no clock reads (time comes in the context), so it is
// tested exhaustively. Every caller audits the decision it gets.
//
// Rules (docs/consent.md):
//  - Same agency: staff who work cases see the agency's records; attorney work product only
//    for the legal team (S4); location fields only for users named on the record's team, or
//    for a user holding an active break-glass grant on the survivor (S14).
//  - Another agency sees nothing — deny, answered as not-found (S1) — unless the context holds
//    an active grant (a release, a break-glass grant or a compelled disclosure) on the
//    resource's survivor naming the subject's agency (and, for break-glass, the subject). Then
//    it may read, list, search and export exactly the granted categories; every other field is
//    redacted; privileged fields never (S4, whatever a grant says); it never writes.
//    A grant without categories (a release of named evidence items only, policy/evidence.h)
//    opens no record at all.
//  - A grant is in force when effective_at <= now < expires_at and it is not revoked. The app
//    loads grants on every request (no cache), so revocation and expiry apply at once (S3).
//  - Auditors and administrators see no survivor data.
#pragma once

#include <cstdint>
#include <span>
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
  std::string survivor_id;        // the survivor whose data this is (grants name survivors)
};

// What the policy needs of a release / break-glass grant / compelled disclosure.
enum class GrantKind { kRelease, kBreakGlass, kCompelled };
const char* GrantKindName(GrantKind k);

using CategoryMask = uint32_t;
constexpr CategoryMask CategoryBit(domain::Category c) { return CategoryMask{1} << static_cast<unsigned>(c); }

struct Grant {
  std::string id;
  GrantKind kind = GrantKind::kRelease;
  std::string survivor_id;
  std::string recipient_agency_id;
  std::string recipient_user_id;  // break-glass: the one user it is for; empty otherwise
  CategoryMask categories = 0;
  int64_t effective_at = 0;  // micros
  int64_t expires_at = 0;    // micros, exclusive
  int64_t revoked_at = 0;    // 0 = not revoked
  std::vector<std::string> evidence_ids;  // releases: the evidence items named (policy/evidence.h)

  bool InForceAt(int64_t now) const { return revoked_at == 0 && effective_at <= now && now < expires_at; }
  // In force, and naming this subject's agency (and user, for break-glass) and survivor.
  bool Covers(const Subject& s, const std::string& survivor_id, int64_t now) const;
};

struct Context {
  int64_t now = 0;                  // micros
  std::span<const Grant> grants;    // grants on the resource's survivor (others are ignored)
};

enum class Effect { kDeny, kAllow, kAllowRedacted };

struct Decision {
  Effect effect = Effect::kDeny;
  // For allow decisions: may the subject see (or, for updates, write) each field?
  // Indexed like domain::FieldsOf(resource.kind).
  std::vector<bool> fields;
  const char* reason = "";  // a code for the audit log, never content
  // Cross-agency allows are disclosures: the grants they rest on (ids) and their basis.
  bool disclosure = false;
  GrantKind basis = GrantKind::kRelease;
  std::vector<std::string> grant_ids;

  bool allowed() const { return effect != Effect::kDeny; }
  bool FieldAllowed(const domain::FieldSpec& spec) const;
};

Decision Decide(const Subject& subject, Action action, const Resource& resource, const Context& context);

// May this subject create records in its own agency at all (and see lists there)?
bool CanWorkCases(domain::Role role);
// May this subject read the audit trail / manage users of its agency?
bool CanReadAudit(domain::Role role);
bool CanManageUsers(domain::Role role);
// May this subject record releases for its agency's survivors (any staff who work cases, except
// law enforcement: a release is the survivor's choice, taken by their service provider)?
bool CanRecordReleases(domain::Role role);
// May this subject record a compelled disclosure (supervisors and the legal team)?
bool CanRecordCompelledDisclosure(domain::Role role);
// Bulk HTCDS import into and export from the agency over HTTP (background jobs): supervisors.
bool CanRunBulkJobs(domain::Role role);

}  // namespace trellis::policy
