// Value types of the case store: agencies, users and roles, survivor and case records.
// No I/O. Records hold canonical text values keyed by field name (fields.h); in memory they
// are plaintext — sealing happens in app/ on the way to storage.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "domain/fields.h"

namespace trellis::domain {

enum class AgencyKind {
  kNgoServiceProvider,
  kLegalServices,
  kLawEnforcementFederal,
  kLawEnforcementState,
  kLawEnforcementLocal,
  kProsecutor,
  kHealthProvider,
  kBenefitsAgency,
};

enum class Role {
  kAdvocate,
  kCaseManager,
  kAttorney,
  kParalegal,
  kSocialWorker,
  kSupervisor,
  kLeVictimSpecialist,
  kLeInvestigator,
  kAuditor,
  kAdministrator,
};

const char* AgencyKindName(AgencyKind k);
Result<AgencyKind> ParseAgencyKind(std::string_view s);
const char* RoleName(Role r);
Result<Role> ParseRole(std::string_view s);
// Attorneys and paralegals form the legal team (attorney work product, S4).
bool IsLegalTeam(Role r);

struct Agency {
  std::string id;
  std::string name;
  AgencyKind kind = AgencyKind::kNgoServiceProvider;
};

struct User {
  std::string id;
  std::string agency_id;
  std::string username;
  std::string display_name;
  Role role = Role::kAdvocate;
  bool disabled = false;
};

// A survivor (HTCDS Person + Victim context) or a case (HTCDS Case).
struct Record {
  RecordKind kind = RecordKind::kSurvivor;
  std::string id;
  std::string agency_id;    // the owning agency
  std::string survivor_id;  // == id for a survivor
  std::string case_number;  // pseudonymous, cases only (e.g. "TR-7K2M-9QXD")
  int64_t version = 0;      // optimistic concurrency: +1 on every update
  int64_t created_at = 0;   // micros
  int64_t updated_at = 0;
  std::map<std::string, std::string> fields;  // canonical values (fields.h)
  std::vector<std::string> team;              // user ids named on the case (cases only)
};

// Validates and normalises every field of `in` for `kind`; unknown fields are an error
// naming the field. Sealed values are never echoed in messages.
Result<std::map<std::string, std::string>> NormalizeFields(RecordKind kind,
                                                           const std::map<std::string, std::string>& in);

}  // namespace trellis::domain
