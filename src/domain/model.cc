#include "domain/model.h"

#include <utility>

namespace trellis::domain {
namespace {

constexpr std::pair<AgencyKind, const char*> kAgencyKinds[] = {
    {AgencyKind::kNgoServiceProvider, "ngo_service_provider"},
    {AgencyKind::kLegalServices, "legal_services"},
    {AgencyKind::kLawEnforcementFederal, "law_enforcement_federal"},
    {AgencyKind::kLawEnforcementState, "law_enforcement_state"},
    {AgencyKind::kLawEnforcementLocal, "law_enforcement_local"},
    {AgencyKind::kProsecutor, "prosecutor"},
    {AgencyKind::kHealthProvider, "health_provider"},
    {AgencyKind::kBenefitsAgency, "benefits_agency"},
};

constexpr std::pair<Role, const char*> kRoles[] = {
    {Role::kAdvocate, "advocate"},
    {Role::kCaseManager, "case_manager"},
    {Role::kAttorney, "attorney"},
    {Role::kParalegal, "paralegal"},
    {Role::kSocialWorker, "social_worker"},
    {Role::kSupervisor, "supervisor"},
    {Role::kLeVictimSpecialist, "le_victim_specialist"},
    {Role::kLeInvestigator, "le_investigator"},
    {Role::kAuditor, "auditor"},
    {Role::kAdministrator, "administrator"},
};

template <typename E, size_t N>
const char* NameOf(const std::pair<E, const char*> (&table)[N], E e) {
  for (const auto& [v, name] : table) {
    if (v == e) return name;
  }
  return "unknown";
}

template <typename E, size_t N>
Result<E> Parse(const std::pair<E, const char*> (&table)[N], std::string_view s, const char* field) {
  for (const auto& [v, name] : table) {
    if (s == name) return v;
  }
  return Status::Invalid("is not one of the allowed values", field);
}

}  // namespace

const char* AgencyKindName(AgencyKind k) { return NameOf(kAgencyKinds, k); }
Result<AgencyKind> ParseAgencyKind(std::string_view s) { return Parse(kAgencyKinds, s, "kind"); }
const char* RoleName(Role r) { return NameOf(kRoles, r); }
Result<Role> ParseRole(std::string_view s) { return Parse(kRoles, s, "role"); }
bool IsLegalTeam(Role r) { return r == Role::kAttorney || r == Role::kParalegal; }

Result<std::map<std::string, std::string>> NormalizeFields(RecordKind kind,
                                                           const std::map<std::string, std::string>& in) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : in) {
    const FieldSpec* spec = FindField(kind, name);
    if (!spec) return Status::Invalid(std::string("is not a field of a ") + RecordKindName(kind), name);
    auto norm = NormalizeValue(*spec, value);
    if (!norm.ok()) return norm.status();
    out.emplace(name, std::move(norm).value());
  }
  return out;
}

}  // namespace trellis::domain
