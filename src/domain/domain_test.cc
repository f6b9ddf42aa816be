#include <gtest/gtest.h>

#include <set>

#include "domain/fields.h"
#include "domain/model.h"

namespace trellis::domain {
namespace {

TEST(Fields, EveryHtcdsNameIsUniqueAndClassified) {
  std::set<std::pair<int, std::string>> seen;
  for (const FieldSpec& f : AllFields()) {
    EXPECT_TRUE(seen.insert({static_cast<int>(f.kind), std::string(f.name)}).second) << f.name;
    if (f.type == FieldType::kPicklist || f.type == FieldType::kMultiPicklist) {
      EXPECT_FALSE(f.values.empty());
    }
  }
  // Names, birth date, contacts are identifying; addresses restricted; coded values statistical.
  EXPECT_EQ(FindField(RecordKind::kSurvivor, "prs_FirstName")->sensitivity, Sensitivity::kIdentifying);
  EXPECT_EQ(FindField(RecordKind::kSurvivor, "prs_Birthdate")->sensitivity, Sensitivity::kIdentifying);
  EXPECT_EQ(FindField(RecordKind::kSurvivor, "prs_MailingStreet")->sensitivity, Sensitivity::kRestricted);
  EXPECT_EQ(FindField(RecordKind::kSurvivor, "vic_TypeOfExploitation")->sensitivity, Sensitivity::kStatistical);
  EXPECT_EQ(FindField(RecordKind::kCase, "trl_AttorneyWorkProduct")->sensitivity, Sensitivity::kPrivileged);
  EXPECT_EQ(FindField(RecordKind::kCase, "prs_FirstName"), nullptr);
  // Every field is found as itself under its own kind (FindField searches a sorted copy).
  for (const RecordKind kind : {RecordKind::kSurvivor, RecordKind::kCase}) {
    for (const FieldSpec* f : FieldsOf(kind)) EXPECT_EQ(FindField(kind, f->name), f) << f->name;
    EXPECT_EQ(FindField(kind, ""), nullptr);
    EXPECT_EQ(FindField(kind, "zzz_NoSuchField"), nullptr);
  }
}

TEST(Fields, NormalizesAndRejects) {
  const FieldSpec& multi = *FindField(RecordKind::kSurvivor, "vic_TypeOfExploitation");
  EXPECT_EQ(*NormalizeValue(multi, "SexualExploitation; ForcedLabour;ForcedLabour"), "ForcedLabour;SexualExploitation");
  EXPECT_FALSE(NormalizeValue(multi, "ForcedLabour;Nope").ok());
  const FieldSpec& date = *FindField(RecordKind::kSurvivor, "prs_Birthdate");
  EXPECT_TRUE(NormalizeValue(date, "2000-02-29").ok());
  EXPECT_FALSE(NormalizeValue(date, "1900-02-29").ok());
  EXPECT_FALSE(NormalizeValue(date, "2001-02-29").ok());
  EXPECT_FALSE(NormalizeValue(date, "2001-13-01").ok());
  EXPECT_FALSE(NormalizeValue(date, "20010101").ok());
  const FieldSpec& name = *FindField(RecordKind::kSurvivor, "prs_FirstName");
  EXPECT_EQ(*NormalizeValue(name, "José"), "José");
  EXPECT_FALSE(NormalizeValue(name, "\xc3\x28").ok());          // invalid UTF-8
  EXPECT_FALSE(NormalizeValue(name, "\xed\xa0\x80").ok());      // surrogate
  EXPECT_FALSE(NormalizeValue(name, "\xc0\xaf").ok());          // overlong
  EXPECT_FALSE(NormalizeValue(name, std::string("a\0b", 3)).ok());
  EXPECT_FALSE(NormalizeValue(name, std::string(501, 'a')).ok());
  auto bad = NormalizeValue(name, "\xff");
  EXPECT_EQ(bad.status().field(), "prs_FirstName");
  EXPECT_EQ(*NormalizeValue(*FindField(RecordKind::kSurvivor, "prs_Deceased"), "YES"), "true");
  EXPECT_EQ(*NormalizeValue(*FindField(RecordKind::kSurvivor, "prs_Citizenship"), "MX;GT;MX"), "MX;GT");
  EXPECT_FALSE(NormalizeValue(*FindField(RecordKind::kSurvivor, "prs_Citizenship"), "Mexico").ok());
  EXPECT_FALSE(NormalizeValue(*FindField(RecordKind::kSurvivor, "prs_NumberOfChildren"), "-1").ok());
  EXPECT_FALSE(NormalizeValue(*FindField(RecordKind::kSurvivor, "prs_NumberOfChildren"), "1e3").ok());
}

TEST(Model, NormalizeFieldsNamesUnknownField) {
  auto r = NormalizeFields(RecordKind::kSurvivor, {{"prs_FirstName", "Ana"}, {"favourite_colour", "red"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().field(), "favourite_colour");
  EXPECT_TRUE(ParseRole("attorney").ok());
  EXPECT_FALSE(ParseRole("root").ok());
  EXPECT_TRUE(IsLegalTeam(Role::kParalegal));
  EXPECT_FALSE(IsLegalTeam(Role::kSupervisor));
}

}  // namespace
}  // namespace trellis::domain
