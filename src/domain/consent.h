// Releases of information (SECURITY.md S2): the value types and the validation rules that do
// not need the store — signers (minor + guardian, never an alleged perpetrator), purpose,
// categories, language and the time limit. No I/O; app/ loads the survivor and calls these.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "domain/fields.h"

namespace trellis::domain {

// A release may last at most this long (inclusive days from the effective date): "reasonably
// time-limited" (34 U.S.C. 12291(b)(2)). Longer sharing needs a new, re-informed release.
inline constexpr int kMaxReleaseDays = 366;
// Break-glass access lasts one hour; compelled disclosures at most 90 days.
inline constexpr int64_t kBreakGlassSeconds = 3600;
inline constexpr int kMaxCompelledDays = 90;

struct Signer {
  std::string relationship;  // "survivor", "parent", "guardian"
  std::string name;
};

// What a release is for: a code, never free text (the printable release explains it).
const std::vector<std::string_view>& ReleasePurposes();
// Why a release was revoked.
const std::vector<std::string_view>& RevocationReasons();
// The legal bases of a compelled disclosure.
const std::vector<std::string_view>& CompelledBases();
// Languages a release text exists in.
const std::vector<std::string_view>& ReleaseLanguages();

// What the rules need to know of the survivor (from the survivor record).
struct SurvivorConsentFacts {
  std::string birthdate;           // prs_Birthdate, YYYY-MM-DD or empty
  bool minor_flag = false;         // trl_Minor
  bool may_consent_alone = false;  // trl_MinorMayConsentAlone
  std::string alleged_perpetrators;  // trl_AllegedPerpetrators, one name per line
};

// True when the survivor is under 18 on `on_date` (YYYY-MM-DD) by birth date, or flagged a minor.
bool IsMinorOn(const SurvivorConsentFacts& f, std::string_view on_date);

// Signers: exactly one "survivor"; for a minor (unless the case records that the minor may
// consent alone) also a "parent" or "guardian"; every name non-empty and at most 200
// characters; no signer whose name matches (case- and space-insensitively) a recorded alleged
// perpetrator. Errors name the field "signers" and never echo a name.
Status ValidateSigners(const std::vector<Signer>& signers, const SurvivorConsentFacts& f, std::string_view effective_on);

// Categories by name, comma-separated or as a list; at least one; legal_work_product refused.
Result<std::vector<Category>> ParseReleaseCategories(const std::vector<std::string>& names, std::string_view field);

// Days from `from` to `to` (both YYYY-MM-DD, valid).
int64_t DaysBetween(std::string_view from, std::string_view to);
// Micros at 00:00 UTC of a YYYY-MM-DD date.
int64_t DayStartMicros(std::string_view yyyy_mm_dd);

}  // namespace trellis::domain
