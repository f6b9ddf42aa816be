// The field table: every field of a survivor or case record, with its HTCDS 2.0 name, type,
// allowed values, sensitivity class and data category. It is the single table that the
// policy (who may see a field), the crypto (which fields are sealed), the API (validation and
// JSON shape) and the HTCDS import/export all read (docs/architecture.md, "Sensitivity").
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace trellis::domain {

enum class RecordKind { kSurvivor, kCase };

enum class FieldType {
  kText,           // one line, up to 500 characters
  kLongText,       // up to 20,000 characters
  kDate,           // YYYY-MM-DD, a real calendar date
  kNumber,         // a non-negative integer
  kCheckbox,       // true / false
  kPicklist,       // one of `values`
  kMultiPicklist,  // a set of `values`, ';'-separated in canonical form
  kCountry,        // ISO 3166-1 alpha-2, upper case
  kCountries,      // a set of kCountry, ';'-separated
  kLanguage,       // ISO 639 two or three lower-case letters
};

// Ordered from least to most protected. Identifying and above are sealed at rest.
enum class Sensitivity { kStatistical, kCase, kIdentifying, kRestricted, kPrivileged };

// What a release names (the consent categories of SECURITY.md S2).
enum class Category {
  kDemographic,
  kIdentity,
  kContact,
  kLocation,
  kTraffickingHistory,
  kImmigration,
  kMedical,
  kSafetyPlan,
  kCaseWorkflow,
  kLegalWorkProduct,
};

struct FieldSpec {
  RecordKind kind;
  std::string_view name;  // HTCDS "Field Name including Prefix", or trl_ for Trellis's own
  FieldType type;
  Sensitivity sensitivity;
  Category category;
  std::vector<std::string_view> values;  // picklist values (HTCDS value names)
  std::string_view label;
  bool system_only = false;  // written by Trellis itself (e.g. a stored screening), never by a user

  bool sealed() const { return sensitivity >= Sensitivity::kIdentifying; }
};

std::span<const FieldSpec> AllFields();
std::span<const FieldSpec* const> FieldsOf(RecordKind kind);
// nullptr when `name` is not a field of `kind`.
const FieldSpec* FindField(RecordKind kind, std::string_view name);

const char* SensitivityName(Sensitivity s);
const char* CategoryName(Category c);
Result<Category> ParseCategory(std::string_view name);
const char* RecordKindName(RecordKind k);

// Validates `value` (canonical text form) for `spec`; returns the normalised canonical form
// (e.g. checkbox "1"/"yes" -> "true", multi-picklist de-duplicated in table order).
// Errors name the field and never echo the value of a sealed field.
Result<std::string> NormalizeValue(const FieldSpec& spec, std::string_view value);

// Shared value checks.
bool IsValidUtf8(std::string_view s);
bool IsValidDate(std::string_view yyyy_mm_dd);
std::vector<std::string_view> SplitList(std::string_view s, char sep = ';');

}  // namespace trellis::domain
