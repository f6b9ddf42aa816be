#include "domain/fields.h"

#include <algorithm>
#include <charconv>
#include <mutex>

namespace trellis::domain {
namespace {

using K = RecordKind;
using T = FieldType;
using S = Sensitivity;
using C = Category;

const std::vector<std::string_view> kApps = {"Facebook", "Instagram", "WhatsApp", "Telegram", "FacebookMessenger",
                                             "Viber",    "SnapChat",  "Line",     "4Sale",    "WeChat",
                                             "QQ",       "QZone",     "TikTok",   "Twitter",  "Other"};
const std::vector<std::string_view> kReferralReasons = {"AdditionalServicesRequired", "MigrationOrChangeOfLocation",
                                                        "Other"};

// The table. Sensitivity choices (docs/architecture.md): names, birth date, identity numbers
// and contact details are identifying; addresses and places of recruitment or exploitation
// are restricted (locations of safety); free text may hold anything, so it is sealed too;
// coded HTCDS values are statistical.
const std::vector<FieldSpec>& Table() {
  static const std::vector<FieldSpec> table = {
      // Person (HTCDS prs_)
      {K::kSurvivor, "prs_Salutation", T::kText, S::kIdentifying, C::kIdentity, {}, "Salutation"},
      {K::kSurvivor, "prs_FirstName", T::kText, S::kIdentifying, C::kIdentity, {}, "First name"},
      {K::kSurvivor, "prs_MiddleName", T::kText, S::kIdentifying, C::kIdentity, {}, "Middle name"},
      {K::kSurvivor, "prs_SecondName", T::kText, S::kIdentifying, C::kIdentity, {}, "Second name"},
      {K::kSurvivor, "prs_Birthdate", T::kDate, S::kIdentifying, C::kIdentity, {}, "Birth date"},
      {K::kSurvivor, "prs_Gender", T::kPicklist, S::kStatistical, C::kDemographic,
       {"Feminine", "Masculine", "TransgenderFeminine", "TransgenderMasculine", "NonConforming", "NonSpecifiedUnknown"},
       "Gender"},
      {K::kSurvivor, "prs_Deceased", T::kCheckbox, S::kCase, C::kDemographic, {}, "Deceased"},
      {K::kSurvivor, "prs_MaritalStatus", T::kPicklist, S::kStatistical, C::kDemographic,
       {"Single", "Married", "Widowed", "Divorced", "Separated", "RegisteredPartnership"}, "Marital status"},
      {K::kSurvivor, "prs_NumberOfChildren", T::kNumber, S::kStatistical, C::kDemographic, {}, "Number of children"},
      {K::kSurvivor, "prs_PrimaryLanguage", T::kLanguage, S::kStatistical, C::kDemographic, {}, "Primary language"},
      {K::kSurvivor, "prs_SecondaryLanguage", T::kLanguage, S::kStatistical, C::kDemographic, {}, "Secondary language"},
      {K::kSurvivor, "prs_HighestLevelOfEducation", T::kPicklist, S::kStatistical, C::kDemographic,
       {"EarlyChildhoodEducation", "PrimaryEducation", "LowerSecondaryEducation", "UpperSecondaryEducation",
        "PostSecondaryNonTertiaryEducation", "ShortCycleTertiaryEducation", "BachelorsOrEquivalentLevel",
        "MastersOrEquivalentLevel", "DoctoralOrEquivalentLevel"},
       "Highest level of education"},
      {K::kSurvivor, "prs_Citizenship", T::kCountries, S::kStatistical, C::kDemographic, {}, "Citizenship"},
      {K::kSurvivor, "prs_IdentityNumber", T::kText, S::kIdentifying, C::kIdentity, {}, "Identity number"},
      {K::kSurvivor, "prs_Title", T::kText, S::kIdentifying, C::kIdentity, {}, "Title"},
      {K::kSurvivor, "prs_Email", T::kText, S::kIdentifying, C::kContact, {}, "Email"},
      {K::kSurvivor, "prs_HomePhone", T::kText, S::kIdentifying, C::kContact, {}, "Home phone"},
      {K::kSurvivor, "prs_MobilePhone", T::kText, S::kIdentifying, C::kContact, {}, "Mobile phone"},
      {K::kSurvivor, "prs_MailingStreet", T::kText, S::kRestricted, C::kLocation, {}, "Mailing street"},
      {K::kSurvivor, "prs_MailingCity", T::kText, S::kRestricted, C::kLocation, {}, "Mailing city"},
      {K::kSurvivor, "prs_MailingState", T::kText, S::kRestricted, C::kLocation, {}, "Mailing state"},
      {K::kSurvivor, "prs_MailingPostalCode", T::kText, S::kRestricted, C::kLocation, {}, "Mailing postal code"},
      {K::kSurvivor, "prs_MailingCountry", T::kCountry, S::kRestricted, C::kLocation, {}, "Mailing country"},
      {K::kSurvivor, "prs_MailingLongitude", T::kText, S::kRestricted, C::kLocation, {}, "Mailing longitude"},
      {K::kSurvivor, "prs_MailingLatitude", T::kText, S::kRestricted, C::kLocation, {}, "Mailing latitude"},
      // Victim context (HTCDS vic_)
      {K::kSurvivor, "vic_TraffickingStatus", T::kPicklist, S::kStatistical, C::kTraffickingHistory,
       {"PossibleVictimOfTrafficking", "ActualVictimOfTrafficking", "NotAVictimOfTrafficking"}, "Trafficking status"},
      {K::kSurvivor, "vic_TraffickingStatusDecisionMakingOrg", T::kPicklist, S::kStatistical, C::kTraffickingHistory,
       {"Police", "NGO", "CourtOrProsecution", "NonPoliceGovernmentalOrganization", "Other"},
       "Trafficking status decided by"},
      {K::kSurvivor, "vic_RelationshipToTrafficker", T::kPicklist, S::kStatistical, C::kTraffickingHistory,
       {"Familial", "Acquainted", "Unaquainted"}, "Relationship to trafficker"},
      {K::kSurvivor, "vic_AgeWhenTrafficked", T::kNumber, S::kStatistical, C::kTraffickingHistory, {},
       "Age when trafficked"},
      {K::kSurvivor, "vic_RecruitmentWebsitesAndApps", T::kMultiPicklist, S::kStatistical, C::kTraffickingHistory,
       kApps, "Recruitment websites and apps"},
      {K::kSurvivor, "vic_MethodOfRecruitment", T::kMultiPicklist, S::kStatistical, C::kTraffickingHistory,
       {"AtAPlaceOfBusiness", "AtAnEducationalInstitution", "AtWork", "ThroughOnlineSocialNetworks",
        "ThroughAnOnlineAdvertisement", "ThroughATelevisionAdvert", "ThroughANewspaperAdvert",
        "ThroughFamilyOrFamilyEvents", "ThroughFriendsOrSocialEvents", "Other"},
       "Method of recruitment"},
      {K::kSurvivor, "vic_LocationOfRecruitment", T::kText, S::kRestricted, C::kTraffickingHistory, {},
       "Location of recruitment"},
      {K::kSurvivor, "vic_MethodsOfControl", T::kMultiPicklist, S::kStatistical, C::kTraffickingHistory,
       {"PhysicalThreats", "ThreatsLawEnforcement", "ThreatensChildrenFamily", "DebtBondage", "FalsePromises",
        "PhysicalAbuse", "SexualAbuse", "TakesEarnings", "RestrictsFinancialAccess", "RestrictsMedicalCare",
        "WithholdsNecessities", "PsychologicalAbuse", "PsychoactiveSubstance", "ExcessiveWorkingHours",
        "WithholdsDocuments", "Other"},
       "Methods of control"},
      {K::kSurvivor, "vic_TypeOfExploitation", T::kMultiPicklist, S::kStatistical, C::kTraffickingHistory,
       {"ForcedLabour", "SexualExploitation", "ChildLabour", "ForcedMarriage", "Servitude",
        "ForcedMilitaryByNonStateActors", "OrganRemoval", "ForcedBegging", "ForcedAdoption", "Surrogacy", "Other"},
       "Type of exploitation"},
      {K::kSurvivor, "vic_ForcedLabourIndustry", T::kPicklist, S::kStatistical, C::kTraffickingHistory,
       {"A_AgricultureForestryAndFishing", "B_MiningAndQuarrying", "C_Manufacturing",
        "D_ElectricityGasSteamAndAirConditioningSupply", "E_WaterSupplySewerageWasteManagement", "F_Construction",
        "G_WholesaleAndRetailTradeRepairOfMotorVehicles", "H_TransportationAndStorage",
        "I_AccommodationAndFoodServiceActivities", "J_InformationAndCommunication",
        "K_FinancialAndInsuranceActivities", "L_RealEstateActivities",
        "M_ProfessionalScientificAndTechnicalActivities", "N_AdministrativeAndSupportServiceActivities",
        "O_PublicAdministrationAndDefence", "P_Education", "Q_HumanHealthAndSocialWorkActivities",
        "R_ArtsEntertainmentAndRecreation", "S_OtherServiceActivities", "T_ActivitiesOfHouseholdsAsEmployers",
        "U_ActivitiesOfExtraterritorialOrganizations"},
       "Forced labour industry"},
      {K::kSurvivor, "vic_TypeOfSexExploitation", T::kMultiPicklist, S::kStatistical, C::kTraffickingHistory,
       {"Prostitution", "Pornography", "RemoteInteractiveServices", "PrivateSexualServices"},
       "Type of sex exploitation"},
      {K::kSurvivor, "vic_LocationOfExploitation", T::kText, S::kRestricted, C::kTraffickingHistory, {},
       "Location of exploitation"},
      {K::kSurvivor, "vic_ExploitationWebsitesAndApps", T::kMultiPicklist, S::kStatistical, C::kTraffickingHistory,
       kApps, "Exploitation websites and apps"},
      // Trellis's own survivor fields (consent, docs/consent.md).
      {K::kSurvivor, "trl_Statement", T::kLongText, S::kRestricted, C::kTraffickingHistory, {},
       "Recorded statement (ask once, share under a release)"},
      {K::kSurvivor, "trl_Minor", T::kCheckbox, S::kCase, C::kDemographic, {}, "Minor (under 18)"},
      {K::kSurvivor, "trl_MinorMayConsentAlone", T::kCheckbox, S::kCase, C::kCaseWorkflow, {},
       "Minor may consent alone (the law allows it for this survivor)"},
      {K::kSurvivor, "trl_AllegedPerpetrators", T::kLongText, S::kRestricted, C::kSafetyPlan, {},
       "Alleged perpetrators (one name per line; they can never sign a release)"},
      // Case (HTCDS cas_)
      {K::kCase, "cas_Status", T::kPicklist, S::kCase, C::kCaseWorkflow, {"Active", "FollowUp", "Closed", "ClosedReferred"},
       "Status"},
      {K::kCase, "cas_ReasonForCaseClosure", T::kLongText, S::kIdentifying, C::kCaseWorkflow, {},
       "Reason for case closure"},
      {K::kCase, "cas_CaseOwner", T::kText, S::kCase, C::kCaseWorkflow, {}, "Case owner"},
      {K::kCase, "cas_ReferringOrganisation", T::kText, S::kCase, C::kCaseWorkflow, {}, "Referring organisation"},
      {K::kCase, "cas_IncomingReferralDate", T::kDate, S::kCase, C::kCaseWorkflow, {}, "Incoming referral date"},
      {K::kCase, "cas_ReferringPrimaryCaseWorker", T::kText, S::kCase, C::kCaseWorkflow, {},
       "Referring primary case worker"},
      {K::kCase, "cas_ReasonForIncomingReferral", T::kPicklist, S::kCase, C::kCaseWorkflow, kReferralReasons,
       "Reason for incoming referral"},
      {K::kCase, "cas_IncomingReferralDetails", T::kLongText, S::kIdentifying, C::kCaseWorkflow, {},
       "Incoming referral details"},
      {K::kCase, "cas_ReferredOrganisation", T::kText, S::kCase, C::kCaseWorkflow, {}, "Referred organisation"},
      {K::kCase, "cas_ReferredPrimaryCaseWorker", T::kText, S::kCase, C::kCaseWorkflow, {},
       "Referred primary case worker"},
      {K::kCase, "cas_ReasonForOutgoingReferral", T::kPicklist, S::kCase, C::kCaseWorkflow, kReferralReasons,
       "Reason for outgoing referral"},
      {K::kCase, "cas_OutgoingReferralDate", T::kDate, S::kCase, C::kCaseWorkflow, {}, "Outgoing referral date"},
      {K::kCase, "cas_OutgoingReferralDetails", T::kLongText, S::kIdentifying, C::kCaseWorkflow, {},
       "Outgoing referral details"},
      // Trellis's own case fields (not in HTCDS; exported only by name trl_).
      {K::kCase, "trl_ImmigrationNotes", T::kLongText, S::kRestricted, C::kImmigration, {},
       "Immigration matters (8 U.S.C. 1367)"},
      {K::kCase, "trl_SafetyPlan", T::kLongText, S::kRestricted, C::kSafetyPlan, {}, "Safety plan"},
      {K::kCase, "trl_MedicalNotes", T::kLongText, S::kRestricted, C::kMedical, {}, "Medical and psychological notes"},
      {K::kCase, "trl_AttorneyWorkProduct", T::kLongText, S::kPrivileged, C::kLegalWorkProduct, {},
       "Attorney work product"},
      // Relief screening: the facts (a JSON object of the facts vocabulary, rules/) and the
      // last screening Trellis ran on them (written by Trellis whenever the facts change).
      {K::kCase, "trl_ReliefFacts", T::kLongText, S::kRestricted, C::kImmigration, {}, "Relief screening facts"},
      {K::kCase, "trl_ScreeningSummary", T::kLongText, S::kRestricted, C::kImmigration, {},
       "Last relief screening", true},
  };
  return table;
}

struct ByKind {
  std::vector<const FieldSpec*> survivor, kase;                // in table order
  std::vector<const FieldSpec*> survivor_by_name, kase_by_name;  // sorted by name, for FindField
};
const ByKind& Index() {
  static const ByKind idx = [] {
    ByKind b;
    for (const auto& f : Table()) (f.kind == K::kSurvivor ? b.survivor : b.kase).push_back(&f);
    const auto by_name = [](const FieldSpec* x, const FieldSpec* y) { return x->name < y->name; };
    b.survivor_by_name = b.survivor;
    b.kase_by_name = b.kase;
    std::sort(b.survivor_by_name.begin(), b.survivor_by_name.end(), by_name);
    std::sort(b.kase_by_name.begin(), b.kase_by_name.end(), by_name);
    return b;
  }();
  return idx;
}

bool AllOf(std::string_view s, bool (*pred)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}

}  // namespace

std::span<const FieldSpec> AllFields() { return Table(); }

std::span<const FieldSpec* const> FieldsOf(RecordKind kind) {
  return kind == K::kSurvivor ? std::span<const FieldSpec* const>(Index().survivor)
                              : std::span<const FieldSpec* const>(Index().kase);
}

// A binary search: every field of a record is looked up on every read (policy, JSON, categories).
const FieldSpec* FindField(RecordKind kind, std::string_view name) {
  const auto& sorted = kind == K::kSurvivor ? Index().survivor_by_name : Index().kase_by_name;
  auto it = std::lower_bound(sorted.begin(), sorted.end(), name,
                             [](const FieldSpec* f, std::string_view n) { return f->name < n; });
  return it != sorted.end() && (*it)->name == name ? *it : nullptr;
}

const char* SensitivityName(Sensitivity s) {
  switch (s) {
    case S::kStatistical: return "statistical";
    case S::kCase: return "case";
    case S::kIdentifying: return "identifying";
    case S::kRestricted: return "restricted";
    case S::kPrivileged: return "privileged";
  }
  return "privileged";
}

namespace {
constexpr std::pair<Category, const char*> kCategoryNames[] = {
    {C::kDemographic, "demographic"},
    {C::kIdentity, "identity"},
    {C::kContact, "contact"},
    {C::kLocation, "location"},
    {C::kTraffickingHistory, "trafficking_history"},
    {C::kImmigration, "immigration"},
    {C::kMedical, "medical"},
    {C::kSafetyPlan, "safety_plan"},
    {C::kCaseWorkflow, "case_workflow"},
    {C::kLegalWorkProduct, "legal_work_product"},
};
}  // namespace

const char* CategoryName(Category c) {
  for (const auto& [cat, name] : kCategoryNames) {
    if (cat == c) return name;
  }
  return "unknown";
}

Result<Category> ParseCategory(std::string_view name) {
  for (const auto& [cat, n] : kCategoryNames) {
    if (name == n) return cat;
  }
  return Status::Invalid("unknown data category", "categories");
}

const char* RecordKindName(RecordKind k) { return k == K::kSurvivor ? "survivor" : "case"; }

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n;  // continuation bytes
    uint32_t cp;
    if (c < 0x80) {
      n = 0, cp = c;
    } else if ((c >> 5) == 0x6) {
      n = 1, cp = c & 0x1f;
    } else if ((c >> 4) == 0xe) {
      n = 2, cp = c & 0x0f;
    } else if ((c >> 3) == 0x1e) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size() && n > 0) return false;
    for (size_t k = 1; k <= n; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid; so are control
    // characters other than tab and line breaks.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff) || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7f) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

bool IsValidDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  int y = 0, m = 0, d = 0;
  auto num = [&](size_t at, size_t len, int& out) {
    auto r = std::from_chars(s.data() + at, s.data() + at + len, out);
    return r.ec == std::errc() && r.ptr == s.data() + at + len;
  };
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d)) return false;
  if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

std::vector<std::string_view> SplitList(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view part = s.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) out.push_back(part);
    start = end + 1;
  }
  return out;
}

Result<std::string> NormalizeValue(const FieldSpec& spec, std::string_view v) {
  // The field's name for an error only (a string per valid value was a malloc per cell).
  auto field = [&] { return std::string(spec.name); };
  if (!IsValidUtf8(v)) return Status::Invalid("is not valid UTF-8 text", field());
  switch (spec.type) {
    case T::kText:
      if (v.size() > 500) return Status::Invalid("is longer than 500 characters", field());
      if (v.find('\n') != std::string_view::npos) return Status::Invalid("must be one line", field());
      return std::string(v);
    case T::kLongText:
      if (v.size() > 20000) return Status::Invalid("is longer than 20000 characters", field());
      return std::string(v);
    case T::kDate:
      if (!IsValidDate(v)) return Status::Invalid("must be a real date written YYYY-MM-DD", field());
      return std::string(v);
    case T::kNumber: {
      unsigned long n = 0;
      auto r = std::from_chars(v.data(), v.data() + v.size(), n);
      if (v.empty() || r.ec != std::errc() || r.ptr != v.data() + v.size() || n > 1000) {
        return Status::Invalid("must be a whole number from 0 to 1000", field());
      }
      return std::to_string(n);
    }
    case T::kCheckbox: {
      std::string l(v);
      std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
      if (l == "true" || l == "1" || l == "yes") return std::string("true");
      if (l == "false" || l == "0" || l == "no") return std::string("false");
      return Status::Invalid("must be true or false", field());
    }
    case T::kPicklist:
      if (std::find(spec.values.begin(), spec.values.end(), v) == spec.values.end()) {
        return Status::Invalid("is not one of the allowed values", field());
      }
      return std::string(v);
    case T::kMultiPicklist: {
      std::vector<std::string_view> parts = SplitList(v);
      std::string out;
      for (std::string_view allowed : spec.values) {
        if (std::find(parts.begin(), parts.end(), allowed) != parts.end()) {
          if (!out.empty()) out += ';';
          out += allowed;
        }
      }
      for (std::string_view p : parts) {
        if (std::find(spec.values.begin(), spec.values.end(), p) == spec.values.end()) {
          return Status::Invalid("contains a value that is not allowed", field());
        }
      }
      return out;
    }
    case T::kCountry:
      if (v.size() != 2 || !AllOf(v, [](char c) { return c >= 'A' && c <= 'Z'; })) {
        return Status::Invalid("must be an ISO 3166 two-letter country code", field());
      }
      return std::string(v);
    case T::kCountries: {
      std::string out;
      for (std::string_view p : SplitList(v)) {
        if (p.size() != 2 || !AllOf(p, [](char c) { return c >= 'A' && c <= 'Z'; })) {
          return Status::Invalid("must be ISO 3166 two-letter country codes separated by ;", field());
        }
        if (out.find(p) == std::string::npos) {
          if (!out.empty()) out += ';';
          out += p;
        }
      }
      return out;
    }
    case T::kLanguage:
      if (v.size() < 2 || v.size() > 3 || !AllOf(v, [](char c) { return c >= 'a' && c <= 'z'; })) {
        return Status::Invalid("must be an ISO 639 language code", field());
      }
      return std::string(v);
  }
  return Status::Invalid("has an unknown type", field());
}

}  // namespace trellis::domain
