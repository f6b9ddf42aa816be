// Synthetic demo data: agencies of several kinds, users of every role, survivors and cases.
// Every name and value is invented; nothing here describes a real person.
#include <array>

#include "app/app.h"
#include "app/impl.h"
#include "core/ids.h"
#include "core/rng.h"

namespace trellis::app {

using domain::RecordKind;
using domain::Role;

namespace {

constexpr std::array<const char*, 16> kFirst = {"Ana",  "Luz",   "Marisol", "Rosa", "Yesenia", "Daniela", "Esperanza", "Ines",
                                                "Josue", "Kevin", "Mateo",  "Nia",  "Priya",   "Tran",    "Olena",     "Amina"};
constexpr std::array<const char*, 12> kLast = {"Alvarez", "Baptiste", "Castillo", "Dlamini", "Escobar", "Fofana",
                                               "Gutierrez", "Hernandez", "Ibarra", "Juarez", "Kovalenko", "Lopez"};
constexpr std::array<const char*, 6> kCities = {"Springfield", "Riverton", "Lakeside", "Fairview", "Georgetown", "Salem"};
constexpr std::array<const char*, 4> kStatus = {"Active", "Active", "FollowUp", "Closed"};
constexpr std::array<const char*, 5> kExploit = {"ForcedLabour", "SexualExploitation", "Servitude", "ForcedLabour;ForcedBegging",
                                                 "SexualExploitation;Servitude"};
constexpr std::array<const char*, 5> kCountries = {"MX", "GT", "HN", "PH", "UA"};

struct DemoUser {
  const char* username;
  Role role;
  int agency;  // index into the agencies below
};

constexpr DemoUser kUsers[] = {
    {"advocate", Role::kAdvocate, 0},       {"casemanager", Role::kCaseManager, 0}, {"supervisor", Role::kSupervisor, 0},
    {"socialworker", Role::kSocialWorker, 0}, {"auditor", Role::kAuditor, 0},       {"admin", Role::kAdministrator, 0},
    {"attorney", Role::kAttorney, 1},       {"paralegal", Role::kParalegal, 1},     {"lespecialist", Role::kLeVictimSpecialist, 2},
};

constexpr char kDemoPassword[] = "trellis-demo-2026";

template <size_t N>
const char* Pick(Rng& rng, const std::array<const char*, N>& a) {
  return a[rng.Next64() % N];
}

}  // namespace

Result<std::vector<App::DemoLogin>> App::CreateDemo(int64_t cases, uint64_t seed, bool with_users) {
  const Principal op = CliOperator();
  auto rng = NewSeededRng(seed);
  std::vector<domain::Agency> agencies;
  auto existing = impl_->store->ListAgencies();
  if (!existing.ok()) return existing.status();
  std::vector<DemoLogin> logins;
  if (existing->empty()) {
    const std::pair<const char*, domain::AgencyKind> defs[] = {
        {"Riverside Survivor Services", domain::AgencyKind::kNgoServiceProvider},
        {"Northside Immigration Legal Clinic", domain::AgencyKind::kLegalServices},
        {"County Sheriff Victim Services", domain::AgencyKind::kLawEnforcementLocal},
    };
    for (const auto& [name, kind] : defs) {
      TRELLIS_ASSIGN_OR_RETURN(auto a, AddAgency(op, name, kind));
      agencies.push_back(a);
    }
  } else {
    // Reuse the demo agencies by kind (the list is sorted by name, not by role in the demo).
    for (auto kind : {domain::AgencyKind::kNgoServiceProvider, domain::AgencyKind::kLegalServices,
                      domain::AgencyKind::kLawEnforcementLocal}) {
      for (const auto& a : *existing) {
        if (a.kind == kind) {
          agencies.push_back(a);
          break;
        }
      }
    }
    if (agencies.empty()) agencies = *existing;
  }
  std::vector<std::vector<std::string>> teams(agencies.size());
  if (with_users) {
    for (const DemoUser& u : kUsers) {
      if (static_cast<size_t>(u.agency) >= agencies.size()) continue;
      auto user = FindUser(u.username);
      if (!user.ok()) {
        auto added = AddUser(op, agencies[u.agency].id, u.username, u.username, u.role, kDemoPassword);
        if (!added.ok()) return added.status();
        user = *added;
      }
      if (policy::CanWorkCases(u.role)) teams[u.agency].push_back(user->id);
      logins.push_back({u.username, kDemoPassword, domain::RoleName(u.role), agencies[u.agency].name});
    }
  }

  // Survivors and cases, written in batches of 5,000 per transaction.
  const int64_t now = clock().NowMicros();
  const int64_t kBatch = 5000;
  for (int64_t start = 0; start < cases; start += kBatch) {
    std::vector<storage::DataKeyRow> keys;
    std::vector<storage::StoredRecord> records;
    for (int64_t i = start; i < std::min(cases, start + kBatch); ++i) {
      // Two thirds of the cases belong to the NGO, a third to the legal clinic.
      const size_t ai = agencies.size() > 1 && i % 3 == 2 ? 1 : 0;
      domain::Record s{RecordKind::kSurvivor};
      s.id = NewRandomId(*rng, "s");
      s.survivor_id = s.id;
      s.agency_id = agencies[ai].id;
      s.version = 1;
      s.created_at = s.updated_at = now + i;
      s.team = teams[ai];
      const int year = 1975 + static_cast<int>(rng->Next64() % 33);
      const int month = 1 + static_cast<int>(rng->Next64() % 12), day = 1 + static_cast<int>(rng->Next64() % 28);
      char birth[11];
      std::snprintf(birth, sizeof birth, "%04d-%02d-%02d", year, month, day);
      s.fields = {{"prs_FirstName", Pick(*rng, kFirst)},
                  {"prs_SecondName", Pick(*rng, kLast)},
                  {"prs_Birthdate", birth},
                  {"prs_Gender", rng->Next64() % 3 ? "Feminine" : "Masculine"},
                  {"prs_Citizenship", Pick(*rng, kCountries)},
                  {"prs_PrimaryLanguage", rng->Next64() % 2 ? "es" : "en"},
                  {"prs_MobilePhone", "555-01" + std::to_string(10 + rng->Next64() % 90)},
                  {"prs_MailingCity", Pick(*rng, kCities)},
                  {"vic_TraffickingStatus", "PossibleVictimOfTrafficking"},
                  {"vic_TypeOfExploitation", Pick(*rng, kExploit)}};
      domain::Record c{RecordKind::kCase};
      c.id = NewRandomId(*rng, "c");
      c.survivor_id = s.id;
      c.agency_id = s.agency_id;
      c.case_number = NewCaseNumber();
      c.version = 1;
      c.created_at = c.updated_at = now + i;
      c.team = teams[ai];
      c.fields = {{"cas_Status", Pick(*rng, kStatus)},
                  {"cas_IncomingReferralDate", "2026-0" + std::to_string(1 + rng->Next64() % 9) + "-15"},
                  {"trl_SafetyPlan", "Synthetic safety plan: check-in calls on the safe number."}};
      crypto::Key32 key;
      keys.push_back(impl_->NewDataKey(s.id, &key));
      records.push_back(SealRecord(s, key));
      records.push_back(SealRecord(c, key));
    }
    TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) {
      for (const auto& k : keys) TRELLIS_RETURN_IF_ERROR(t.PutDataKey(k));
      for (const auto& r : records) TRELLIS_RETURN_IF_ERROR(t.InsertRecord(r));
      return Status::Ok();
    }));
  }
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(op, "demo.create", "ok", "", "", "", "cases=" + std::to_string(cases)));
  return logins;
}

std::vector<App::DemoLogin> App::DemoLogins() {
  std::vector<DemoLogin> out;
  auto agencies = impl_->store->ListAgencies();
  for (const DemoUser& u : kUsers) {
    auto user = FindUser(u.username);
    if (!user.ok()) continue;
    std::string agency;
    for (const auto& a : agencies.ok() ? *agencies : std::vector<domain::Agency>{}) {
      if (a.id == user->agency_id) agency = a.name;
    }
    out.push_back({u.username, kDemoPassword, domain::RoleName(u.role), agency});
  }
  return out;
}

}  // namespace trellis::app
